"""/setup's bays and equipment: each bay's code and kind ("lift" for general work, or the equipment a labour
operation names: "alignment", "paint"…), and whether it is in use. A bay taken out of use keeps its history (its
past appointments) but is no longer offered: capacity and booking read only bays in use.

A kind is free text, written as the labour catalogue's `equipment` is (lower case): a bay of a kind no operation
names is general work's only if it is "lift". Changes go live at once: the capacity of the days the boards show
is recomputed after the commit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.capacity import GENERAL_BAY
from shopfloor.domain.errors import NotFound, Refused
from shopfloor.domain.models import Appointment, Bay, LabourOperation
from shopfloor.services import audit
from shopfloor.services.audit import Actor, Entity
from shopfloor.services.capacity import RELEASED
from shopfloor.services.context import ServiceContext
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, write_csv
from shopfloor.services.setup.people_common import (
    FieldInvalid,
    import_each_row,
    in_use_first,
    parse_active,
    refresh_capacity,
    site_row,
    text_field,
)

COLUMNS = ("code", "kind", "active")
MAX_CODE, MAX_KIND = 16, 20
KIND_RE = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class BayView:
    id: int
    code: str
    kind: str
    active: bool


def kind_of(column: str, value: str) -> str:
    kind = value.strip().lower()
    if not kind or len(kind) > MAX_KIND or not KIND_RE.match(kind):
        raise FieldInvalid(column, "setup_people.error.bays.kind", max=MAX_KIND)
    return kind


class BayAdmin:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def listing(self) -> list[BayView]:
        with self.ctx.db.read() as s:
            rows = s.scalars(select(Bay).where(Bay.site_id == self.ctx.site))
            # in use first, then B1, B2 … B10 whatever their kind (a database sorts "B10" before "B2")
            return in_use_first((_view(b) for b in rows), lambda v: v.code)

    def kinds(self) -> list[str]:
        """The kinds a bay may have: general work's, those the labour catalogue's operations need, and those the
        bays already have."""
        with self.ctx.db.read() as s:
            needed = s.scalars(select(LabourOperation.equipment).where(
                LabourOperation.site_id == self.ctx.site, LabourOperation.equipment.is_not(None)).distinct())
            held = s.scalars(select(Bay.kind).where(Bay.site_id == self.ctx.site).distinct())
            return sorted({GENERAL_BAY, *(k for k in needed if k), *held})

    def add(self, code: str, kind: str, actor: Actor) -> BayView:
        with self.ctx.db.write() as s:
            return _view(self._add(s, code, kind, True, actor))

    def edit(self, bay_id: int, actor: Actor, *, code: str | None = None, kind: str | None = None,
             active: bool | None = None) -> BayView:
        with self.ctx.db.write() as s:
            bay = self._bay(s, bay_id)
            self._edit(s, bay, actor, code=code, kind=kind, active=active)
            return _view(bay)

    def rename_kind(self, old: str, new: str, actor: Actor) -> int:
        """Every bay of kind `old` becomes `new` (the catalogue's operations name their own `equipment`); the
        number of bays changed."""
        old, new = kind_of("kind", old), kind_of("kind", new)
        with self.ctx.db.write() as s:
            bays = list(s.scalars(select(Bay).where(Bay.site_id == self.ctx.site, Bay.kind == old)))
            if not bays:
                raise NotFound("setup_people.error.bays.kind_not_found", kind=old)
            for bay in bays:
                self._edit(s, bay, actor, code=None, kind=new, active=None)
            return len(bays)

    # -- CSV ----------------------------------------------------------------------------------------------
    def export_csv(self) -> bytes:
        return write_csv(COLUMNS, ((b.code, b.kind, "yes" if b.active else "no") for b in self.listing()))

    def import_csv(self, data: bytes, actor: Actor) -> CsvImport:
        """Rows keyed by code: a known bay gets the row's kind and in-use, a new one is added."""
        return import_each_row(self.ctx, data, COLUMNS, ("code", "kind"),
                               lambda s, row: self._apply_row(s, row, actor))

    def _apply_row(self, s: Session, row: CsvRow, actor: Actor) -> str:
        code = _code(row.cells.get("code", ""))
        kind = kind_of("kind", row.cells.get("kind", ""))
        active = parse_active("active", row.cells.get("active", ""))
        bay = s.scalar(select(Bay).where(Bay.site_id == self.ctx.site, Bay.code == code))
        if bay is None:
            self._add(s, code, kind, active is not False, actor)
            return "added"
        before = (bay.kind, bay.active)
        self._edit(s, bay, actor, code=None, kind=kind, active=active)
        return "unchanged" if (bay.kind, bay.active) == before else "updated"

    # -- the rules ------------------------------------------------------------------------------------------
    def _add(self, s: Session, code: str, kind: str, active: bool, actor: Actor) -> Bay:
        code, kind = _code(code), kind_of("kind", kind)
        if s.scalar(select(Bay.id).where(Bay.site_id == self.ctx.site, Bay.code == code)) is not None:
            raise Refused("setup_people.error.bays.code_taken", code=code)
        bay = Bay(site_id=self.ctx.site, code=code, kind=kind, active=active)
        s.add(bay)
        s.flush()
        audit.record(s, self.ctx, actor, Entity.BAY, bay.id, "bay_added", to_value=f"{code} {kind}",
                     detail={"active": active})
        refresh_capacity(s, self.ctx)
        return bay

    def _edit(self, s: Session, bay: Bay, actor: Actor, *, code: str | None, kind: str | None,
              active: bool | None) -> None:
        changed: dict[str, list[object]] = {}
        if code is not None:
            code = _code(code)
            if code != bay.code:
                if s.scalar(select(Bay.id).where(Bay.site_id == self.ctx.site, Bay.code == code)) is not None:
                    raise Refused("setup_people.error.bays.code_taken", code=code)
                changed["code"] = [bay.code, code]
                bay.code = code
        if kind is not None:
            kind = kind_of("kind", kind)
            if kind != bay.kind:
                changed["kind"] = [bay.kind, kind]
                bay.kind = kind
        if active is not None and active != bay.active:
            if not active:
                self._free_of_bookings(s, bay)
            changed["active"] = [bay.active, active]
            bay.active = active
        if changed:
            action = "bay_changed" if set(changed) != {"active"} else (
                "bay_in_use" if bay.active else "bay_out_of_use")
            audit.record(s, self.ctx, actor, Entity.BAY, bay.id, action, detail=changed)
            refresh_capacity(s, self.ctx)

    def _free_of_bookings(self, s: Session, bay: Bay) -> None:
        """A bay with bookings from today on stays in use until they are moved: they would hold a bay nobody
        offers."""
        start, _end = self.ctx.day_bounds(self.ctx.today())
        held = s.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.bay_id == bay.id, Appointment.start >= start, Appointment.status.not_in(RELEASED)))
        if held:
            raise Refused("setup_people.error.bays.booked", code=bay.code, count=int(held))

    def _bay(self, s: Session, bay_id: int) -> Bay:
        return site_row(s, self.ctx, Bay, bay_id, "setup_people.error.bays.not_found")


def _code(value: str) -> str:
    code = text_field("code", value, MAX_CODE).upper()
    if any(c.isspace() for c in code):
        raise FieldInvalid("code", "setup_people.error.bays.code", max=MAX_CODE)
    return code


def _view(b: Bay) -> BayView:
    return BayView(b.id, b.code, b.kind, b.active)
