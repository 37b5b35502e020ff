"""/setup's calendar: technicians' leave (a day, some hours or the whole day, why) and the days the workshop is
closed (holidays). Weekly shifts and breaks are the technicians' (services/setup/technicians.py).

A change goes live at once: the day's capacity recomputed by the capacity refresher after the commit (booking
reads the database and sees it at once), and today's change puts the technicians' states out again (their
shift today is on the job progress board)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import NotFound, Refused
from shopfloor.domain.models import Holiday, Leave, Technician
from shopfloor.services import audit
from shopfloor.services.audit import Actor, Entity
from shopfloor.services.context import ServiceContext
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, write_csv
from shopfloor.services.setup.people_common import (
    FieldInvalid,
    import_each_row,
    parse_day,
    parse_hours,
    refresh_capacity,
    republish_technicians,
    site_row,
    text_field,
)

LEAVE_COLUMNS = ("technician", "day", "hours", "reason")
HOLIDAY_COLUMNS = ("day", "name")
MAX_REASON, MAX_HOLIDAY_NAME = 80, 80
# how far from today a day may be: last year's records, and three years ahead
PAST_DAYS, FUTURE_DAYS = 366, 3 * 366


@dataclass(frozen=True)
class LeaveView:
    id: int
    technician_id: int
    technician: str
    day: date
    hours: Decimal | None  # None: the whole day
    reason: str


@dataclass(frozen=True)
class HolidayView:
    id: int
    day: date
    name: str


class CalendarAdmin:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- leave ----------------------------------------------------------------------------------------------
    def leave(self, technician_id: int | None = None, since: date | None = None) -> list[LeaveView]:
        """Leave from `since` (default: today) on, by day; one technician's or everyone's."""
        with self.ctx.db.read() as s:
            q = (select(Leave, Technician.name).join(Technician, Technician.id == Leave.technician_id)
                 .where(Technician.site_id == self.ctx.site, Leave.day >= (since or self.ctx.today())))
            if technician_id is not None:
                self._tech(s, technician_id)
                q = q.where(Leave.technician_id == technician_id)
            return [_leave_view(row, name) for row, name in s.execute(q.order_by(Leave.day, Leave.id))]

    def add_leave(self, technician_id: int, day: date, hours: Decimal | None, reason: str, actor: Actor
                  ) -> LeaveView:
        with self.ctx.db.write() as s:
            tech = self._tech(s, technician_id)
            row = self._add_leave(s, tech, day, hours, reason, actor)
            return _leave_view(row, tech.name)

    def remove_leave(self, leave_id: int, actor: Actor) -> LeaveView:
        """The leave removed, as it was."""
        with self.ctx.db.write() as s:
            row = s.get(Leave, leave_id)
            tech = s.get(Technician, row.technician_id) if row is not None else None
            if row is None or tech is None or tech.site_id != self.ctx.site:
                raise NotFound("setup_people.error.calendar.leave_not_found", id=leave_id)
            audit.record(s, self.ctx, actor, Entity.TECHNICIAN, tech.id, "leave_removed",
                         from_value=_leave_text(row), reason=row.reason or None)
            s.delete(row)
            self._live(s, row.day, [tech])
            return _leave_view(row, tech.name)

    def export_leave_csv(self, since: date | None = None) -> bytes:
        return write_csv(LEAVE_COLUMNS, ((v.technician, v.day.isoformat(), "" if v.hours is None else v.hours,
                                          v.reason) for v in self.leave(since=since)))

    def import_leave_csv(self, data: bytes, actor: Actor) -> CsvImport:
        """Each row a technician's leave (by name); a row equal to one already recorded is left as it is."""
        return import_each_row(self.ctx, data, LEAVE_COLUMNS, ("technician", "day"),
                               lambda s, row: self._leave_row(s, row, actor))

    def _leave_row(self, s: Session, row: CsvRow, actor: Actor) -> str:
        name = text_field("technician", row.cells.get("technician", ""), 60)
        tech = s.scalar(select(Technician).where(Technician.site_id == self.ctx.site, Technician.name == name))
        if tech is None:
            raise FieldInvalid("technician", "setup_people.error.calendar.unknown_technician", name=name)
        day = parse_day("day", row.cells.get("day", ""))
        hours = parse_hours("hours", row.cells.get("hours", ""))
        reason = text_field("reason", row.cells.get("reason", ""), MAX_REASON, required=False)
        same = s.scalar(select(Leave.id).where(Leave.technician_id == tech.id, Leave.day == day,
                                               Leave.hours.is_(None) if hours is None else Leave.hours == hours,
                                               Leave.reason == reason))
        if same is not None:
            return "unchanged"
        self._add_leave(s, tech, day, hours, reason, actor)
        return "added"

    def _add_leave(self, s: Session, tech: Technician, day: date, hours: Decimal | None, reason: str,
                   actor: Actor) -> Leave:
        self._check_day(day)
        if hours is not None:
            given = str(hours)
            hours = hours.quantize(Decimal("0.01")) if hours.is_finite() and hours < 100 else None  # as kept
            if hours is None or not Decimal(0) < hours <= Decimal(24):
                raise FieldInvalid("hours", "setup_people.error.people.hours", value=given[:20])
        reason = text_field("reason", reason, MAX_REASON, required=False)
        row = Leave(technician_id=tech.id, day=day, hours=hours, reason=reason)
        s.add(row)
        s.flush()
        audit.record(s, self.ctx, actor, Entity.TECHNICIAN, tech.id, "leave_added", to_value=_leave_text(row),
                     reason=reason or None)
        self._live(s, day, [tech])
        return row

    # -- holidays -------------------------------------------------------------------------------------------
    def holidays(self, since: date | None = None) -> list[HolidayView]:
        with self.ctx.db.read() as s:
            rows = s.scalars(select(Holiday).where(Holiday.site_id == self.ctx.site,
                                                   Holiday.day >= (since or self.ctx.today())).order_by(Holiday.day))
            return [HolidayView(h.id, h.day, h.name) for h in rows]

    def add_holiday(self, day: date, name: str, actor: Actor) -> HolidayView:
        with self.ctx.db.write() as s:
            h = self._add_holiday(s, day, name, actor)
            return HolidayView(h.id, h.day, h.name)

    def remove_holiday(self, holiday_id: int, actor: Actor) -> HolidayView:
        """The holiday removed, as it was."""
        with self.ctx.db.write() as s:
            h = s.get(Holiday, holiday_id)
            if h is None or h.site_id != self.ctx.site:
                raise NotFound("setup_people.error.calendar.holiday_not_found", id=holiday_id)
            audit.record(s, self.ctx, actor, Entity.HOLIDAY, h.day.isoformat(), "holiday_removed",
                         from_value=h.name)
            s.delete(h)
            self._live(s, h.day, None)
            return HolidayView(h.id, h.day, h.name)

    def export_holidays_csv(self, since: date | None = None) -> bytes:
        return write_csv(HOLIDAY_COLUMNS, ((h.day.isoformat(), h.name) for h in self.holidays(since)))

    def import_holidays_csv(self, data: bytes, actor: Actor) -> CsvImport:
        """Rows keyed by day: a known day gets the row's name, a new one is added."""
        return import_each_row(self.ctx, data, HOLIDAY_COLUMNS, ("day",),
                               lambda s, row: self._holiday_row(s, row, actor))

    def _holiday_row(self, s: Session, row: CsvRow, actor: Actor) -> str:
        day = parse_day("day", row.cells.get("day", ""))
        name = text_field("name", row.cells.get("name", ""), MAX_HOLIDAY_NAME, required=False)
        known = s.scalar(select(Holiday).where(Holiday.site_id == self.ctx.site, Holiday.day == day))
        if known is None:
            self._add_holiday(s, day, name, actor)
            return "added"
        if known.name == name:
            return "unchanged"
        audit.record(s, self.ctx, actor, Entity.HOLIDAY, day.isoformat(), "holiday_renamed", from_value=known.name,
                     to_value=name)
        known.name = name
        return "updated"

    def _add_holiday(self, s: Session, day: date, name: str, actor: Actor) -> Holiday:
        self._check_day(day)
        name = text_field("name", name, MAX_HOLIDAY_NAME, required=False)
        if s.scalar(select(Holiday.id).where(Holiday.site_id == self.ctx.site, Holiday.day == day)) is not None:
            raise Refused("setup_people.error.calendar.holiday_taken", day=day.isoformat())
        h = Holiday(site_id=self.ctx.site, day=day, name=name)
        s.add(h)
        s.flush()
        audit.record(s, self.ctx, actor, Entity.HOLIDAY, day.isoformat(), "holiday_added", to_value=name or None)
        self._live(s, day, None)
        return h

    # -- shared ---------------------------------------------------------------------------------------------
    def _live(self, s: Session, day: date, techs: list[Technician] | None) -> None:
        refresh_capacity(s, self.ctx, [day])
        if day == self.ctx.today():
            republish_technicians(s, self.ctx, techs)

    def _check_day(self, day: date) -> None:
        today = self.ctx.today()
        if not today - timedelta(days=PAST_DAYS) <= day <= today + timedelta(days=FUTURE_DAYS):
            raise FieldInvalid("day", "setup_people.error.calendar.day_range", day=day.isoformat())

    def _tech(self, s: Session, tech_id: int) -> Technician:
        return site_row(s, self.ctx, Technician, tech_id, "setup_people.error.technicians.not_found")


def _leave_view(row: Leave, name: str) -> LeaveView:
    return LeaveView(row.id, row.technician_id, name, row.day, row.hours, row.reason)


def _leave_text(row: Leave) -> str:
    return f"{row.day.isoformat()} {'whole day' if row.hours is None else f'{row.hours} h'}"
