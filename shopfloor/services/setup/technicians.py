"""/setup's technicians: name, skill class (shopfloor.domain.capacity.SKILLS), whether they work here now, their
weekly shift, and their badge (a lost one reissued: the old QR no longer clocks anyone on).

A change goes live at once: the technician's state on the bus (the job progress board's rows) and the capacity
of the days the boards show, recomputed by the capacity refresher after the commit, as a booking's change is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from shopfloor.domain.capacity import SKILLS
from shopfloor.domain.errors import Refused
from shopfloor.domain.models import Technician
from shopfloor.domain.versions import next_version
from shopfloor.services import audit
from shopfloor.services.audit import Actor, Entity
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_technician
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, write_csv
from shopfloor.services.setup.people_common import (
    FieldInvalid,
    format_weekdays,
    import_each_row,
    in_use_first,
    one_of,
    parse_active,
    parse_time,
    parse_weekdays,
    refresh_capacity,
    site_row,
    text_field,
)
from shopfloor.services.site_setup import WeeklyShift, reissue_badge, set_shift

COLUMNS = ("name", "skill", "active", "shift_start", "shift_end", "break_minutes", "weekdays")
SHIFT_COLUMNS = COLUMNS[3:]
MAX_NAME = 60
MAX_BREAK = 240


class KeepShift:
    """edit()'s default: the shift left as it is (None would mean the default shift)."""


KEEP = KeepShift()


@dataclass(frozen=True)
class TechnicianView:
    id: int
    name: str
    skill: str
    active: bool
    shift: WeeklyShift | None  # None: the [booking] default shift
    badge: str


def skill_of(column: str, value: str) -> str:
    return one_of(column, value, SKILLS, "setup_people.error.technicians.skill")


def check_shift(shift: WeeklyShift, column: str = "shift_end") -> WeeklyShift:
    if not shift.start < shift.end:
        raise FieldInvalid(column, "setup_people.error.technicians.shift_order")
    if not 0 <= shift.break_minutes <= MAX_BREAK:
        raise FieldInvalid("break_minutes", "setup_people.error.technicians.break", max=MAX_BREAK)
    length = (shift.end.hour * 60 + shift.end.minute) - (shift.start.hour * 60 + shift.start.minute)
    if shift.break_minutes >= length:
        raise FieldInvalid("break_minutes", "setup_people.error.technicians.break_too_long")
    if not shift.weekdays or not all(0 <= d <= 6 for d in shift.weekdays):
        raise FieldInvalid("weekdays", "setup_people.error.people.weekdays", value="")
    return shift


def shift_from_text(start: str, end: str, break_minutes: str, weekdays: str) -> WeeklyShift | None:
    """A shift from four form or CSV cells; None when all are empty (the default shift)."""
    if not any(v.strip() for v in (start, end, break_minutes, weekdays)):
        return None
    for column, value in zip(SHIFT_COLUMNS, (start, end, break_minutes, weekdays), strict=True):
        if not value.strip() and column != "break_minutes":
            raise FieldInvalid(column, "setup_people.error.people.required", column=column)
    try:
        minutes = int(break_minutes.strip() or "0")
    except ValueError:
        raise FieldInvalid("break_minutes", "setup_people.error.technicians.break", max=MAX_BREAK) from None
    return check_shift(WeeklyShift(parse_time("shift_start", start), parse_time("shift_end", end), minutes,
                                   parse_weekdays("weekdays", weekdays)))


def shift_of(tech: Technician) -> WeeklyShift | None:
    """The weekly shift as one pattern: the first weekday's hours on every weekday it has a row (a shift set here
    or in the demo's seed is the same on each day)."""
    if not tech.shifts:
        return None
    rows = sorted(tech.shifts, key=lambda sh: sh.weekday)
    first = rows[0]
    return WeeklyShift(first.start, first.end, first.break_minutes, tuple(sh.weekday for sh in rows))


def _shift_text(shift: WeeklyShift | None) -> tuple[str, str, str, str]:
    if shift is None:
        return "", "", "", ""
    return (shift.start.strftime("%H:%M"), shift.end.strftime("%H:%M"), str(shift.break_minutes),
            format_weekdays(shift.weekdays))


class TechnicianAdmin:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def listing(self) -> list[TechnicianView]:
        with self.ctx.db.read() as s:
            rows = s.scalars(select(Technician).where(Technician.site_id == self.ctx.site))
            # in use first, then by name (as the CSV and the badges list them)
            return in_use_first((_view(t) for t in rows), lambda v: v.name)

    def get(self, tech_id: int) -> TechnicianView:
        with self.ctx.db.read() as s:
            return _view(self._tech(s, tech_id))

    def add(self, name: str, skill: str, actor: Actor, shift: WeeklyShift | None = None, *,
            active: bool = True) -> TechnicianView:
        with self.ctx.db.write() as s:
            return _view(self._add(s, name, skill, actor, shift, active))

    def edit(self, tech_id: int, actor: Actor, *, name: str | None = None, skill: str | None = None,
             active: bool | None = None, shift: WeeklyShift | KeepShift | None = KEEP) -> TechnicianView:
        """What is given changes, all or nothing; `shift` None means the site's default shift from now on."""
        with self.ctx.db.write() as s:
            tech = self._tech(s, tech_id)
            self._edit(s, tech, actor, name=name, skill=skill, active=active)
            if not isinstance(shift, KeepShift):
                self._set_shift(s, tech, shift, actor)
            return _view(tech)

    def set_shift(self, tech_id: int, shift: WeeklyShift | None, actor: Actor) -> TechnicianView:
        """The weekly shift, or None for the site's default shift ([booking] shift_start…)."""
        with self.ctx.db.write() as s:
            tech = self._tech(s, tech_id)
            self._set_shift(s, tech, shift, actor)
            return _view(tech)

    def reissue_badge(self, tech_id: int, actor: Actor) -> TechnicianView:
        """A new badge: the old one no longer clocks anyone on."""
        with self.ctx.db.write() as s:
            tech = self._tech(s, tech_id)
            reissue_badge(tech)
            audit.record(s, self.ctx, actor, Entity.TECHNICIAN, tech.id, "badge_reissued", to_value=tech.name)
            return _view(tech)

    # -- CSV ----------------------------------------------------------------------------------------------
    def export_csv(self) -> bytes:
        return write_csv(COLUMNS, ((v.name, v.skill, "yes" if v.active else "no", *_shift_text(v.shift))
                                   for v in self.listing()))

    def import_csv(self, data: bytes, actor: Actor) -> CsvImport:
        """Rows keyed by name: a known technician changed, a new one added. Empty shift cells keep the shift a
        known technician has (a new one works the default shift)."""
        return import_each_row(self.ctx, data, COLUMNS, ("name",), lambda s, row: self._apply_row(s, row, actor))

    def _apply_row(self, s: Session, row: CsvRow, actor: Actor) -> str:
        cells = row.cells
        name = text_field("name", cells.get("name", ""), MAX_NAME)
        active = parse_active("active", cells.get("active", ""))
        skill = skill_of("skill", cells["skill"]) if cells.get("skill") else None
        shift = shift_from_text(*(cells.get(c, "") for c in SHIFT_COLUMNS))
        tech = s.scalar(select(Technician).where(Technician.site_id == self.ctx.site, Technician.name == name))
        if tech is None:
            if skill is None:
                raise FieldInvalid("skill", "setup_people.error.people.required", column="skill")
            self._add(s, name, skill, actor, shift, active is not False)
            return "added"
        before = (tech.skill, tech.active, shift_of(tech))
        self._edit(s, tech, actor, name=None, skill=skill, active=active)
        if shift is not None:
            self._set_shift(s, tech, shift, actor)
        return "unchanged" if (tech.skill, tech.active, shift_of(tech)) == before else "updated"

    # -- the rules ------------------------------------------------------------------------------------------
    def _add(self, s: Session, name: str, skill: str, actor: Actor, shift: WeeklyShift | None,
             active: bool) -> Technician:
        name = self._free_name(s, text_field("name", name, MAX_NAME), None)
        skill = skill_of("skill", skill)
        tech = Technician(site_id=self.ctx.site, name=name, skill=skill, active=active, version=next_version())
        s.add(tech)
        if shift is not None:
            self._shift_rows(tech, check_shift(shift))
        s.flush()
        audit.record(s, self.ctx, actor, Entity.TECHNICIAN, tech.id, "technician_added", to_value=name,
                     detail={"skill": skill, "active": active, "shift": _shift_text(shift) if shift else None})
        self._live(s, tech)
        return tech

    def _edit(self, s: Session, tech: Technician, actor: Actor, *, name: str | None, skill: str | None,
              active: bool | None) -> None:
        changed: dict[str, list[object]] = {}
        if name is not None:
            name = self._free_name(s, text_field("name", name, MAX_NAME), tech.id)
            if name != tech.name:
                changed["name"] = [tech.name, name]
                tech.name = name
        if skill is not None:
            skill = skill_of("skill", skill)
            if skill != tech.skill:
                changed["skill"] = [tech.skill, skill]
                tech.skill = skill
        if active is not None and active != tech.active:
            if not active and tech.open_clocking is not None:
                raise Refused("setup_people.error.technicians.clocked_on", name=tech.name)
            changed["active"] = [tech.active, active]
            tech.active = active
        if changed:
            audit.record(s, self.ctx, actor, Entity.TECHNICIAN, tech.id, "technician_changed", detail=changed)
            self._live(s, tech)

    def _set_shift(self, s: Session, tech: Technician, shift: WeeklyShift | None, actor: Actor) -> None:
        before = shift_of(tech)
        if shift is not None:
            check_shift(shift)
        if before == shift:
            return
        if shift is None:
            tech.shifts.clear()
        else:
            self._shift_rows(tech, shift)
        s.flush()
        audit.record(s, self.ctx, actor, Entity.TECHNICIAN, tech.id, "shift_set",
                     from_value=" ".join(_shift_text(before)).strip() or None,
                     to_value=" ".join(_shift_text(shift)).strip() or None)
        self._live(s, tech)

    @staticmethod
    def _shift_rows(tech: Technician, shift: WeeklyShift) -> None:
        # the old rows deleted before the new ones are written: (technician, weekday) is unique
        tech.shifts.clear()
        session = object_session(tech)
        if session is not None and tech.id is not None:
            session.flush()
        set_shift(tech, shift)

    def _live(self, s: Session, tech: Technician) -> None:
        s.flush()
        publish_technician(s, self.ctx, tech)
        refresh_capacity(s, self.ctx)

    def _free_name(self, s: Session, name: str, own_id: int | None) -> str:
        """Names key the CSV and the boards' rows: two active technicians of one name would be confused."""
        if s.scalar(select(Technician.id).where(Technician.site_id == self.ctx.site, Technician.name == name,
                                                Technician.id != (own_id or 0))) is not None:
            raise Refused("setup_people.error.technicians.name_taken", name=name)
        return name

    def _tech(self, s: Session, tech_id: int) -> Technician:
        return site_row(s, self.ctx, Technician, tech_id, "setup_people.error.technicians.not_found")


def _view(t: Technician) -> TechnicianView:
    return TechnicianView(t.id, t.name, t.skill, t.active, shift_of(t), t.badge)


def default_shift(start: time, end: time, break_minutes: int, workdays: tuple[int, ...]) -> WeeklyShift:
    """The [booking] default shift as a WeeklyShift (its workdays are ISO, 1 = Monday)."""
    return WeeklyShift(start, end, break_minutes, tuple(d - 1 for d in workdays))
