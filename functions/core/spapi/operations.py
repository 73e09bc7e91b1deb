"""The SP-API operations sellerops calls: HTTP method, path template and usage plan.

Rates are Amazon's documented default usage plans (requests per second per selling
partner and application) and bursts (bucket size); Amazon may grant a different rate,
which it reports in ``x-amzn-RateLimit-Limit`` and the client then adopts. Sources: the
"<API> Rate Limits" pages of the SP-API developer documentation and the models in
amzn/selling-partner-api-models (see docs/SPAPI-CLIENT.md). The fake SP-API server
serves exactly these routes with these quotas, so this table is the one place to add an
operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"


@dataclass(frozen=True, slots=True)
class Operation:
    """One SP-API operation. ``rate`` in requests per second, ``burst`` in requests."""

    name: str
    method: str
    path: str
    rate: float
    burst: int
    grantless_scope: str | None = None

    @property
    def grantless(self) -> bool:
        """True when the call uses an application token, not a seller's."""
        return self.grantless_scope is not None

    def render(self, **params: str) -> str:
        """The concrete path, each parameter percent-encoded (SKUs may hold ``/``, spaces)."""
        try:
            return self.path.format(**{k: quote(str(v), safe="") for k, v in params.items()})
        except KeyError as missing:
            raise ValueError(f"{self.name}: missing path parameter {missing}") from None


_LISTINGS = "/listings/2021-08-01/items/{sellerId}/{sku}"

_ALL = [
    # Listings Items 2021-08-01
    Operation("getListingsItem", "GET", _LISTINGS, 5, 10),
    Operation("patchListingsItem", "PATCH", _LISTINGS, 5, 5),
    # Feeds 2021-06-30
    Operation("createFeedDocument", "POST", "/feeds/2021-06-30/documents", 0.5, 15),
    Operation("createFeed", "POST", "/feeds/2021-06-30/feeds", 0.0083, 15),
    Operation("getFeed", "GET", "/feeds/2021-06-30/feeds/{feedId}", 2, 15),
    Operation("getFeedDocument", "GET", "/feeds/2021-06-30/documents/{feedDocumentId}", 0.0222, 10),
    # Reports 2021-06-30
    Operation("createReport", "POST", "/reports/2021-06-30/reports", 0.0167, 15),
    Operation("getReport", "GET", "/reports/2021-06-30/reports/{reportId}", 2, 15),
    Operation("getReports", "GET", "/reports/2021-06-30/reports", 0.0222, 10),
    Operation(
        "getReportDocument", "GET", "/reports/2021-06-30/documents/{reportDocumentId}", 0.0167, 15
    ),
    # Notifications v1: destinations belong to the application (grantless token),
    # subscriptions to a seller (the seller's refresh token).
    Operation(
        "getDestinations", "GET", "/notifications/v1/destinations", 1, 5, NOTIFICATIONS_SCOPE
    ),
    Operation(
        "createDestination", "POST", "/notifications/v1/destinations", 1, 5, NOTIFICATIONS_SCOPE
    ),
    Operation("getSubscription", "GET", "/notifications/v1/subscriptions/{notificationType}", 1, 5),
    Operation(
        "createSubscription", "POST", "/notifications/v1/subscriptions/{notificationType}", 1, 5
    ),
    # Fulfillment Inbound v0 (shipped vs received units of inbound shipments)
    Operation("getShipments", "GET", "/fba/inbound/v0/shipments", 2, 30),
    Operation(
        "getShipmentItemsByShipmentId", "GET", "/fba/inbound/v0/shipments/{shipmentId}/items",
        2, 30,
    ),
    # Product Pricing v0 batches (≤ 20 requests per batch)
    Operation("getItemOffersBatch", "POST", "/batches/products/pricing/v0/itemOffers", 0.1, 1),
    Operation(
        "getListingOffersBatch", "POST", "/batches/products/pricing/v0/listingOffers", 0.5, 1
    ),
]

OPERATIONS: dict[str, Operation] = {op.name: op for op in _ALL}


def operation(name: str) -> Operation:
    """Look an operation up by its SP-API name (``getListingsItem``)."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unsupported SP-API operation {name!r}") from None
