"""Every Buy Box, demand and competitor parameter of the simulated market, in one place.

Each parameter has its value, the range the public evidence allows, the fact behind it
(repricing.md §5 "Buy Box facts" and §5a "Evidence for a Buy Box model") and whether that
fact is verified. The values were chosen from the evidence *before* the quality benchmark
was run, as the midpoint (or the one published estimate) of the documented range; none
was changed after seeing which strategy wins. ``bench/quality.py --param NAME=VALUE``
re-runs the benchmark with another value so that the unverified ones can be swept.

The model itself (what each parameter does) is described in docs/MARKET-MODEL.md.

Units: ``*_edge``, ``rotation_temperature`` and ``other_offers_temperature`` are fractions
of price (0.02 = 2 % of the landed price); probabilities are per simulated hour.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Fact:
    low: float
    high: float
    source: str
    verified: bool


@dataclass(frozen=True)
class MarketParameters:
    """The market's parameters; ``MarketParameters()`` is the documented default."""

    # -- Buy Box ---------------------------------------------------------------------------
    min_feedback_positive: int = 90
    rotation_temperature: float = 0.01
    fba_edge: float = 0.02
    amazon_edge: float = 0.015
    amazon_incumbent_edge: float = 0.015
    feedback_weight: float = 0.005
    threshold_base_low: float = 1.00
    threshold_base_high: float = 1.30
    threshold_change_probability: float = 1 / 24
    threshold_step: float = 0.05
    threshold_reversion: float = 0.2
    # -- demand ----------------------------------------------------------------------------
    bb_share: float = 0.85
    suppressed_sales_factor: float = 0.2
    other_offers_temperature: float = 0.05
    elasticity_low: float = -3.0
    elasticity_high: float = -0.5
    # -- competitors -----------------------------------------------------------------------
    static_change_probability: float = 0.02
    static_drift: float = 0.03
    stockout_probability: float = 1 / 96
    restock_hours_low: int = 12
    restock_hours_high: int = 72
    amazon_on_mixed_asins: float = 0.15

    def replace(self, **changes: Any) -> MarketParameters:
        """A copy with ``changes`` (names checked, values converted to the field's type)."""
        known = {f.name: f for f in fields(self)}
        converted: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise KeyError(f"unknown market parameter {name!r}; known: {sorted(known)}")
            kind = type(getattr(self, name))
            converted[name] = kind(float(value)) if kind is int else kind(value)
        return replace(self, **converted)

    def describe(self) -> list[tuple[str, Any, Fact]]:
        return [(f.name, getattr(self, f.name), FACTS[f.name]) for f in fields(self)]


DEFAULT = MarketParameters()

# The public fact behind each parameter (repricing.md §5a unless said otherwise).
FACTS: dict[str, Fact] = {
    "min_feedback_positive": Fact(
        80, 95,
        "Eligibility is gated on undisclosed performance targets (Seller Central G37911); weak "
        "sellers are often non-featured (repricing.md §5). An offer below this % positive is "
        "not featured. The threshold value itself is a guess.", False),
    "rotation_temperature": Fact(
        0.005, 0.02,
        "Feedvisor: the Buy Box rotates among near-equal offers (10 equal sellers ≈ 10 % "
        "each); Featured Offer % = page views as winner / page views (G37911). Shares are a "
        "softmax of the score with this temperature, so offers within ~1 % of price split "
        "the page views (1 % apart ≈ 73/27).", False),
    "fba_edge": Fact(
        0.01, 0.05,
        "FBA / Seller-Fulfilled Prime can hold the Buy Box at higher prices than FBM "
        "(G37911: availability and delivery count); size claimed by vendors, 1–5 %. "
        "Midpoint-low 2 %.", False),
    "amazon_edge": Fact(
        0.0, 0.03,
        "The Markup 2021: Amazon picked itself for ~40 % of 1,200 popular products; Amazon "
        "wins within 0–3 % of the lowest price. Half of that range for a challenging "
        "Amazon offer.", False),
    "amazon_incumbent_edge": Fact(
        0.0, 0.03,
        "The Markup 2021: once Amazon holds the Buy Box it kept it 12 weeks later for 98 % of "
        "products (sticky). Extra edge while Amazon held it in the previous hour, so an "
        "incumbent Amazon wins within 3 % (the top of the 0–3 % range).", False),
    "feedback_weight": Fact(
        0.0, 0.01,
        "Chen, Mislove, Wilson (WWW 2016): rating and feedback count were weaker features "
        "than price; a small tie-break: up to 0.5 % of price for 100 % vs. the gate.", False),
    "threshold_base_low": Fact(
        0.95, 1.10,
        "Competitive price threshold = the lowest price at major other retailers (pricing "
        "health help, STH6YN3BR8XNWBW); we cannot see it, so it is exogenous: each ASIN's "
        "walk reverts to a base drawn in [low, high] × the ASIN's reference price.", False),
    "threshold_base_high": Fact(
        1.20, 1.40,
        "Upper end of the threshold's base (× reference). Our max_price is 1.30 × "
        "reference, so on some ASINs the threshold, not max_price, caps the price.", False),
    "threshold_change_probability": Fact(
        1 / 72, 1 / 6,
        "Off-Amazon prices change about daily (Chen et al.: ~⅓ of products repriced daily "
        "on Amazon; assumed similar off Amazon).", False),
    "threshold_step": Fact(
        0.02, 0.10,
        "Largest relative move of the threshold per change (uniform ±).", False),
    "threshold_reversion": Fact(
        0.0, 0.5,
        "Pull of each threshold change back toward the ASIN's base (keeps the walk in a "
        "plausible band over weeks).", False),
    "bb_share": Fact(
        0.80, 0.90,
        "Share of sales through the Buy Box: 82 % (Vice on Chen et al.; buyboxexperts), "
        "83 % (Threecolts), > 80 % desktop / > 90 % mobile (ProMarket), ~90 % "
        "(SELLERLOGIC). Midpoint 0.85.", True),
    "suppressed_sales_factor": Fact(
        0.1, 0.3,
        "FTC v. Amazon (2023): offers above the threshold lose the Buy Box and sales "
        "'sink'. Units when nobody holds the Buy Box, × demand. Midpoint 0.2.", False),
    "other_offers_temperature": Fact(
        0.02, 0.10,
        "Sales not through the Buy Box go 'to other offers by price' (§5a): softmax over "
        "in-stock offers' landed price with this temperature (5 % dearer ≈ 1/e as many).",
        False),
    "elasticity_low": Fact(
        -4.0, -0.5,
        "Chevalier & Goolsbee (QME 2003, books): Amazon demand ≈ −0.6, BN.com ≈ −4; "
        "repricing.md: item elasticity −0.5 to −3, expect category spread. Each ASIN draws "
        "its elasticity uniformly in [low, high] = [−3, −0.5] (mean −1.75: more elastic than "
        "the one Amazon estimate, i.e. conservative for a strategy that climbs).", False),
    "elasticity_high": Fact(
        -1.0, -0.3,
        "Upper (least elastic) end of the per-ASIN elasticity; demand depends on the Buy "
        "Box price shoppers see: the Buy Box moves who sells, not total demand.", False),
    "static_change_probability": Fact(
        0.005, 0.05,
        "Chen et al.: 2–10 % of sellers algorithmic; the others static or repriced about "
        "daily. A static seller re-prices by hand with this probability per hour "
        "(≈ every two days).", False),
    "static_drift": Fact(
        0.01, 0.10,
        "Largest relative move of a manual re-price (uniform ±).", False),
    "stockout_probability": Fact(
        1 / 240, 1 / 24,
        "The out-of-stock-prone seller (issue #5) runs out with this probability per hour "
        "(≈ every 4 days); no public rate.", False),
    "restock_hours_low": Fact(
        6, 24, "Shortest time out of stock (hours); no public figure.", False),
    "restock_hours_high": Fact(
        24, 168, "Longest time out of stock (hours); no public figure.", False),
    "amazon_on_mixed_asins": Fact(
        0.0, 0.4,
        "Share of ASINs in the default 'mixed' competitor mix with Amazon retail as a "
        "seller (The Markup: Amazon sells ~40 % of popular products, fewer in the long "
        "tail).", False),
}

assert set(FACTS) == {f.name for f in fields(MarketParameters)}
