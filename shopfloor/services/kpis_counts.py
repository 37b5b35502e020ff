"""The counts behind the service KPIs, per site day: each figure's numerator and denominator for every day of a
range, read with a few column queries over the range (aggregated in SQL where the day does not matter, bucketed
into days by the moment that dates them). What each count means is written in the locale files
([kpis.formula]) and in services/kpis.py; the queries here are the definitions.

Snapshot figures (vehicles lapsed 3/6/12 months) are not counts of a day: they are read as of a moment
(`lapsed`)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import FollowUpKind, FollowUpOutcome, ProblemClass
from shopfloor.domain.aftersales_models import Complaint, FollowUpAttempt, FollowUpCall
from shopfloor.domain.models import NOT_CANCELLED, Appointment, JobLine, RepairOrder, RoEvent, Technician, Vehicle
from shopfloor.domain.parts_models import PartsLine
from shopfloor.domain.states import RoStatus
from shopfloor.domain.walkaround import Payer
from shopfloor.domain.workshop import LineStatus
from shopfloor.domain.workshop_models import Clocking, ClockingLine, Promise, Rework
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop.working_time import WorkingTime

CANCELLED = RoStatus.CANCELLED.value  # as a bound value; NOT_CANCELLED (the literal) where the partial index helps
DELIVERED = RoStatus.DELIVERED.value
READY = RoStatus.READY.value
CUSTOMER = Payer.CUSTOMER.value
CENT = Decimal("0.01")
LAPSED_MONTHS = (3, 6, 12)
ACTIVE_MONTHS = 24  # a vehicle seen within this long counts as active (the lapsed shares' denominator)
CALL_DAYS = 60  # a 3-day call made later than this after its delivery is not counted


@dataclass
class Tally:
    """One period's numerators (`n`) and denominators (`d`) per figure key; money numerators in `cny`. A period
    of several days is the sum of its days."""

    n: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    d: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cny: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def add(self, other: Tally) -> None:
        for mine, theirs in ((self.n, other.n), (self.d, other.d)):
            for k, v in theirs.items():
                mine[k] += v
        for k, m in other.cny.items():
            self.cny[k] += m


class Days:
    """The site days of a range and their bounds: which day a moment falls in."""

    def __init__(self, ctx: ServiceContext, first: date, last: date) -> None:
        self.days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        self.starts = [ctx.day_bounds(d)[0] for d in self.days]
        self.start, self.end = self.starts[0], ctx.day_bounds(last)[1]

    def of(self, moment: datetime | None) -> int | None:
        if moment is None or not self.start <= moment < self.end:
            return None
        return bisect.bisect_right(self.starts, moment) - 1

    def of_day(self, day: date | str | None) -> int | None:
        if isinstance(day, str):
            day = date.fromisoformat(day)
        if day is None or not self.days[0] <= day <= self.days[-1]:
            return None
        return (day - self.days[0]).days


def local_day(s: Session, ctx: ServiceContext, days: Days, column: Any) -> Any:
    """The site day of a stored moment, computed by the database (so rows need not be read as datetimes to be
    bucketed, and can be grouped): PostgreSQL converts in the site's zone; SQLite adds the zone's offset in the
    range (China keeps one all year; a zone with daylight saving may put a moment in the hour around a change on
    the neighbouring day)."""
    if s.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(ctx.settings.site.timezone, column))
    offset = days.start.astimezone(ctx.tz).utcoffset() or timedelta(0)
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def seconds(s: Session, since: Any, until: Any) -> Any:
    """until - since in seconds, computed by the database (fractions kept)."""
    if s.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", until - since)
    return (func.julianday(until) - func.julianday(since)) * 86400.0


def money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def day_tallies(s: Session, ctx: ServiceContext, first: date, last: date) -> list[Tally]:
    days = Days(ctx, first, last)
    tallies = [Tally() for _ in days.days]
    for count in (_intake, _appointments, _deliveries, _first_time_fix, _technicians, _revenue, _calls,
                  _complaints, _new_cars, _insurance):
        count(s, ctx, days, tallies)
    return tallies


def _intake(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    day = local_day(s, ctx, days, RepairOrder.opened_at)
    for on, opened, booked in s.execute(
            select(day, func.count(), func.count(RepairOrder.appointment_id)).where(
                RepairOrder.site_id == ctx.site, RepairOrder.opened_at >= days.start,
                RepairOrder.opened_at < days.end, NOT_CANCELLED).group_by(day)):
        i = days.of_day(on)
        if i is None:
            continue
        tallies[i].n["intake"] += opened
        tallies[i].d["appointment_rate"] += opened
        tallies[i].n["appointment_rate"] += booked


def _appointments(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """Show rate as services/figures.py counts it: arrived ÷ decided (arrived or no-show); cancelled and still
    pending appointments are in neither."""
    day = local_day(s, ctx, days, Appointment.start)
    arrived = or_(Appointment.status == "arrived", Appointment.arrived_at.is_not(None))
    for on, came, decided in s.execute(
            select(day, func.sum(case((arrived, 1), else_=0)),
                   func.sum(case((or_(arrived, Appointment.status == "no_show"), 1), else_=0)))
            .where(Appointment.site_id == ctx.site, Appointment.start >= days.start, Appointment.start < days.end,
                   Appointment.status != "cancelled").group_by(day)):
        i = days.of_day(on)
        if i is not None:
            tallies[i].d["show_rate"] += decided or 0
            tallies[i].n["show_rate"] += came or 0


def _delivered(ctx: ServiceContext, days: Days) -> Select[Any]:
    return select(RepairOrder.id).where(RepairOrder.site_id == ctx.site, RepairOrder.status == DELIVERED,
                                        RepairOrder.closed_at >= days.start, RepairOrder.closed_at < days.end)


def _deliveries(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """On-time delivery by the first and the last promise, and flat-rate hours per delivered order."""
    delivered = _delivered(ctx, days)
    ready = (select(RoEvent.repair_order_id.label("ro"), func.min(RoEvent.at).label("at"))
             .where(RoEvent.repair_order_id.in_(delivered), RoEvent.to_status == READY)
             .group_by(RoEvent.repair_order_id).subquery())
    ids = (select(Promise.repair_order_id.label("ro"), func.min(Promise.id).label("first"),
                  func.max(Promise.id).label("last")).where(Promise.repair_order_id.in_(delivered))
           .group_by(Promise.repair_order_id).subquery())
    p1, p2 = Promise.__table__.alias("p1"), Promise.__table__.alias("p2")
    hours = (select(JobLine.repair_order_id.label("ro"), func.sum(JobLine.hours).label("hours"))
             .where(JobLine.repair_order_id.in_(delivered), JobLine.status != LineStatus.CANCELLED.value)
             .group_by(JobLine.repair_order_id).subquery())
    day = local_day(s, ctx, days, RepairOrder.closed_at)
    # an order delivered without a READY move in its history was ready when it was handed over
    at = func.coalesce(ready.c.at, RepairOrder.closed_at)
    q = (select(day, func.count(), func.sum(hours.c.hours), func.count(p1.c.promised_at),
                func.sum(case((at <= p1.c.promised_at, 1), else_=0)), func.count(p2.c.promised_at),
                func.sum(case((at <= p2.c.promised_at, 1), else_=0)))
         .select_from(RepairOrder).outerjoin(ready, ready.c.ro == RepairOrder.id)
         .outerjoin(ids, ids.c.ro == RepairOrder.id).outerjoin(p1, p1.c.id == ids.c.first)
         .outerjoin(p2, p2.c.id == ids.c.last).outerjoin(hours, hours.c.ro == RepairOrder.id)
         .where(RepairOrder.id.in_(delivered)).group_by(day))
    for on, delivered_n, flat, first_n, first_kept, last_n, last_kept in s.execute(q):
        i = days.of_day(on)
        if i is None:
            continue
        t = tallies[i]
        t.d["hours_per_order"] += delivered_n
        t.n["hours_per_order"] += float(flat or 0)
        t.d["on_time_first"] += first_n
        t.n["on_time_first"] += first_kept or 0
        t.d["on_time_last"] += last_n
        t.n["on_time_last"] += last_kept or 0


def _first_time_fix(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """Delivered orders with no rework row and, within first_time_fix_days of the delivery, no later order marked
    a comeback of them and no workmanship complaint on them."""
    window = timedelta(days=ctx.settings.kpi.first_time_fix_days)
    delivered = _delivered(ctx, days)
    reworked = set(s.scalars(select(Rework.repair_order_id).where(Rework.repair_order_id.in_(delivered))
                             .distinct()))
    # comebacks: later orders (opened from the range's first day to the window after its last) marked as one
    comebacks = list(s.execute(select(RepairOrder.comeback_of_id, RepairOrder.opened_at).where(
        RepairOrder.site_id == ctx.site, RepairOrder.opened_at >= days.start,
        RepairOrder.opened_at < days.end + window, RepairOrder.comeback_of_id.is_not(None), NOT_CANCELLED)))
    closed_of: dict[int, datetime | None] = {ro: closed for ro, closed in s.execute(
        select(RepairOrder.id, RepairOrder.closed_at).where(
            RepairOrder.id.in_({ro for ro, _ in comebacks}), RepairOrder.id.in_(delivered)))}
    came_back = set()
    for ro, opened in comebacks:
        if ro is None or ro not in closed_of:
            continue
        closed = closed_of[ro]
        if closed is None or opened <= closed + window:
            came_back.add(ro)
    complained = {ro for ro, opened, closed in s.execute(
        select(Complaint.repair_order_id, Complaint.opened_at, RepairOrder.closed_at)
        .join(RepairOrder, RepairOrder.id == Complaint.repair_order_id)
        .where(Complaint.repair_order_id.in_(delivered), Complaint.problem_class == ProblemClass.WORKMANSHIP.value))
        if closed is None or opened <= closed + window}
    bad = reworked | came_back | complained
    for ro_id, on in s.execute(select(RepairOrder.id, local_day(s, ctx, days, RepairOrder.closed_at)).where(
            RepairOrder.id.in_(delivered))):
        i = days.of_day(on)
        if i is None:
            continue
        tallies[i].d["first_time_fix"] += 1
        tallies[i].n["first_time_fix"] += ro_id not in bad


def _current(ctx: ServiceContext, days: Days, back: timedelta = timedelta(0)) -> Any:
    """The orders that can hold something of the range: still open, or delivered on or after its first day (less
    `back`), and opened before its end. Clockings, finished lines and payments come before an order's delivery, so
    their order is among these; two reads of the closed_at index rather than a scan of every order's row."""
    site = RepairOrder.site_id == ctx.site
    return union_all(
        select(RepairOrder.id).where(site, RepairOrder.closed_at >= days.start - back,
                                     RepairOrder.opened_at < days.end),
        select(RepairOrder.id).where(site, RepairOrder.closed_at.is_(None), RepairOrder.opened_at < days.end))


def _technicians(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """Productivity, efficiency and proficiency summed over the technicians and days, by the foreman's definitions
    (services/workshop/productivity.py): worked = time clocked on jobs in the day; clocked in = the shift's
    working time (to now) together with any job clocking outside it; sold = the flat-rate hours of the lines
    finished that day (shared among their crew, summed: the line's hours); efficiency weighs them against the time
    worked on those lines (any day, each clocking's time shared among its lines by their hours:
    services/workshop/worked.py)."""
    now = ctx.now()
    techs = list(s.scalars(select(Technician.id).where(Technician.site_id == ctx.site)))
    orders = _current(ctx, days)
    finished = local_day(s, ctx, days, JobLine.finished_at)
    done_in_range = (JobLine.status == LineStatus.DONE.value, JobLine.finished_at >= days.start,
                     JobLine.finished_at < days.end)
    for on, flat in s.execute(select(finished, func.sum(JobLine.hours)).where(
            JobLine.repair_order_id.in_(orders), *done_in_range).group_by(finished)):
        k = days.of_day(on)
        if k is not None:
            tallies[k].n["efficiency"] += float(flat or 0)
            tallies[k].n["proficiency"] += float(flat or 0)
    # the time worked on the lines finished in the range: each clocking's time (to now) shared among its lines by
    # their hours (evenly when they have none), summed in the database per day of the line's finish
    weight = (select(ClockingLine.clocking_id.label("clocking"), func.sum(JobLine.hours).label("hours"),
                     func.count().label("lines"))
              .join(JobLine, JobLine.id == ClockingLine.job_line_id)
              .where(ClockingLine.clocking_id.in_(select(Clocking.id).where(Clocking.repair_order_id.in_(orders))))
              .group_by(ClockingLine.clocking_id).subquery())
    cap = literal(now, Clocking.ended_at.type)
    end = case((Clocking.ended_at.is_(None) | (Clocking.ended_at > cap), cap), else_=Clocking.ended_at)
    took = seconds(s, Clocking.started_at, end)
    share = case((weight.c.hours > 0, JobLine.hours * 1.0 / weight.c.hours), else_=1.0 / weight.c.lines)
    for on, worked in s.execute(
            select(finished, func.sum(case((took > 0, took), else_=0) * share))
            .select_from(ClockingLine).join(Clocking, Clocking.id == ClockingLine.clocking_id)
            .join(JobLine, JobLine.id == ClockingLine.job_line_id)
            .join(weight, weight.c.clocking == ClockingLine.clocking_id)
            .where(Clocking.repair_order_id.in_(orders), *done_in_range).group_by(finished)):
        k = days.of_day(on)
        if k is not None:
            tallies[k].d["efficiency"] += float(worked or 0) / 3600
    # productivity: each technician's clockings and shift as seconds from the range's start (the database does
    # the arithmetic, so no row is read as a datetime), cut at midnights and at now
    bounds = [(d - days.start).total_seconds() for d in (*days.starts, days.end)]
    stop = (now - days.start).total_seconds()
    since = literal(days.start, Clocking.started_at.type)
    clocked: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for tech, a0, b0 in s.execute(
            select(Clocking.technician_id, seconds(s, since, Clocking.started_at), seconds(s, since, end))
            .where(Clocking.repair_order_id.in_(orders), Clocking.started_at < days.end,
                   or_(Clocking.ended_at.is_(None), Clocking.ended_at > days.start))):
        # julianday keeps ~50 µs: whole milliseconds, so a clocking from midnight stays in its own day
        started, end_at = round(float(a0), 3), min(round(float(b0), 3), stop)
        if end_at <= 0 or started >= bounds[-1]:
            continue
        # a clocking across midnight counts in each day it covers
        i = max(bisect.bisect_right(bounds, started) - 1, 0)
        while i < len(days.days) and bounds[i] < end_at:
            a, b = max(started, bounds[i]), min(end_at, bounds[i + 1])
            if b > a:
                clocked[(tech, i)].append((a, b))
            i += 1
    hours = WorkingTime(s, ctx, days.days[0], days=len(days.days))
    for i, day in enumerate(days.days):
        until = min(stop, bounds[i + 1])
        for tech in techs:
            spans = clocked.get((tech, i), [])
            shift = [(a, min(b, until)) for a, b in ((_at(days, a), _at(days, b)) for a, b in hours.windows(tech, day))
                     if a < until]
            worked = _union_hours(spans)
            attended = _union_hours([*shift, *spans])
            tallies[i].n["productivity"] += worked
            tallies[i].d["productivity"] += attended
            tallies[i].d["proficiency"] += attended


def _at(days: Days, moment: datetime) -> float:
    return (moment - days.start).total_seconds()


def _union_hours(spans: list[tuple[float, float]]) -> float:
    """The hours covered by spans (seconds), overlaps counted once (workshop/productivity.py's, on numbers)."""
    total, reach = 0.0, None
    for a, b in sorted(spans):
        if b <= a:
            continue
        if reach is None or a >= reach:
            total += b - a
            reach = b
        elif b > reach:
            total += b - reach
            reach = b
    return total / 3600


@dataclass
class _Bill:
    day: int | None
    discount: Decimal
    customer: Decimal = Decimal(0)


def _revenue(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """Labour and parts of the settled orders (settled_at in the day), as the settlement prices them
    (services/reception/estimate.priced_lines: live lines, labour at the skill's rate, parts at their price),
    every payer; customer-paid = the customer's lines less the order's discount; the average ticket = every
    payer's labour and parts less the discount ÷ settled orders."""
    fallback = ctx.settings.workshop.labour_rate
    rate: dict[str, Decimal] = {}
    settled = select(RepairOrder.id).where(RepairOrder.id.in_(_current(ctx, days)),
                                           RepairOrder.settled_at >= days.start, RepairOrder.settled_at < days.end,
                                           RepairOrder.status != CANCELLED)
    bills = {ro: _Bill(days.of_day(on), money(discount)) for ro, on, discount in s.execute(
        select(RepairOrder.id, local_day(s, ctx, days, RepairOrder.settled_at), RepairOrder.discount)
        .where(RepairOrder.id.in_(settled)))}
    live = JobLine.status != LineStatus.CANCELLED.value
    amounts: list[tuple[int, str, str, Decimal]] = []
    for ro, skill, payer, flat in s.execute(
            select(JobLine.repair_order_id, JobLine.skill, JobLine.payer, func.sum(JobLine.hours))
            .where(JobLine.repair_order_id.in_(settled), live)
            .group_by(JobLine.repair_order_id, JobLine.skill, JobLine.payer)):
        if skill not in rate:
            rate[skill] = Decimal(str(ctx.settings.reception.labour_rate(skill, fallback)))
        amounts.append((ro, "labour_revenue", payer, money(money(flat) * rate[skill])))
    for ro, payer, amount in s.execute(
            select(PartsLine.repair_order_id, JobLine.payer, func.sum(PartsLine.quantity * PartsLine.unit_price))
            .join(JobLine, JobLine.id == PartsLine.job_line_id)
            .where(PartsLine.repair_order_id.in_(settled), live).group_by(PartsLine.repair_order_id, JobLine.payer)):
        amounts.append((ro, "parts_revenue", payer, money(amount)))
    for ro, key, payer, amount in amounts:
        bill = bills[ro]
        if bill.day is None:
            continue
        tallies[bill.day].cny[key] += amount
        tallies[bill.day].cny["average_ticket"] += amount
        if payer == CUSTOMER:
            bill.customer += amount
    for bill in bills.values():
        if bill.day is None:
            continue
        t = tallies[bill.day]
        given = min(bill.discount, bill.customer)
        t.cny["customer_paid"] += bill.customer - given
        t.cny["average_ticket"] -= given
        t.d["average_ticket"] += 1


def _calls(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """3DC: every attempt made in the day (answered = not unreachable); CSI from the calls completed that day."""
    three = FollowUpKind.AFTER_SERVICE.value
    # a call follows its delivery by days (retries included): its order was delivered at most CALL_DAYS before
    orders = _current(ctx, days, timedelta(days=CALL_DAYS))
    tried = local_day(s, ctx, days, FollowUpAttempt.at)
    for on, tries, answered in s.execute(
            select(tried, func.count(), func.sum(case((FollowUpAttempt.outcome != FollowUpOutcome.UNREACHABLE.value, 1),
                                                      else_=0)))
            .join(FollowUpCall, FollowUpCall.id == FollowUpAttempt.follow_up_id)
            .where(FollowUpCall.repair_order_id.in_(orders), FollowUpCall.kind == three,
                   FollowUpAttempt.at >= days.start, FollowUpAttempt.at < days.end).group_by(tried)):
        i = days.of_day(on)
        if i is not None:
            tallies[i].d["reach_3dc"] += tries
            tallies[i].n["reach_3dc"] += answered or 0
    called = local_day(s, ctx, days, FollowUpCall.called_at)
    satisfied = FollowUpCall.outcome == FollowUpOutcome.SATISFIED.value
    for on, reached, scored, total, top in s.execute(
            select(called, func.count(), func.count(case((satisfied, FollowUpCall.score))),
                   func.sum(case((satisfied, FollowUpCall.score), else_=0)),
                   func.sum(case((satisfied & (FollowUpCall.score >= 9), 1), else_=0)))
            .where(FollowUpCall.repair_order_id.in_(orders), FollowUpCall.kind == three,
                   FollowUpCall.called_at >= days.start, FollowUpCall.called_at < days.end,
                   FollowUpCall.outcome.in_([FollowUpOutcome.SATISFIED.value, FollowUpOutcome.PROBLEM.value]))
            .group_by(called)):
        i = days.of_day(on)
        if i is None:
            continue
        t = tallies[i]
        t.d["csi_top"] += reached
        t.n["csi_top"] += top or 0
        t.d["csi"] += scored
        t.n["csi"] += total or 0


def _complaints(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """Opened in the day, by class; on time: acknowledged by acknowledge_by and investigated by investigate_by, of
    those opened that day whose investigation is done or overdue (a complaint still inside its time is in
    neither)."""
    now = ctx.now()
    for opened, cls, ack_by, ack_at, inv_by, inv_at in s.execute(
            select(Complaint.opened_at, Complaint.problem_class, Complaint.acknowledge_by, Complaint.acknowledged_at,
                   Complaint.investigate_by, Complaint.investigated_at)
            .where(Complaint.site_id == ctx.site, Complaint.opened_at >= days.start,
                   Complaint.opened_at < days.end)):
        i = days.of(opened)
        if i is None:
            continue
        t = tallies[i]
        t.n["complaints_opened"] += 1
        t.n[f"complaints.{cls}"] += 1
        if inv_at is not None or inv_by <= now:
            t.d["complaints_on_time"] += 1
            t.n["complaints_on_time"] += (ack_at is not None and ack_at <= ack_by and inv_at is not None
                                          and inv_at <= inv_by)


def _new_cars(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """Vehicles sold in the day (sold_on) that came back for a service since: an order opened on or after the
    day of the sale."""
    sold = select(Vehicle.id).where(Vehicle.site_id == ctx.site, Vehicle.sold_on >= days.days[0],
                                    Vehicle.sold_on <= days.days[-1])
    seen = dict(s.execute(select(RepairOrder.vehicle_id, func.max(RepairOrder.opened_at)).where(
        RepairOrder.vehicle_id.in_(sold), RepairOrder.status != CANCELLED).group_by(RepairOrder.vehicle_id)).all())
    for vehicle_id, sold_on in s.execute(select(Vehicle.id, Vehicle.sold_on).where(Vehicle.id.in_(sold))):
        i = days.of_day(sold_on)
        if i is None:
            continue
        last = seen.get(vehicle_id)
        tallies[i].d["first_service_return"] += 1
        tallies[i].n["first_service_return"] += (last is not None and sold_on is not None
                                                 and last.astimezone(ctx.tz).date() >= sold_on)


def _insurance(s: Session, ctx: ServiceContext, days: Days, tallies: list[Tally]) -> None:
    """Vehicles whose insurance expires in the day: the base of the renewal rate. No renewal is recorded anywhere
    (the vehicle keeps only its current expiry date), so the numerator is unknown."""
    for expires, n in s.execute(select(Vehicle.insurance_expires_on, func.count()).where(
            Vehicle.site_id == ctx.site, Vehicle.insurance_expires_on >= days.days[0],
            Vehicle.insurance_expires_on <= days.days[-1]).group_by(Vehicle.insurance_expires_on)):
        i = days.of_day(expires)
        if i is not None:
            tallies[i].d["insurance_renewal"] += n


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31,
                           30, 31, 31, 30, 31, 30, 31][month - 1])
    return moment.replace(year=year, month=month, day=day)


def lapsed(s: Session, ctx: ServiceContext, ends: list[datetime]) -> list[Tally]:
    """As of each moment of `ends` (ascending): of the vehicles with a visit (an order opened, not cancelled) in the
    ACTIVE_MONTHS before, the ones whose last visit is older than 3, 6 and 12 months.

    The vehicles not seen between the first and the last moment keep the last visit they had before the first:
    the database counts them per day of that visit (and, on a day holding a cut that is not a midnight — a period
    ending now — on which side of each such cut), so a few hundred rows come back, not one per vehicle. The others
    (seen in between) are read one by one and their visits replayed in order on a sorted list."""
    if not ends:
        return []
    alive = (RepairOrder.site_id == ctx.site, NOT_CANCELLED)
    cuts = sorted({add_months(at, -m) for at in ends for m in (*LAPSED_MONTHS, ACTIVE_MONTHS)})
    odd = [c for c in cuts if c != ctx.day_bounds(c.astimezone(ctx.tz).date())[0]]  # cuts within a day
    window = (RepairOrder.opened_at >= add_months(ends[0], -ACTIVE_MONTHS), RepairOrder.opened_at < ends[0])
    moving = select(RepairOrder.vehicle_id).where(*alive, RepairOrder.opened_at >= ends[0],
                                                  RepairOrder.opened_at < ends[-1])
    per_vehicle = (select(func.max(RepairOrder.opened_at).label("seen")).where(*alive, *window,
                                                                               RepairOrder.vehicle_id.not_in(moving))
                   .group_by(RepairOrder.vehicle_id).subquery())
    day = local_day(s, ctx, Days(ctx, ends[0].astimezone(ctx.tz).date(), ends[0].astimezone(ctx.tz).date()),
                    per_vehicle.c.seen)
    side = case(*((per_vehicle.c.seen < c, k) for k, c in enumerate(odd)), else_=len(odd)) if odd else literal(0)
    # (day, side) -> vehicles whose last visit is that day (on that side of the day's odd cuts)
    fixed = [(d if isinstance(d, date) else date.fromisoformat(d), int(k), int(n)) for d, k, n in s.execute(
        select(day, side, func.count()).select_from(per_vehicle).group_by(day, side))]

    def fixed_before(cut: datetime) -> int:
        on = cut.astimezone(ctx.tz).date()
        if cut not in odd:
            return sum(n for d, _, n in fixed if d < on)
        k = odd.index(cut)
        return sum(n for d, side_k, n in fixed if d < on or (d == on and side_k <= k))

    last: dict[int, datetime] = {vehicle: seen for vehicle, seen in s.execute(
        select(RepairOrder.vehicle_id, func.max(RepairOrder.opened_at)).where(
            *alive, *window, RepairOrder.vehicle_id.in_(moving)).group_by(RepairOrder.vehicle_id))}
    later = list(s.execute(select(RepairOrder.vehicle_id, RepairOrder.opened_at).where(
        *alive, RepairOrder.opened_at >= ends[0], RepairOrder.opened_at < ends[-1]).order_by(RepairOrder.opened_at)))
    seen = sorted(last.values())
    everyone = sum(n for _, _, n in fixed)
    out = []
    j = 0
    for at in ends:
        while j < len(later) and later[j][1] < at:
            vehicle, when = later[j]
            old = last.get(vehicle)
            if old is not None:
                del seen[bisect.bisect_left(seen, old)]
            last[vehicle] = when
            bisect.insort(seen, when)
            j += 1

        def older(cut: datetime) -> int:
            return fixed_before(cut) + bisect.bisect_left(seen, cut)

        lo = older(add_months(at, -ACTIVE_MONTHS))
        tally = Tally()
        for m in LAPSED_MONTHS:
            tally.n[f"lapsed_{m}"] = float(older(add_months(at, -m)) - lo)
            tally.d[f"lapsed_{m}"] = float(everyone + len(seen) - lo)
        out.append(tally)
    return out
