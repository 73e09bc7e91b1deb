"""SP-API notifications the Repricer reads, parsed the way Amazon really sends them.

Amazon's published JSON schemas are not what arrives (repricing.md §1.6): every field is
marked required, ``IsBuyBoxWinner`` is missing, the B2B payload's casing changed over
time and PRICING_HEALTH is camelCase. So the models here are lenient:

- keys match case-insensitively (``SellerId``, ``sellerId`` and ``seller_id`` are one key);
- every field Amazon may leave out is optional, unknown fields are ignored;
- enum-like values (``OfferChangeType``, ``FulfillmentChannel``...) stay plain strings, so
  a value Amazon adds tomorrow is kept, not rejected; conditions are lower-cased;
- money is :class:`~functions.core.money.Money` (parse the JSON with
  ``parse_float=Decimal``); timestamps are timezone-aware UTC.

Only what cannot be acted on is rejected, with :class:`NotificationError` naming the
field: no ``NotificationType`` / ``NotificationId``, an offer change without ``SellerId``,
``ASIN``, ``MarketplaceId``, ``ItemCondition`` or ``TimeOfOfferChange``, an amount without
its currency. A notification type the Repricer does not handle parses to a
:class:`Notification` whose ``payload`` is ``None`` (``raw_payload`` keeps the data), so the
handler can acknowledge and count it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from functions.core.money import Money, parse_amount

ANY_OFFER_CHANGED = "ANY_OFFER_CHANGED"
B2B_ANY_OFFER_CHANGED = "B2B_ANY_OFFER_CHANGED"
ORDER_CHANGE = "ORDER_CHANGE"
HANDLED_TYPES: frozenset[str] = frozenset({ANY_OFFER_CHANGED, B2B_ANY_OFFER_CHANGED, ORDER_CHANGE})

# Offer change types (kept as strings: unknown values pass through).
EXTERNAL = "External"

# The major item conditions of the offer notifications; a listing's SP-API condition
# (``new_new``, ``used_like_new``, ``UsedLikeNew``) normalises to one of these.
MAJOR_CONDITIONS: tuple[str, ...] = ("new", "used", "collectible", "refurbished", "club")


class NotificationError(ValueError):
    """A notification that cannot be acted on. ``field`` names the offending field."""

    def __init__(self, reason: str, *, field: str | None = None, notification_type: str = ""):
        self.reason = reason
        self.field = field
        self.notification_type = notification_type
        where = f"{field}: " if field else ""
        prefix = f"{notification_type}: " if notification_type else ""
        super().__init__(f"{prefix}{where}{reason}")


# -- normalisers ----------------------------------------------------------------------


def fold_key(name: str) -> str:
    """The case- and underscore-insensitive form of a key (``SellerId`` → ``sellerid``)."""
    return name.replace("_", "").replace("-", "").lower()


def normalise_condition(value: Any) -> str | None:
    """``"New"``, ``"new_new"``, ``"UsedLikeNew"`` → ``"new"`` / ``"used"``; others lower-cased."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    for major in MAJOR_CONDITIONS:
        if text.startswith(major):
            return major
    return text


def _to_utc(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 timestamp") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError(f"expected an ISO-8601 timestamp, got {type(value).__name__}")


def _spapi_money(value: Any) -> Any:
    """SP-API ``{Amount, CurrencyCode}`` (any casing) → Money, with a clear reason if not."""
    if value is None or isinstance(value, Money):
        return value
    if not isinstance(value, dict):
        raise ValueError("money: expected an object with Amount and CurrencyCode")
    keys = {fold_key(k): v for k, v in value.items()}
    amount = keys.get("amount")
    currency = keys.get("currencycode", keys.get("currency"))
    if currency is None or (isinstance(currency, str) and not currency.strip()):
        raise ValueError("money without CurrencyCode")
    if amount is None:
        raise ValueError("money without Amount")
    if isinstance(amount, float):
        amount = repr(amount)  # JSON read without parse_float=Decimal: Amazon's digits
    return Money(parse_amount(amount, field="Amount"), currency)


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


def _blank_as_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


UtcDateTime = Annotated[datetime, BeforeValidator(_to_utc)]
SpMoney = Annotated[Money, BeforeValidator(_spapi_money)]
Condition = Annotated[str | None, BeforeValidator(normalise_condition)]
OptStr = Annotated[str | None, BeforeValidator(_blank_as_none)]


def _list_of(model: Any) -> Any:
    return Annotated[list[model], BeforeValidator(_none_as_empty)]


class Lenient(BaseModel):
    """Base of the notification models: folded keys, extras ignored, immutable."""

    model_config = ConfigDict(
        alias_generator=fold_key,
        extra="ignore",
        frozen=True,
        coerce_numbers_to_str=True,
        loc_by_alias=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _fold_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {fold_key(k) if isinstance(k, str) else k: v for k, v in data.items()}
        return data


# -- shared pieces --------------------------------------------------------------------


class Points(Lenient):
    """Amazon points (JP): a number and, usually, its money value."""

    points_number: int | None = None
    points_monetary_value: SpMoney | None = None

    def value(self, currency: str) -> Money:
        """Money value of the points in ``currency``; JPY points count one yen each."""
        if self.points_monetary_value is not None:
            return self.points_monetary_value
        if currency == "JPY" and self.points_number:
            return Money(Decimal(self.points_number), currency)
        return Money.zero(currency)


def _same_currency(*amounts: Money | None) -> None:
    currencies = {m.currency for m in amounts if m is not None}
    if len(currencies) > 1:
        raise ValueError(f"amounts in different currencies: {sorted(currencies)}")


def landed(
    listing: Money | None, shipping: Money | None, points: Points | None
) -> Money | None:
    """Landed price = listing + shipping − points (None without a listing price).

    Summed on the amounts, one Money made at the end (each offer of each notification
    is landed once per decision): the currencies are checked as Money's ``+``/``-``
    check them."""
    if listing is None:
        return None
    amount = listing.amount
    currency = listing.currency
    if shipping is not None:
        if shipping.currency != currency:
            listing.check_currency(shipping)
        amount = amount + shipping.amount
    if points is not None:
        value = points.value(currency)
        if value.currency != currency:
            listing.check_currency(value)
        amount = amount - value.amount
    return Money._trusted(amount, currency)


class PriceRow(Lenient):
    """A ``LowestPrices[]`` or ``BuyBoxPrices[]`` row (B2B rows add tier, type, winner)."""

    condition: Condition = None
    fulfillment_channel: OptStr = None
    offer_type: Annotated[str | None, BeforeValidator(_upper)] = None
    quantity_tier: int | None = None
    discount_type: OptStr = None
    landed_price: SpMoney | None = None
    listing_price: SpMoney | None = None
    shipping: SpMoney | None = None
    points: Points | None = None
    seller_id: OptStr = None

    @model_validator(mode="after")
    def _one_currency(self) -> PriceRow:
        _same_currency(self.landed_price, self.listing_price, self.shipping)
        return self

    @property
    def landed(self) -> Money | None:
        if self.landed_price is not None:
            return self.landed_price
        return landed(self.listing_price, self.shipping, self.points)

    @property
    def tier(self) -> int:
        return self.quantity_tier or 1


class OfferCount(Lenient):
    condition: Condition = None
    fulfillment_channel: OptStr = None
    offer_count: int | None = None


class SalesRank(Lenient):
    product_category_id: OptStr = None
    rank: int | None = None


class Summary(Lenient):
    number_of_offers: _list_of(OfferCount) = []
    # AOC calls it NumberOfBuyBoxEligibleOffers, B2B BuyBoxEligibleOffers.
    buy_box_eligible_offers: _list_of(OfferCount) = Field(
        default=[],
        validation_alias=AliasChoices("numberofbuyboxeligibleoffers", "buyboxeligibleoffers"),
    )
    lowest_prices: _list_of(PriceRow) = []
    buy_box_prices: _list_of(PriceRow) = []
    list_price: SpMoney | None = None
    suggested_lower_price_plus_shipping: SpMoney | None = None
    total_buy_box_eligible_offers: int | None = None
    sales_rankings: _list_of(SalesRank) = []
    competitive_price_threshold: SpMoney | None = None


class FeedbackRating(Lenient):
    feedback_count: int | None = None
    seller_positive_feedback_rating: Decimal | None = None


class ShippingTime(Lenient):
    minimum_hours: int | None = None
    maximum_hours: int | None = None
    availability_type: OptStr = None
    available_date: OptStr = None


class PrimeInformation(Lenient):
    is_offer_prime: bool | None = Field(
        default=None, validation_alias=AliasChoices("isofferprime", "isprime")
    )
    is_offer_national_prime: bool | None = Field(
        default=None, validation_alias=AliasChoices("isoffernationalprime", "isnationalprime")
    )


class QuantityDiscountPrice(Lenient):
    quantity_tier: int
    quantity_discount_type: OptStr = None
    listing_price: SpMoney


class Offer(Lenient):
    """One of ``Offers[]`` (top 20 of the trigger condition, cheapest first)."""

    seller_id: OptStr = None
    sub_condition: Condition = None
    seller_feedback_rating: FeedbackRating | None = None
    shipping_time: ShippingTime | None = None
    listing_price: SpMoney | None = None
    shipping: SpMoney | None = None
    points: Points | None = None
    is_fulfilled_by_amazon: bool | None = None
    is_buy_box_winner: bool | None = None
    is_featured_merchant: bool | None = None
    ships_domestically: bool | None = None
    prime_information: PrimeInformation | None = None
    quantity_discount_price: _list_of(QuantityDiscountPrice) = []
    condition_notes: OptStr = None

    @model_validator(mode="after")
    def _one_currency(self) -> Offer:
        tiers = (q.listing_price for q in self.quantity_discount_price)
        _same_currency(self.listing_price, self.shipping, *tiers)
        return self

    @property
    def landed(self) -> Money | None:
        """Listing + shipping − points; None when Amazon gave no listing price."""
        return landed(self.listing_price, self.shipping, self.points)

    @property
    def channel(self) -> str:
        """``FBA`` when fulfilled by Amazon, else ``FBM``."""
        return "FBA" if self.is_fulfilled_by_amazon else "FBM"

    @property
    def is_winner(self) -> bool:
        return bool(self.is_buy_box_winner)


class OfferChangeTrigger(Lenient):
    marketplace_id: str
    asin: str
    item_condition: Annotated[str, BeforeValidator(normalise_condition)]
    time_of_offer_change: UtcDateTime
    offer_change_type: OptStr = None


class AnyOfferChanged(Lenient):
    """``Payload.AnyOfferChangedNotification``."""

    is_b2b: ClassVar[bool] = False

    seller_id: Annotated[str, BeforeValidator(_blank_as_none)]
    offer_change_trigger: OfferChangeTrigger
    summary: Summary = Summary()
    offers: _list_of(Offer) = []

    @property
    def asin(self) -> str:
        return self.offer_change_trigger.asin

    @property
    def marketplace_id(self) -> str:
        return self.offer_change_trigger.marketplace_id

    @property
    def condition(self) -> str:
        return self.offer_change_trigger.item_condition

    @property
    def time_of_offer_change(self) -> datetime:
        return self.offer_change_trigger.time_of_offer_change

    @property
    def change_type(self) -> str | None:
        return self.offer_change_trigger.offer_change_type

    def our_offers(self) -> list[Offer]:
        """Offers whose SellerId is the receiving seller's (repricing.md §3)."""
        return [o for o in self.offers if o.seller_id == self.seller_id]

    def staleness_key(self) -> tuple[str, str, str, str]:
        """(seller, marketplace, ASIN, condition): the key of the stale rule (DESIGN §3)."""
        return (self.seller_id, self.marketplace_id, self.asin, self.condition)


class B2BAnyOfferChanged(AnyOfferChanged):
    """``Payload.B2BAnyOfferChangedNotification``: same skeleton, tiers and B2B rows."""

    is_b2b: ClassVar[bool] = True


class OrderItem(Lenient):
    order_item_id: str
    seller_sku: Annotated[str, BeforeValidator(_blank_as_none)]
    quantity: int = 0
    supply_source_id: OptStr = None


class OrderSummary(Lenient):
    marketplace_id: OptStr = None
    order_status: OptStr = None
    purchase_date: UtcDateTime | None = None
    fulfillment_type: OptStr = None
    order_type: OptStr = None
    order_items: _list_of(OrderItem) = []


class OrderChangeTrigger(Lenient):
    time_of_order_change: UtcDateTime | None = None
    change_reason: OptStr = None


class OrderChange(Lenient):
    """``Payload.OrderChangeNotification`` (what Push needs: items, quantities, status)."""

    seller_id: OptStr = None
    amazon_order_id: Annotated[str, BeforeValidator(_blank_as_none)]
    order_change_type: OptStr = None
    notification_level: OptStr = None
    order_change_trigger: OrderChangeTrigger | None = None
    summary: OrderSummary

    @property
    def is_canceled(self) -> bool:
        status = (self.summary.order_status or "").lower()
        return status in {"canceled", "cancelled"}

    @property
    def marketplace_id(self) -> str | None:
        return self.summary.marketplace_id


# -- the envelope ---------------------------------------------------------------------


class NotificationMetadata(Lenient):
    notification_id: OptStr = None
    publish_time: UtcDateTime | None = None
    subscription_id: OptStr = None
    application_id: OptStr = None


class Envelope(Lenient):
    notification_version: OptStr = None
    notification_type: Annotated[str, BeforeValidator(_upper)]
    payload_version: OptStr = None
    event_time: UtcDateTime | None = None
    notification_metadata: NotificationMetadata = NotificationMetadata()
    payload: Any = None


Payload = AnyOfferChanged | B2BAnyOfferChanged | OrderChange


@dataclass(frozen=True, slots=True)
class Notification:
    """A parsed notification: the envelope plus the typed payload of a handled type."""

    notification_type: str
    notification_id: str | None
    event_time: datetime | None
    publish_time: datetime | None
    notification_version: str | None
    payload_version: str | None
    subscription_id: str | None
    application_id: str | None
    payload: Payload | None
    raw_payload: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_handled(self) -> bool:
        return self.payload is not None

    @property
    def offer_change(self) -> AnyOfferChanged | None:
        """The ANY_OFFER_CHANGED or B2B_ANY_OFFER_CHANGED payload, else None."""
        return self.payload if isinstance(self.payload, AnyOfferChanged) else None

    @property
    def order_change(self) -> OrderChange | None:
        return self.payload if isinstance(self.payload, OrderChange) else None

    @property
    def occurred_at(self) -> datetime | None:
        """The notification's "now": EventTime, else PublishTime, else the payload's time."""
        if self.event_time is not None:
            return self.event_time
        if self.publish_time is not None:
            return self.publish_time
        if self.offer_change is not None:
            return self.offer_change.time_of_offer_change
        if self.order_change is not None and self.order_change.order_change_trigger:
            return self.order_change.order_change_trigger.time_of_order_change
        return None


_PAYLOAD_MODELS: dict[str, tuple[str, str, type[Lenient]]] = {
    ANY_OFFER_CHANGED: ("anyofferchangednotification", "AnyOfferChangedNotification",
                        AnyOfferChanged),
    B2B_ANY_OFFER_CHANGED: ("b2banyofferchangednotification", "B2BAnyOfferChangedNotification",
                            B2BAnyOfferChanged),
    ORDER_CHANGE: ("orderchangenotification", "OrderChangeNotification", OrderChange),
}

_ACRONYMS = {"asin": "ASIN", "sku": "SKU", "b2b": "B2B"}


def _pascal(part: str | int) -> str:
    if isinstance(part, int):
        return str(part)
    pieces = [p for p in re.split(r"_+", part) if p]
    return "".join(_ACRONYMS.get(p, p[:1].upper() + p[1:]) for p in pieces)


def _describe(error: ValidationError, prefix: str) -> tuple[str, str]:
    """(field path in Amazon's spelling, reason) of the first validation error."""
    first = error.errors(include_url=False)[0]
    loc = [p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    path = ".".join([prefix, *(_pascal(p) for p in loc)]) if loc else prefix
    message = first["msg"]
    if first["type"] == "missing":
        message = "missing"
    elif message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return path, message


def _unhandled(data: dict[str, Any]) -> Notification | None:
    """A bare Notification for a type the Repricer does not handle, read best-effort."""
    folded = {fold_key(k): v for k, v in data.items() if isinstance(k, str)}
    kind = folded.get("notificationtype")
    if not isinstance(kind, str) or not kind.strip() or kind.strip().upper() in HANDLED_TYPES:
        return None
    meta = folded.get("notificationmetadata")
    meta = {fold_key(k): v for k, v in meta.items()} if isinstance(meta, dict) else {}
    nid = meta.get("notificationid")
    payload = folded.get("payload")
    return Notification(
        notification_type=kind.strip().upper(),
        notification_id=nid if isinstance(nid, str) and nid else None,
        event_time=None, publish_time=None, notification_version=None, payload_version=None,
        subscription_id=None, application_id=None, payload=None,
        raw_payload=payload if isinstance(payload, dict) else {},
    )


def parse_notification(data: Any) -> Notification:
    """Parse one SP-API notification (the SQS message body, already JSON-decoded).

    Decode the JSON with ``json.loads(body, parse_float=Decimal)`` so amounts stay exact.
    Raises :class:`NotificationError` for what cannot be acted on; returns a Notification
    with ``payload=None`` for a type the Repricer does not handle.
    """
    if not isinstance(data, dict):
        raise NotificationError(f"expected a JSON object, got {type(data).__name__}")
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as exc:
        unhandled = _unhandled(data)
        if unhandled is not None:
            return unhandled  # a type we do not handle is acknowledged, whatever its shape
        path, reason = _describe(exc, "")
        raise NotificationError(reason, field=path.lstrip(".") or None) from None
    kind = envelope.notification_type
    if not kind:
        raise NotificationError("missing", field="NotificationType")
    meta = envelope.notification_metadata
    raw = envelope.payload if isinstance(envelope.payload, dict) else {}
    payload: Payload | None = None
    if kind in _PAYLOAD_MODELS:
        if not meta.notification_id:
            raise NotificationError(
                "missing", field="NotificationMetadata.NotificationId", notification_type=kind
            )
        folded_key, wrapper, model = _PAYLOAD_MODELS[kind]
        inner = {fold_key(k): v for k, v in raw.items()}.get(folded_key)
        if not isinstance(inner, dict):
            raise NotificationError(
                "missing", field=f"Payload.{wrapper}", notification_type=kind
            )
        try:
            payload = model.model_validate(inner)  # type: ignore[assignment]
        except ValidationError as exc:
            path, reason = _describe(exc, f"Payload.{wrapper}")
            raise NotificationError(reason, field=path, notification_type=kind) from None
        if envelope.event_time is None and meta.publish_time is None and kind == ORDER_CHANGE:
            trigger = payload.order_change_trigger  # type: ignore[union-attr]
            if trigger is None or trigger.time_of_order_change is None:
                raise NotificationError("missing", field="EventTime", notification_type=kind)
    return Notification(
        notification_type=kind,
        notification_id=meta.notification_id,
        event_time=envelope.event_time,
        publish_time=meta.publish_time,
        notification_version=envelope.notification_version,
        payload_version=envelope.payload_version,
        subscription_id=meta.subscription_id,
        application_id=meta.application_id,
        payload=payload,
        raw_payload=raw,
    )
