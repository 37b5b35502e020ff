"""The catalogue from a CSV file (the parts system's export, or a spreadsheet saved as CSV): one part a row, with a
header naming the columns (number, name, price, stock; or 零件号, 名称, 单价, 库存). Every row is checked first and
each bad one is reported with its row number and what is wrong; a file with any bad row changes nothing. A good file
adds the new parts and sets name, price and stock on hand of the known ones (a stock take)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shopfloor.domain.errors import DomainError, Invalid
from shopfloor.domain.parts import MAX_PRICE, normalize_number
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.parts.catalogue import MAX_STOCK, clean_name, decimal_of, store_part

MAX_ROWS = 20_000
MAX_BYTES = 4 * 1024 * 1024
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("number", "part_number", "part number", "part no", "零件号", "配件编号", "零件编号", "编号"),
    "name": ("name", "description", "名称", "零件名称", "配件名称"),
    "price": ("price", "unit_price", "单价", "价格", "销售价"),
    "stock": ("stock", "on_hand", "quantity", "库存", "数量", "库存数量"),
}


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet counts: the header is row 1
    key: str  # a message key of locales/*/parts.toml
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        return DomainError(self.key, **self.params).message(lang)


@dataclass(frozen=True)
class ImportReport:
    rows: int  # parts rows read (the header and empty rows not counted)
    added: int
    updated: int
    errors: list[RowError]
    applied: bool  # False: a check only, or bad rows (then nothing changed)


def decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM a spreadsheet writes); else GB18030, as a Chinese Excel saves CSV."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _columns(header: list[str]) -> dict[str, int] | RowError:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for column, names in COLUMNS.items():
            if key in names and column not in found:
                found[column] = index
    missing = [column for column in COLUMNS if column not in found]
    if missing:
        return RowError(1, "parts.import.header", {"missing": ", ".join(missing)})
    return found


class PartsImportService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def run(self, data: bytes | str, *, actor: Actor | str, apply: bool = True) -> ImportReport:
        """Check every row; with `apply` and no bad row, store them all in one transaction (one audit row)."""
        if isinstance(data, bytes):
            if len(data) > MAX_BYTES:
                raise Invalid("parts.import.too_large", most=MAX_BYTES // (1024 * 1024))
            data = decode(data)
        rows = list(csv.reader(io.StringIO(data)))
        while rows and not any(cell.strip() for cell in rows[0]):
            rows.pop(0)
        if not rows:
            return ImportReport(0, 0, 0, [RowError(1, "parts.import.empty")], False)
        columns = _columns(rows[0])
        if isinstance(columns, RowError):
            return ImportReport(0, 0, 0, [columns], False)
        good: list[tuple[str, str, Decimal, Decimal]] = []
        errors: list[RowError] = []
        seen: dict[str, int] = {}
        count = 0
        for row_number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            count += 1
            if count > MAX_ROWS:
                errors.append(RowError(row_number, "parts.import.too_many", {"most": MAX_ROWS}))
                break
            cells = {column: row[index].strip() if index < len(row) else "" for column, index in columns.items()}
            try:
                if not cells["number"]:
                    raise Invalid("parts.import.number_missing")
                number = normalize_number(cells["number"])
                if number in seen:
                    raise Invalid("parts.import.duplicate", number=number, first=seen[number])
                seen[number] = row_number
                name = clean_name(cells["name"])
                price = decimal_of(cells["price"] or "x", "parts.error.price_invalid", most=MAX_PRICE)
                stock = decimal_of(cells["stock"] or "x", "parts.error.stock_invalid", most=MAX_STOCK)
            except DomainError as e:
                errors.append(RowError(row_number, e.key, dict(e.params)))
                continue
            good.append((number, name, price, stock))
        if errors or not apply:
            return ImportReport(count, 0, 0, errors, False)
        added = updated = 0
        with self.ctx.db.write() as s:
            for number, name, price, stock in good:
                _part, new = store_part(s, self.ctx, number, name, price, stock, actor)
                added, updated = added + new, updated + (not new)
            record(s, self.ctx, actor, Entity.PART, "import", "parts_imported", to_value=f"+{added} ~{updated}",
                   detail={"rows": count, "added": added, "updated": updated,
                           "numbers": [number for number, *_ in good[:200]]})
        return ImportReport(count, added, updated, [], True)
