"""The parts catalogue: part number, name, selling price and the stock on hand, searched at the counter and kept
by hand or by CSV import (shopfloor.services.parts.imports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid, NotFound
from shopfloor.domain.parts import MAX_PRICE, normalize_number
from shopfloor.domain.parts_models import Part
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext

MAX_NAME = 80
MAX_STOCK = Decimal("1000000")
SEARCH_LIMIT = 200


@dataclass(frozen=True)
class PartInfo:
    id: int
    number: str
    name: str
    price: float
    stock: float
    updated_at: datetime
    updated_by: str


def part_info(p: Part) -> PartInfo:
    return PartInfo(p.id, p.number, p.name, float(p.price), float(p.stock), p.updated_at, p.updated_by)


def decimal_of(value: object, key: str, *, most: Decimal, **params: object) -> Decimal:
    """A quantity, price or stock figure, two decimals, 0 … most; Invalid(key) otherwise."""
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise Invalid(key, value=str(value)[:20], **params) from None
    if not amount.is_finite() or not Decimal(0) <= amount <= most:
        raise Invalid(key, value=str(value)[:20], **params)
    return amount.quantize(Decimal("0.01"))


def find_part(s: Session, site: str, number: str) -> Part | None:
    return s.scalar(select(Part).where(Part.site_id == site, Part.number == number))


def store_part(s: Session, ctx: ServiceContext, number: str, name: str, price: Decimal, stock: Decimal,
               actor: Actor | str) -> tuple[Part, bool]:
    """Add the part or change it: (part, True when added). No audit row: the caller writes one per change it
    makes (one for an edit, one for a whole import)."""
    part = find_part(s, ctx.site, number)
    now = ctx.now()
    added = part is None
    if part is None:
        part = Part(site_id=ctx.site, number=number, name=name, price=price, stock=stock, updated_at=now,
                    updated_by=str(actor)[:80])
        s.add(part)
    else:
        part.name, part.price, part.stock, part.updated_at, part.updated_by = name, price, stock, now, str(actor)[:80]
    s.flush()
    return part, added


def clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text or len(text) > MAX_NAME:
        raise Invalid("parts.error.name_invalid", most=MAX_NAME)
    return text


class CatalogueService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def search(self, query: str = "", limit: int = SEARCH_LIMIT) -> list[PartInfo]:
        """Parts whose number or name holds the query (case-insensitive), by number; all of them for no query."""
        q = select(Part).where(Part.site_id == self.ctx.site)
        text = query.strip()
        if text:
            like = f"%{text.upper().replace('%', '').replace('_', '')}%"
            q = q.where(or_(func.upper(Part.number).like(like), func.upper(Part.name).like(like)))
        with self.ctx.db.read() as s:
            return [part_info(p) for p in s.scalars(q.order_by(Part.number).limit(max(1, min(limit, 1000))))]

    def count(self) -> int:
        with self.ctx.db.read() as s:
            return s.scalar(select(func.count()).select_from(Part).where(Part.site_id == self.ctx.site)) or 0

    def get(self, number: str) -> PartInfo:
        with self.ctx.db.read() as s:
            part = find_part(s, self.ctx.site, normalize_number(number))
            if part is None:
                raise NotFound("parts.error.part_unknown", number=number.strip()[:40])
            return part_info(part)

    def save(self, number: str, name: str, price: object, stock: object, *, actor: Actor | str) -> PartInfo:
        """Add a part to the catalogue or change its name, price or stock on hand (a stock take)."""
        code = normalize_number(number)
        text = clean_name(name)
        amount = decimal_of(price, "parts.error.price_invalid", most=MAX_PRICE)
        on_hand = decimal_of(stock, "parts.error.stock_invalid", most=MAX_STOCK)
        with self.ctx.db.write() as s:
            before = find_part(s, self.ctx.site, code)
            old = None if before is None else (before.name, float(before.price), float(before.stock))
            part, added = store_part(s, self.ctx, code, text, amount, on_hand, actor)
            record(s, self.ctx, actor, Entity.PART, code, "part_added" if added else "part_changed",
                   from_value=None if old is None else f"{old[0]} ¥{old[1]:.2f} ×{old[2]:g}",
                   to_value=f"{text} ¥{float(amount):.2f} ×{float(on_hand):g}")
            return part_info(part)

