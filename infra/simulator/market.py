"""A small, seeded marketplace: ASINs, competitor bots, a Buy Box rule and demand.

Deterministic for a given seed: every random draw comes from one ``random.Random`` per
market. Time advances in whole simulated hours (:meth:`Market.step`). Our seller's price
is not decided here: the caller sets it (from the fake SP-API's listing, i.e. whatever the
real repricer submitted, or from an in-memory baseline repricer).

The parameters and the public fact behind each are in :data:`PARAMETERS` (see
repricing.md §5/§5a): landed price decides, FBA earns a small edge, non-featured offers
never win, above the competitive-price threshold nobody wins, ~90 % of units go to the
Buy Box winner, demand falls with price (elasticity between −0.5 and −3).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")

PARAMETERS: dict[str, tuple[Decimal, str]] = {
    "fba_edge": (
        Decimal("0.02"),
        "FBA/Prime offers can hold the Buy Box at somewhat higher prices; size unverified "
        "(repricing.md §5a: 1–5 %)",
    ),
    "bb_share": (
        Decimal("0.90"),
        "share of units sold through the Buy Box winner (~82–90 %, repricing.md §5a)",
    ),
    "elasticity": (
        Decimal("-1.5"),
        "price elasticity of an item's demand (−0.5 to −3, Chevalier & Goolsbee 2003)",
    ),
    "threshold_markup": (
        Decimal("1.35"),
        "competitive price threshold vs. the reference price: above it an offer is "
        "ineligible (pricing health help)",
    ),
}


def _param(name: str) -> Decimal:
    return PARAMETERS[name][0]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


@dataclass
class Offer:
    seller_id: str
    price: Decimal  # listing price; shipping below
    shipping: Decimal = Decimal(0)
    fba: bool = True
    featured: bool = True
    feedback_count: int = 1000
    feedback_positive: int = 98
    in_stock: bool = True

    @property
    def landed(self) -> Decimal:
        return self.price + self.shipping


@dataclass
class Bot:
    """A competitor with one behaviour: ``static``, ``undercutter``, ``slow`` or ``fbm``."""

    offer: Offer
    kind: str
    floor: Decimal
    every_hours: int = 1
    ceiling: Decimal | None = None

    def act(self, hour: int, lowest_other: Decimal | None, rng: random.Random) -> bool:
        """Move the bot's price for this hour; True when it changed."""
        before = self.offer.price
        if self.kind == "undercutter" and lowest_other is not None:
            target = lowest_other - CENT
            if target < self.floor:
                target = self.ceiling or self.offer.price  # gives up, resets high
            self.offer.price = max(self.floor, cents(target))
        elif self.kind == "slow" and hour % self.every_hours == 0 and lowest_other is not None:
            self.offer.price = max(self.floor, cents(lowest_other * Decimal("0.99")))
        elif self.kind == "static" and rng.random() < 0.02:
            drift = Decimal(rng.randint(-300, 300)) / Decimal(10000)
            self.offer.price = max(self.floor, cents(self.offer.price * (1 + drift)))
        elif self.kind == "fbm" and rng.random() < 0.01:
            self.offer.in_stock = not self.offer.in_stock
            return True
        return self.offer.price != before


@dataclass
class Product:
    asin: str
    sku: str
    seller_id: str
    reference: Decimal
    min_price: Decimal
    max_price: Decimal
    cost: Decimal
    base_units_per_hour: Decimal
    ours: Offer
    bots: list[Bot] = field(default_factory=list)

    @property
    def threshold(self) -> Decimal:
        return cents(self.reference * _param("threshold_markup"))

    def offers(self) -> list[Offer]:
        return [self.ours, *(b.offer for b in self.bots)]

    def buy_box_winner(self) -> Offer | None:
        """Lowest score among featured, in-stock offers under the threshold (FBA edge)."""
        eligible = [
            o for o in self.offers()
            if o.featured and o.in_stock and o.landed <= self.threshold
        ]
        if not eligible:
            return None
        edge = 1 - _param("fba_edge")

        def score(offer: Offer) -> tuple[Decimal, str]:
            return (offer.landed * (edge if offer.fba else 1), offer.seller_id)

        return min(eligible, key=score)


@dataclass
class HourResult:
    changed: set[str]  # ASINs whose offers changed this hour (bots)
    units: dict[str, Decimal]  # our units sold per SKU
    revenue: Decimal
    margin: Decimal
    buy_box_hours: int
    product_hours: int


class Market:
    """Products of several sellers; one ``Random`` drives every bot and every sale."""

    def __init__(
        self, seed: int, sellers: Iterable[str], skus_per_seller: int, currency: str = "EUR"
    ):
        self.seed = seed
        self.currency = currency
        self.rng = random.Random(seed)
        self.products: list[Product] = []
        for s_index, seller_id in enumerate(sellers):
            for i in range(skus_per_seller):
                self.products.append(self._product(seller_id, s_index, i))
        self.hour = 0

    def _product(self, seller_id: str, s_index: int, i: int) -> Product:
        rng = self.rng
        reference = Decimal(rng.randint(1000, 8000)) / 100
        ours = Offer(seller_id, cents(reference * Decimal("1.05")), fba=True)
        product = Product(
            asin=f"B0SIM{s_index:02d}{i:04d}",
            sku=f"{seller_id[-4:]}-SKU-{i:04d}",
            seller_id=seller_id,
            reference=reference,
            min_price=cents(reference * Decimal("0.85")),
            max_price=cents(reference * Decimal("1.30")),
            cost=cents(reference * Decimal("0.60")),
            base_units_per_hour=Decimal(rng.randint(5, 40)) / 100,
            ours=ours,
        )
        kinds = rng.sample(["static", "undercutter", "slow", "fbm"], k=rng.randint(2, 3))
        for k, kind in enumerate(kinds):
            price = cents(reference * Decimal(rng.randint(95, 115)) / 100)
            offer = Offer(
                f"ABOT{s_index}{i:04d}{k}",
                price,
                shipping=Decimal("4.99") if kind == "fbm" else Decimal(0),
                fba=kind != "fbm",
                featured=True,
                feedback_count=rng.randint(50, 20000),
            )
            product.bots.append(
                Bot(
                    offer, kind,
                    floor=cents(reference * Decimal(rng.randint(80, 92)) / 100),
                    every_hours=rng.choice([3, 4, 6]),
                    ceiling=cents(reference * Decimal("1.10")),
                )
            )
        return product

    def product(self, seller_id: str, sku: str) -> Product:
        for product in self.products:
            if product.seller_id == seller_id and product.sku == sku:
                return product
        raise KeyError((seller_id, sku))

    def move_bots(self) -> set[str]:
        """The top of a new hour: every bot moves; the ASINs whose offers changed."""
        self.hour += 1
        changed: set[str] = set()
        for product in self.products:
            for bot in product.bots:
                others = [
                    o.landed for o in product.offers()
                    if o is not bot.offer and o.in_stock and o.featured
                ]
                if bot.act(self.hour, min(others) if others else None, self.rng):
                    changed.add(product.asin)
        return changed

    def sell(self, changed: set[str] | None = None) -> HourResult:
        """The rest of the hour: shoppers buy at the prices that now stand (a repricer
        reacts within minutes, bots at the top of the hour)."""
        units: dict[str, Decimal] = {}
        revenue = margin = Decimal(0)
        bb_hours = 0
        for product in self.products:
            sold = self._our_units(product)
            units[product.sku] = sold
            revenue += sold * product.ours.price
            margin += sold * (product.ours.price - product.cost)
            if product.buy_box_winner() is product.ours:
                bb_hours += 1
        return HourResult(changed or set(), units, revenue, margin, bb_hours, len(self.products))

    def step(self) -> HourResult:
        """One simulated hour with nobody reacting in between: bots move, shoppers buy."""
        return self.sell(self.move_bots())

    def _our_units(self, product: Product) -> Decimal:
        """Expected units of our offer this hour (a fractional expectation, no noise)."""
        winner = product.buy_box_winner()
        price_for_demand = winner.landed if winner else product.reference
        # Demand curve units = base x (price / reference) ^ elasticity. The power is taken
        # in float (a unitless factor, not money) and brought back as a 6-digit Decimal.
        ratio = float(price_for_demand / product.reference)
        demand = product.base_units_per_hour * Decimal(
            str(round(ratio ** float(_param("elasticity")), 6))
        )
        if winner is None:
            demand *= Decimal("0.2")  # suppressed Buy Box: sales sink
        share_bb = _param("bb_share")
        others = [o for o in product.offers() if o.in_stock and o is not winner]
        if winner is product.ours:
            return demand * share_bb
        if product.ours in others and others:
            # the rest of the units spread over the other in-stock offers
            return demand * (1 - share_bb) / len(others)
        return Decimal(0)
