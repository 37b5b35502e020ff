"""The service manager's figures (domain.md §2 "Figures a manager must see"), per day and per ISO week.

Every figure of a day, with what it counts (days are the site's calendar days; "cancelled" repair orders are
left out everywhere, they are mistakes or customers who left before any work):

- appointment rate: of the repair orders opened that day, the share opened for an appointment
  (`RepairOrder.appointment_id` set). Walk-ins are the rest.
- show rate / no-show rate: of the appointments booked for that day that are decided, the share that arrived
  (status arrived, or an arrival time recorded) and the share marked no-show. Cancelled appointments are
  excluded; appointments still booked, confirmed or late count as `pending` and in neither rate.
- job mix: flat-rate hours on the job lines of the repair orders opened that day, maintenance vs general
  repair (the skill class of each line), and the maintenance share of the two.
- sold vs available hours: `sold` is the hours of that day's appointments that still hold hours (cancelled
  and no-show appointments release theirs), `available` the technicians' hours from their shifts, leave and
  holidays (capacity.load_plan(...).available("total")); `sold_share` = sold / available. `worked` is the
  repair orders' job-line hours of the day (the job mix total), for comparison.
- levelling (heijunka): each repair order opened that day is one arrival (a write-up) at its advisor, in the
  quarter hour (hh:00, :15, :30, :45, site time) it was opened. A *cell* is one advisor in one quarter hour
  with at least one arrival. `max` is the most arrivals in any cell, `mean` the mean arrivals per cell,
  `index` = max / mean (1.0: perfectly level, no quarter hour busier than the typical busy one; 2.0: the peak
  is twice the typical load), `over_limit` the cells above what one advisor can write up in a quarter hour
  (settings.booking.advisor_arrivals_per_15_min), and `peak` the first cell holding the max.
- carried-over cars (滞留车): repair orders in the workshop at the midnight that starts the day (opened before
  it, not closed by then), by cause: their status at that midnight, read from the order's history (the last
  status change before midnight), and for a car on hold the hold reason ("on_hold:waiting_parts").
  Unknown (None) for days after today.

- first-time-fix rate (the range only, services/comebacks.py): of the repair orders delivered in the range, the
  share with no rework row and no later order marked a comeback of them.

For the whole range also the arrival profile: arrivals (repair orders opened) per quarter hour of the day,
all advisors and days together, to show where the peaks of the day are.

A week is the ISO week (Monday to Sunday), cut to the chosen range; its figures are computed from the summed
counts of its days (not the mean of daily rates). Carried-over cars of a week are car-days: the sum of the
days' counts, so a car standing three nights counts three times.

A closed day (before today) is read from its cached row (services/figures_days.py: kept per day, deleted by any
change that touches the day, computed again when missing); today and the days ahead are computed from the orders
every time. Both go through the same computation (`_tallies`), so a cached day equals a computed one.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.capacity import MAINTENANCE, REPAIR, rounded
from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import Advisor, Appointment, JobLine, RepairOrder, RoEvent
from shopfloor.domain.states import RoStatus
from shopfloor.services import figures_days
from shopfloor.services.capacity import load_plan
from shopfloor.services.comebacks import ComebackService
from shopfloor.services.context import ServiceContext

DEFAULT_PAST_DAYS = 14
MAX_DAYS = 2 * 366  # two years in one report
QUARTER = 15  # minutes: the levelling grid
CANCELLED_RO = RoStatus.CANCELLED.value
ON_HOLD = RoStatus.ON_HOLD.value
FILL_CHUNK_DAYS = 14  # closed days computed per read when the cache is filled in the background
_IN_CHUNK = 500


def ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Tally:
    """The counts behind one period's figures; a week is the sum of its days."""

    days: int = 0
    repair_orders: int = 0
    by_appointment: int = 0
    appointments: int = 0  # booked for the period, cancelled excluded
    arrived: int = 0
    no_show: int = 0
    cancelled: int = 0
    pending: int = 0
    hours: dict[str, float] = field(default_factory=lambda: {MAINTENANCE: 0.0, REPAIR: 0.0})
    sold: float = 0.0
    available: float = 0.0
    # levelling: per count of arrivals in one advisor's quarter hour (a cell), how many cells had it and the first
    # of them: [cells, day, advisor id, hh:mm]
    levels: dict[int, list[Any]] = field(default_factory=dict)
    profile: Counter[str] = field(default_factory=Counter)  # arrivals per quarter hour of the day
    carried: Counter[str] = field(default_factory=Counter)
    carried_known: bool = False

    def add(self, other: Tally) -> None:
        self.days += other.days
        for name in ("repair_orders", "by_appointment", "appointments", "arrived", "no_show", "cancelled",
                     "pending"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for skill, hours in other.hours.items():
            self.hours[skill] = self.hours.get(skill, 0.0) + hours
        self.sold += other.sold
        self.available += other.available
        for n, (cells, *first) in other.levels.items():
            if n in self.levels:
                self.levels[n][0] += cells
            else:  # the first cell holding n stays the earliest: periods are added in order
                self.levels[n] = [cells, *first]
        self.profile.update(other.profile)
        self.carried.update(other.carried)
        self.carried_known = self.carried_known or other.carried_known

    def figures(self, limit: int, names: dict[int, str]) -> dict[str, Any]:
        decided = self.arrived + self.no_show
        maintenance, repair = self.hours.get(MAINTENANCE, 0.0), self.hours.get(REPAIR, 0.0)
        arrivals = sum(n * level[0] for n, level in self.levels.items())
        cells = sum(level[0] for level in self.levels.values())
        most = max(self.levels, default=0)
        levelling: dict[str, Any] = {"arrivals": arrivals, "cells": cells, "max": most,
                                     "mean": round(arrivals / cells, 3) if cells else None,
                                     "index": None, "over_limit": sum(c for n, (c, *_) in self.levels.items()
                                                                      if n > limit),
                                     "limit": limit, "peak": None}
        if cells:
            levelling["index"] = round(most / (arrivals / cells), 3)
            _, day, advisor_id, at = self.levels[most]
            levelling["peak"] = {"day": day, "advisor": names.get(advisor_id, str(advisor_id)), "at": at,
                                 "arrivals": most}
        return {
            "days": self.days,
            "repair_orders": self.repair_orders,
            "by_appointment": self.by_appointment,
            "walk_in": self.repair_orders - self.by_appointment,
            "appointment_rate": ratio(self.by_appointment, self.repair_orders),
            "appointments": self.appointments,
            "arrived": self.arrived,
            "no_show": self.no_show,
            "cancelled": self.cancelled,
            "pending": self.pending,
            "show_rate": ratio(self.arrived, decided),
            "no_show_rate": ratio(self.no_show, decided),
            "hours": {MAINTENANCE: rounded(maintenance), REPAIR: rounded(repair)},
            "worked": rounded(maintenance + repair),
            "maintenance_share": ratio(maintenance, maintenance + repair),
            "sold": rounded(self.sold),
            "available": rounded(self.available),
            "sold_share": ratio(self.sold, self.available),
            "levelling": levelling,
            "carried_over": {"cars": sum(self.carried.values()), "causes": dict(sorted(self.carried.items()))}
            if self.carried_known else None,
        }


def runs(days: list[date]) -> list[list[date]]:
    """Sorted days as runs of consecutive days."""
    out: list[list[date]] = []
    for d in sorted(days):
        if out and d - out[-1][-1] == timedelta(days=1):
            out[-1].append(d)
        else:
            out.append([d])
    return out


class FiguresService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def default_range(self) -> tuple[date, date]:
        """The last 14 days and this (ISO) week: from two weeks ago to this Sunday."""
        today = self.ctx.today()
        return today - timedelta(days=DEFAULT_PAST_DAYS), today + timedelta(days=6 - today.weekday())

    def report(self, first: date | None = None, last: date | None = None, *, cached: bool = True
               ) -> dict[str, Any]:
        """Figures for each day and each ISO week of first..last (default: default_range()), and the range.
        cached=False computes every day from the orders (what a cached day must equal)."""
        default_first, default_last = self.default_range()
        first, last = first or default_first, last or default_last
        if last < first:
            raise Invalid("figures.error.range")
        if (last - first).days + 1 > MAX_DAYS:
            raise Invalid("figures.error.too_long", days=MAX_DAYS)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        limit = self.ctx.settings.booking.advisor_arrivals_per_15_min
        tallies, names = self._day_tallies(days, cached)
        out_days = [{"key": d.isoformat(), "first": d.isoformat(), "last": d.isoformat(),
                     **tallies[d].figures(limit, names)} for d in days]
        weeks: dict[tuple[int, int], list[date]] = defaultdict(list)
        for d in days:
            iso = d.isocalendar()
            weeks[(iso.year, iso.week)].append(d)
        out_weeks = []
        total = Tally()
        for (year, week), members in weeks.items():
            tally = Tally()
            for d in members:
                tally.add(tallies[d])
            total.add(tally)
            out_weeks.append({"key": f"{year}-W{week:02d}", "year": year, "week": week,
                              "first": members[0].isoformat(), "last": members[-1].isoformat(),
                              **tally.figures(limit, names)})
        return {"first": first.isoformat(), "last": last.isoformat(), "today": self.ctx.today().isoformat(),
                "days": out_days, "weeks": out_weeks, "total": total.figures(limit, names),
                "arrival_profile": dict(sorted(total.profile.items())),
                # read live, not from the day cache: a comeback marked today changes a day closed weeks ago
                "first_time_fix": ComebackService(self.ctx).first_time_fix(first, last)}

    def fill(self, max_days: int = MAX_DAYS, chunk: int = FILL_CHUNK_DAYS, rest: float = 0.0) -> int:
        """Computes and keeps the closed days of the last `max_days` that have history but no cached row, newest
        first, `chunk` days per read (what the server runs in the background, so that a report finds them);
        after each chunk it sleeps `rest` times as long as the chunk took. Returns how many were kept."""
        today = self.ctx.today()
        oldest = today - timedelta(days=max_days)
        with self.ctx.db.read() as s:
            opened = s.scalar(select(func.min(RepairOrder.opened_at)).where(RepairOrder.site_id == self.ctx.site))
            booked = s.scalar(select(func.min(Appointment.start)).where(Appointment.site_id == self.ctx.site))
            have = set(s.scalars(select(figures_days.FiguresDay.day).where(
                figures_days.FiguresDay.site_id == self.ctx.site, figures_days.FiguresDay.day >= oldest,
                figures_days.FiguresDay.basis == figures_days.basis(self.ctx))))
        starts = [moment.astimezone(self.ctx.tz).date() for moment in (opened, booked) if moment is not None]
        if not starts:
            return 0
        first = max(min(starts), oldest)
        missing = [first + timedelta(days=i) for i in range((today - first).days) if first + timedelta(days=i)
                   not in have]
        kept = 0
        for run in reversed(runs(missing)):
            for end in range(len(run), 0, -chunk):
                part = run[max(end - chunk, 0):end]
                started = time.monotonic()
                kept += self._compute_and_keep(part)
                time.sleep(rest * (time.monotonic() - started))
        return kept

    # -- days: cached or computed -------------------------------------------------------------------------
    def _day_tallies(self, days: list[date], cached: bool) -> tuple[dict[date, Tally], dict[int, str]]:
        today = self.ctx.today()
        site = self.ctx.site
        wanted_basis = figures_days.basis(self.ctx)
        closed = [d for d in days if d < today] if cached else []
        tallies: dict[date, Tally] = {}
        with self.ctx.db.read() as s:
            # the epoch first: a change committed after it makes store() keep nothing (see figures_days)
            seen_epoch = figures_days.epoch(s, site) if closed else 0
            for day, row in figures_days.load(s, site, closed, wanted_basis).items():
                tallies[day] = Tally(**figures_days.tally_fields(row))
            missing = [d for d in closed if d not in tallies]
            for run in runs([d for d in days if d not in tallies]):
                tallies.update(self._tallies(s, run))
            names = {row.id: row.name for row in s.execute(select(Advisor.id, Advisor.name)
                                                           .where(Advisor.site_id == site))}
        if missing:
            now = self.ctx.now()
            figures_days.store(self.ctx, seen_epoch, [figures_days.row_of(site, d, tallies[d], wanted_basis, now)
                                                      for d in missing])
        return tallies, names

    def _compute_and_keep(self, days: list[date]) -> int:
        site = self.ctx.site
        with self.ctx.db.read() as s:
            seen_epoch = figures_days.epoch(s, site)
            tallies = self._tallies(s, days)
        wanted_basis, now = figures_days.basis(self.ctx), self.ctx.now()
        kept = figures_days.store(self.ctx, seen_epoch, [figures_days.row_of(site, d, tallies[d], wanted_basis, now)
                                                         for d in days])
        return len(days) if kept else 0

    # -- computing from the orders ------------------------------------------------------------------------
    def _tallies(self, s: Session, days: list[date]) -> dict[date, Tally]:
        """The tallies of consecutive days, from the orders, appointments, capacity and history."""
        tz, site = self.ctx.tz, self.ctx.site
        today = self.ctx.today()
        tallies = {d: Tally(days=1) for d in days}
        start, _ = self.ctx.day_bounds(days[0])
        _, end = self.ctx.day_bounds(days[-1])
        in_range = (RepairOrder.site_id == site, RepairOrder.opened_at >= start, RepairOrder.opened_at < end,
                    RepairOrder.status != CANCELLED_RO)
        # repair orders opened in the range: appointment rate, job mix, levelling (columns, not entities)
        opened_on: dict[int, date] = {}
        per_cell: Counter[tuple[date, int, str]] = Counter()
        for ro_id, opened_at, appointment_id, advisor_id in s.execute(
                select(RepairOrder.id, RepairOrder.opened_at, RepairOrder.appointment_id, RepairOrder.advisor_id)
                .where(*in_range).order_by(RepairOrder.opened_at, RepairOrder.id)):
            opened = opened_at.astimezone(tz)
            tally = tallies[opened.date()]
            opened_on[ro_id] = opened.date()
            tally.repair_orders += 1
            tally.by_appointment += appointment_id is not None
            quarter = f"{opened.hour:02d}:{opened.minute - opened.minute % QUARTER:02d}"
            per_cell[(opened.date(), advisor_id, quarter)] += 1
            tally.profile[quarter] += 1
        for ro_id, skill, hours in s.execute(
                select(JobLine.repair_order_id, JobLine.skill, JobLine.hours)
                .join(RepairOrder, RepairOrder.id == JobLine.repair_order_id).where(*in_range)
                .order_by(RepairOrder.opened_at, RepairOrder.id, JobLine.position)):
            hours_of = tallies[opened_on[ro_id]].hours
            key = skill if skill in (MAINTENANCE, REPAIR) else REPAIR
            hours_of[key] += float(hours)
        for (day, advisor_id, quarter), n in sorted(per_cell.items()):
            levels = tallies[day].levels
            if n in levels:
                levels[n][0] += 1
            else:
                levels[n] = [1, day.isoformat(), advisor_id, quarter]
        # appointments booked for the range: show / no-show
        for appt_start, status, arrived_at in s.execute(
                select(Appointment.start, Appointment.status, Appointment.arrived_at).where(
                    Appointment.site_id == site, Appointment.start >= start, Appointment.start < end)):
            tally = tallies[appt_start.astimezone(tz).date()]
            if status == "cancelled":
                tally.cancelled += 1
                continue
            tally.appointments += 1
            if status == "arrived" or arrived_at is not None:
                tally.arrived += 1
            elif status == "no_show":
                tally.no_show += 1
            else:
                tally.pending += 1
        # sold vs available: the capacity rules' own reading of each day
        for d in days:
            plan = load_plan(s, self.ctx, d)
            tallies[d].available = plan.available("total")
            tallies[d].sold = plan.booked("total")
        # carried over: in the workshop at each midnight up to today's
        known = [d for d in days if d <= today]
        if known:
            self._carried(s, known, tallies)
        return tallies

    def _carried(self, s: Session, days: list[date], tallies: dict[date, Tally]) -> None:
        midnights = [self.ctx.day_bounds(d)[0] for d in days]
        for d in days:
            tallies[d].carried_known = True
        # the orders standing at one of the midnights at least: most open and close the same day
        standing: dict[int, tuple[int, int, str, str | None]] = {}  # id -> (first, last + 1 midnight), status, hold
        # still open, or closed after the first midnight: two reads of the closed_at index (not a range of opened_at
        # back to the first order)
        columns = (RepairOrder.id, RepairOrder.opened_at, RepairOrder.closed_at, RepairOrder.status,
                   RepairOrder.hold_reason)
        rows = [*s.execute(select(*columns).where(RepairOrder.site_id == self.ctx.site, RepairOrder.closed_at.is_(None),
                                                  RepairOrder.opened_at < midnights[-1])),
                *s.execute(select(*columns).where(RepairOrder.site_id == self.ctx.site,
                                                  RepairOrder.closed_at > midnights[0],
                                                  RepairOrder.opened_at < midnights[-1]))]
        for ro_id, opened_at, closed_at, status, hold_reason in rows:
            lo = bisect.bisect_right(midnights, opened_at)  # the first midnight after it opened
            hi = len(midnights) if closed_at is None else bisect.bisect_left(midnights, closed_at)
            if lo < hi:
                standing[ro_id] = (lo, hi, status, hold_reason)
        history: dict[int, list[tuple[datetime, str | None, str | None]]] = defaultdict(list)
        ids = sorted(standing)
        for i in range(0, len(ids), _IN_CHUNK):
            for ro_id, at, to_status, reason in s.execute(
                    select(RoEvent.repair_order_id, RoEvent.at, RoEvent.to_status, RoEvent.reason).where(
                        RoEvent.repair_order_id.in_(ids[i:i + _IN_CHUNK]), RoEvent.to_status.is_not(None),
                        RoEvent.at < midnights[-1]).order_by(RoEvent.at, RoEvent.id)):
                history[ro_id].append((at, to_status, reason))
        for ro_id, (lo, hi, status, hold_reason) in standing.items():
            events = history.get(ro_id, [])
            times = [e[0] for e in events]
            for i in range(lo, hi):
                cause = _cause_at(status, hold_reason, events, bisect.bisect_left(times, midnights[i]))
                if cause is not None:
                    tallies[days[i]].carried[cause] += 1


def _cause_at(status: str, hold_reason: str | None, events: list[tuple[datetime, str | None, str | None]],
              before: int) -> str | None:
    """The order's status at a moment (its last status change before it: the first `before` of its `events`),
    with the hold reason if on hold; an order without history then is taken as it is now. None: it had already
    left (delivered or cancelled)."""
    if before:
        _, to_status, reason = events[before - 1]
        status, hold_reason = to_status or status, reason
    if status in (RoStatus.DELIVERED.value, CANCELLED_RO):
        return None
    if status == ON_HOLD:
        return f"{ON_HOLD}:{hold_reason or 'other'}"
    return status
