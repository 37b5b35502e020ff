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

For the whole range also the arrival profile: arrivals (repair orders opened) per quarter hour of the day,
all advisors and days together, to show where the peaks of the day are.

A week is the ISO week (Monday to Sunday), cut to the chosen range; its figures are computed from the summed
counts of its days (not the mean of daily rates). Carried-over cars of a week are car-days: the sum of the
days' counts, so a car standing three nights counts three times.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.capacity import MAINTENANCE, REPAIR, rounded
from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import Advisor, Appointment, RepairOrder, RoEvent
from shopfloor.domain.states import RoStatus
from shopfloor.services.capacity import load_plan
from shopfloor.services.context import ServiceContext

DEFAULT_PAST_DAYS = 14
MAX_DAYS = 190  # about half a year in one report
QUARTER = 15  # minutes: the levelling grid
CANCELLED_RO = RoStatus.CANCELLED.value
ON_HOLD = RoStatus.ON_HOLD.value


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
    cells: list[tuple[int, str, str, str]] = field(default_factory=list)  # (arrivals, day, advisor, hh:mm)
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
        self.cells += other.cells
        self.carried.update(other.carried)
        self.carried_known = self.carried_known or other.carried_known

    def figures(self, limit: int) -> dict[str, Any]:
        decided = self.arrived + self.no_show
        maintenance, repair = self.hours.get(MAINTENANCE, 0.0), self.hours.get(REPAIR, 0.0)
        counts = [c[0] for c in self.cells]
        levelling: dict[str, Any] = {"arrivals": sum(counts), "cells": len(counts), "max": max(counts, default=0),
                                     "mean": round(sum(counts) / len(counts), 3) if counts else None,
                                     "index": None, "over_limit": sum(1 for c in counts if c > limit),
                                     "limit": limit, "peak": None}
        if counts:
            levelling["index"] = round(levelling["max"] / (sum(counts) / len(counts)), 3)
            top = next(c for c in self.cells if c[0] == levelling["max"])
            levelling["peak"] = {"day": top[1], "advisor": top[2], "at": top[3], "arrivals": top[0]}
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


class FiguresService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def default_range(self) -> tuple[date, date]:
        """The last 14 days and this (ISO) week: from two weeks ago to this Sunday."""
        today = self.ctx.today()
        return today - timedelta(days=DEFAULT_PAST_DAYS), today + timedelta(days=6 - today.weekday())

    def report(self, first: date | None = None, last: date | None = None) -> dict[str, Any]:
        """Figures for each day and each ISO week of first..last (default: default_range()), and the range."""
        default_first, default_last = self.default_range()
        first, last = first or default_first, last or default_last
        if last < first:
            raise Invalid("figures.error.range")
        if (last - first).days + 1 > MAX_DAYS:
            raise Invalid("figures.error.too_long", days=MAX_DAYS)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        limit = self.ctx.settings.booking.advisor_arrivals_per_15_min
        with self.ctx.db.read() as s:
            tallies, profile = self._tallies(s, days)
        out_days = [{"key": d.isoformat(), "first": d.isoformat(), "last": d.isoformat(),
                     **tallies[d].figures(limit)} for d in days]
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
                              **tally.figures(limit)})
        return {"first": first.isoformat(), "last": last.isoformat(), "today": self.ctx.today().isoformat(),
                "days": out_days, "weeks": out_weeks, "total": total.figures(limit),
                "arrival_profile": profile}

    # -- reading --------------------------------------------------------------------------------------------
    def _tallies(self, s: Session, days: list[date]) -> tuple[dict[date, Tally], dict[str, int]]:
        tz, site = self.ctx.tz, self.ctx.site
        today = self.ctx.today()
        tallies = {d: Tally(days=1) for d in days}
        start, _ = self.ctx.day_bounds(days[0])
        _, end = self.ctx.day_bounds(days[-1])

        def local_day(moment: datetime) -> date:
            return moment.astimezone(tz).date()

        advisors = {row.id: row.name for row in s.execute(select(Advisor.id, Advisor.name)
                                                           .where(Advisor.site_id == site))}
        # repair orders opened in the range: appointment rate, job mix, levelling
        per_cell: Counter[tuple[date, int, str]] = Counter()
        profile: Counter[str] = Counter()
        ros = s.scalars(select(RepairOrder).where(
            RepairOrder.site_id == site, RepairOrder.opened_at >= start, RepairOrder.opened_at < end,
            RepairOrder.status != CANCELLED_RO).options(selectinload(RepairOrder.job_lines)))
        for ro in ros:
            opened = ro.opened_at.astimezone(tz)
            tally = tallies[opened.date()]
            tally.repair_orders += 1
            tally.by_appointment += ro.appointment_id is not None
            for line in ro.job_lines:
                skill = line.skill if line.skill in (MAINTENANCE, REPAIR) else REPAIR
                tally.hours[skill] += float(line.hours)
            quarter = f"{opened.hour:02d}:{opened.minute - opened.minute % QUARTER:02d}"
            per_cell[(opened.date(), ro.advisor_id, quarter)] += 1
            profile[quarter] += 1
        for (day, advisor_id, quarter), n in sorted(per_cell.items()):
            tallies[day].cells.append((n, day.isoformat(), advisors.get(advisor_id, str(advisor_id)), quarter))
        # appointments booked for the range: show / no-show
        for appt in s.scalars(select(Appointment).where(
                Appointment.site_id == site, Appointment.start >= start, Appointment.start < end)):
            tally = tallies[local_day(appt.start)]
            if appt.status == "cancelled":
                tally.cancelled += 1
                continue
            tally.appointments += 1
            if appt.status == "arrived" or appt.arrived_at is not None:
                tally.arrived += 1
            elif appt.status == "no_show":
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
        return tallies, dict(sorted(profile.items()))

    def _carried(self, s: Session, days: list[date], tallies: dict[date, Tally]) -> None:
        first_midnight, _ = self.ctx.day_bounds(days[0])
        last_midnight, _ = self.ctx.day_bounds(days[-1])
        ros = list(s.scalars(select(RepairOrder).where(
            RepairOrder.site_id == self.ctx.site, RepairOrder.opened_at < last_midnight,
            or_(RepairOrder.closed_at.is_(None), RepairOrder.closed_at > first_midnight))))
        history: dict[int, list[RoEvent]] = defaultdict(list)
        if ros:
            for event in s.scalars(select(RoEvent).where(
                    RoEvent.repair_order_id.in_([ro.id for ro in ros]), RoEvent.to_status.is_not(None),
                    RoEvent.at < last_midnight).order_by(RoEvent.at, RoEvent.id)):
                history[event.repair_order_id].append(event)
        for d in days:
            tallies[d].carried_known = True
            midnight, _ = self.ctx.day_bounds(d)
            for ro in ros:
                if ro.opened_at >= midnight or (ro.closed_at is not None and ro.closed_at <= midnight):
                    continue
                cause = _cause_at(ro, history[ro.id], midnight)
                if cause is not None:
                    tallies[d].carried[cause] += 1


def _cause_at(ro: RepairOrder, events: list[RoEvent], moment: datetime) -> str | None:
    """The order's status at that moment (its last status change before it), with the hold reason if on hold;
    an order without history is taken as it is now. None: it had already left (delivered or cancelled)."""
    before = [e for e in events if e.at < moment]
    if before:
        status, reason = before[-1].to_status or ro.status, before[-1].reason
    else:
        status, reason = ro.status, ro.hold_reason
    if status in (RoStatus.DELIVERED.value, CANCELLED_RO):
        return None
    if status == ON_HOLD:
        return f"{ON_HOLD}:{reason or 'other'}"
    return status
