"""Placing one demo day's bookings as a good advisor would: technician hours per skill group from shifts,
leave and closed days, less the walk-in reserve; arrivals levelled over the quarter hours, one per advisor at a
time; a bay of the kind the work needs; work done before closing."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.models import Advisor, Bay, Holiday, LabourOperation, Leave, Shift, Technician
from shopfloor.services.context import ServiceContext


def _shift_hours(start: time, end: time, break_minutes: int) -> float:
    return max((end.hour * 60 + end.minute) - (start.hour * 60 + start.minute) - break_minutes, 0) / 60


def technician_hours(s: Session, ctx: ServiceContext, day: date) -> dict[str, float]:
    """Technician hours on `day`, repair (skilled) and all: shifts less breaks and leave, none on a holiday;
    a technician without shift rows works the [booking] default shift."""
    cfg = ctx.settings.booking
    out = {"repair": 0.0, "total": 0.0}
    if s.scalar(select(Holiday.id).where(Holiday.site_id == ctx.site, Holiday.day == day)) is not None:
        return out
    techs = list(s.scalars(select(Technician).where(Technician.site_id == ctx.site, Technician.active.is_(True))))
    shifts: dict[int, list[Shift]] = {}
    for sh in s.scalars(select(Shift).where(Shift.technician_id.in_([t.id for t in techs]))):
        shifts.setdefault(sh.technician_id, []).append(sh)
    away: dict[int, list[Leave]] = {}
    for leave in s.scalars(select(Leave).where(Leave.day == day, Leave.technician_id.in_([t.id for t in techs]))):
        away.setdefault(leave.technician_id, []).append(leave)
    for tech in techs:
        if tech.id in shifts:
            on_day = [sh for sh in shifts[tech.id] if sh.weekday == day.weekday()]
            hours = _shift_hours(on_day[0].start, on_day[0].end, on_day[0].break_minutes) if on_day else 0.0
        else:
            hours = _shift_hours(cfg.shift_start, cfg.shift_end, cfg.break_minutes) \
                if day.isoweekday() in cfg.workdays else 0.0
        for leave in away.get(tech.id, []):
            hours = 0.0 if leave.hours is None else max(hours - float(leave.hours), 0.0)
        out["total"] += hours
        if tech.skill == "repair":
            out["repair"] += hours
    return out


# -- levelled placement of one day's bookings --------------------------------------------------------------------
def _hours(ops: Sequence[LabourOperation]) -> dict[str, float]:
    repair = sum(float(op.hours) for op in ops if op.skill == "repair")
    return {"repair": repair, "total": sum(float(op.hours) for op in ops)}


@dataclass
class LevelledDay:
    """One day's bookings as they are placed: hours sold per group, arrivals per quarter hour and per advisor,
    bays taken."""

    day: date
    opening: datetime
    closing: datetime
    sellable: dict[str, float]
    booked: dict[str, float] = field(default_factory=lambda: {"repair": 0.0, "total": 0.0})
    arrivals: Counter[datetime] = field(default_factory=Counter)
    advisor_quarters: set[tuple[int, datetime]] = field(default_factory=set)
    advisor_load: Counter[int] = field(default_factory=Counter)
    bay_busy: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    bay_use: Counter[int] = field(default_factory=Counter)

    def fits(self, ops: Sequence[LabourOperation]) -> bool:
        need = _hours(ops)
        return all(self.booked[g] + need[g] <= self.sellable[g] + 1e-6 for g in need)

    def bay_free(self, bay: Bay, start: datetime, end: datetime) -> bool:
        return all(end <= a or b <= start for a, b in self.bay_busy.get(bay.id, []))

    def take(self, ops: Sequence[LabourOperation], start: datetime, advisor: Advisor | None, bay: Bay | None) -> None:
        need = _hours(ops)
        for g in need:
            self.booked[g] += need[g]
        self.arrivals[start] += 1
        if advisor is not None:
            self.advisor_quarters.add((advisor.id, start))
            self.advisor_load[advisor.id] += 1
        if bay is not None:
            end = start + timedelta(hours=max(need["total"], 0.25))
            self.bay_busy.setdefault(bay.id, []).append((start, end))
            self.bay_use[bay.id] += 1

    def _preference(self, q: datetime) -> float:
        """Customers like mornings; lunch and late afternoon less."""
        h = q.hour + q.minute / 60
        return 0.0 if h < 10.5 else 0.6 if h < 13 else 0.3 if h < 15.5 else 0.8

    def place(self, rng: random.Random, ops: Sequence[LabourOperation], advisors: Sequence[Advisor],
              bays: dict[str, list[Bay]], earliest: datetime | None = None
              ) -> tuple[datetime, Advisor, Bay | None] | None:
        """A levelled start: the quarter hour with the fewest arrivals around it, an advisor free in that quarter
        (fewest write-ups that day), a bay of the kind the work needs free for its hours; work done before
        closing. None when the hours are sold or nothing is free."""
        if not self.fits(ops):
            return None
        hours = _hours(ops)["total"]
        equipment = next((op.equipment for op in ops if op.equipment), None)
        candidates_bays = bays.get(equipment or "lift", [])
        cutoff = self.opening + timedelta(hours=7 if hours > 2 or any(op.skill == "repair" for op in ops) else 9)
        latest = min(self.closing - timedelta(hours=hours), cutoff)
        q = self.opening
        if earliest is not None and earliest > q:
            q = self.opening + timedelta(minutes=15 * -(-int((earliest - self.opening).total_seconds()) // 900))
        options: list[tuple[float, datetime]] = []
        quarter = timedelta(minutes=15)
        while q <= latest:
            near = (4 * self.arrivals[q] + 1.5 * (self.arrivals[q - quarter] + self.arrivals[q + quarter])
                    + 0.5 * (self.arrivals[q - 2 * quarter] + self.arrivals[q + 2 * quarter]))
            options.append((near + self._preference(q) + rng.random() * 0.8, q))
            q += quarter
        for _, start in sorted(options):
            free = [a for a in advisors if (a.id, start) not in self.advisor_quarters]
            if not free:
                continue
            advisor = min(free, key=lambda a: (self.advisor_load[a.id], rng.random()))
            end = start + timedelta(hours=max(hours, 0.25))
            open_bays = [b for b in candidates_bays if self.bay_free(b, start, end)]
            if candidates_bays and not open_bays:
                continue
            bay = min(open_bays, key=lambda b: (self.bay_use[b.id], b.code)) if open_bays else None
            return start, advisor, bay
        return None


def new_day(s: Session, ctx: ServiceContext, day: date) -> LevelledDay:
    site = ctx.settings.site
    available = technician_hours(s, ctx, day)
    keep = 1 - ctx.settings.booking.walk_in_reserve
    return LevelledDay(day, datetime.combine(day, site.opening, tzinfo=ctx.tz), datetime.combine(day, site.closing,
                                                                                           tzinfo=ctx.tz),
                {g: h * keep for g, h in available.items()})


def bays_by_kind(bays: Sequence[Bay]) -> dict[str, list[Bay]]:
    out: dict[str, list[Bay]] = {}
    for b in bays:
        out.setdefault(b.kind, []).append(b)
    return out

