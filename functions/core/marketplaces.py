"""Amazon marketplaces: id → country, currency, SP-API region and endpoints.

Source: SP-API "Marketplace IDs" and "SP-API Endpoints" reference pages. A seller's
marketplace decides which regional endpoint (North America, Europe, Far East) its calls
go to; ``SPAPI_ENDPOINT`` overrides every region (used for the local simulator).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Region(StrEnum):
    NORTH_AMERICA = "na"
    EUROPE = "eu"
    FAR_EAST = "fe"


SPAPI_ENDPOINTS: dict[Region, str] = {
    Region.NORTH_AMERICA: "https://sellingpartnerapi-na.amazon.com",
    Region.EUROPE: "https://sellingpartnerapi-eu.amazon.com",
    Region.FAR_EAST: "https://sellingpartnerapi-fe.amazon.com",
}

# AWS region whose SP-API endpoint serves each SP-API region (request signing is no
# longer required, but notification destinations must live in a matching region).
AWS_REGIONS: dict[Region, str] = {
    Region.NORTH_AMERICA: "us-east-1",
    Region.EUROPE: "eu-west-1",
    Region.FAR_EAST: "us-west-2",
}

LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"


@dataclass(frozen=True, slots=True)
class Marketplace:
    marketplace_id: str
    country: str
    currency: str
    region: Region
    domain: str

    @property
    def endpoint(self) -> str:
        return SPAPI_ENDPOINTS[self.region]


_ALL = [
    # North America
    Marketplace("A2EUQ1WTGCTBG2", "CA", "CAD", Region.NORTH_AMERICA, "amazon.ca"),
    Marketplace("ATVPDKIKX0DER", "US", "USD", Region.NORTH_AMERICA, "amazon.com"),
    Marketplace("A1AM78C64UM0Y8", "MX", "MXN", Region.NORTH_AMERICA, "amazon.com.mx"),
    Marketplace("A2Q3Y263D00KWC", "BR", "BRL", Region.NORTH_AMERICA, "amazon.com.br"),
    # Europe (incl. Middle East, India, Africa)
    Marketplace("A28R8C7NBKEWEA", "IE", "EUR", Region.EUROPE, "amazon.ie"),
    Marketplace("A1RKKUPIHCS9HS", "ES", "EUR", Region.EUROPE, "amazon.es"),
    Marketplace("A1F83G8C2ARO7P", "GB", "GBP", Region.EUROPE, "amazon.co.uk"),
    Marketplace("A13V1IB3VIYZZH", "FR", "EUR", Region.EUROPE, "amazon.fr"),
    Marketplace("AMEN7PMS3EDWL", "BE", "EUR", Region.EUROPE, "amazon.com.be"),
    Marketplace("A1805IZSGTT6HS", "NL", "EUR", Region.EUROPE, "amazon.nl"),
    Marketplace("A1PA6795UKMFR9", "DE", "EUR", Region.EUROPE, "amazon.de"),
    Marketplace("APJ6JRA9NG5V4", "IT", "EUR", Region.EUROPE, "amazon.it"),
    Marketplace("A2NODRKZP88ZB9", "SE", "SEK", Region.EUROPE, "amazon.se"),
    Marketplace("AE08WJ6YKNBMC", "ZA", "ZAR", Region.EUROPE, "amazon.co.za"),
    Marketplace("A1C3SOZRARQ6R3", "PL", "PLN", Region.EUROPE, "amazon.pl"),
    Marketplace("ARBP9OOSHTCHU", "EG", "EGP", Region.EUROPE, "amazon.eg"),
    Marketplace("A33AVAJ2PDY3EV", "TR", "TRY", Region.EUROPE, "amazon.com.tr"),
    Marketplace("A17E79C6D8DWNP", "SA", "SAR", Region.EUROPE, "amazon.sa"),
    Marketplace("A2VIGQ35RCS4UG", "AE", "AED", Region.EUROPE, "amazon.ae"),
    Marketplace("A21TJRUUN4KGV", "IN", "INR", Region.EUROPE, "amazon.in"),
    # Far East
    Marketplace("A19VAU5U5O7RUS", "SG", "SGD", Region.FAR_EAST, "amazon.sg"),
    Marketplace("A39IBJ37TRP1C6", "AU", "AUD", Region.FAR_EAST, "amazon.com.au"),
    Marketplace("A1VC38T7YXB528", "JP", "JPY", Region.FAR_EAST, "amazon.co.jp"),
]

MARKETPLACES: dict[str, Marketplace] = {m.marketplace_id: m for m in _ALL}


class UnknownMarketplace(ValueError):
    pass


def marketplace(marketplace_id: str) -> Marketplace:
    """Look up a marketplace by its SP-API id; raises UnknownMarketplace with the id."""
    try:
        return MARKETPLACES[marketplace_id.strip()]
    except KeyError:
        raise UnknownMarketplace(f"unknown marketplace_id {marketplace_id!r}") from None


def is_marketplace(marketplace_id: str) -> bool:
    return marketplace_id in MARKETPLACES
