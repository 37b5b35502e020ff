"""What /setup's people lists (staff, technicians, calendar, bays) check the same way: a field's text, yes/no,
weekdays, times and days as a person types them or a spreadsheet writes them, and the capacity refresh a change
of hours triggers; and what they do the same way: a listing's order, a CSV import's rows each in its own
savepoint, one of the site's rows by id."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid, NotFound
from shopfloor.domain.models import Technician
from shopfloor.i18n import catalogue, normalize
from shopfloor.i18n import t as translate
from shopfloor.services.capacity import board_days, publish_capacity
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_technician
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, RowProblem, import_rows, read_rows

T = TypeVar("T")
YES = {"yes", "y", "true", "1", "是", "在用", "active"}
NO = {"no", "n", "false", "0", "否", "停用", "inactive"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
DIGITS = re.compile(r"(\d+)")


class Listed(Protocol):
    """A listing's view: staff, technician, bay."""

    @property
    def id(self) -> int: ...

    @property
    def active(self) -> bool: ...


class SiteOwned(Protocol):
    """A table row of one site's."""

    id: Any
    site_id: Any


L = TypeVar("L", bound=Listed)
R = TypeVar("R", bound=SiteOwned)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """B2 before B10: the runs of digits compared as numbers (and before letters: 2 before A1), the rest without
    regard to case."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold())
                 for part in DIGITS.split(text) if part)


def in_use_first(views: Iterable[L], name: Callable[[L], str]) -> list[L]:
    """In use first, then by `name` as people read it (B2 before B10, A2 before A10), then as added."""
    return sorted(views, key=lambda v: (not v.active, natural_key(name(v)), v.id))


def field_label(lang: str, column: str) -> str:
    """A field as the reader's language names it (setup_people.field.*); the column's own name where none is
    written."""
    return catalogue(normalize(lang)).get(f"setup_people.field.{column}", column)


def labelled(lang: str, params: dict[str, Any]) -> dict[str, Any]:
    """A message's parameters with its {column} named in the reader's language."""
    column = params.get("column")
    return {**params, "column": field_label(lang, column)} if isinstance(column, str) else params


class FieldInvalid(Invalid):
    """One input refused: its column (in a CSV) or field (in a form) named."""

    def __init__(self, column: str, key: str, /, **params: Any) -> None:
        super().__init__(key, **params)
        self.column = column

    def message(self, lang: str = "en") -> str:
        return translate(lang, self.key, **labelled(lang, self.params))


@contextmanager
def row_columns() -> Iterator[None]:
    """A FieldInvalid inside becomes the CSV import's RowProblem naming its column."""
    try:
        yield
    except FieldInvalid as exc:
        raise RowProblem(exc.column, exc.key, **exc.params) from None


def import_each_row(ctx: ServiceContext, data: bytes, columns: Sequence[str], required: Iterable[str],
                    apply_row: Callable[[Session, CsvRow], str]) -> CsvImport:
    """A CSV import in one transaction, each row in a savepoint of its own: a refused row is rolled back and
    reported with its column, the good ones are kept."""
    rows = read_rows(data, columns, required=required)
    with ctx.db.write() as s:
        def apply(row: CsvRow) -> str:
            with s.begin_nested(), row_columns():
                return apply_row(s, row)

        return import_rows(rows, apply)


def site_row(s: Session, ctx: ServiceContext, model: type[R], row_id: int, not_found: str) -> R:
    """The site's row of `model` by id; NotFound (`not_found`) for none, or another site's."""
    row = s.get(model, row_id)
    if row is None or row.site_id != ctx.site:
        raise NotFound(not_found, id=row_id)
    return row


def text_field(column: str, value: str, longest: int, *, required: bool = True) -> str:
    text = " ".join(value.split())
    if CONTROL.search(text):
        raise FieldInvalid(column, "setup_people.error.people.control", column=column)
    if required and not text:
        raise FieldInvalid(column, "setup_people.error.people.required", column=column)
    if len(text) > longest:
        raise FieldInvalid(column, "setup_people.error.people.too_long", column=column, max=longest)
    return text


def parse_active(column: str, value: str) -> bool | None:
    """yes/no (and 是/否…); None when the cell is empty (left as it is)."""
    text = value.strip().lower()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    raise FieldInvalid(column, "setup_people.error.people.yes_no", column=column, value=value[:20])


def parse_weekdays(column: str, value: str) -> tuple[int, ...]:
    """ISO weekdays as people write them, "1-5" or "1,2,3" or "1-5,7" (1 = Monday), as 0-based weekdays."""
    days: set[int] = set()
    for part in (p.strip() for p in value.replace("，", ",").replace("–", "-").split(",")):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            raise FieldInvalid(column, "setup_people.error.people.weekdays", value=value[:20]) from None
        if not 1 <= lo <= hi <= 7:
            raise FieldInvalid(column, "setup_people.error.people.weekdays", value=value[:20])
        days.update(range(lo - 1, hi))
    if not days:
        raise FieldInvalid(column, "setup_people.error.people.weekdays", value=value[:20])
    return tuple(sorted(days))


def format_weekdays(days: tuple[int, ...]) -> str:
    """0-based weekdays as "1-5" or "1,3,5" (runs of three or more as ranges)."""
    iso = sorted(d + 1 for d in days)
    parts: list[str] = []
    i = 0
    while i < len(iso):
        j = i
        while j + 1 < len(iso) and iso[j + 1] == iso[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{iso[i]}-{iso[j]}")
        else:
            parts.extend(str(d) for d in iso[i:j + 1])
        i = j + 1
    return ",".join(parts)


def parse_time(column: str, value: str) -> time:
    try:
        return time.fromisoformat(value.strip().replace("：", ":").zfill(5))
    except ValueError:
        raise FieldInvalid(column, "setup_people.error.people.time", column=column, value=value[:20]) from None


def parse_day(column: str, value: str) -> date:
    text = value.strip().replace("/", "-").replace(".", "-")
    try:
        y, m, d = (int(p) for p in text.split("-"))
        return date(y, m, d)
    except ValueError:
        raise FieldInvalid(column, "setup_people.error.people.day", column=column, value=value[:20]) from None


def parse_hours(column: str, value: str) -> Decimal | None:
    """Hours of leave: empty for the whole day, else more than 0 and at most 24."""
    text = value.strip()
    if not text:
        return None
    try:
        hours = Decimal(text)
    except InvalidOperation:
        raise FieldInvalid(column, "setup_people.error.people.hours", value=value[:20]) from None
    if not hours.is_finite() or not Decimal(0) < hours <= Decimal(24):
        raise FieldInvalid(column, "setup_people.error.people.hours", value=value[:20])
    return hours.quantize(Decimal("0.01"))


def refresh_capacity(s: Session, ctx: ServiceContext, days: list[date] | None = None) -> None:
    """Technicians' hours changed: the capacity of `days` (default: every day the boards show) is computed
    again by the capacity refresher after this transaction commits, as a booking's change is; booking proposals
    read the database and see the change at once."""
    for day in board_days(ctx) if days is None else days:
        publish_capacity(s, ctx, day)


def republish_technicians(s: Session, ctx: ServiceContext, technicians: list[Technician] | None = None) -> None:
    """Today's shift on the job progress board is part of each technician's state: put it out again."""
    techs = technicians if technicians is not None else list(
        s.scalars(select(Technician).where(Technician.site_id == ctx.site)))
    for tech in techs:
        publish_technician(s, ctx, tech)


def nearby(ctx: ServiceContext, day: date) -> bool:
    """A day the boards show (today and the week ahead)."""
    return ctx.today() <= day < ctx.today() + timedelta(days=len(board_days(ctx)))


def one_of(column: str, value: str, known: tuple[str, ...], key: str, lookup: Callable[[str], str] = str.lower
           ) -> str:
    text = lookup(value.strip())
    if text not in known:
        raise FieldInvalid(column, key, value=value[:30], known=", ".join(known))
    return text
