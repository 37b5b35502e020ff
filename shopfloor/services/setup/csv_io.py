"""CSV in and out for /setup's lists: one header row of our column names, then a row per item.

Import reads UTF-8 (BOM or not) or GB18030 (Excel on a Chinese Windows writes that), checks each row on its own and
keeps every good row: a bad row is reported with its line (as an editor shows it), its column and what is wrong,
and never stops the rest. Export writes UTF-8 with a BOM, so Excel opens Chinese text right, and cells Excel would
read as a formula (=, +, -, @ first) prefixed with an apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shopfloor.domain.errors import DomainError, Invalid
from shopfloor.services.dms_csv import clean_cell, decode

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class LineError:
    """One row not imported: its line in the file, the column at fault ("" for the row) and why (a message key
    and its parameters, for the reader's language)."""

    line: int
    column: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, translate: Callable[..., str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "column": self.column, "key": self.key, "params": self.params}
        if translate is not None:
            out["message"] = translate(self.key, **self.params)
        return out


@dataclass
class CsvImport:
    """What an import did: rows read, added, changed, left as they were, and the rows refused."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)

    def to_dict(self, translate: Callable[..., str] | None = None) -> dict[str, Any]:
        return {"rows": self.rows, "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "failed": len({e.line for e in self.errors}),
                "errors": [e.to_dict(translate) for e in self.errors]}


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]  # column → cleaned text ("" when empty or absent)


def read_rows(data: bytes, columns: Sequence[str], required: Iterable[str]) -> list[CsvRow]:
    """The data rows under the header, by our column names. A header missing a required column, or naming one we
    do not know, refuses the whole file (Invalid "setup.csv.*"): every row would be wrong the same way."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[CsvRow] = []
    known = set(columns)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise Invalid("setup.csv.unreadable", line=start, detail=str(exc)) from None
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.replace("\ufeff", "").strip().lower() for cell in record]
            unknown = [h for h in header if h and h not in known]
            if unknown:
                raise Invalid("setup.csv.unknown_column", column=unknown[0], known=", ".join(columns))
            missing = [c for c in required if c not in header]
            if missing:
                raise Invalid("setup.csv.missing_column", column=missing[0])
            continue
        cells = {name: _unguard(clean_cell(record[i])) if i < len(record) else ""
                 for i, name in enumerate(header) if name}
        rows.append(CsvRow(start, cells))
    if header is None:
        raise Invalid("setup.csv.empty")
    return rows


def import_rows(rows: Iterable[CsvRow], apply: Callable[[CsvRow], str]) -> CsvImport:
    """Each row through `apply`, which returns "added", "updated" or "unchanged", or raises a DomainError (or a
    RowProblem naming the column) for that row alone. The caller runs this inside its write transaction and
    `apply` uses a savepoint per row where a refused row could have written half."""
    report = CsvImport()
    for row in rows:
        report.rows += 1
        try:
            outcome = apply(row)
        except RowProblem as exc:
            report.errors.append(LineError(row.line, exc.column, exc.key, exc.params))
            continue
        except DomainError as exc:
            report.errors.append(LineError(row.line, "", exc.key, dict(exc.params)))
            continue
        if outcome == "added":
            report.added += 1
        elif outcome == "updated":
            report.updated += 1
        else:
            report.unchanged += 1
    return report


class RowProblem(Exception):
    """A row refused because of one column."""

    def __init__(self, column: str, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.column, self.key, self.params = column, key, params


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a BOM; None as empty; a cell that Excel would run as a formula kept as text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _unguard(text: str) -> str:
    """Our own export's apostrophe before a formula-like cell ('+86…) comes off again on import."""
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START else text


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
