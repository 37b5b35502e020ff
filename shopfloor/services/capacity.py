"""A day's capacity read from the database (shifts, leave, holidays, bays, bookings, cars carried over and
walk-ins) into the pure rules of shopfloor.domain.capacity, and the retained capacity state the boards draw.

A change only marks its day (publish_capacity, in the change's transaction); the refresher (shopfloor/
capacity_refresher.py) recomputes each marked day once for however many changes came meanwhile and writes its
state to the outbox (compute_marked, store_marked). Recomputing on every change was half the server's CPU at
the morning peak."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from shopfloor.contract import topics
from shopfloor.contract.entity_states import (
    CapacityFigures,
    CapacityGroups,
    CapacityState,
    CarriedOver,
    CarriedOverCar,
    GroupLeft,
    Skill,
    SkillClasses,
    SkillHours,
    TechnicianHours,
    TotalHours,
    WalkIns,
)
from shopfloor.contract.payloads import SCHEMA
from shopfloor.db import OUTBOX_PENDING
from shopfloor.domain.capacity import (
    GROUPS,
    MAINTENANCE,
    SKILLS,
    BayInfo,
    Booking,
    DayPlan,
    TechnicianDay,
    Unplanned,
    as_hours,
    rounded,
)
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import (
    Appointment,
    Bay,
    CapacityChange,
    Holiday,
    JobLine,
    Leave,
    RepairOrder,
    Shift,
    Technician,
    Vehicle,
)
from shopfloor.domain.states import OPEN_STATUSES, HoldReason, RoStatus
from shopfloor.domain.versions import next_version
from shopfloor.services import outbox
from shopfloor.services.context import ServiceContext

# statuses of an appointment that no longer holds hours
RELEASED = ("cancelled", "no_show")
# work is done on these: a carried-over car in them owes the workshop no more hours
_DONE = (RoStatus.QUALITY_CHECK.value, RoStatus.READY.value)
_OPEN = [s.value for s in OPEN_STATUSES]


def _lines(job_lines: list[dict[str, object]] | None, skill: str | None, hours: float) -> list[tuple[str, float]]:
    """(skill, hours) per job line; an appointment booked before job lines existed is one line of its hours."""
    lines = []
    for line in job_lines or []:
        try:
            lines.append((str(line.get("skill") or skill), float(line.get("hours") or 0)))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return lines or [(skill or MAINTENANCE, hours)]


def booking_of(appt: Appointment) -> Booking:
    return Booking(id=appt.id, advisor_id=appt.advisor_id, start=appt.start,
                   hours=as_hours(_lines(appt.job_lines, appt.skill, float(appt.hours))), equipment=appt.equipment,
                   bay_id=appt.bay_id)


def _shift_hours(start: Any, end: Any, break_minutes: int) -> float:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute) - break_minutes
    return max(minutes, 0) / 60


def load_plan(s: Session, ctx: ServiceContext, day: date) -> DayPlan:
    site = ctx.site
    cfg = ctx.settings.booking
    day_start, day_end = ctx.day_bounds(day)
    opening = datetime.combine(day, ctx.settings.site.opening, tzinfo=ctx.tz)
    closing = datetime.combine(day, ctx.settings.site.closing, tzinfo=ctx.tz)
    holiday = s.scalar(select(Holiday).where(Holiday.site_id == site, Holiday.day == day))
    techs = list(s.scalars(select(Technician).where(Technician.site_id == site, Technician.active.is_(True))
                           .order_by(Technician.id)))
    shifts: dict[int, Shift] = {}
    has_shifts: set[int] = set()
    for sh in s.scalars(select(Shift).where(Shift.technician_id.in_([t.id for t in techs]))):
        has_shifts.add(sh.technician_id)
        if sh.weekday == day.weekday():
            shifts[sh.technician_id] = sh
    leave: dict[int, float | None] = {}
    for row in s.scalars(select(Leave).where(Leave.day == day, Leave.technician_id.in_([t.id for t in techs]))):
        if row.hours is None or leave.get(row.technician_id, 0.0) is None:
            leave[row.technician_id] = None
        else:
            leave[row.technician_id] = (leave.get(row.technician_id) or 0.0) + float(row.hours)
    default_hours = _shift_hours(cfg.shift_start, cfg.shift_end, cfg.break_minutes) \
        if day.isoweekday() in cfg.workdays else 0.0
    tech_days = []
    for t in techs:
        shift_start, shift_end = cfg.shift_start, cfg.shift_end
        if holiday is not None:
            hours = 0.0
        elif t.id in shifts:
            sh = shifts[t.id]
            hours = _shift_hours(sh.start, sh.end, sh.break_minutes)
            shift_start, shift_end = sh.start, sh.end
        elif t.id in has_shifts:
            hours = 0.0  # shifts on other weekdays only: a day off
        else:
            hours = default_hours
        away = leave.get(t.id, 0.0)
        hours = 0.0 if away is None else max(hours - away, 0.0)
        tech_days.append(TechnicianDay(t.id, t.name, t.skill, hours,
                                       datetime.combine(day, shift_start, tzinfo=ctx.tz),
                                       datetime.combine(day, shift_end, tzinfo=ctx.tz)))
    # a bay taken out of use at /setup is offered no more (it keeps its past bookings)
    bays = [BayInfo(b.id, b.code, b.kind)
            for b in s.scalars(select(Bay).where(Bay.site_id == site, Bay.active.is_(True)).order_by(Bay.id))]
    # columns, not entities: a busy day is read for every proposal and every booking
    rows = s.execute(select(Appointment.id, Appointment.advisor_id, Appointment.start, Appointment.hours,
                            Appointment.skill, Appointment.job_lines, Appointment.equipment, Appointment.bay_id)
                     .where(Appointment.site_id == site, Appointment.start >= day_start, Appointment.start < day_end,
                            Appointment.status.not_in(RELEASED)))
    bookings = [Booking(id=r.id, advisor_id=r.advisor_id, start=r.start,
                        hours=as_hours(_lines(r.job_lines, r.skill, float(r.hours))), equipment=r.equipment,
                        bay_id=r.bay_id) for r in rows]
    return DayPlan(day=day, opening=opening, closing=closing, technicians=tech_days, bays=bays, bookings=bookings,
                   unplanned=_unplanned(s, ctx) if day == ctx.today() else [],
                   reserve_share=cfg.walk_in_reserve, arrivals_per_quarter=cfg.advisor_arrivals_per_15_min,
                   holiday=holiday.name or "holiday" if holiday is not None else None)


def _unplanned(s: Session, ctx: ServiceContext) -> list[Unplanned]:
    """Today's hours no booking sold: cars carried over from earlier days that still need work, and walk-ins
    (orders without an appointment) opened today. Both use the walk-in reserve first. Later days are not
    charged for today's open cars: most of them leave today."""
    today_start, today_end = ctx.day_bounds(ctx.today())
    # columns, not entities, and not today's booked cars (their appointments hold the hours): read on every
    # capacity refresh and most proposals
    rows = s.execute(select(RepairOrder.id, RepairOrder.number, RepairOrder.opened_at, RepairOrder.technician_id,
                            RepairOrder.status, RepairOrder.hold_reason, Vehicle.plate)
                     .join(Vehicle, Vehicle.id == RepairOrder.vehicle_id)
                     .where(RepairOrder.site_id == ctx.site, RepairOrder.status.in_(_OPEN),
                            RepairOrder.status.not_in(_DONE), RepairOrder.opened_at < today_end,
                            or_(RepairOrder.opened_at < today_start, RepairOrder.appointment_id.is_(None)))
                     .order_by(RepairOrder.id)).all()
    lines: dict[int, list[tuple[str, float]]] = defaultdict(list)
    if rows:
        for line in s.execute(select(JobLine.repair_order_id, JobLine.skill, JobLine.hours)
                              .where(JobLine.repair_order_id.in_([r.id for r in rows]))):
            lines[line.repair_order_id].append((line.skill, float(line.hours)))
    return [Unplanned(kind="carried_over" if r.opened_at < today_start else "walk_in", ref=r.number,
                      hours=as_hours(lines.get(r.id) or [(MAINTENANCE, 1.0)]), technician_id=r.technician_id,
                      plate=r.plate, status=r.status, reason=r.hold_reason) for r in rows]


def capacity_figures(plan: DayPlan) -> CapacityFigures:
    """Per technician and per skill class: hours available, reserved, allocated and free (what the API and the
    board's capacity strip show)."""
    allocated = plan.allocation()
    share = plan.reserve_share
    techs = [TechnicianHours(id=t.id, name=t.name, skill=Skill(t.skill), available=rounded(t.available),
                             reserved=rounded(t.available * share), allocated=rounded(allocated.get(t.id, 0.0)),
                             free=rounded(t.available - allocated.get(t.id, 0.0))) for t in plan.technicians]
    booked: dict[str, float] = defaultdict(float)
    for b in plan.bookings:
        for skill, hours in b.hours.items():
            booked[skill] += hours
    unplanned: dict[str, float] = defaultdict(float)
    for u in plan.unplanned:
        for skill, hours in u.hours.items():
            unplanned[skill] += hours
    skills = {}
    for skill in SKILLS:
        available = sum(t.available for t in plan.technicians if t.skill == skill)
        skills[skill] = SkillHours(
            available=rounded(available), reserved=rounded(available * share),
            booked=rounded(booked[skill]), unplanned=rounded(unplanned[skill]),
            allocated=rounded(booked[skill] + unplanned[skill]),
            free=rounded(max(plan.free_for(skill), 0.0)),
        )
    total_available = plan.available("total")
    total = TotalHours(available=rounded(total_available), reserved=rounded(plan.reserved("total")),
                       booked=rounded(plan.booked("total")), unplanned=rounded(plan.unplanned_hours("total")),
                       allocated=rounded(plan.booked("total") + plan.unplanned_hours("total")),
                       free=rounded(max(plan.sellable_left("total"), 0.0)),
                       left=rounded(plan.left("total")))
    carried = [u for u in plan.unplanned if u.kind == "carried_over"]
    walk_ins = [u for u in plan.unplanned if u.kind == "walk_in"]
    return CapacityFigures(
        day=plan.day.isoformat(),
        holiday=plan.holiday,
        reserve_share=share,
        technicians=techs,
        skills=SkillClasses(**skills),
        total=total,
        carried_over=CarriedOver(
            hours=rounded(sum(sum(u.hours.values()) for u in carried)),
            cars=[CarriedOverCar(number=u.ref, plate_display=display_plate(u.plate),
                                 hours=rounded(sum(u.hours.values())), status=RoStatus(u.status),
                                 reason=HoldReason(u.reason) if u.reason else None)
                  for u in carried]),
        walk_in=WalkIns(hours=rounded(sum(sum(u.hours.values()) for u in walk_ins)), cars=len(walk_ins)),
        appointments=len(plan.bookings),
        groups=CapacityGroups(**{g: GroupLeft(sellable_left=rounded(plan.sellable_left(g)),
                                              left=rounded(plan.left(g)))
                                 for g in GROUPS}),
    )


def capacity_view(plan: DayPlan) -> dict[str, Any]:
    """capacity_figures as the JSON object the API returns."""
    return capacity_figures(plan).to_dict()


def capacity_state(plan: DayPlan, site: str, version: int) -> CapacityState:
    return CapacityState(schema=SCHEMA, version=version, site=site, **dict(capacity_figures(plan)))


def publish_capacity(s: Session, ctx: ServiceContext, day: date) -> None:
    """The day's capacity changed (a booking, a move, a car in or out): mark the day in the caller's
    transaction; the capacity refresher puts its new state in the outbox moments later, once for however many
    changes came meanwhile. Only today and the days ahead are on the boards."""
    if day < ctx.today():
        return
    s.add(CapacityChange(site_id=ctx.site, day=day))
    s.info[OUTBOX_PENDING] = True  # the refresher listens to these commits


@dataclass(frozen=True)
class MarkedDays:
    """What compute_marked found: each marked day's figures, and per day the last mark they cover."""

    figures: dict[date, CapacityFigures]
    covered: dict[date, int]


def compute_marked(ctx: ServiceContext) -> MarkedDays:
    """Every marked day's capacity, from one plain read (never waiting for writers). The marks come first: on
    PostgreSQL, whose statements each see the latest commits, a change that lands after them is either in the
    figures or still marked afterwards; on SQLite the read is one snapshot."""
    with ctx.db.read() as s:
        covered = {day: last for day, last in s.execute(
            select(CapacityChange.day, func.max(CapacityChange.id))
            .where(CapacityChange.site_id == ctx.site).group_by(CapacityChange.day))}
        today = ctx.today()
        figures = {day: capacity_figures(load_plan(s, ctx, day)) for day in sorted(covered) if day >= today}
    return MarkedDays(figures, covered)


def store_marked(ctx: ServiceContext, marked: MarkedDays) -> list[date]:
    """Put the computed states in the outbox and delete the marks they cover, in one short write; a mark made
    after compute_marked stays for the next round. Returns the days written."""
    if not marked.covered:
        return []
    with ctx.db.write() as s:
        today = ctx.today()  # past midnight meanwhile, the day gone is roll_over's to delete, not ours to write
        written = [day for day in marked.figures if day >= today]
        for day in written:
            state = CapacityState(schema=SCHEMA, version=next_version(), site=ctx.site, **dict(marked.figures[day]))
            outbox.put_state(s, ctx.now(), ctx.site, topics.CAPACITY, day.isoformat(), state)
        for day, last in marked.covered.items():
            s.execute(delete(CapacityChange).where(CapacityChange.site_id == ctx.site, CapacityChange.day == day,
                                                   CapacityChange.id <= last))
    return written


def refresh_marked(ctx: ServiceContext) -> list[date]:
    """One round of the refresher: the state of every marked day into the outbox; the days written."""
    return store_marked(ctx, compute_marked(ctx))


def count_marked(ctx: ServiceContext) -> int:
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(CapacityChange)
                            .where(CapacityChange.site_id == ctx.site)) or 0)


BOARD_DAYS = 7  # today and the six days after it: the week-load bars


def board_days(ctx: ServiceContext) -> list[date]:
    today = ctx.today()
    return [today + timedelta(days=i) for i in range(BOARD_DAYS)]

