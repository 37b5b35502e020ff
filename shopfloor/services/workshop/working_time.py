"""The technicians' working windows, read once from the database for a span of days: weekly shifts (or the site's
default shift), leave, closed days, and the site's opening hours for work nobody was given yet."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.models import Holiday, Leave, Shift, Technician
from shopfloor.domain.projection import HORIZON_DAYS, Window, windows_of_shift
from shopfloor.services.context import ServiceContext


class WorkingTime:
    """windows(technician_id, day): when that technician works on that local day; None: the site's opening
    hours. Leave and closed days are read for `first`…`first + days`; later days count shifts alone."""

    def __init__(self, s: Session, ctx: ServiceContext, first: date, days: int = HORIZON_DAYS + 2) -> None:
        self.ctx = ctx
        cfg = ctx.settings.booking
        self._default = (cfg.shift_start, cfg.shift_end, cfg.break_minutes, frozenset(d - 1 for d in cfg.workdays))
        last = first + timedelta(days=days)
        self._holidays = set(s.scalars(select(Holiday.day).where(Holiday.site_id == ctx.site, Holiday.day >= first,
                                                                 Holiday.day <= last)))
        techs = list(s.scalars(select(Technician.id).where(Technician.site_id == ctx.site)))
        self._shifts: dict[int, dict[int, Shift]] = defaultdict(dict)
        for shift in s.scalars(select(Shift).where(Shift.technician_id.in_(techs))):
            self._shifts[shift.technician_id][shift.weekday] = shift
        self._leave: dict[tuple[int, date], float | None] = {}
        for row in s.scalars(select(Leave).where(Leave.technician_id.in_(techs), Leave.day >= first,
                                                 Leave.day <= last)):
            key = (row.technician_id, row.day)
            if row.hours is None or (key in self._leave and self._leave[key] is None):
                self._leave[key] = None
            else:
                self._leave[key] = (self._leave.get(key) or 0.0) + float(row.hours)
        self._cache: dict[tuple[int | None, date], list[Window]] = {}

    def windows(self, technician_id: int | None, day: date) -> list[Window]:
        key = (technician_id, day)
        if key not in self._cache:
            self._cache[key] = self._windows(technician_id, day)
        return self._cache[key]

    def _windows(self, technician_id: int | None, day: date) -> list[Window]:
        if day in self._holidays:
            return []
        tz = self.ctx.tz
        if technician_id is None:
            site = self.ctx.settings.site
            return [(datetime.combine(day, site.opening, tzinfo=tz), datetime.combine(day, site.closing, tzinfo=tz))]
        shifts = self._shifts.get(technician_id)
        if shifts:
            shift = shifts.get(day.weekday())
            if shift is None:
                return []
            start, end, brk = shift.start, shift.end, shift.break_minutes
        else:
            start, end, brk, weekdays = self._default
            if day.weekday() not in weekdays:
                return []
        away = self._leave.get((technician_id, day), 0.0)
        if away is None:
            return []
        return windows_of_shift(datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz), brk,
                                away)

    def rostered(self, technician_id: int, day: date) -> tuple[datetime, datetime, int, float | None] | None:
        """The shift as rostered that day (start, end, break minutes, hours of leave; None: on leave all day), or
        None without a shift (a day off, a closed day): what the job progress board greys."""
        if day in self._holidays:
            return None
        shifts = self._shifts.get(technician_id)
        if shifts:
            shift = shifts.get(day.weekday())
            if shift is None:
                return None
            start, end, brk = shift.start, shift.end, shift.break_minutes
        else:
            start, end, brk, weekdays = self._default
            if day.weekday() not in weekdays:
                return None
        tz = self.ctx.tz
        return (datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz), brk,
                self._leave.get((technician_id, day), 0.0))

    def present(self, technician_id: int, day: date) -> bool:
        """At work at all that day: not on a day off, on leave all day, or on a closed day."""
        return bool(self.windows(technician_id, day))

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.ctx.tz).date()
