"""Streaming parsers of Amazon's report files (see reader.py for what a file may look like).

    errors: list[ReportError] = []
    with open_report(path) as report:            # recognised by its header row
        for record in report.records(errors):    # typed records, streamed
            ...

or, when the kind is known (a report the job requested itself)::

    for entry in read_records(stream, errors, name="ledger", expect=ReportKind.LEDGER):
        ...
"""

from .fields import RowError
from .kinds import REPORT_TYPES, ReportKind
from .reader import ReportError, ReportFile, open_report, read_records
from .records import (
    CustomerReturn,
    FeeEstimate,
    InboundShipmentItem,
    LedgerEntry,
    Record,
    Reimbursement,
    RemovalOrder,
    RemovalShipment,
    SettlementLine,
    SettlementSummary,
)

__all__ = [
    "REPORT_TYPES",
    "CustomerReturn",
    "FeeEstimate",
    "InboundShipmentItem",
    "LedgerEntry",
    "Record",
    "Reimbursement",
    "RemovalOrder",
    "RemovalShipment",
    "ReportError",
    "ReportFile",
    "ReportKind",
    "RowError",
    "SettlementLine",
    "SettlementSummary",
    "open_report",
    "read_records",
]
