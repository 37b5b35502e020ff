"""Booking appointments into the workshop's hours: slot proposals, the rules on every booking and move, and
overrides that are always logged. The rules themselves are in shopfloor.domain.capacity."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.contract import topics
from shopfloor.domain.capacity import (
    MAINTENANCE,
    MAX_LINE_HOURS,
    MIN_LINE_HOURS,
    REPAIR,
    SKILLS,
    Violation,
    as_hours,
    propose,
    rounded,
)
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import normalize_plate, normalize_tag
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    BookingOverride,
    LabourOperation,
    QrTag,
    RepairOrder,
    Vehicle,
)
from shopfloor.i18n import counted
from shopfloor.services import outbox, views
from shopfloor.services.audit import SYSTEM, Actor, Entity, record, slot
from shopfloor.services.capacity import board_days, booking_of, capacity_view, load_plan, publish_capacity
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages import triggers as messages
from shopfloor.services.publishing import publish_appointment, ro_number_for_appointment

log = logging.getLogger(__name__)

MAX_DAYS_AHEAD = 366
PARTS_STATUSES = ("none", "in_stock", "to_order", "arrived")
CALL_OUTCOMES = ("confirmed", "rescheduled", "cancelled", "unreachable")
# an appointment in these can still be moved, called, cancelled
ACTIVE = ("booked", "confirmed", "late")


class BookingRefused(Refused):
    """The booking would break a rule; `reason` is the first rule broken (capacity, reserve, stagger, bay)."""

    def __init__(self, violations: list[Violation]) -> None:
        first = violations[0]
        super().__init__(first.key or f"booking.refused.{first.rule}", detail=first.detail, **first.params)
        self.reason = first.rule
        self.violations = violations

    def message(self, lang: str = "en") -> str:
        from shopfloor.i18n import t

        params = dict(self.params)
        if "kind" in params:  # a bay kind: lift, alignment, paint …
            named = t(lang, f"booking.bay_kind.{params['kind']}")
            params["kind"] = named if not named.startswith("booking.bay_kind.") else params["kind"]
        return t(lang, self.key, **params)


@dataclass(frozen=True)
class WorkLine:
    description: str
    hours: float
    skill: str = MAINTENANCE
    code: str | None = None
    equipment: str | None = None

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "description": self.description, "hours": self.hours, "skill": self.skill,
                "equipment": self.equipment}


@dataclass
class BookingRequest:
    start: datetime
    lines: list[WorkLine]
    actor: Actor | str
    vehicle_id: int | None = None
    plate: str | None = None
    tag: str | None = None
    advisor_id: int | None = None  # None: shopfloor picks the best advisor at that time
    work: str = ""  # what the card says; default: the lines
    override_reason: str | None = None
    parts_status: str = "none"
    parts_eta: date | None = None
    parts_numbers: str = ""
    waiting_customer: bool = False
    road_test: bool = False
    complaining_customer: bool | None = None  # None: as flagged on the customer
    notes: str = ""
    source: str = "passive"
    rebook_of: int | None = None
    flags: dict[str, Any] = field(default_factory=dict)


def _check_hours(lines: list[WorkLine]) -> None:
    if not lines:
        raise Invalid("booking.error.no_work")
    for line in lines:
        if not line.description.strip() or line.skill not in SKILLS:
            raise Invalid("error.job_line_invalid")
        if not MIN_LINE_HOURS <= line.hours <= MAX_LINE_HOURS:  # also NaN
            raise Invalid("booking.error.hours_range", hours=f"{line.hours:g}", least=f"{MIN_LINE_HOURS:g}",
                          most=f"{MAX_LINE_HOURS:g}")
    if sum(line.hours for line in lines) > MAX_LINE_HOURS:
        raise Invalid("error.job_line_invalid")


class BookingService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- reading --------------------------------------------------------------------------------------------
    def capacity(self, day: date) -> dict[str, Any]:
        self._check_day(day, past_ok=True)
        with self.ctx.db.read() as s:
            return capacity_view(load_plan(s, self.ctx, day))

    def week(self, first: date, days: int = 7) -> list[dict[str, Any]]:
        """Load per day: the bars that make levelling across the week visible. Within a year of today, as
        capacity()."""
        self._check_day(first, past_ok=True)
        self._check_day(first + timedelta(days=days - 1), past_ok=True)  # first is near today: no overflow
        out = []
        with self.ctx.db.read() as s:
            for i in range(days):
                view = capacity_view(load_plan(s, self.ctx, first + timedelta(days=i)))
                total = view["total"]
                load = total["allocated"] / total["available"] if total["available"] else None
                out.append({"day": view["day"], "holiday": view["holiday"], "available": total["available"],
                            "allocated": total["allocated"], "free": total["free"], "appointments":
                            view["appointments"], "load": round(load, 3) if load is not None else None,
                            "skills": view["skills"]})
        return out

    def lines(self, *, codes: list[str] | None = None, hours: float | None = None, skill: str | None = None,
              work: str = "", extra: list[WorkLine] | None = None) -> list[WorkLine]:
        """The work of a booking: catalogue operations by code, and/or free text with estimated hours."""
        out: list[WorkLine] = []
        if codes:
            with self.ctx.db.read() as s:
                ops = {o.code: o for o in s.scalars(select(LabourOperation).where(
                    LabourOperation.site_id == self.ctx.site, LabourOperation.code.in_(codes)))}
            unknown = [c for c in codes if c not in ops]
            if unknown:
                raise Invalid("error.operation_unknown", code=", ".join(unknown))
            retired = [c for c in codes if not ops[c].active]
            if retired:  # kept for the orders that name it; a booked car still gets it at check-in
                raise Invalid("error.operation_out_of_use", code=", ".join(retired))
            lang = self.ctx.settings.site.language
            out += [WorkLine(ops[c].name(lang), float(ops[c].hours), ops[c].skill, c, ops[c].equipment) for c in codes]
        if hours is not None:
            if skill is not None and skill not in SKILLS:
                raise Invalid("booking.error.skill", skill=skill)
            out.append(WorkLine(work.strip() or self._default_work(skill or MAINTENANCE), float(hours),
                                skill or MAINTENANCE))
        out += extra or []
        _check_hours(out)
        return out

    def _default_work(self, skill: str) -> str:
        from shopfloor.i18n import t

        return t(self.ctx.settings.site.language, f"skill.{skill}")

    def propose_slots(self, day: date, lines: list[WorkLine], advisor_id: int | None = None,
                      limit: int = 5) -> list[dict[str, Any]]:
        """The best start times, advisor and bay for this work on this day, best first, each with why."""
        self._check_day(day)
        _check_hours(lines)
        hours = as_hours((line.skill, line.hours) for line in lines)
        equipment = next((line.equipment for line in lines if line.equipment), None)
        with self.ctx.db.read() as s:
            plan = load_plan(s, self.ctx, day)
            advisors = self._advisors(s, advisor_id)
            names = {a.id: a for a in advisors}
            earliest = self.ctx.now() + timedelta(minutes=self.ctx.settings.booking.slot_minutes)
            choices = propose(plan, [a.id for a in advisors], hours, equipment, earliest,
                              self.ctx.settings.booking.slot_minutes, limit)
            free = {skill: rounded(max(plan.free_for(skill), 0.0)) for skill in SKILLS}
        out = []
        for c in choices:
            advisor = names[c.advisor_id]
            start = c.start.astimezone(self.ctx.tz)
            why = (f"{counted(c.site_arrivals, 'other arrival', 'other arrivals')} within 30 min (day mean "
                   f"{c.mean_per_hour:.1f}/h); {advisor.name} has {c.advisor_arrivals} near this time and "
                   f"{counted(c.advisor_day, 'booking', 'bookings')} that day" +
                   (f"; bay {c.bay.code} free" if c.bay else "") +
                   "; " + ", ".join(f"{free[k]:g} h {k} still sellable" for k in hours))
            out.append({"start": start.isoformat(timespec="minutes"), "end": (start + timedelta(
                hours=sum(hours.values()))).isoformat(timespec="minutes"),
                "advisor": {"id": advisor.id, "name": advisor.name, "code": advisor.code},
                "bay": c.bay.code if c.bay else None, "score": round(c.score, 3), "why": why,
                "reasons": {"site_arrivals": c.site_arrivals, "advisor_arrivals": c.advisor_arrivals,
                            "advisor_day": c.advisor_day, "mean_per_hour": round(c.mean_per_hour, 2),
                            "free": {k: free[k] for k in hours}}})
        return out

    # -- writing --------------------------------------------------------------------------------------------
    def book(self, req: BookingRequest) -> dict[str, Any]:
        """Book, or refuse with the first rule broken (BookingRefused) unless an override reason is given; an
        override records every rule it broke, with who and why."""
        _check_hours(req.lines)
        self._check_request(req)
        start = self._aware(req.start)
        day = start.astimezone(self.ctx.tz).date()
        self._check_day(day)
        self._check_in_hours(start)
        hours = as_hours((line.skill, line.hours) for line in req.lines)
        equipment = next((line.equipment for line in req.lines if line.equipment), None)
        with self.ctx.db.write() as s:
            vehicle = self._vehicle(s, req)
            plan = load_plan(s, self.ctx, day)
            advisor = self._pick_advisor(s, plan, req.advisor_id, start, hours, equipment)
            violations, bay = plan.violations(advisor.id, start, hours, equipment)
            self._refuse_unless_overridden(violations, req.override_reason)
            now = self.ctx.now()
            appt = Appointment(
                site_id=self.ctx.site, vehicle_id=vehicle.id, advisor_id=advisor.id, bay_id=bay.id if bay else None,
                start=start, hours=Decimal(str(round(sum(hours.values()), 2))),
                work=(req.work.strip() or _summary(req.lines))[:200], status="booked",
                job_lines=[line.as_json() for line in req.lines],
                skill=REPAIR if hours.get(REPAIR) else MAINTENANCE, equipment=equipment, source=req.source,
                parts_status=req.parts_status, parts_eta=req.parts_eta, parts_numbers=req.parts_numbers.strip(),
                waiting_customer=req.waiting_customer, road_test=req.road_test,
                repeat_repair=self._repeat_repair(s, vehicle.id, start),
                complaining_customer=vehicle.customer.complaining if req.complaining_customer is None
                else req.complaining_customer,
                notes=req.notes.strip()[:500], created_at=now, created_by=str(req.actor))
            s.add(appt)
            s.flush()
            self._log_overrides(s, appt, violations, req.override_reason, req.actor)
            detail: dict[str, Any] = {"work": appt.work, "hours": float(appt.hours), "source": req.source}
            was = None
            if req.rebook_of is not None:
                old = s.get(Appointment, req.rebook_of)
                if old is not None and old.site_id == self.ctx.site:
                    old.rebooked_as_id = appt.id
                    publish_appointment(s, self.ctx, old)
                    was, detail["rebook_of"] = slot(old.start, old.advisor.name, self.ctx.tz), old.id
            record(s, self.ctx, req.actor, Entity.APPOINTMENT, appt.id, "rebooked" if was else "booked",
                   from_value=was, to_value=slot(start, advisor.name, self.ctx.tz),
                   reason=req.override_reason if violations else None, detail=detail | _broken(violations))
            messages.appointment_booked(s, self.ctx, appt, req.actor)
            publish_appointment(s, self.ctx, appt)
            publish_capacity(s, self.ctx, day)
            log.info("booked %s for %s at %s with %s (%s h)%s", vehicle.plate, req.actor, start, advisor.name,
                     sum(hours.values()), f", override: {[v.rule for v in violations]}" if violations else "")
            return self._state(s, appt)

    def move(self, appointment_id: int, start: datetime, advisor_id: int | None, *, actor: Actor | str,
             override_reason: str | None = None) -> dict[str, Any]:
        """Move a card to another time or advisor (the manager's drag): the same rules, the card itself not
        counted against them."""
        start = self._aware(start)
        with self.ctx.db.write() as s:
            appt, was, violations = self._move(s, appointment_id, start, advisor_id, actor, override_reason)
            publish_appointment(s, self.ctx, appt)
            record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "moved", from_value=was,
                   to_value=slot(appt.start, appt.advisor.name, self.ctx.tz),
                   reason=override_reason if violations else None, detail=_broken(violations) or None)
            return self._state(s, appt)

    def reschedule(self, appointment_id: int, start: datetime, advisor_id: int | None, *, actor: Actor | str,
                   override_reason: str | None = None, note: str = "") -> dict[str, Any]:
        """The customer asked for another time on the confirmation call: the move and the call's outcome in one
        transaction (a refused move records no call)."""
        start = self._aware(start)
        with self.ctx.db.write() as s:
            appt, was, violations = self._move(s, appointment_id, start, advisor_id, actor, override_reason)
            self._set_call(appt, "rescheduled", actor, note)
            publish_appointment(s, self.ctx, appt)
            record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "rescheduled", from_value=was,
                   to_value=slot(appt.start, appt.advisor.name, self.ctx.tz),
                   reason=(override_reason if violations else None) or note.strip() or None,
                   detail=_broken(violations) | ({"note": note.strip()} if note.strip() else {}) or None)
            return self._state(s, appt)

    def _move(self, s: Session, appointment_id: int, start: datetime, advisor_id: int | None, actor: Actor | str,
              override_reason: str | None) -> tuple[Appointment, str, list[Violation]]:
        """The move inside the caller's transaction, the days' capacity published (the appointment's own state
        is the caller's to publish, once): (the appointment, where it was, the rules it broke)."""
        day = start.astimezone(self.ctx.tz).date()
        self._check_day(day)
        self._check_in_hours(start)
        appt = self._appointment(s, appointment_id)
        if appt.status not in ACTIVE:
            raise Refused("booking.error.not_movable", status=appt.status)
        was = slot(appt.start, appt.advisor.name, self.ctx.tz)
        old_day = appt.start.astimezone(self.ctx.tz).date()
        plan = load_plan(s, self.ctx, day)
        current = booking_of(appt)
        advisor = self._advisor(s, advisor_id) if advisor_id is not None else appt.advisor
        # the hours only count again when the card changes day
        violations, bay = plan.violations(advisor.id, start, current.hours, appt.equipment, excluding=appt.id,
                                          sell_hours=day != old_day)
        self._refuse_unless_overridden(violations, override_reason)
        appt.start, appt.advisor_id = start, advisor.id
        appt.bay_id = bay.id if bay else appt.bay_id
        if appt.status == "late" and start > self.ctx.now():
            appt.status = "booked"
        s.flush()
        s.refresh(appt)
        self._log_overrides(s, appt, violations, override_reason, actor)
        messages.appointment_moved(s, self.ctx, appt, actor)
        for d in {old_day, day}:
            publish_capacity(s, self.ctx, d)
        log.info("%s moved appointment %s to %s with %s", actor, appt.id, start, advisor.name)
        return appt, was, violations

    def cancel(self, appointment_id: int, *, actor: Actor | str, reason: str) -> dict[str, Any]:
        if not reason.strip():
            raise Invalid("booking.error.cancel_reason")
        with self.ctx.db.write() as s:
            appt = self._appointment(s, appointment_id)
            if appt.status not in ACTIVE:
                raise Refused("booking.error.not_movable", status=appt.status)
            record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "cancelled", from_value=appt.status,
                   to_value="cancelled", reason=reason.strip())
            appt.status, appt.cancel_reason = "cancelled", reason.strip()[:200]
            messages.appointment_dropped(s, self.ctx, appt, actor)
            publish_appointment(s, self.ctx, appt)
            publish_capacity(s, self.ctx, appt.start.astimezone(self.ctx.tz).date())
            log.info("%s cancelled appointment %s: %s", actor, appt.id, reason)
            return self._state(s, appt)

    def record_call(self, appointment_id: int, outcome: str, *, actor: Actor | str, note: str = ""
                    ) -> dict[str, Any]:
        """The day-before confirmation call. Rescheduling is `reschedule` (or a new booking)."""
        if outcome not in CALL_OUTCOMES:
            raise Invalid("booking.error.call_outcome", outcome=outcome)
        with self.ctx.db.write() as s:
            appt = self._appointment(s, appointment_id)
            if appt.status not in ACTIVE:
                raise Refused("booking.error.not_movable", status=appt.status)
            was = appt.call_outcome
            self._set_call(appt, outcome, actor, note)
            publish_appointment(s, self.ctx, appt)
            if outcome == "cancelled":
                messages.appointment_dropped(s, self.ctx, appt, actor)
                publish_capacity(s, self.ctx, appt.start.astimezone(self.ctx.tz).date())
            record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "call", from_value=was, to_value=outcome,
                   reason=note.strip() or None)
            return self._state(s, appt)

    def _set_call(self, appt: Appointment, outcome: str, actor: Actor | str, note: str) -> None:
        appt.call_outcome, appt.called_at, appt.called_by = outcome, self.ctx.now(), str(actor)
        if note.strip():
            appt.notes = (appt.notes + "\n" if appt.notes else "") + note.strip()
            appt.notes = appt.notes[-500:]
        if outcome == "confirmed" and appt.status == "booked":
            appt.status = "confirmed"
        if outcome == "cancelled":
            appt.status, appt.cancel_reason = "cancelled", note.strip()[:200] or "call"

    def set_parts(self, appointment_id: int, status: str, *, eta: date | None = None, numbers: str | None = None,
                  actor: Actor | str = SYSTEM) -> dict[str, Any]:
        if status not in PARTS_STATUSES:
            raise Invalid("booking.error.parts_status", status=status)
        with self.ctx.db.write() as s:
            appt = self._appointment(s, appointment_id)
            record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "parts", from_value=appt.parts_status,
                   to_value=status, detail={"eta": eta.isoformat() if eta else None, "numbers": numbers})
            appt.parts_status, appt.parts_eta = status, eta if status == "to_order" else None
            if numbers is not None:
                appt.parts_numbers = numbers.strip()[:200]
            publish_appointment(s, self.ctx, appt)
            return self._state(s, appt)

    def roll_over(self, previous: date | None) -> date:
        """A new day: every board day's capacity (a new day comes into the week) and the day gone off the bus.
        Returns today, for the caller to remember. At start-up (previous None) nothing is written: the publisher
        republishes every board day's capacity after each (re)connect."""
        today = self.ctx.today()
        if previous is None or previous == today:
            return today
        with self.ctx.db.write() as s:
            if previous < today:
                for i in range((today - previous).days):
                    outbox.put_state(s, self.ctx.now(), self.ctx.site, topics.CAPACITY,
                                     (previous + timedelta(days=i)).isoformat(), None)
            for day in board_days(self.ctx):
                publish_capacity(s, self.ctx, day)
        return today

    def refresh_days(self, days: list[date]) -> None:
        """Bookings of these days changed outside this service (a DMS import): their capacity states again."""
        with self.ctx.db.write() as s:
            for day in days:
                publish_capacity(s, self.ctx, day)

    def get(self, appointment_id: int) -> dict[str, Any]:
        with self.ctx.db.read() as s:
            return self._state(s, self._appointment(s, appointment_id))

    # -- helpers --------------------------------------------------------------------------------------------
    def _state(self, s: Session, appt: Appointment) -> dict[str, Any]:
        state = views.appointment_state(appt, self.ctx.tz, ro_number_for_appointment(s, appt.id)).to_dict()
        state["overrides"] = [{"rule": o.rule, "reason": o.reason, "actor": o.actor, "detail": o.detail,
                               "at": views.iso(o.at, self.ctx.tz)} for o in appt.overrides]
        state["vehicle_id"] = appt.vehicle_id
        return state

    def _refuse_unless_overridden(self, violations: list[Violation], override_reason: str | None) -> None:
        if not violations:
            return
        if override_reason is None:
            raise BookingRefused(violations)
        if not override_reason.strip():
            raise Invalid("booking.error.override_reason")

    def _log_overrides(self, s: Session, appt: Appointment, violations: list[Violation], reason: str | None,
                       actor: Actor | str) -> None:
        for v in violations:
            s.add(BookingOverride(appointment_id=appt.id, rule=v.rule, detail=v.detail[:300],
                                  reason=(reason or "").strip()[:300], actor=str(actor), at=self.ctx.now()))
            log.warning("booking rule %s overridden by %s for appointment %s: %s (%s)", v.rule, actor, appt.id,
                        reason, v.detail)
        if violations:
            s.flush()
            s.refresh(appt)

    def _check_request(self, req: BookingRequest) -> None:
        if req.parts_status not in PARTS_STATUSES:
            raise Invalid("booking.error.parts_status", status=req.parts_status)
        if req.source not in ("passive", "active", "import", "rebook"):
            raise Invalid("booking.error.source", source=req.source)

    def _aware(self, start: datetime) -> datetime:
        """A time without a zone is the site's wall clock. A time far from now is refused here, before anything
        converts it to another zone (near year 1 or 9999 that overflows)."""
        aware = start.replace(tzinfo=self.ctx.tz) if start.tzinfo is None else start
        ahead = aware - self.ctx.now()  # aware minus aware: a timedelta, whatever the years
        if ahead < -timedelta(minutes=1):
            raise Invalid("booking.error.past")
        if ahead > timedelta(days=MAX_DAYS_AHEAD + 1):
            raise Invalid("booking.error.far", days=MAX_DAYS_AHEAD)
        return aware

    def _check_day(self, day: date, *, past_ok: bool = False) -> None:
        today = self.ctx.today()
        if not past_ok and day < today:
            raise Invalid("booking.error.past")
        if abs((day - today).days) > MAX_DAYS_AHEAD:
            raise Invalid("booking.error.far", days=MAX_DAYS_AHEAD)

    def _check_in_hours(self, start: datetime) -> None:
        site = self.ctx.settings.site
        local = start.astimezone(self.ctx.tz)
        if start < self.ctx.now() - timedelta(minutes=1):
            raise Invalid("booking.error.past")
        if not site.opening <= local.time() < site.closing:
            raise Invalid("booking.error.closed", opening=f"{site.opening:%H:%M}", closing=f"{site.closing:%H:%M}")

    def _vehicle(self, s: Session, req: BookingRequest) -> Vehicle:
        vehicle: Vehicle | None = None
        if req.vehicle_id is not None:
            vehicle = s.get(Vehicle, req.vehicle_id)
            if vehicle is None or vehicle.site_id != self.ctx.site:
                raise NotFound("booking.error.vehicle_unknown", vehicle=req.vehicle_id)
        elif req.tag:
            tag = s.get(QrTag, normalize_tag(req.tag))
            if tag is None or tag.revoked_at is not None:
                raise NotFound("error.tag_unknown", tag=req.tag)
            vehicle = tag.vehicle
        elif req.plate:
            plate = normalize_plate(req.plate)
            found = list(s.scalars(select(Vehicle).where(Vehicle.site_id == self.ctx.site, Vehicle.plate == plate)
                                   .limit(2)))
            if not found:
                raise NotFound("booking.error.plate_unknown", plate=plate)
            if len(found) > 1:  # a plate moved to another car: booking the wrong one must not happen silently
                raise Invalid("booking.error.more.plate_ambiguous", plate=plate)
            vehicle = found[0]
        else:
            raise Invalid("booking.error.no_vehicle")
        return vehicle

    def _advisors(self, s: Session, advisor_id: int | None) -> list[Advisor]:
        if advisor_id is not None:
            return [self._advisor(s, advisor_id)]
        staff = s.scalars(select(Advisor).where(Advisor.site_id == self.ctx.site, Advisor.active.is_(True))
                          .order_by(Advisor.code))
        return [a for a in staff if a.is_advisor]

    def advisor_by_name(self, name: str) -> int:
        """An advisor named by code (A) or name (张伟)."""
        with self.ctx.db.read() as s:
            found = s.scalar(select(Advisor.id).where(Advisor.site_id == self.ctx.site, Advisor.active.is_(True),
                                                      (Advisor.code == name.strip()) | (Advisor.name == name.strip())))
        if found is None:
            raise NotFound("error.advisor_unknown", advisor=name)
        return found

    def _advisor(self, s: Session, advisor_id: int) -> Advisor:
        advisor = s.get(Advisor, advisor_id)
        if advisor is None or advisor.site_id != self.ctx.site or not advisor.active:
            raise NotFound("error.advisor_unknown", advisor=advisor_id)
        return advisor

    def _pick_advisor(self, s: Session, plan: Any, advisor_id: int | None, start: datetime,
                      hours: dict[str, float], equipment: str | None) -> Advisor:
        if advisor_id is not None:
            return self._advisor(s, advisor_id)
        advisors = self._advisors(s, None)
        if not advisors:
            raise Refused("error.no_advisors")
        # the advisor free at that quarter hour with the fewest bookings that day; all busy → the least busy
        # (the stagger rule then refuses, naming the limit)
        counts = {a.id: sum(1 for b in plan.bookings if b.advisor_id == a.id) for a in advisors}
        free = [a for a in advisors if plan.stagger_violation(a.id, start) is None]
        return min(free or advisors, key=lambda a: (counts[a.id], a.code))

    def _appointment(self, s: Session, appointment_id: int) -> Appointment:
        appt = s.get(Appointment, appointment_id)
        if appt is None or appt.site_id != self.ctx.site:
            raise NotFound("booking.error.appointment_unknown", appointment=appointment_id)
        return appt

    def _repeat_repair(self, s: Session, vehicle_id: int, start: datetime) -> bool:
        """Back within the configured days of the last visit: the technical director wants to know."""
        days = self.ctx.settings.booking.repeat_repair_days
        last = s.scalar(select(RepairOrder.opened_at).where(RepairOrder.vehicle_id == vehicle_id)
                        .order_by(RepairOrder.opened_at.desc()).limit(1))
        return last is not None and start - last <= timedelta(days=days)


def _broken(violations: list[Violation]) -> dict[str, Any]:
    """The rules an override broke, for the audit row's detail."""
    return {"rules_broken": [{"rule": v.rule, "detail": v.detail} for v in violations]} if violations else {}


def _summary(lines: list[WorkLine]) -> str:
    first = lines[0].description
    return first if len(lines) == 1 else f"{first} +{len(lines) - 1}"

