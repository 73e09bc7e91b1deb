"""The report layouts the audit knows, recognised by their header row.

Each layout lists the columns it needs (normalised: lower case, no spaces, ``-`` or ``_``)
and builds one typed record per data row. Column positions are looked up once per file,
so the builders do nothing per row but index, convert and construct.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from operator import itemgetter
from typing import Any

from functions.core.money import Money, parse_currency

from .fields import (
    RowError,
    normalize_header,
    parse_date,
    parse_decimal,
    parse_int,
    parse_optional_decimal,
    parse_optional_int,
    parse_optional_timestamp,
    parse_timestamp,
)
from .records import (
    CustomerReturn,
    FeeEstimate,
    InboundShipmentItem,
    LedgerEntry,
    Reimbursement,
    RemovalOrder,
    RemovalShipment,
    SettlementLine,
    SettlementSummary,
)


class ReportKind(StrEnum):
    LEDGER = "ledger"
    REIMBURSEMENTS = "reimbursements"
    CUSTOMER_RETURNS = "customer_returns"
    REMOVAL_ORDERS = "removal_orders"
    REMOVAL_SHIPMENTS = "removal_shipments"
    FEE_ESTIMATES = "fee_estimates"
    SETTLEMENT = "settlement"
    SETTLEMENT_LEGACY = "settlement_legacy"
    INBOUND_SHIPMENTS = "inbound_shipments"
    COSTS = "costs"


# The Reports API report type behind each layout (None: not a Reports API report).
REPORT_TYPES: dict[ReportKind, str | None] = {
    ReportKind.LEDGER: "GET_LEDGER_DETAIL_VIEW_DATA",
    ReportKind.REIMBURSEMENTS: "GET_FBA_REIMBURSEMENTS_DATA",
    ReportKind.CUSTOMER_RETURNS: "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
    ReportKind.REMOVAL_ORDERS: "GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA",
    ReportKind.REMOVAL_SHIPMENTS: "GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA",
    ReportKind.FEE_ESTIMATES: "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA",
    ReportKind.SETTLEMENT: "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    ReportKind.SETTLEMENT_LEGACY: "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
    ReportKind.INBOUND_SHIPMENTS: None,
    ReportKind.COSTS: None,
}

# Ledger event types (Event Type column).
SHIPMENTS = "Shipments"
RECEIPTS = "Receipts"
CUSTOMER_RETURNS = "CustomerReturns"
WAREHOUSE_TRANSFERS = "WhseTransfers"
VENDOR_RETURNS = "VendorReturns"
ADJUSTMENTS = "Adjustments"
LEDGER_EVENT_TYPES = (
    SHIPMENTS, RECEIPTS, CUSTOMER_RETURNS, WAREHOUSE_TRANSFERS, VENDOR_RETURNS, ADJUSTMENTS)
LEDGER_EVENT_COLUMN = "eventtype"
LEDGER_REASON_COLUMN = "reason"

Builder = Callable[[list[str], int], Any]


class Columns:
    """Where each (normalised) column sits in one file's header.

    An optional column the file lacks points one past the last column, where the reader
    appends an empty cell to every row, so builders never branch on absent columns.
    """

    def __init__(self, titles: list[str], aliases: Mapping[str, str]) -> None:
        self.titles = titles
        self.missing = len(titles)
        self.positions: dict[str, int] = {}
        for position, title in enumerate(titles):
            name = normalize_header(title)
            self.positions.setdefault(aliases.get(name, name), position)

    def __contains__(self, key: str) -> bool:
        return key in self.positions

    def __call__(self, key: str) -> int:
        return self.positions.get(key, self.missing)

    def title(self, key: str) -> str:
        """The column's name as the file spells it (for messages)."""
        position = self.positions.get(key)
        return key if position is None else self.titles[position].strip()


@dataclass(frozen=True, slots=True)
class Layout:
    kind: ReportKind
    required: frozenset[str]
    aliases: Mapping[str, str]
    make_builder: Callable[[Columns, str], Builder]
    # Several records per row (the legacy settlement): the builder returns a list.
    multi: bool = False


def _need(value: str, column: str) -> str:
    value = value.strip()
    if not value:
        raise RowError(f"column {column!r} is empty")
    return value


_CURRENCIES: dict[str, str] = {}


def _currency(value: str, column: str) -> str:
    known = _CURRENCIES.get(value)
    if known is not None:
        return known
    try:
        code = parse_currency(value)
    except ValueError:
        raise RowError(f"column {column!r}: {value!r} is not a known ISO 4217 currency") from None
    if len(_CURRENCIES) < 256:
        _CURRENCIES[value] = code
    return code


# -- builders -------------------------------------------------------------------------------
def _ledger(c: Columns, file: str) -> Builder:
    # The hottest builder (a ledger has millions of rows): positional indexing only, no
    # per-cell stripping (Amazon writes no padding), conversions bound to locals.
    i_date, i_fnsku, i_asin, i_msku, i_title = (
        c("date"), c("fnsku"), c("asin"), c("msku"), c("title"))
    i_event, i_ref, i_qty, i_fc, i_disp = (
        c("eventtype"), c("referenceid"), c("quantity"), c("fulfillmentcenter"), c("disposition"))
    i_reason, i_country, i_rec, i_unrec, i_dt = (
        c("reason"), c("country"), c("reconciledquantity"), c("unreconciledquantity"),
        c("dateandtime"))
    t_date, t_fnsku, t_qty, t_rec, t_unrec, t_dt = (
        c.title("date"), c.title("fnsku"), c.title("quantity"), c.title("reconciledquantity"),
        c.title("unreconciledquantity"), c.title("dateandtime"))
    p_date, p_int, p_oint, p_ts = parse_date, parse_int, parse_optional_int, parse_timestamp
    cells = itemgetter(i_date, i_fnsku, i_asin, i_msku, i_title, i_event, i_ref, i_qty, i_fc,
                       i_disp, i_reason, i_country, i_rec, i_unrec, i_dt)
    # Kept rows repeat the same few thousand ids, titles and codes: keep one copy of each.
    share = {}.setdefault

    def build(row: list[str], line: int) -> LedgerEntry:
        (day, fnsku, asin, msku, title, event, reference, quantity, fc, disposition, reason,
         country, rec, unrec, stamp) = cells(row)
        if not fnsku:
            raise RowError(f"column {t_fnsku!r} is empty")
        return LedgerEntry(
            file, line, p_date(day, t_date), share(fnsku, fnsku), share(asin, asin),
            share(msku, msku), share(title, title), share(event, event), reference,
            p_int(quantity, t_qty), share(fc, fc), share(disposition, disposition),
            share(reason, reason), share(country, country),
            p_oint(rec, t_rec) if rec else None,
            p_oint(unrec, t_unrec) if unrec else None,
            p_ts(stamp, t_dt) if stamp else None,
        )

    return build


def _reimbursements(c: Columns, file: str) -> Builder:
    (i_approval, i_id, i_case, i_order, i_reason, i_sku, i_fnsku, i_asin, i_condition,
     i_currency, i_per_unit, i_total, i_cash, i_units, i_qty_total, i_original,
     i_original_type) = (c(k) for k in (
        "approvaldate", "reimbursementid", "caseid", "amazonorderid", "reason", "sku", "fnsku",
        "asin", "condition", "currencyunit", "amountperunit", "amounttotal",
        "quantityreimbursedcash", "quantityreimbursedinventory", "quantityreimbursedtotal",
        "originalreimbursementid", "originalreimbursementtype"))
    (t_approval, t_id, t_reason, t_currency, t_per_unit, t_total, t_cash, t_units,
     t_qty_total) = (c.title(k) for k in (
        "approvaldate", "reimbursementid", "reason", "currencyunit", "amountperunit",
        "amounttotal", "quantityreimbursedcash", "quantityreimbursedinventory",
        "quantityreimbursedtotal"))
    p_oint, p_odec = parse_optional_int, parse_optional_decimal

    def build(row: list[str], line: int) -> Reimbursement:
        currency = _currency(row[i_currency], t_currency)
        per_unit = p_odec(row[i_per_unit], t_per_unit)
        cash = p_oint(row[i_cash], t_cash) or 0
        units = p_oint(row[i_units], t_units) or 0
        total_qty = p_oint(row[i_qty_total], t_qty_total)
        return Reimbursement(
            file, line, parse_timestamp(row[i_approval].strip(), t_approval),
            _need(row[i_id], t_id), row[i_case].strip(), row[i_order].strip(),
            _need(row[i_reason], t_reason), row[i_sku].strip(), row[i_fnsku].strip(),
            row[i_asin].strip(), row[i_condition].strip(),
            None if per_unit is None else Money(per_unit, currency),
            Money(parse_decimal(row[i_total].strip(), t_total), currency),
            cash, units, cash + units if total_qty is None else total_qty,
            row[i_original].strip(), row[i_original_type].strip(),
        )

    return build


def _customer_returns(c: Columns, file: str) -> Builder:
    cells = itemgetter(*(c(k) for k in (
        "returndate", "orderid", "sku", "asin", "fnsku", "productname", "quantity",
        "fulfillmentcenterid", "detaileddisposition", "reason", "status", "licenseplatenumber",
        "customercomments")))
    t_date, t_order, t_qty = c.title("returndate"), c.title("orderid"), c.title("quantity")
    share = {}.setdefault  # one copy of each repeated id, name and code

    def build(row: list[str], line: int) -> CustomerReturn:
        (day, order, sku, asin, fnsku, name, quantity, fc, disposition, reason, status, lpn,
         comments) = cells(row)
        sku, asin, fnsku = sku.strip(), asin.strip(), fnsku.strip()
        disposition, reason, status = disposition.strip().upper(), reason.strip(), status.strip()
        return CustomerReturn(
            file, line, parse_timestamp(day.strip(), t_date), _need(order, t_order),
            share(sku, sku), share(asin, asin), share(fnsku, fnsku), share(name, name),
            parse_int(quantity, t_qty), share(fc, fc), share(disposition, disposition),
            share(reason, reason), share(status, status), lpn.strip(), comments,
        )

    return build


def _removal_orders(c: Columns, file: str) -> Builder:
    t = c.title
    ix = {k: c(k) for k in (
        "requestdate", "orderid", "ordertype", "orderstatus", "lastupdateddate", "sku", "fnsku",
        "disposition", "requestedquantity", "cancelledquantity", "disposedquantity",
        "shippedquantity", "inprocessquantity", "removalfee", "currency")}

    def build(row: list[str], line: int) -> RemovalOrder:
        def v(key: str) -> str:
            return row[ix[key]].strip()

        def qty(key: str) -> int:
            return parse_optional_int(v(key), t(key)) or 0

        fee = parse_optional_decimal(v("removalfee"), t("removalfee"))
        currency = v("currency")
        return RemovalOrder(
            file, line, parse_timestamp(v("requestdate"), t("requestdate")),
            _need(v("orderid"), t("orderid")), v("ordertype"), v("orderstatus"),
            parse_optional_timestamp(v("lastupdateddate"), t("lastupdateddate")),
            v("sku"), v("fnsku"), v("disposition"),
            qty("requestedquantity"), qty("cancelledquantity"), qty("disposedquantity"),
            qty("shippedquantity"), qty("inprocessquantity"),
            Money(fee, _currency(currency, t("currency"))) if fee is not None and currency
            else None,
        )

    return build


def _removal_shipments(c: Columns, file: str) -> Builder:
    t = c.title
    ix = {k: c(k) for k in (
        "requestdate", "orderid", "shipmentdate", "sku", "fnsku", "disposition",
        "shippedquantity", "carrier", "trackingnumber", "removalordertype")}

    def build(row: list[str], line: int) -> RemovalShipment:
        def v(key: str) -> str:
            return row[ix[key]].strip()

        return RemovalShipment(
            file, line, parse_optional_timestamp(v("requestdate"), t("requestdate")),
            _need(v("orderid"), t("orderid")),
            parse_timestamp(v("shipmentdate"), t("shipmentdate")),
            v("sku"), v("fnsku"), v("disposition"),
            parse_int(v("shippedquantity"), t("shippedquantity")),
            v("carrier"), v("trackingnumber"), v("removalordertype"),
        )

    return build


def _fee_estimates(c: Columns, file: str) -> Builder:
    t = c.title
    ix = {k: c(k) for k in (
        "sku", "fnsku", "asin", "amazonstore", "currency", "yourprice", "salesprice",
        "longestside", "medianside", "shortestside", "unitofdimension", "itempackageweight",
        "unitofweight", "productsizetier", "estimatedfeetotal", "estimatedreferralfeeperunit",
        "expectedfulfillmentfeeperunit")}

    def build(row: list[str], line: int) -> FeeEstimate:
        def v(key: str) -> str:
            return row[ix[key]].strip()

        def d(key: str) -> Any:
            return parse_optional_decimal(v(key), t(key))

        return FeeEstimate(
            file, line, _need(v("sku"), t("sku")), v("fnsku"), v("asin"), v("amazonstore"),
            _currency(v("currency"), t("currency")), d("yourprice"), d("salesprice"),
            d("longestside"), d("medianside"), d("shortestside"), v("unitofdimension"),
            d("itempackageweight"), v("unitofweight"), v("productsizetier"),
            d("estimatedfeetotal"), d("estimatedreferralfeeperunit"),
            d("expectedfulfillmentfeeperunit"),
        )

    return build


def _settlement(c: Columns, file: str) -> Builder:
    """V2 layout: one amount per row; the first row of a settlement holds its totals."""
    t = c.title
    (i_id, i_start, i_end, i_deposit, i_total, i_currency, i_type, i_order, i_adjustment,
     i_shipment, i_marketplace, i_amount_type, i_description, i_amount, i_fulfillment,
     i_posted, i_posted_time, i_item, i_sku, i_qty) = (c(k) for k in (
        "settlementid", "settlementstartdate", "settlementenddate", "depositdate",
        "totalamount", "currency", "transactiontype", "orderid", "adjustmentid", "shipmentid",
        "marketplacename", "amounttype", "amountdescription", "amount", "fulfillmentid",
        "posteddate", "posteddatetime", "orderitemcode", "sku", "quantitypurchased"))
    t_id, t_currency, t_amount, t_posted, t_qty = (
        t("settlementid"), t("currency"), t("amount"), t("posteddate"), t("quantitypurchased"))
    currencies: dict[str, str] = {}

    def build(row: list[str], line: int) -> SettlementLine | SettlementSummary | None:
        settlement_id = _need(row[i_id], t_id)
        currency_text = row[i_currency].strip()
        transaction_type = row[i_type].strip()
        if not transaction_type and row[i_total].strip():
            currency = _currency(currency_text, t_currency)
            currencies[settlement_id] = currency
            return SettlementSummary(
                file, line, settlement_id,
                parse_optional_timestamp(row[i_start].strip(), t("settlementstartdate")),
                parse_optional_timestamp(row[i_end].strip(), t("settlementenddate")),
                parse_optional_timestamp(row[i_deposit].strip(), t("depositdate")),
                Money(parse_decimal(row[i_total].strip(), t("totalamount")), currency),
            )
        amount = parse_optional_decimal(row[i_amount], t_amount)
        if amount is None:
            return None  # a row without an amount carries nothing to audit
        if currency_text:
            currency = _currency(currency_text, t_currency)
        elif settlement_id in currencies:
            currency = currencies[settlement_id]
        else:
            raise RowError(
                f"no currency: column {t_currency!r} is empty and the settlement's "
                "summary row (its first row) was not seen")
        posted_text = (row[i_posted_time] or row[i_posted]).strip()
        quantity = row[i_qty]
        return SettlementLine(
            file, line, settlement_id, transaction_type, row[i_order].strip(),
            row[i_adjustment].strip(), row[i_shipment].strip(), row[i_marketplace].strip(),
            row[i_amount_type].strip(), row[i_description].strip(), Money(amount, currency),
            row[i_fulfillment].strip(),
            parse_timestamp(posted_text, t_posted) if posted_text else None,
            row[i_item].strip(), row[i_sku].strip(),
            parse_optional_int(quantity, t_qty) if quantity else None,
        )

    return build


# Amount columns of the legacy flat file: (type column or None, amount column, amount type).
_LEGACY_AMOUNTS: tuple[tuple[str | None, str, str, str], ...] = (
    ("pricetype", "priceamount", "ItemPrice", ""),
    ("itemrelatedfeetype", "itemrelatedfeeamount", "ItemFees", ""),
    ("shipmentfeetype", "shipmentfeeamount", "ShipmentFees", ""),
    ("orderfeetype", "orderfeeamount", "OrderFees", ""),
    ("promotiontype", "promotionamount", "Promotion", ""),
    ("directpaymenttype", "directpaymentamount", "DirectPayment", ""),
    (None, "miscfeeamount", "Other", "MiscFee"),
    ("otherfeereasondescription", "otherfeeamount", "Other", "OtherFee"),
    (None, "otheramount", "Other", "Other"),
)


def _settlement_legacy(c: Columns, file: str) -> Builder:
    """The older flat file: several (type, amount) pairs on one row, one line each."""
    t = c.title
    ix = {k: c(k) for k in (
        "settlementid", "settlementstartdate", "settlementenddate", "depositdate",
        "totalamount", "currency", "transactiontype", "orderid", "adjustmentid", "shipmentid",
        "marketplacename", "fulfillmentid", "posteddate", "posteddatetime", "orderitemcode",
        "sku", "quantitypurchased")}
    pairs = [(None if a is None else c(a), c(b), b, kind, default)
             for a, b, kind, default in _LEGACY_AMOUNTS if b in c]
    currencies: dict[str, str] = {}

    def build(row: list[str], line: int) -> list[SettlementLine | SettlementSummary]:
        def v(key: str) -> str:
            return row[ix[key]].strip()

        settlement_id = _need(v("settlementid"), t("settlementid"))
        currency_text = v("currency")
        if not v("transactiontype") and v("totalamount"):
            currency = _currency(currency_text, t("currency"))
            currencies[settlement_id] = currency
            return [SettlementSummary(
                file, line, settlement_id,
                parse_optional_timestamp(v("settlementstartdate"), t("settlementstartdate")),
                parse_optional_timestamp(v("settlementenddate"), t("settlementenddate")),
                parse_optional_timestamp(v("depositdate"), t("depositdate")),
                Money(parse_decimal(v("totalamount"), t("totalamount")), currency),
            )]
        if currency_text:
            currency = _currency(currency_text, t("currency"))
        elif settlement_id in currencies:
            currency = currencies[settlement_id]
        else:
            currency = ""
        posted = parse_optional_timestamp(v("posteddatetime") or v("posteddate"), t("posteddate"))
        quantity = parse_optional_int(v("quantitypurchased"), t("quantitypurchased"))
        lines: list[SettlementLine | SettlementSummary] = []
        for type_ix, amount_ix, amount_key, amount_type, default in pairs:
            amount = parse_optional_decimal(row[amount_ix].strip(), t(amount_key))
            if amount is None:
                continue
            if not currency:
                raise RowError(
                    f"no currency: column {t('currency')!r} is empty and the settlement's "
                    "summary row (its first row) was not seen")
            description = row[type_ix].strip() if type_ix is not None else ""
            lines.append(SettlementLine(
                file, line, settlement_id, v("transactiontype"), v("orderid"),
                v("adjustmentid"), v("shipmentid"), v("marketplacename"), amount_type,
                description or default, Money(amount, currency), v("fulfillmentid"), posted,
                v("orderitemcode"), v("sku"), quantity,
            ))
        return lines

    return build


def _inbound(c: Columns, file: str) -> Builder:
    t = c.title
    ix = {k: c(k) for k in (
        "shipmentid", "sku", "fnsku", "quantityshipped", "quantityreceived", "status",
        "closeddate")}

    def build(row: list[str], line: int) -> InboundShipmentItem:
        def v(key: str) -> str:
            return row[ix[key]].strip()

        if not v("sku") and not v("fnsku"):
            raise RowError(f"columns {t('sku')!r} and {t('fnsku')!r} are both empty")
        return InboundShipmentItem(
            file, line, _need(v("shipmentid"), t("shipmentid")), v("sku"), v("fnsku"),
            parse_int(v("quantityshipped"), t("quantityshipped")),
            parse_int(v("quantityreceived"), t("quantityreceived")),
            v("status").upper(), parse_optional_timestamp(v("closeddate"), t("closeddate")),
        )

    return build


def _costs(c: Columns, file: str) -> Builder:
    from ..costs import build_unit_cost  # the cost sheet has its own module and rules

    return build_unit_cost(c, file)


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        ReportKind.LEDGER,
        frozenset({"date", "fnsku", "msku", "eventtype", "referenceid", "quantity", "reason"}),
        {}, _ledger),
    Layout(
        ReportKind.REIMBURSEMENTS,
        frozenset({"approvaldate", "reimbursementid", "reason", "sku", "fnsku", "currencyunit",
                   "amounttotal", "quantityreimbursedcash", "quantityreimbursedtotal"}),
        {}, _reimbursements),
    Layout(
        ReportKind.CUSTOMER_RETURNS,
        frozenset({"returndate", "orderid", "sku", "fnsku", "quantity",
                   "detaileddisposition"}),
        {}, _customer_returns),
    Layout(
        ReportKind.REMOVAL_ORDERS,
        frozenset({"requestdate", "orderid", "orderstatus", "sku", "fnsku",
                   "requestedquantity", "cancelledquantity", "disposedquantity",
                   "shippedquantity", "inprocessquantity"}),
        {}, _removal_orders),
    Layout(
        ReportKind.REMOVAL_SHIPMENTS,
        frozenset({"orderid", "shipmentdate", "sku", "fnsku", "shippedquantity",
                   "trackingnumber"}),
        {}, _removal_shipments),
    Layout(
        ReportKind.FEE_ESTIMATES,
        frozenset({"sku", "asin", "currency", "productsizetier",
                   "expectedfulfillmentfeeperunit"}),
        {"productsizeweightband": "productsizetier",
         "expecteddomesticfulfilmentfeeperunit": "expectedfulfillmentfeeperunit",
         "expectedfulfilmentfeeperunit": "expectedfulfillmentfeeperunit"},
        _fee_estimates),
    Layout(
        ReportKind.SETTLEMENT,
        frozenset({"settlementid", "totalamount", "currency", "transactiontype", "orderid",
                   "amounttype", "amountdescription", "amount", "sku"}),
        {}, _settlement),
    Layout(
        ReportKind.SETTLEMENT_LEGACY,
        frozenset({"settlementid", "totalamount", "currency", "transactiontype", "orderid",
                   "pricetype", "priceamount", "itemrelatedfeetype", "itemrelatedfeeamount",
                   "sku"}),
        {}, _settlement_legacy, multi=True),
    Layout(
        ReportKind.INBOUND_SHIPMENTS,
        frozenset({"shipmentid", "sku", "fnsku", "quantityshipped", "quantityreceived",
                   "status", "closeddate"}),
        {"sellersku": "sku", "fulfillmentnetworksku": "fnsku", "shipmentstatus": "status"},
        _inbound),
    Layout(
        ReportKind.COSTS,
        frozenset({"sku", "unitcost", "currency"}),
        {}, _costs),
)


def recognise(normalised_header: list[str]) -> Layout | None:
    """The layout whose required columns the header holds; the most specific one wins."""
    best: Layout | None = None
    for layout in LAYOUTS:
        present = {layout.aliases.get(name, name) for name in normalised_header}
        if not layout.required <= present:
            continue
        if best is None or len(layout.required) > len(best.required):
            best = layout
    return best


def layout_of(kind: ReportKind) -> Layout:
    for layout in LAYOUTS:
        if layout.kind is kind:
            return layout
    raise KeyError(kind)
