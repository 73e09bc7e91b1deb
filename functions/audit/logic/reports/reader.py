"""Open a report file, recognise it by its header row and stream its rows as records.

What a file may look like (DESIGN.md §3, "Audit input"): any name; tab-separated as
Amazon delivers it, or comma-separated (semicolons too) after a spreadsheet re-save;
optionally gzip-compressed (recognised by its magic bytes, not its name); UTF-8 with or
without a byte-order mark (UTF-16 with a BOM, as Excel's "Unicode text" writes, is read
too); values optionally double-quoted.

Rows are streamed, never loaded whole. A row that cannot be read is reported as a
:class:`ReportError` with its file and line and skipped; the rest of the file is read.
Lines are counted physically (the header is line 1), so a row's line is where it starts.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

from .fields import normalize_header
from .kinds import (
    ADJUSTMENTS,
    LEDGER_EVENT_COLUMN,
    LEDGER_EVENT_TYPES,
    LEDGER_REASON_COLUMN,
    Columns,
    Layout,
    ReportKind,
    recognise,
)
from .records import Record

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class ReportError:
    """A row (or a whole file) the audit could not read: where, and why."""

    file: str
    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


class _ReplacementCounter:
    """Counts undecodable bytes of one file (they are replaced by U+FFFD, then reported).

    Each counter is a named codec error handler; the registry cannot forget a name, so
    closed files hand their counter back for the next file to reuse.
    """

    _names = itertools.count()
    _free: ClassVar[list[_ReplacementCounter]] = []
    __slots__ = ("count", "name")

    def __init__(self) -> None:
        self.count = 0
        self.name = f"sellerops-audit-replace-{next(self._names)}"
        codecs.register_error(self.name, self._handle)

    @classmethod
    def take(cls) -> _ReplacementCounter:
        if cls._free:
            counter = cls._free.pop()
            counter.count = 0
            return counter
        return cls()

    def release(self) -> None:
        self._free.append(self)

    def _handle(self, error: UnicodeError) -> tuple[str, int]:
        assert isinstance(error, UnicodeDecodeError)
        self.count += error.end - error.start
        return "\ufffd", error.end


def _sniff_encoding(buffered: io.BufferedReader) -> str:
    head = buffered.peek(4)[:4]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: (counts[d], d == "\t"))
    return best if counts[best] else "\t"


class ReportFile:
    """One opened report file. Use :func:`open_report`; close it (or use ``with``)."""

    def __init__(self, name: str, binary: IO[bytes], *, owns: bool) -> None:
        self.name = name
        self._owned = binary if owns else None
        self._closed = False
        buffered = binary if isinstance(binary, io.BufferedReader) else io.BufferedReader(
            binary)  # type: ignore[arg-type]
        if buffered.peek(2)[:2] == _GZIP_MAGIC:
            buffered = io.BufferedReader(gzip.GzipFile(fileobj=buffered, mode="rb"))  # type: ignore[arg-type]
        self._replacements = _ReplacementCounter.take()
        self._text = io.TextIOWrapper(
            buffered, encoding=_sniff_encoding(buffered), errors=self._replacements.name,
            newline="")
        first = self._text.readline()
        self.delimiter = _delimiter(first)
        titles = next(csv.reader([first], delimiter=self.delimiter), []) if first.strip() else []
        self.titles: list[str] = [title.strip() for title in titles]
        while self.titles and not self.titles[-1]:
            self.titles.pop()  # a trailing delimiter after the last column name
        self.layout: Layout | None = recognise([normalize_header(t) for t in self.titles])
        self._read = False

    @property
    def kind(self) -> ReportKind | None:
        """What the header says this file is; None when no known report matches."""
        return None if self.layout is None else self.layout.kind

    def unrecognised_reason(self) -> str:
        if not self.titles:
            return "empty file: no header row"
        shown = ", ".join(self.titles[:8]) + (", ..." if len(self.titles) > 8 else "")
        return f"not a report the audit reads (header: {shown})"

    def records(
        self,
        errors: list[ReportError],
        *,
        event_types: Collection[str] | None = None,
        adjustment_reasons: Collection[str] | None = None,
    ) -> Iterator[Record]:
        """Stream the file's records; unreadable rows go to ``errors`` and are skipped.

        Ledger only: ``event_types`` keeps the rows of those event types and
        ``adjustment_reasons`` the Adjustments rows with those reasons; the other rows are
        passed over after checking their shape (the audit skips shipments, most of a
        ledger, and adjustments it never claims on, such as disposals).
        """
        if self.layout is None:
            raise ValueError(f"{self.name}: {self.unrecognised_reason()}")
        if self._read:
            raise ValueError(f"{self.name}: the rows were already read")
        self._read = True
        columns = Columns(self.titles, self.layout.aliases)
        build = self.layout.make_builder(columns, self.name)
        keep = _Keep()
        if self.layout.kind is ReportKind.LEDGER:
            if event_types is not None:
                keep.column = columns(LEDGER_EVENT_COLUMN)
                keep.values = frozenset(event_types)
            if adjustment_reasons is not None:
                keep.column = columns(LEDGER_EVENT_COLUMN)
                if event_types is None:
                    keep.values = frozenset(LEDGER_EVENT_TYPES)
                keep.narrowed = frozenset({ADJUSTMENTS})
                keep.second_column = columns(LEDGER_REASON_COLUMN)
                keep.second_values = frozenset(adjustment_reasons)
        yield from _rows(
            self._text, self.name, len(self.titles), self.delimiter, build, self.layout.multi,
            keep, errors, self._replacements,
        )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._replacements.release()
        if self._owned is None:
            self._text.detach()  # leave the caller's stream open
        else:
            self._text.close()
            self._owned.close()

    def __enter__(self) -> ReportFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_report(source: str | Path | IO[bytes], name: str | None = None) -> ReportFile:
    """Open a report from a path or a binary stream (e.g. a downloaded report document).

    ``name`` is how errors and evidence cite the file (default: the path as given).
    A stream is read but not closed.
    """
    if isinstance(source, (str, Path)):
        handle = Path(source).open("rb")
        try:
            return ReportFile(name or str(source), handle, owns=True)
        except BaseException:
            handle.close()
            raise
    return ReportFile(name or getattr(source, "name", "<stream>"), source, owns=False)


@dataclass(slots=True)
class _Keep:
    """Which rows to build: ``row[column] in values`` and, for rows whose value is in
    ``narrowed``, also ``row[second_column] in second_values``. column -1: every row."""

    column: int = -1
    values: frozenset[str] = frozenset()
    narrowed: frozenset[str] = frozenset()
    second_column: int = -1
    second_values: frozenset[str] = frozenset()


def _rows(
    text: IO[str],
    file: str,
    width: int,
    delimiter: str,
    build: Any,
    multi: bool,
    keep: _Keep,
    errors: list[ReportError],
    replacements: _ReplacementCounter,
) -> Iterator[Any]:
    """The hot loop: one pass over the lines, nothing done twice per line.

    A line without a double quote is split on the delimiter, which is exactly what ``csv``
    makes of it, at half the cost. A line with a quote goes to ``csv``, which handles
    quoted values, doubled quotes and line breaks inside values (reading on into the next
    lines as needed); a run-away quote that swallowed whole rows is reported.
    """
    keep_column, keep_values = keep.column, keep.values
    narrowed, second_column, second_values = (
        keep.narrowed, keep.second_column, keep.second_values)
    lines = iter(text)
    number = 1  # the header was line 1
    bad_bytes_reported = False
    for line in lines:
        number += 1
        if '"' in line:
            start = number
            reader = csv.reader(itertools.chain((line,), lines), delimiter=delimiter)
            try:
                row = next(reader)
            except StopIteration:
                continue
            except csv.Error as exc:
                number += max(reader.line_num - 1, 0)
                errors.append(ReportError(file, start, f"unreadable row: {exc}"))
                continue
            number += reader.line_num - 1
            if number != start and _joined(row, delimiter, width):
                # A value opened a double quote and never closed it: csv kept reading
                # lines into it. Those rows are lost to this read; say which ones.
                errors.append(ReportError(
                    file, start,
                    f"lines {start}-{number} were read as one row: an unbalanced double "
                    "quote (\") joined them; fix the quote and re-run"))
                continue
        else:
            row = line.rstrip("\r\n").split(delimiter)
            start = number
        if len(row) != width:
            if len(row) == 1 and not row[0].strip():
                continue  # blank line
            if len(row) > width and not "".join(row[width:]).strip():
                del row[width:]  # trailing empty cells (a trailing delimiter)
            else:
                errors.append(ReportError(
                    file, start, f"{len(row)} fields, the header has {width}"))
                continue
        if replacements.count and not bad_bytes_reported:
            bad_bytes_reported = _check_replacements(row, file, start, replacements, errors)
        if keep_column >= 0:
            value = row[keep_column]
            if value not in keep_values:
                continue
            if value in narrowed and row[second_column] not in second_values:
                continue
        row.append("")  # the cell every absent optional column points at
        try:
            record = build(row, start)
        except ValueError as exc:  # RowError, or e.g. Money rejecting a value
            errors.append(ReportError(file, start, str(exc)))
            continue
        if record is None:
            continue
        if multi:
            yield from record
        else:
            yield record
    if replacements.count and not bad_bytes_reported:
        errors.append(ReportError(
            file, number,
            f"{replacements.count} byte(s) are not valid UTF-8 and were replaced by U+FFFD; "
            "save the file as UTF-8"))


def _joined(row: list[str], delimiter: str, width: int) -> bool:
    """A row spanning several lines is fine when a quoted value holds a line break; it is
    several rows run together when its shape is wrong or (tab-separated) a value holds a
    tab, which only a run-away quote puts there."""
    return len(row) != width or (delimiter == "\t" and any("\t" in cell for cell in row))


def _check_replacements(
    row: list[str], file: str, line: int, replacements: _ReplacementCounter,
    errors: list[ReportError],
) -> bool:
    if not any("\ufffd" in cell for cell in row):
        return False  # the bad bytes were decoded ahead of this row
    errors.append(ReportError(
        file, line,
        f"not valid UTF-8 (first such row; {replacements.count} bad byte(s) so far were "
        "replaced by U+FFFD and the rows were read); save the file as UTF-8"))
    return True


def read_records(
    source: str | Path | IO[bytes],
    errors: list[ReportError],
    *,
    name: str | None = None,
    expect: ReportKind | None = None,
    event_types: Collection[str] | None = None,
    adjustment_reasons: Collection[str] | None = None,
) -> Iterator[Record]:
    """Stream the records of one report file. An unrecognised file (or one that is not
    ``expect``) adds one error at line 1 and yields nothing."""
    with open_report(source, name) as report:
        if report.kind is None or (expect is not None and report.kind is not expect):
            reason = report.unrecognised_reason() if report.kind is None else (
                f"expected a {expect} report, the header is a {report.kind} report")
            errors.append(ReportError(report.name, 1, reason))
            return
        yield from report.records(
            errors, event_types=event_types, adjustment_reasons=adjustment_reasons)
