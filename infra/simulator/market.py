"""A seeded marketplace: ASINs, competitor bots, a Buy Box model and demand.

Deterministic for a given seed (and competitor ``mix``): each ASIN has its own random
streams, one for its structure (reference price, demand, competitors) and one for what
happens each hour (bots' manual re-prices and stock-outs, the competitive price
threshold's walk, which offer a notification shows as the Buy Box winner). Every hour
draws the same number of values whatever the prices are, so running the same seeded
market with different repricers (bench/quality.py) gives every run the same outside
events: only the reactions to our price differ.

Time advances in whole simulated hours: :meth:`Market.move_bots` (the top of the hour:
bots move, thresholds walk), then the caller sets our prices (the real repricer through
the fake SP-API, or an in-memory repricer), then :meth:`Market.sell` (shoppers buy at the
prices that stand). Our seller's price is never decided here.

The Buy Box and demand rules are in :class:`Product` (summary in docs/MARKET-MODEL.md);
every number comes from :mod:`infra.simulator.parameters` with the public fact behind it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import ROUND_DOWN, Decimal

from infra.simulator.parameters import DEFAULT, MarketParameters

CENT = Decimal("0.01")
AMAZON_SELLER_ID = "A3JWKAKR8XB7XF"  # Amazon retail on amazon.de *(unverified)*
MIXES: tuple[str, ...] = ("mixed", "calm", "aggressive", "amazon")
BOT_KINDS: tuple[str, ...] = ("static", "undercutter", "slow", "fbm", "amazon", "oos")
_UNITS = Decimal("0.000001")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


def _dec(value: float) -> Decimal:
    return Decimal(repr(round(value, 6))).quantize(_UNITS)


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
    amazon: bool = False  # Amazon retail selling on its own marketplace

    @property
    def landed(self) -> Decimal:
        return self.price + self.shipping


@dataclass
class Bot:
    """A competitor with one behaviour (:data:`BOT_KINDS`):

    - ``static``: keeps its price; re-prices by hand now and then (± ``static_drift``);
    - ``undercutter``: every hour, the lowest other featured offer − 0.01, never above its
      ceiling; when that is below its floor it either stays at the floor
      (``at_floor="stay"``) or gives up and resets to its ceiling (``"reset"``);
    - ``slow``: every ``every_hours`` hours, 1 % under the lowest other offer, in
      [floor, ceiling];
    - ``fbm``: a merchant-fulfilled seller (shipping charged, no Prime), otherwise static;
      a weak feedback score makes it non-featured;
    - ``amazon``: Amazon retail: every ``every_hours`` hours matches the lowest other
      featured offer (no undercut), never below its floor nor above its list price
      (``ceiling``);
    - ``oos``: static, cheap, and runs out of stock now and then (back after 12–72 h).
    """

    offer: Offer
    kind: str
    floor: Decimal
    every_hours: int = 1
    ceiling: Decimal | None = None
    at_floor: str = "stay"
    restock_at: int | None = None

    def act(
        self, hour: int, lowest_other: Decimal | None, rng: random.Random,
        parameters: MarketParameters = DEFAULT, draws: tuple[float, float] | None = None,
    ) -> bool:
        """Move the bot for this hour; True when its offer changed (price or stock).

        ``draws`` are this hour's two uniform numbers (drawn from ``rng`` when not given).
        """
        u1, u2 = draws if draws is not None else (rng.random(), rng.random())
        offer = self.offer
        before = (offer.price, offer.in_stock)
        top = self.ceiling if self.ceiling is not None else offer.price
        if self.kind == "undercutter":
            if lowest_other is None:
                offer.price = top
            else:
                target = lowest_other - CENT - offer.shipping
                if target < self.floor:
                    target = self.floor if self.at_floor == "stay" else top
                offer.price = min(top, cents(target))
        elif self.kind == "slow":
            if hour % self.every_hours == 0 and lowest_other is not None:
                target = cents(lowest_other * Decimal("0.99")) - offer.shipping
                offer.price = min(top, max(self.floor, target))
        elif self.kind == "amazon":
            if hour % self.every_hours == 0:
                target = top if lowest_other is None else lowest_other - offer.shipping
                offer.price = min(top, max(self.floor, cents(target)))
        elif self.kind in ("static", "fbm", "oos"):
            if self.kind == "oos":
                if offer.in_stock and u1 < parameters.stockout_probability:
                    offer.in_stock = False
                    span = parameters.restock_hours_high - parameters.restock_hours_low
                    self.restock_at = hour + parameters.restock_hours_low + int(u2 * span)
                elif not offer.in_stock and self.restock_at is not None \
                        and hour >= self.restock_at:
                    offer.in_stock, self.restock_at = True, None
            elif u1 < parameters.static_change_probability:
                drift = Decimal(repr(round((2 * u2 - 1) * parameters.static_drift, 4)))
                offer.price = min(top, max(self.floor, cents(offer.price * (1 + drift))))
        return (offer.price, offer.in_stock) != before


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
    elasticity: float = -1.5
    threshold_base: Decimal | None = None  # the walk reverts here; None: 1.35 × reference
    threshold_now: Decimal | None = None  # current threshold; None: the base
    parameters: MarketParameters = DEFAULT
    draw: float = 0.0  # this hour's uniform number: which offer a page view shows
    amazon_incumbent: bool = False  # Amazon held the Buy Box at the end of the last hour

    # -- the competitive price threshold -----------------------------------------------------
    @property
    def threshold(self) -> Decimal:
        """Competitive price threshold (landed): above it an offer cannot win."""
        if self.threshold_now is not None:
            return self.threshold_now
        if self.threshold_base is not None:
            return self.threshold_base
        return cents(self.reference * Decimal("1.35"))

    def walk_threshold(self, u1: float, u2: float) -> bool:
        """This hour's step of the exogenous threshold; True when it moved."""
        p = self.parameters
        if u1 >= p.threshold_change_probability:
            return False
        before = self.threshold
        base = float(self.threshold_base or before)
        value = float(before) * (1 + (2 * u2 - 1) * p.threshold_step)
        value += p.threshold_reversion * (base - value)
        ref = float(self.reference)
        value = min(max(value, 0.9 * ref), 1.5 * ref)
        self.threshold_now = cents(Decimal(repr(round(value, 4))))
        return self.threshold_now != before

    # -- the Buy Box -------------------------------------------------------------------------
    def offers(self) -> list[Offer]:
        return [self.ours, *(b.offer for b in self.bots)]

    def is_eligible(self, offer: Offer) -> bool:
        """Buy Box eligible: featured, in stock, feedback at the gate, landed under the
        competitive price threshold."""
        return (
            offer.featured and offer.in_stock
            and offer.feedback_positive >= self.parameters.min_feedback_positive
            and offer.landed <= self.threshold
        )

    def scores(self) -> list[tuple[Offer, float]]:
        """Eligible offers and their score: −(landed / lowest eligible − 1) plus the FBA,
        Amazon (and incumbent Amazon) edges and a small feedback tie-break."""
        eligible = [o for o in self.offers() if self.is_eligible(o)]
        if not eligible:
            return []
        p = self.parameters
        lowest = float(min(o.landed for o in eligible))
        gate = p.min_feedback_positive
        result = []
        for offer in eligible:
            score = -(float(offer.landed) / lowest - 1)
            if offer.fba:
                score += p.fba_edge
            if offer.amazon:
                score += p.amazon_edge + (p.amazon_incumbent_edge if self.amazon_incumbent
                                          else 0.0)
            quality = (offer.feedback_positive - gate) / max(100 - gate, 1)
            score += p.feedback_weight * min(max(quality, 0.0), 1.0)
            result.append((offer, score))
        return result

    def buy_box_shares(self) -> list[tuple[Offer, float]]:
        """Share of page views each eligible offer wins (softmax of the scores); empty when
        nobody is eligible (the Buy Box is suppressed)."""
        scored = self.scores()
        if not scored:
            return []
        top = max(s for _, s in scored)
        t = self.parameters.rotation_temperature
        weights = [(o, math.exp((s - top) / t)) for o, s in scored]
        total = sum(w for _, w in weights)
        return [(o, w / total) for o, w in weights]

    def share_of(self, offer: Offer) -> float:
        for o, share in self.buy_box_shares():
            if o is offer:
                return share
        return 0.0

    def buy_box_winner(self) -> Offer | None:
        """The winner a page view (and a notification) shows this hour: drawn from the
        shares with this hour's number; None when the Buy Box is suppressed."""
        shares = self.buy_box_shares()
        if not shares:
            return None
        acc = 0.0
        for offer, share in shares:
            acc += share
            if self.draw < acc:
                return offer
        return shares[-1][0]

    # -- demand ------------------------------------------------------------------------------
    def demand(
        self, shares: list[tuple[Offer, float]] | None = None,
    ) -> tuple[float, list[tuple[Offer, float]], bool]:
        """(units this hour for the whole listing, the Buy Box shares, suppressed);
        ``shares``: :meth:`buy_box_shares` when the caller has them already."""
        if shares is None:
            shares = self.buy_box_shares()
        in_stock = [o for o in self.offers() if o.in_stock]
        if not in_stock:
            return 0.0, shares, not shares
        if shares:
            price = sum(float(o.landed) * s for o, s in shares)
        else:
            price = float(min(o.landed for o in in_stock))
        units = float(self.base_units_per_hour) * (price / float(self.reference)) ** \
            self.elasticity
        if not shares:
            units *= self.parameters.suppressed_sales_factor
        return units, shares, not shares

    def units_of(self, offer: Offer, shares: list[tuple[Offer, float]] | None = None) -> float:
        """Expected units of ``offer`` this hour: ``bb_share`` of the demand split by Buy
        Box share, the rest over the in-stock offers by price (all of it when
        suppressed). A fractional expectation, no noise."""
        units, shares, suppressed = self.demand(shares)
        if units == 0 or not offer.in_stock:
            return 0.0
        p = self.parameters
        in_stock = [o for o in self.offers() if o.in_stock]
        lowest = float(min(o.landed for o in in_stock))
        t = p.other_offers_temperature
        weights = {id(o): math.exp(-(float(o.landed) / lowest - 1) / t) for o in in_stock}
        other = weights[id(offer)] / sum(weights.values())
        if suppressed:
            return units * other
        mine = next((s for o, s in shares if o is offer), 0.0)
        return units * (p.bb_share * mine + (1 - p.bb_share) * other)


@dataclass
class HourResult:
    changed: set[str]  # ASINs whose offers (or threshold) changed this hour
    units: dict[tuple[str, str], Decimal]  # our units sold per (seller, SKU)
    revenue: Decimal
    margin: Decimal
    buy_box_hours: Decimal  # sum over our SKUs of our Buy Box share of the hour's page views
    product_hours: int
    suppressed_hours: int = 0

    def units_of_seller(self, seller_id: str) -> dict[str, Decimal]:
        """One seller's units sold per SKU (sellers' SKUs may have equal names)."""
        return {sku: units for (seller, sku), units in self.units.items()
                if seller == seller_id}



@dataclass
class Tally:
    """What a simulated run earned for our SKUs, added up hour by hour (the demo and the
    quality benchmark report from it)."""

    revenue: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)
    buy_box_hours: Decimal = Decimal(0)
    product_hours: int = 0
    suppressed_hours: int = 0
    price_sum: Decimal = Decimal(0)  # our prices, summed over the product-hours
    max_sum: Decimal = Decimal(0)  # their max prices, likewise
    out_of_bounds: int = 0  # product-hours with our price outside [min, max]
    price_changes: int = 0  # counted by the caller, which makes them

    def add_hour(self, market: Market, result: HourResult) -> None:
        self.revenue += result.revenue
        self.margin += result.margin
        self.buy_box_hours += result.buy_box_hours
        self.product_hours += result.product_hours
        self.suppressed_hours += result.suppressed_hours
        for product in market.products:
            self.price_sum += product.ours.price
            self.max_sum += product.max_price
            if not product.min_price <= product.ours.price <= product.max_price:
                self.out_of_bounds += 1

    def __add__(self, other: Tally) -> Tally:
        """Two tallies of disjoint products (e.g. the demo's workers) as one: every field
        is a sum."""
        return Tally(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                        for f in fields(self)})

    @property
    def buy_box_share(self) -> Decimal:
        """Our share of the Buy Box over all product-hours, to 4 places."""
        if not self.product_hours:
            return Decimal(0)
        return (Decimal(self.buy_box_hours) / self.product_hours).quantize(Decimal("0.0001"))


class Market:
    """Products of several sellers with competitor bots of one ``mix`` (:data:`MIXES`):

    - ``mixed`` (default): 2–3 of static / undercutter / slow / FBM / out-of-stock-prone,
      plus Amazon retail on ``amazon_on_mixed_asins`` of the ASINs;
    - ``calm``: a static seller plus 1–2 of static / FBM / slow / out-of-stock-prone;
    - ``aggressive``: two penny undercutters plus one of slow / static / FBM / OOS-prone;
    - ``amazon``: Amazon retail plus 1–2 of the others.
    """

    def __init__(
        self, seed: int, sellers: Iterable[str], skus_per_seller: int, currency: str = "EUR",
        *, mix: str = "mixed", parameters: MarketParameters = DEFAULT,
        amazon_seller_id: str = AMAZON_SELLER_ID,
    ):
        if mix not in MIXES:
            raise ValueError(f"unknown competitor mix {mix!r}; one of {', '.join(MIXES)}")
        self.seed = seed
        self.currency = currency
        self.mix = mix
        self.parameters = parameters
        self.amazon_seller_id = amazon_seller_id
        self.rng = random.Random(seed)
        self.products: list[Product] = []
        self._hourly: dict[str, random.Random] = {}
        self.external: set[str] = set()  # ASINs whose threshold alone moved this hour
        for s_index, seller_id in enumerate(sellers):
            for i in range(skus_per_seller):
                product = self._product(seller_id, s_index, i)
                self.products.append(product)
                self._hourly[product.asin] = random.Random(f"{seed}:{s_index}:{i}:hourly")
        self.hour = 0
        for product in self.products:
            product.draw = self._hourly[product.asin].random()

    def _product(self, seller_id: str, s_index: int, i: int) -> Product:
        # The ASIN's own stream: the same seed gives the same ASINs (reference, demand,
        # threshold) in every mix; only the competitors drawn after them differ.
        rng = random.Random(f"{self.seed}:{s_index}:{i}")
        p = self.parameters
        reference = Decimal(rng.randint(1000, 8000)) / 100
        ours = Offer(seller_id, cents(reference * Decimal("1.05")), fba=True)
        elasticity = rng.uniform(p.elasticity_low, p.elasticity_high)
        base = rng.uniform(p.threshold_base_low, p.threshold_base_high)
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
            elasticity=round(elasticity, 3),
            threshold_base=cents(reference * Decimal(repr(round(base, 4)))),
            parameters=p,
        )
        for k, kind in enumerate(self._kinds(rng)):
            product.bots.append(self._bot(rng, kind, reference, s_index, i, k))
        return product

    def _kinds(self, rng: random.Random) -> list[str]:
        others = ["static", "undercutter", "slow", "fbm", "oos"]
        if self.mix == "calm":
            return ["static", *rng.sample(["static", "fbm", "slow", "oos"], k=rng.randint(1, 2))]
        if self.mix == "aggressive":
            return ["undercutter", "undercutter", rng.choice(["slow", "static", "fbm", "oos"])]
        if self.mix == "amazon":
            return ["amazon", *rng.sample(others, k=rng.randint(1, 2))]
        kinds = rng.sample(others, k=rng.randint(2, 3))
        if rng.random() < self.parameters.amazon_on_mixed_asins:
            kinds.append("amazon")
        return kinds

    def _bot(self, rng: random.Random, kind: str, reference: Decimal, s_index: int, i: int,
             k: int) -> Bot:
        def times(low: int, high: int) -> Decimal:
            return cents(reference * Decimal(rng.randint(low, high)) / 100)

        floor, ceiling = times(80, 92), times(110, 125)
        if kind == "amazon":
            price = times(98, 108)
            offer = Offer(self.amazon_seller_id, price, feedback_count=500000,
                          feedback_positive=100, amazon=True)
            return Bot(offer, kind, floor=times(88, 95), every_hours=rng.choice([1, 2, 3]),
                       ceiling=price)
        seller = f"ABOT{s_index}{i:04d}{k}"
        if kind == "fbm":
            shipping = Decimal(rng.choice(["2.99", "3.99", "4.99"]))
            positive = rng.randint(82, 99)
            offer = Offer(seller, times(88, 105), shipping=shipping, fba=False,
                          featured=positive >= self.parameters.min_feedback_positive,
                          feedback_count=rng.randint(20, 5000), feedback_positive=positive)
            return Bot(offer, kind, floor=floor, ceiling=ceiling)
        price = times(88, 100) if kind == "oos" else times(95, 115)
        offer = Offer(seller, price, feedback_count=rng.randint(50, 20000),
                      feedback_positive=rng.randint(90, 100))
        return Bot(offer, kind, floor=floor, every_hours=rng.choice([3, 4, 6]),
                   ceiling=max(ceiling, price), at_floor=rng.choice(["stay", "reset"]))

    def keep_sellers(self, seller_ids: Iterable[str]) -> None:
        """From now on only these sellers' products take part (the demo's workers each
        run some sellers). Each ASIN keeps its own random streams, so a product behaves
        the same whichever others are kept."""
        kept = set(seller_ids)
        self.products = [p for p in self.products if p.seller_id in kept]

    def product(self, seller_id: str, sku: str) -> Product:
        for product in self.products:
            if product.seller_id == seller_id and product.sku == sku:
                return product
        raise KeyError((seller_id, sku))

    def move_bots(self) -> set[str]:
        """The top of a new hour: every bot moves, thresholds walk; the ASINs whose offers
        or threshold changed (those whose threshold alone moved are also in
        :attr:`external`)."""
        self.hour += 1
        changed: set[str] = set()
        self.external = set()
        for product in self.products:
            rng = self._hourly[product.asin]
            winner = product.buy_box_winner()  # the end of the last hour
            product.amazon_incumbent = winner is not None and winner.amazon
            offer_moved = False
            for bot in product.bots:
                draws = (rng.random(), rng.random())
                others = [
                    o.landed for o in product.offers()
                    if o is not bot.offer and o.in_stock and o.featured
                ]
                lowest = min(others) if others else None
                if bot.act(self.hour, lowest, rng, self.parameters, draws):
                    offer_moved = True
            threshold_moved = product.walk_threshold(rng.random(), rng.random())
            product.draw = rng.random()
            if offer_moved or threshold_moved:
                changed.add(product.asin)
            if threshold_moved and not offer_moved:
                self.external.add(product.asin)
        return changed

    def sell(self, changed: set[str] | None = None) -> HourResult:
        """The rest of the hour: shoppers buy at the prices that now stand (a repricer
        reacts within minutes, bots at the top of the hour)."""
        units: dict[tuple[str, str], Decimal] = {}
        revenue = margin = bb = Decimal(0)
        suppressed = 0
        for product in self.products:
            shares = product.buy_box_shares()
            sold = _dec(product.units_of(product.ours, shares))
            units[product.seller_id, product.sku] = sold
            revenue += sold * product.ours.price
            margin += sold * (product.ours.price - product.cost)
            if not shares:
                suppressed += 1
            # rounded per product: the sum over any split of the products is the same
            bb += _dec(next((s for o, s in shares if o is product.ours), 0.0))
        return HourResult(changed or set(), units, revenue, margin, bb,
                          len(self.products), suppressed)

    def step(self) -> HourResult:
        """One simulated hour with nobody reacting in between: bots move, shoppers buy."""
        return self.sell(self.move_bots())
