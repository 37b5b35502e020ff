"""A day's capacity read from the database (shifts, leave, holidays, bays, bookings, cars carried over and
walk-ins) into the pure rules of shopfloor.domain.capacity, and the retained capacity state the boards draw."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

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
from shopfloor.domain.models import Appointment, Bay, Holiday, Leave, RepairOrder, Shift, Technician
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
    bays = [BayInfo(b.id, b.code, b.kind) for b in s.scalars(select(Bay).where(Bay.site_id == site).order_by(Bay.id))]
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
    rows = s.scalars(select(RepairOrder).where(
        RepairOrder.site_id == ctx.site, RepairOrder.status.in_(_OPEN), RepairOrder.status.not_in(_DONE),
        RepairOrder.opened_at < today_end).options(selectinload(RepairOrder.job_lines),
                                                   selectinload(RepairOrder.vehicle)))
    out = []
    for ro in rows:
        carried = ro.opened_at < today_start
        if not carried and ro.appointment_id is not None:
            continue  # today's booked car: its appointment holds the hours
        lines = [(line.skill, float(line.hours)) for line in ro.job_lines] or [(MAINTENANCE, 1.0)]
        out.append(Unplanned(kind="carried_over" if carried else "walk_in", ref=ro.number, hours=as_hours(lines),
                             technician_id=ro.technician_id, plate=ro.vehicle.plate, status=ro.status,
                             reason=ro.hold_reason))
    return out


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
    """The day's capacity changed (a booking, a move, a car in or out): put its new state in the outbox, in the
    caller's transaction. Only today and the days ahead are on the boards."""
    if day < ctx.today():
        return
    s.flush()
    plan = load_plan(s, ctx, day)
    outbox.put_state(s, ctx.now(), ctx.site, topics.CAPACITY, day.isoformat(),
                     capacity_state(plan, ctx.site, next_version()))


BOARD_DAYS = 7  # today and the six days after it: the week-load bars


def board_days(ctx: ServiceContext) -> list[date]:
    today = ctx.today()
    return [today + timedelta(days=i) for i in range(BOARD_DAYS)]

