"""Competitive data read back from the Product Pricing API, as an offer-change payload.

Reconciliation (``functions.reprice.reconcile``) asks ``getItemOffersBatch`` for the ASINs
that have heard no notification for a while and feeds the answer to the very decision
path an ``ANY_OFFER_CHANGED`` takes. This module is the pure bridge: one batch response
in, one :class:`~functions.reprice.logic.notifications.AnyOfferChanged` per ASIN out.

The shape read (Product Pricing v0, ``GetItemOffersBatchResponse``)::

    {"responses": [{"status": {"statusCode": 200, "reasonPhrase": "OK"},
                    "body": {"payload": {"ASIN", "MarketplaceID", "ItemCondition", "status",
                                         "Identifier": {"MarketplaceId", "ASIN", "ItemCondition"},
                                         "Summary": {"TotalOfferCount", "NumberOfOffers",
                                                     "LowestPrices", "BuyBoxPrices",
                                                     "BuyBoxEligibleOffers", ...},
                                         "Offers": [{"SellerId", "MyOffer", "ListingPrice",
                                                     "Shipping", "IsBuyBoxWinner",
                                                     "IsFeaturedMerchant", ...}]},
                             "errors": [...]},
                    "request": {"MarketplaceId", "Asin", "ItemCondition", "CustomerType"}}]}

Its ``Summary`` and ``Offers`` use the notification's field names (``BuyBoxPrices``,
``LowestPrices``, ``IsBuyBoxWinner``, money as ``{Amount, CurrencyCode}``), with camelCase
here and there (``condition``, ``fulfillmentChannel``, ``ShippingTime.minimumHours``) —
the notification models fold key casing, so they read it as is. What differs:

- there is no ``SellerId`` of the receiving seller and no ``OfferChangeTrigger``: the
  caller names the seller and the time of the read, which becomes ``TimeOfOfferChange``
  (what we read is the market as of that moment, so a notification about an older
  change is stale against it — DESIGN.md §3's rule, unchanged);
- our own offer is flagged ``MyOffer`` and may come without ``SellerId``: it gets ours;
- the price rows may carry B2B rows (``offerType: B2B``); the B2C view drops them;
- an entry can fail on its own (``status.statusCode`` ≠ 200, ``body.errors``), or say
  ``NoBuyableOffers`` with no offers at all (our offer is out of stock too): both become
  a :class:`PricingRead` without a payload and with the reason, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from .notifications import AnyOfferChanged, fold_key, normalise_condition


@dataclass(frozen=True, slots=True)
class PricingRead:
    """One ASIN of a ``getItemOffersBatch`` answer.

    ``payload`` is the offer-change view (``None`` when the entry cannot be acted on, then
    ``problem`` says why). ``asin``/``marketplace_id``/``condition`` come from the answer,
    else from the request it echoes.
    """

    asin: str | None
    marketplace_id: str | None
    condition: str | None
    payload: AnyOfferChanged | None
    problem: str | None = None


def _folded(value: Any) -> dict[str, Any]:
    """A mapping with case-folded keys (``MarketplaceID`` → ``marketplaceid``); else {}."""
    if not isinstance(value, Mapping):
        return {}
    return {fold_key(k): v for k, v in value.items() if isinstance(k, str)}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _b2c_rows(rows: Any) -> Any:
    if not isinstance(rows, list):
        return rows
    return [
        row for row in rows
        if not (isinstance(row, Mapping)
                and str(_folded(row).get("offertype") or "").upper() == "B2B")
    ]


def _errors(body: Mapping[str, Any]) -> str | None:
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    parts = []
    for error in errors:
        item = _folded(error)
        code, message = _text(item.get("code")), _text(item.get("message"))
        parts.append(": ".join(p for p in (code, message) if p) or "error")
    return "; ".join(parts)


def offer_change_from_item_offers(
    payload: Mapping[str, Any], *, seller_id: str, read_at: datetime,
    asin: str | None = None, marketplace_id: str | None = None, condition: str | None = None,
) -> AnyOfferChanged:
    """One ``getItemOffers`` payload → the ANY_OFFER_CHANGED payload of ``seller_id``.

    ``read_at`` (aware UTC) is when the data was read; it becomes ``TimeOfOfferChange``.
    ``asin``/``marketplace_id``/``condition`` fill what the payload leaves out.
    Raises ``ValueError`` (pydantic's ``ValidationError``) when it cannot be read.
    """
    data = _folded(payload)
    identifier = _folded(data.get("identifier"))
    summary = dict(_folded(data.get("summary")))
    for rows in ("buyboxprices", "lowestprices"):
        if rows in summary:
            summary[rows] = _b2c_rows(summary[rows])
    offers = []
    for raw in data.get("offers") or []:
        offer = dict(raw) if isinstance(raw, Mapping) else raw
        if isinstance(offer, dict):
            folded = _folded(offer)
            if folded.get("myoffer") is True and not _text(folded.get("sellerid")):
                offer = {k: v for k, v in offer.items() if fold_key(k) != "sellerid"}
                offer["SellerId"] = seller_id
        offers.append(offer)
    trigger = {
        "MarketplaceId": _text(identifier.get("marketplaceid")) or _text(
            data.get("marketplaceid")) or marketplace_id,
        "ASIN": _text(identifier.get("asin")) or _text(data.get("asin")) or asin,
        "ItemCondition": _text(identifier.get("itemcondition")) or _text(
            data.get("itemcondition")) or condition,
        "TimeOfOfferChange": read_at,
    }
    return AnyOfferChanged.model_validate({
        "SellerId": seller_id,
        "OfferChangeTrigger": trigger,
        "Summary": summary,
        "Offers": offers,
    })


def offer_changes_from_batch(
    response: Mapping[str, Any], *, seller_id: str, read_at: datetime
) -> list[PricingRead]:
    """Every entry of a ``getItemOffersBatch`` response, in order (see the module doc)."""
    reads: list[PricingRead] = []
    for entry in _folded(response).get("responses") or []:
        item = _folded(entry)
        request = _folded(item.get("request"))
        body = _folded(item.get("body"))
        payload = body.get("payload")
        data = _folded(payload)
        identifier = _folded(data.get("identifier"))
        asin = (_text(identifier.get("asin")) or _text(data.get("asin"))
                or _text(request.get("asin")))
        market = (_text(identifier.get("marketplaceid")) or _text(data.get("marketplaceid"))
                  or _text(request.get("marketplaceid")))
        condition = normalise_condition(
            _text(identifier.get("itemcondition")) or _text(data.get("itemcondition"))
            or _text(request.get("itemcondition")))
        status = _folded(item.get("status")).get("statuscode")
        problem = _errors(body)
        if status is not None and str(status) != "200":
            problem = f"status {status}" + (f": {problem}" if problem else "")
        elif problem is None and not isinstance(payload, Mapping):
            problem = "no payload"
        elif problem is None and not data.get("offers") and str(
                data.get("status") or "").lower() not in ("", "success"):
            problem = f"{data.get('status')}: no offers to compare"
        if problem is not None:
            reads.append(PricingRead(asin, market, condition, None, problem))
            continue
        try:
            change = offer_change_from_item_offers(
                data, seller_id=seller_id, read_at=read_at, asin=asin, marketplace_id=market,
                condition=condition,
            )
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            reads.append(PricingRead(asin, market, condition, None,
                                     f"unreadable payload: {where}: {first['msg']}"))
            continue
        reads.append(PricingRead(change.asin, change.marketplace_id, change.condition, change))
    return reads


def item_condition_param(condition: str) -> str:
    """A normalised condition (``new``) as getItemOffers' ``ItemCondition`` (``New``)."""
    return condition[:1].upper() + condition[1:].lower()


__all__ = [
    "PricingRead",
    "item_condition_param",
    "offer_change_from_item_offers",
    "offer_changes_from_batch",
]
