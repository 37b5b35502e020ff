"""The parts catalogue from /setup and the API: the counter's own catalogue code (shopfloor.services.parts.catalogue)
for the checks and the writes, with /setup's CSV in and out, where a bad line is reported and the good ones are
kept (the counter's own import refuses a whole file with any bad row: a stock take is all or nothing there).
A part no parts line names can be removed; one on an order stays (the order keeps its number and name anyway)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from shopfloor.domain.errors import DomainError, NotFound, Refused
from shopfloor.domain.parts import MAX_PRICE, normalize_number
from shopfloor.domain.parts_models import PartsLine
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.parts.catalogue import (
    MAX_STOCK,
    CatalogueService,
    PartInfo,
    clean_name,
    decimal_of,
    find_part,
    part_info,
    store_part,
)
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, RowProblem, import_rows, read_rows, write_csv

COLUMNS = ("number", "name", "price", "stock")
REQUIRED = ("number", "name", "price")
EXPORT_LIMIT = 100_000


def _checked(column: str, check: object, *args: object, **kwargs: object) -> object:
    """A parts check whose DomainError becomes the row's problem in that column."""
    try:
        return check(*args, **kwargs)  # type: ignore[operator]
    except DomainError as exc:
        raise RowProblem(column, exc.key, **exc.params) from None


class PartsCatalogueSetup:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.catalogue = CatalogueService(ctx)

    def search(self, query: str = "", limit: int = 200) -> list[PartInfo]:
        return self.catalogue.search(query, limit)

    def count(self) -> int:
        return self.catalogue.count()

    def save(self, number: str, name: str, price: object, stock: object, *, actor: Actor | str) -> PartInfo:
        return self.catalogue.save(number, name, price, stock, actor=actor)

    def remove(self, number: str, *, actor: Actor | str) -> PartInfo:
        """Only a part no parts line names; returns it as it was."""
        code = normalize_number(number)
        with self.ctx.db.write() as s:
            part = find_part(s, self.ctx.site, code)
            if part is None:
                raise NotFound("parts.error.part_unknown", number=code)
            if s.scalar(select(PartsLine.id).where(PartsLine.part_id == part.id).limit(1)) is not None:
                raise Refused("setup_catalogue.parts.error.in_use", number=code)
            record(s, self.ctx, actor, Entity.PART, code, "part_removed",
                   from_value=f"{part.name} ¥{float(part.price):.2f} ×{float(part.stock):g}")
            removed = part_info(part)
            s.delete(part)
            return removed

    def export_csv(self) -> bytes:
        return write_csv(COLUMNS, ([p.number, p.name, f"{p.price:.2f}", f"{p.stock:g}"]
                                   for p in self.catalogue.search("", EXPORT_LIMIT)))

    def import_csv(self, data: bytes, *, actor: Actor | str) -> CsvImport:
        """Good rows added or changed (stock left as it is when the row has none), bad rows reported by line."""
        rows = read_rows(data, COLUMNS, REQUIRED)
        with self.ctx.db.write() as s:
            def apply(row: CsvRow) -> str:
                cells = row.cells
                code = str(_checked("number", normalize_number, cells.get("number", "")))
                name = str(_checked("name", clean_name, cells.get("name", "")))
                price = _checked("price", decimal_of, cells.get("price", ""), "parts.error.price_invalid",
                                 most=MAX_PRICE)
                before = find_part(s, self.ctx.site, code)
                stock_text = cells.get("stock", "")
                stock = (_checked("stock", decimal_of, stock_text, "parts.error.stock_invalid", most=MAX_STOCK)
                         if stock_text else (before.stock if before is not None else Decimal(0)))
                assert isinstance(price, Decimal) and isinstance(stock, Decimal)
                if before is not None and (before.name, before.price, before.stock) == (name, price, stock):
                    return "unchanged"
                _part, added = store_part(s, self.ctx, code, name, price, stock, actor)
                return "added" if added else "updated"

            report = import_rows(rows, apply)
            record(s, self.ctx, actor, Entity.PART, "csv", "parts_csv_imported",
                   detail={"rows": report.rows, "added": report.added, "updated": report.updated,
                           "failed": len({e.line for e in report.errors})})
        return report

