"""Reception: a scanned QR tag (or, for a tag that cannot be scanned, the plate) finds the vehicle; a scan by
someone who may receive cars marks today's appointment arrived; a check-in opens one repair order (never a second
while one is open) with the work that was booked."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.contract.staff import Permission, may
from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import PROVINCES, TAG_SEARCH_RE, display_plate, normalize_plate, normalize_tag
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    Customer,
    JobLine,
    LabourOperation,
    QrTag,
    RepairOrder,
    RoEvent,
    Vehicle,
)
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.services import views
from shopfloor.services.audit import Actor, ActorKind, Entity, as_actor, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages import triggers as messages
from shopfloor.services.publishing import publish_appointment, publish_repair_order
from shopfloor.services.repair_orders import hours
from shopfloor.services.workshop.projection import earliest_finish

log = logging.getLogger(__name__)

ARRIVABLE = ("booked", "confirmed", "late")
MAX_COMPLAINT = 2000
MAX_PROMISE_DAYS = 366
SKILLS = ("maintenance", "repair")


@dataclass(frozen=True)
class JobLineInput:
    description: str
    hours: Decimal
    skill: str = "maintenance"
    code: str | None = None


@dataclass
class CheckinRequest:
    tag: str
    actor: Actor | str
    advisor_id: int | None = None
    complaint: str = ""
    mileage_km: int | None = None
    fuel_eighths: int | None = None
    operation_codes: list[str] = field(default_factory=list)
    extra_lines: list[JobLineInput] = field(default_factory=list)
    promised_at: datetime | None = None
    # An odometer reading below the last recorded one is refused unless the advisor confirms it
    # (a replaced instrument cluster); a typo is far more likely.
    mileage_confirmed: bool = False


@dataclass(frozen=True)
class ScanResult:
    tag: str
    plate: str
    plate_display: str
    vehicle_model: str
    vin: str
    customer: str
    phone: str
    appointment: dict[str, Any] | None
    open_ro: str | None
    mileage_km: int | None
    # False when the person who scanned may not receive cars: the appointment was only looked at
    marked_arrived: bool = False


@dataclass(frozen=True)
class CheckinResult:
    repair_order: dict[str, Any]
    created: bool


def _tag(session: Session, raw: str) -> QrTag:
    token = normalize_tag(raw)
    tag = session.get(QrTag, token)
    if tag is None or tag.revoked_at is not None:
        log.info("scan of unknown tag %s", token)
        raise NotFound("error.tag_unknown", tag=token)
    return tag


def _is_plate(text: str) -> bool:
    """Typed for a tag that cannot be scanned: a plate starts with its province; anything else is read as a tag
    (so scanned junk is called a bad tag, not a bad plate)."""
    stripped = text.strip()
    return bool(stripped) and stripped[0] in PROVINCES and not TAG_SEARCH_RE.search(stripped.upper())


def _vehicle_tag(session: Session, site: str, text: str) -> QrTag:
    """The active tag of the vehicle with this plate: a tag too damaged to scan is found by the plate."""
    plate = normalize_plate(text)
    tags = list(session.scalars(select(QrTag).join(Vehicle, Vehicle.id == QrTag.vehicle_id).where(
        Vehicle.site_id == site, Vehicle.plate == plate, QrTag.revoked_at.is_(None))
        .order_by(QrTag.issued_at.desc())))
    vehicles = {t.vehicle_id for t in tags}
    if not vehicles:
        raise NotFound("checkin.error.plate_no_tag", plate=display_plate(plate))
    if len(vehicles) > 1:  # a plate moved to another car: opening the wrong car must not happen silently
        raise Invalid("checkin.error.plate_several", plate=display_plate(plate), count=len(vehicles))
    return tags[0]


def _open_ro(session: Session, vehicle_id: int) -> RepairOrder | None:
    return session.scalar(select(RepairOrder).where(
        RepairOrder.vehicle_id == vehicle_id, RepairOrder.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(RepairOrder.id.desc()).limit(1))


def booked_lines(stored: list[dict[str, Any]] | None) -> list[JobLineInput]:
    """An appointment's stored lines ([{"code", "description", "hours", "skill", "equipment"}], written by the
    booking desk, the DMS import and the demo) as job lines, read with care as stored JSON is: a line without a
    description or with hours no job line may have is left out and logged, not guessed at."""
    lines: list[JobLineInput] = []
    for raw in stored or []:
        if not isinstance(raw, dict):
            log.warning("booked line %r left out: not an object", raw)
            continue
        description = str(raw.get("description") or "").strip()[:200]
        try:
            value = hours(str(raw.get("hours")))
            fits = Decimal(str(MIN_LINE_HOURS)) <= value <= Decimal(str(MAX_LINE_HOURS))
        except ArithmeticError:  # not a number, NaN, infinity
            value, fits = Decimal(0), False
        if not description or not fits:
            log.warning("booked line %r left out: no description or hours out of range", raw)
            continue
        skill = str(raw.get("skill") or "")
        code = raw.get("code")
        lines.append(JobLineInput(description=description, hours=value,
                                  skill=skill if skill in SKILLS else "maintenance", code=str(code) if code else None))
    return lines


class CheckinService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _todays_appointment(self, session: Session, vehicle_id: int) -> Appointment | None:
        start, end = self.ctx.day_bounds(self.ctx.today())
        # An appointment already served by a repair order is used up: a car back after delivery is a new visit.
        used = select(RepairOrder.appointment_id).where(RepairOrder.appointment_id.is_not(None))
        rows = list(session.scalars(select(Appointment).where(
            Appointment.vehicle_id == vehicle_id, Appointment.start >= start, Appointment.start < end,
            Appointment.status.in_((*ARRIVABLE, "arrived")), Appointment.id.not_in(used))))
        if not rows:
            return None
        now = self.ctx.now()
        return min(rows, key=lambda a: abs((a.start - now).total_seconds()))

    def may_receive(self, s: Session, actor: Actor | str) -> bool:
        """Whether `actor` may mark a car arrived: a staff member whose roles, as stored now, grant RECEPTION (a
        page open since before a role was taken away asks with the old roles; the database answers). Found by
        id, or by name for the older call sites that pass one. Nobody else scans at reception."""
        who = as_actor(actor)
        if who.kind != ActorKind.STAFF:
            return False
        if who.staff_id is not None:
            person = s.get(Advisor, who.staff_id) if 0 < who.staff_id < 2**31 else None
        else:
            person = s.scalar(select(Advisor).where(Advisor.site_id == self.ctx.site, Advisor.name == who.name))
        return (person is not None and person.site_id == self.ctx.site and person.active
                and may(person.role_set, Permission.RECEPTION))

    def find_tag(self, text: str) -> str:
        """The tag token for what was scanned or typed: a tag (or text holding one), else a plate (the car's
        active tag). Read only."""
        if not _is_plate(text):
            return normalize_tag(text)
        with self.ctx.db.read() as s:
            return _vehicle_tag(s, self.ctx.site, text).token

    def scan(self, raw_tag: str, actor: Actor | str) -> ScanResult:
        """A tag was scanned (or a plate typed for a damaged one): the customer is here. Today's appointment is
        marked arrived (once) only when `actor` may receive cars (Permission.RECEPTION); anyone else's scan
        only reads."""
        with self.ctx.db.write() as s:
            by_plate = _is_plate(raw_tag)
            tag = _vehicle_tag(s, self.ctx.site, raw_tag) if by_plate else _tag(s, raw_tag)
            vehicle = tag.vehicle
            appt = self._todays_appointment(s, vehicle.id)
            marked = False
            if appt is not None and appt.status in ARRIVABLE:
                if self.may_receive(s, actor):
                    record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "arrived", from_value=appt.status,
                           to_value="arrived", detail={"tag": tag.token, "by": "plate" if by_plate else "tag"})
                    appt.status, appt.arrived_at = "arrived", self.ctx.now()
                    publish_appointment(s, self.ctx, appt)
                    marked = True
                    log.info("%s arrived for appointment %s (scan by %s)", vehicle.plate, appt.id, actor)
                else:
                    log.info("%s scanned by %s, who may not receive cars: appointment %s left %s", vehicle.plate,
                             actor, appt.id, appt.status)
            ro = _open_ro(s, vehicle.id)
            return ScanResult(
                tag=tag.token, plate=vehicle.plate, plate_display=display_plate(vehicle.plate),
                vehicle_model=vehicle.model, vin=vehicle.vin, customer=vehicle.customer.addressed,
                phone=vehicle.customer.phone,
                appointment=views.appointment_state(appt, self.ctx.tz, None).to_dict() if appt else None,
                open_ro=ro.number if ro else None, mileage_km=vehicle.mileage_km, marked_arrived=marked)

    def all_tags(self) -> list[tuple[str, str, str]]:
        """(plate, customer, tag) of every vehicle with an active tag: the demo's tag sheet."""
        with self.ctx.db.read() as s:
            rows = s.execute(select(Vehicle.plate, Customer.surname, Customer.salutation, QrTag.token)
                             .join(QrTag, QrTag.vehicle_id == Vehicle.id)
                             .join(Customer, Customer.id == Vehicle.customer_id)
                             .where(Vehicle.site_id == self.ctx.site, QrTag.revoked_at.is_(None)).order_by(Vehicle.id))
            return [(plate, f"{surname}{salutation}", token) for plate, surname, salutation, token in rows]

    def operations(self, *, out_of_use: bool = False) -> list[LabourOperation]:
        """The catalogue offered for new work; `out_of_use`: with the operations taken out of use (reception
        still ticks one a car was booked with)."""
        with self.ctx.db.read() as s:
            query = select(LabourOperation).where(LabourOperation.site_id == self.ctx.site)
            if not out_of_use:
                query = query.where(LabourOperation.active)
            return list(s.scalars(query.order_by(LabourOperation.code)))

    def default_promise(self, total_hours: float, skill: str | None = None) -> datetime:
        """When the work can be done and the car handed over: with `skill`, after the queue of the qualified
        technician who would finish it first (the workshop's projection), + half an hour to wash and hand over, up
        to the next quarter hour. Without it (or no technician at work): now + the flat-rate hours on the opening
        hours."""
        if skill is not None and total_hours > 0:
            with self.ctx.db.read() as s:
                return self._promise(s, total_hours, skill)
        return self._promise(None, total_hours, None)

    def _promise(self, s: Session | None, total_hours: float, skill: str | None) -> datetime:
        if s is not None and skill is not None and total_hours > 0:
            done = earliest_finish(s, self.ctx, total_hours, skill)
            if done is not None:
                local = done.astimezone(self.ctx.tz) + timedelta(minutes=30)
                quarter = math.ceil((local.minute + local.second / 60) / 15) * 15
                return local.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=quarter)
        site = self.ctx.settings.site
        now = self.ctx.now().astimezone(self.ctx.tz)
        work = timedelta(hours=total_hours, minutes=30)
        opening = datetime.combine(now.date(), site.opening, tzinfo=self.ctx.tz)
        closing = datetime.combine(now.date(), site.closing, tzinfo=self.ctx.tz)
        start = max(now, opening)
        if start >= closing:
            start, left = opening + timedelta(days=1), work
        else:
            left = work - (closing - start) if start + work > closing else timedelta(0)
            if left:
                start = opening + timedelta(days=1)
        local = start + (left or work)
        quarter = math.ceil((local.minute + local.second / 60) / 15) * 15
        return local.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=quarter)

    def _validate(self, req: CheckinRequest) -> None:
        if len(req.complaint) > MAX_COMPLAINT:
            raise Invalid("error.complaint_too_long", limit=MAX_COMPLAINT)
        if req.mileage_km is not None and not 0 <= req.mileage_km <= 2_000_000:
            raise Invalid("error.mileage_range")
        if req.fuel_eighths is not None and not 0 <= req.fuel_eighths <= 8:
            raise Invalid("error.fuel_range")
        if req.promised_at is not None:
            if req.promised_at.tzinfo is None:
                raise Invalid("error.promised_naive")
            if req.promised_at < self.ctx.now() - timedelta(minutes=1):
                raise Invalid("error.promised_past")
            if req.promised_at > self.ctx.now() + timedelta(days=MAX_PROMISE_DAYS):
                raise Invalid("error.promised_far", days=MAX_PROMISE_DAYS)
        for line in req.extra_lines:
            if not line.description.strip() or not (Decimal(str(MIN_LINE_HOURS)) <= line.hours
                                                    <= Decimal(str(MAX_LINE_HOURS))):
                raise Invalid("error.job_line_invalid")

    def check_in(self, req: CheckinRequest) -> CheckinResult:
        self._validate(req)
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            tag = _tag(s, req.tag)
            vehicle = tag.vehicle
            existing = _open_ro(s, vehicle.id)
            if existing is not None:
                return CheckinResult(views.repair_order_state(existing, self.ctx.tz).to_dict(), created=False)
            appt = self._todays_appointment(s, vehicle.id)
            arrived_from = None
            if appt is not None and appt.status in ARRIVABLE:
                arrived_from = appt.status
                appt.status, appt.arrived_at = "arrived", now
            if req.advisor_id is not None:
                self._check_advisor(s, req.advisor_id)
            advisor_id = req.advisor_id or (appt.advisor_id if appt else None) or self._first_advisor(s)
            if req.mileage_km is not None and req.mileage_km < (vehicle.mileage_km or 0):
                if not req.mileage_confirmed:
                    raise Refused("error.mileage_lower", km=req.mileage_km, last=vehicle.mileage_km)
                log.warning("%s: mileage %s below the last recorded %s, confirmed by %s", vehicle.plate,
                            req.mileage_km, vehicle.mileage_km, req.actor)
            if req.mileage_km is not None:
                vehicle.mileage_km = req.mileage_km
                # the date of the reading: the call lists project the mileage from it
                vehicle.mileage_at = self.ctx.today()
            lines = self._job_lines(s, req)
            if not lines and appt is not None:
                lines = self._booked_work(s, appt)
            total = float(sum((line.hours for line in lines), Decimal(0)))
            # repair work needs a skilled technician: the promise waits for one's queue
            skill = "repair" if any(line.skill == "repair" for line in lines) else "maintenance"
            ro = RepairOrder(
                site_id=self.ctx.site, number=self._next_number(s, now), vehicle_id=vehicle.id,
                appointment_id=appt.id if appt else None, advisor_id=advisor_id, status=RoStatus.CHECKED_IN.value,
                complaint=req.complaint.strip(), mileage_km=req.mileage_km, fuel_eighths=req.fuel_eighths,
                promised_at=req.promised_at or self._promise(s, total, skill), opened_at=now)
            for pos, line in enumerate(lines):
                line.position = pos
                ro.job_lines.append(line)
            s.add(ro)
            s.flush()
            s.add(RoEvent(repair_order_id=ro.id, at=now, actor=str(req.actor), kind="checked_in", from_status=None,
                          to_status=RoStatus.CHECKED_IN.value, technician_id=None, reason=None))
            # one row for the check-in; the appointment it served (and turned arrived, when no scan did) in it
            detail: dict[str, Any] = {"plate": vehicle.plate, "hours": total}
            if appt is not None:
                detail["appointment_id"] = appt.id
            if arrived_from is not None:
                detail["appointment_from"] = arrived_from
            record(s, self.ctx, req.actor, Entity.REPAIR_ORDER, ro.number, "checked_in",
                   to_value=RoStatus.CHECKED_IN.value, detail=detail)
            s.flush()
            s.refresh(ro)
            messages.order_checked_in(s, self.ctx, ro, req.actor)
            publish_repair_order(s, self.ctx, ro, {"kind": "checked_in", "to": ro.status, "actor": str(req.actor),
                                                   "at": views.iso(now, self.ctx.tz)})
            if appt is not None:
                publish_appointment(s, self.ctx, appt)
            log.info("checked in %s as %s (%s)", vehicle.plate, ro.number, req.actor)
            return CheckinResult(views.repair_order_state(ro, self.ctx.tz).to_dict(), created=True)

    def _check_advisor(self, s: Session, advisor_id: int) -> None:
        advisor = s.get(Advisor, advisor_id) if 0 < advisor_id < 2**31 else None
        if advisor is None or advisor.site_id != self.ctx.site or not advisor.active:
            raise NotFound("error.advisor_unknown", advisor=advisor_id)

    def _first_advisor(self, s: Session) -> int:
        advisor_id = s.scalar(select(Advisor.id).where(Advisor.site_id == self.ctx.site, Advisor.active)
                              .order_by(Advisor.code).limit(1))
        if advisor_id is None:
            raise NotFound("error.no_advisors")
        return advisor_id

    def _job_lines(self, s: Session, req: CheckinRequest) -> list[JobLine]:
        ops = {op.code: op for op in s.scalars(select(LabourOperation).where(
            LabourOperation.site_id == self.ctx.site, LabourOperation.code.in_(req.operation_codes)))}
        unknown = [c for c in req.operation_codes if c not in ops]
        if unknown:
            raise Invalid("error.operation_unknown", code=", ".join(unknown))
        lang = self.ctx.settings.site.language
        lines = [JobLine(operation_code=op.code, description=op.name(lang), hours=op.hours, skill=op.skill,
                         position=0)
                 for op in (ops[c] for c in req.operation_codes)]
        lines += [JobLine(operation_code=x.code, description=x.description.strip(), hours=hours(x.hours),
                          skill=x.skill, position=0) for x in req.extra_lines]
        return lines

    def _booked_work(self, s: Session, appt: Appointment) -> list[JobLine]:
        """No job lines given (an API check-in): every line booked with the appointment, with the hours and skill
        it was booked with; a line without a catalogue code (free text) is kept as it was written. An
        appointment from before lines were stored (or an import without them) gives its work as one line."""
        booked = booked_lines(appt.job_lines)
        ops = {op.code: op for op in s.scalars(select(LabourOperation).where(
            LabourOperation.site_id == self.ctx.site,
            LabourOperation.code.in_([b.code for b in booked if b.code])))}
        if booked:
            return [JobLine(operation_code=b.code if b.code in ops else None, description=b.description,
                            hours=b.hours, skill=b.skill, position=0) for b in booked]
        op = s.scalar(select(LabourOperation).where(
            LabourOperation.site_id == self.ctx.site,
            (LabourOperation.name_zh == appt.work) | (LabourOperation.name_en == appt.work)).limit(1))
        if op is not None:
            return [JobLine(operation_code=op.code, description=appt.work, hours=op.hours, skill=op.skill,
                            position=0)]
        return [JobLine(operation_code=None, description=appt.work, hours=appt.hours, skill="maintenance",
                        position=0)]

    def _next_number(self, s: Session, now: datetime) -> str:
        prefix = f"{self.ctx.settings.site.ro_prefix}{now.astimezone(self.ctx.tz):%Y%m%d}-"
        count = s.scalar(select(func.count()).select_from(RepairOrder).where(RepairOrder.number.like(f"{prefix}%")))
        return f"{prefix}{(count or 0) + 1:03d}"
