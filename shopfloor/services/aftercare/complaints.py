"""Complaints (domain.md §5): registered, owned, acknowledged and investigated by their deadlines, resolved and
called back; an important one escalates at once to the service manager's screens.

The life of a complaint: open → acknowledged → investigated → resolved (the second follow-up call is due) → closed
(that call made, or given up). A complaint without a vehicle has nobody to call back: resolving it closes it.
Every change is audited and its state goes to the bus (no personal data) in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.contract import topics
from shopfloor.contract.entity_states import ComplaintEvent, ComplaintState
from shopfloor.contract.staff import StaffRole
from shopfloor.domain.aftersales import (
    ComplaintSource,
    ComplaintStatus,
    FollowUpKind,
    FollowUpStatus,
    ImportantReason,
    ProblemClass,
    Severity,
)
from shopfloor.domain.aftersales_models import Complaint, FollowUpCall
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import display_plate, mask_plate
from shopfloor.domain.models import Advisor, Customer, RepairOrder, Vehicle
from shopfloor.domain.versions import next_version
from shopfloor.services import outbox
from shopfloor.services.aftercare.complaining import flag_opened, unflag_closed
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext

MAX_TEXT = 2000


@dataclass(frozen=True)
class ComplaintView:
    id: int
    status: str
    severity: str
    important_because: str | None
    problem_class: str
    source: str
    text: str
    repair_order: str | None
    plate: str | None  # as on the plate (staff screens only)
    customer: str | None  # full name (staff screens only)
    phone: str | None
    owner_id: int | None
    owner: str | None
    opened_at: datetime
    opened_by: str
    acknowledge_by: datetime
    acknowledged_at: datetime | None
    investigate_by: datetime
    investigated_at: datetime | None
    findings: str
    resolution: str
    resolved_at: datetime | None
    closed_at: datetime | None
    second_call_id: int | None  # the follow-up call after the resolution
    raised_by_call_id: int | None  # the follow-up call that found it
    overdue: bool  # a deadline passed and not met (at the moment the view was read)
    next_deadline: datetime | None  # the deadline still to meet: what the desk counts down to


def next_deadline(c: Complaint) -> datetime | None:
    """The acknowledgement deadline until acknowledged, then the investigation's until investigated."""
    if c.acknowledged_at is None and c.status == ComplaintStatus.OPEN.value:
        return c.acknowledge_by
    if c.investigated_at is None and c.status in (ComplaintStatus.OPEN.value, ComplaintStatus.ACKNOWLEDGED.value):
        return c.investigate_by
    return None


def is_overdue(c: Complaint, now: datetime) -> bool:
    """Now past a deadline not yet met (either: an unacknowledged one may be past both)."""
    deadline = next_deadline(c)
    return deadline is not None and now > deadline


E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], value: object, key: str) -> E:
    try:
        return kind(str(value))
    except ValueError:
        raise Invalid(key, value=str(value)[:40]) from None


def _first_manager(s: Session, ctx: ServiceContext) -> Advisor | None:
    staff = s.scalars(select(Advisor).where(Advisor.site_id == ctx.site, Advisor.active.is_(True))
                      .order_by(Advisor.id))
    return next((a for a in staff if StaffRole.MANAGER in a.role_set), None)


def _state(s: Session, ctx: ServiceContext, c: Complaint) -> ComplaintState:
    tz = ctx.tz
    ro = s.get(RepairOrder, c.repair_order_id) if c.repair_order_id is not None else None
    vehicle = s.get(Vehicle, c.vehicle_id) if c.vehicle_id is not None else None
    owner = s.get(Advisor, c.owner_id) if c.owner_id is not None else None

    def at(moment: datetime | None) -> str | None:
        return moment.astimezone(tz).isoformat(timespec="seconds") if moment is not None else None

    return ComplaintState.model_validate({
        "schema": 1, "version": c.version, "site": ctx.site, "id": c.id, "status": c.status,
        "severity": c.severity, "important_because": c.important_because, "class": c.problem_class,
        "source": c.source, "ro_number": ro.number if ro is not None else None,
        "plate_masked": mask_plate(vehicle.plate) if vehicle is not None else None,
        "owner": owner.name if owner is not None else None, "opened_at": at(c.opened_at),
        "acknowledge_by": at(c.acknowledge_by), "acknowledged_at": at(c.acknowledged_at),
        "investigate_by": at(c.investigate_by), "investigated_at": at(c.investigated_at),
        "resolved_at": at(c.resolved_at), "closed_at": at(c.closed_at)})


def complaint_state(s: Session, ctx: ServiceContext, c: Complaint) -> ComplaintState:
    """The complaint as the bus carries it (the republish after a reconnect reads it too)."""
    return _state(s, ctx, c)


def publish_complaint(s: Session, ctx: ServiceContext, c: Complaint, *, opened: bool = False) -> None:
    """A new version of the complaint's state on the outbox; `opened` and important: the escalation event too. A
    closed complaint leaves the bus (an empty retained payload): the screens follow the ones still open."""
    c.version = next_version(c.version)
    s.flush()
    now = ctx.now()
    state = _state(s, ctx, c)
    closed = c.status == ComplaintStatus.CLOSED.value
    outbox.put_state(s, now, ctx.site, topics.COMPLAINTS, c.id, None if closed else state)
    if opened and c.severity == Severity.IMPORTANT.value:
        outbox.put_event(s, now, ctx.site, topics.COMPLAINTS, c.id, ComplaintEvent.model_validate({
            "version": c.version, "id": c.id, "kind": "important_opened", "severity": c.severity,
            "important_because": c.important_because, "class": c.problem_class, "ro_number": state.ro_number,
            "plate_masked": state.plate_masked, "acknowledge_by": state.acknowledge_by,
            "at": now.astimezone(ctx.tz).isoformat(timespec="seconds")}))


def deadline_hours(ctx: ServiceContext, severity: Severity) -> tuple[float, float]:
    """Hours to acknowledge and to investigate from the opening: an important complaint has its own, shorter."""
    rules = ctx.settings.follow_up
    if severity is Severity.IMPORTANT:
        return rules.important_acknowledge_hours, rules.important_investigate_hours
    return rules.acknowledge_hours, rules.investigate_hours


def register_in(s: Session, ctx: ServiceContext, *, actor: Actor | str, problem_class: str, severity: str,
                text: str, source: str, repair_order: RepairOrder | None = None, vehicle: Vehicle | None = None,
                important_because: str | None = None, follow_up_id: int | None = None) -> Complaint:
    """Register a complaint in the caller's transaction (a follow-up call's problem registers it with the call's
    outcome). An important complaint without a reason is allowed (the caller may not know yet which); a reason
    on a normal one is refused: it would say important where the severity says not."""
    cls = _choice(ProblemClass, problem_class, "complaints.error.class")
    sev = _choice(Severity, severity, "complaints.error.severity")
    src = _choice(ComplaintSource, source, "complaints.error.source")
    because = None
    if important_because is not None and important_because != "":
        because = _choice(ImportantReason, important_because, "complaints.error.important_because")
        if sev is not Severity.IMPORTANT:
            raise Invalid("complaints.error.because_not_important")
    words = (text or "").strip()
    if not words:
        raise Invalid("complaints.error.text_empty")
    if len(words) > MAX_TEXT:
        raise Invalid("complaints.error.text_long", most=MAX_TEXT)
    if repair_order is not None:
        vehicle = repair_order.vehicle
    customer: Customer | None = vehicle.customer if vehicle is not None else None
    now = ctx.now()
    acknowledge, investigate = deadline_hours(ctx, sev)
    owner = _first_manager(s, ctx) if sev is Severity.IMPORTANT else None
    c = Complaint(site_id=ctx.site, repair_order_id=repair_order.id if repair_order is not None else None,
                  vehicle_id=vehicle.id if vehicle is not None else None,
                  customer_id=customer.id if customer is not None else None, source=src.value,
                  problem_class=cls.value, severity=sev.value, important_because=because.value if because else None,
                  description=words, status=ComplaintStatus.OPEN.value, owner_id=owner.id if owner else None,
                  opened_at=now, opened_by=str(actor)[:80],
                  acknowledge_by=now + timedelta(hours=acknowledge),
                  investigate_by=now + timedelta(hours=investigate), version=0)
    s.add(c)
    s.flush()
    record(s, ctx, actor, Entity.COMPLAINT, c.id, "complaint_registered", to_value=sev.value,
           detail={"class": cls.value, "source": src.value, "important_because": c.important_because,
                   "repair_order": repair_order.number if repair_order is not None else None,
                   "follow_up": follow_up_id, "owner": owner.name if owner else None})
    if repair_order is not None:
        record(s, ctx, actor, Entity.REPAIR_ORDER, repair_order.number, "complaint_registered", to_value=sev.value,
               detail={"complaint": c.id, "class": cls.value})
    flag_opened(s, ctx, c, actor=actor)
    publish_complaint(s, ctx, c, opened=True)
    return c


def view_of(s: Session, ctx: ServiceContext, c: Complaint) -> ComplaintView:
    ro = s.get(RepairOrder, c.repair_order_id) if c.repair_order_id is not None else None
    vehicle = s.get(Vehicle, c.vehicle_id) if c.vehicle_id is not None else None
    customer = s.get(Customer, c.customer_id) if c.customer_id is not None else None
    owner = s.get(Advisor, c.owner_id) if c.owner_id is not None else None
    second = s.scalar(select(FollowUpCall.id).where(FollowUpCall.complaint_id == c.id).limit(1))
    raised = s.scalar(select(FollowUpCall.id).where(FollowUpCall.raised_complaint_id == c.id).limit(1))
    return ComplaintView(
        id=c.id, status=c.status, severity=c.severity, important_because=c.important_because,
        problem_class=c.problem_class, source=c.source, text=c.description,
        repair_order=ro.number if ro is not None else None,
        plate=display_plate(vehicle.plate) if vehicle is not None else None,
        customer=customer.full_name if customer is not None else None,
        phone=customer.phone if customer is not None else None, owner_id=c.owner_id,
        owner=owner.name if owner is not None else None, opened_at=c.opened_at, opened_by=c.opened_by,
        acknowledge_by=c.acknowledge_by, acknowledged_at=c.acknowledged_at, investigate_by=c.investigate_by,
        investigated_at=c.investigated_at, findings=c.findings, resolution=c.resolution, resolved_at=c.resolved_at,
        closed_at=c.closed_at, second_call_id=second, raised_by_call_id=raised, overdue=is_overdue(c, ctx.now()),
        next_deadline=next_deadline(c))


def close_after_call(s: Session, ctx: ServiceContext, call: FollowUpCall, *, actor: Actor | str) -> None:
    """A complaint's second call made (or given up): the complaint is closed."""
    if call.complaint_id is None:
        return
    c = s.get(Complaint, call.complaint_id)
    if c is None or c.status != ComplaintStatus.RESOLVED.value:
        return
    c.status, c.closed_at = ComplaintStatus.CLOSED.value, ctx.now()
    record(s, ctx, actor, Entity.COMPLAINT, c.id, "complaint_closed", from_value=ComplaintStatus.RESOLVED.value,
           to_value=ComplaintStatus.CLOSED.value, detail={"follow_up": call.id, "call": call.status})
    unflag_closed(s, ctx, c, actor=actor)
    publish_complaint(s, ctx, c)


def _text(value: str, empty_key: str) -> str:
    words = (value or "").strip()
    if not words:
        raise Invalid(empty_key)
    if len(words) > MAX_TEXT:
        raise Invalid("complaints.error.text_long", most=MAX_TEXT)
    return words


class ComplaintService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _get(self, s: Session, complaint_id: int) -> Complaint:
        c = s.get(Complaint, complaint_id)
        if c is None or c.site_id != self.ctx.site:
            raise NotFound("complaints.error.unknown", id=complaint_id)
        return c

    def _order(self, s: Session, number: str) -> RepairOrder:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.site_id == self.ctx.site, RepairOrder.number == number))
        if ro is None:
            raise NotFound("error.ro_unknown", number=number[:40])
        return ro

    def register(self, *, actor: Actor | str, problem_class: str, severity: str, text: str,
                 repair_order: str | None = None, source: str = ComplaintSource.DESK.value,
                 important_because: str | None = None, follow_up_id: int | None = None) -> ComplaintView:
        """Register a complaint (on an order: its vehicle and customer with it); the deadlines run from now."""
        with self.ctx.db.write() as s:
            ro = self._order(s, repair_order) if repair_order else None
            vehicle = None
            if follow_up_id is not None:
                call = s.get(FollowUpCall, follow_up_id)
                if call is None or call.site_id != self.ctx.site:
                    raise NotFound("follow_up.error.unknown", id=follow_up_id)
                vehicle = s.get(Vehicle, call.vehicle_id)
            c = register_in(s, self.ctx, actor=actor, problem_class=problem_class, severity=severity, text=text,
                            source=source, repair_order=ro, vehicle=vehicle, important_because=important_because,
                            follow_up_id=follow_up_id)
            return view_of(s, self.ctx, c)

    def get(self, complaint_id: int) -> ComplaintView:
        with self.ctx.db.read() as s:
            return view_of(s, self.ctx, self._get(s, complaint_id))

    def by_status(self, status: str | None = None) -> list[ComplaintView]:
        """The complaints in one status (all when None), important first, the oldest first."""
        with self.ctx.db.read() as s:
            q = select(Complaint).where(Complaint.site_id == self.ctx.site)
            if status:
                q = q.where(Complaint.status == _choice(ComplaintStatus, status, "complaints.error.status").value)
            rows = s.scalars(q.order_by(Complaint.opened_at, Complaint.id)).all()
            rows = sorted(rows, key=lambda c: c.severity != Severity.IMPORTANT.value)
            return [view_of(s, self.ctx, c) for c in rows]

    def open_list(self) -> list[ComplaintView]:
        """Every complaint not closed yet: what the desk and the manager work through."""
        return [c for c in self.by_status() if c.status != ComplaintStatus.CLOSED.value]

    def open_states(self, s: Session) -> list[ComplaintState]:
        """The state of every complaint not closed (the republish after a reconnect)."""
        rows = s.scalars(select(Complaint).where(Complaint.site_id == self.ctx.site,
                                                 Complaint.status != ComplaintStatus.CLOSED.value))
        return [_state(s, self.ctx, c) for c in rows]

    def assign(self, complaint_id: int, owner_id: int, *, actor: Actor | str) -> ComplaintView:
        with self.ctx.db.write() as s:
            c = self._get(s, complaint_id)
            if c.status == ComplaintStatus.CLOSED.value:
                raise Refused("complaints.error.closed")
            owner = s.get(Advisor, owner_id)
            if owner is None or owner.site_id != self.ctx.site or not owner.active:
                raise Invalid("complaints.error.owner_unknown", id=owner_id)
            before = s.get(Advisor, c.owner_id) if c.owner_id is not None else None
            if c.owner_id != owner.id:
                c.owner_id = owner.id
                record(s, self.ctx, actor, Entity.COMPLAINT, c.id, "complaint_assigned",
                       from_value=before.name if before else None, to_value=owner.name)
                publish_complaint(s, self.ctx, c)
            return view_of(s, self.ctx, c)

    def _step(self, s: Session, c: Complaint, want: ComplaintStatus) -> None:
        if c.status != want.value:
            raise Refused("complaints.error.wrong_step", status=c.status)

    def acknowledge(self, complaint_id: int, *, actor: Actor | str) -> ComplaintView:
        """The customer told their complaint is being handled. Nobody owning it yet: the one acknowledging it
        does (when a staff member)."""
        with self.ctx.db.write() as s:
            c = self._get(s, complaint_id)
            self._step(s, c, ComplaintStatus.OPEN)
            c.status, c.acknowledged_at = ComplaintStatus.ACKNOWLEDGED.value, self.ctx.now()
            if c.owner_id is None and isinstance(actor, Actor) and actor.staff_id is not None:
                c.owner_id = actor.staff_id
            record(s, self.ctx, actor, Entity.COMPLAINT, c.id, "complaint_acknowledged",
                   from_value=ComplaintStatus.OPEN.value, to_value=ComplaintStatus.ACKNOWLEDGED.value,
                   detail={"late": c.acknowledged_at > c.acknowledge_by})
            publish_complaint(s, self.ctx, c)
            return view_of(s, self.ctx, c)

    def investigate(self, complaint_id: int, findings: str, *, actor: Actor | str) -> ComplaintView:
        with self.ctx.db.write() as s:
            c = self._get(s, complaint_id)
            self._step(s, c, ComplaintStatus.ACKNOWLEDGED)
            c.findings = _text(findings, "complaints.error.findings_empty")
            c.status, c.investigated_at = ComplaintStatus.INVESTIGATED.value, self.ctx.now()
            record(s, self.ctx, actor, Entity.COMPLAINT, c.id, "complaint_investigated",
                   from_value=ComplaintStatus.ACKNOWLEDGED.value, to_value=ComplaintStatus.INVESTIGATED.value,
                   reason=c.findings, detail={"late": c.investigated_at > c.investigate_by})
            publish_complaint(s, self.ctx, c)
            return view_of(s, self.ctx, c)

    def resolve(self, complaint_id: int, resolution: str, *, actor: Actor | str) -> ComplaintView:
        """The resolution agreed: the second follow-up call is due [follow_up] second_call_days after today. A
        complaint about no vehicle has nobody to call back and is closed at once. Nobody owning it is refused: the
        owner answers for the resolution (a complaint from the customer's page comes in unowned)."""
        with self.ctx.db.write() as s:
            c = self._get(s, complaint_id)
            self._step(s, c, ComplaintStatus.INVESTIGATED)
            if c.owner_id is None:
                raise Refused("complaints.error.no_owner")
            c.resolution = _text(resolution, "complaints.error.resolution_empty")
            now = self.ctx.now()
            c.status, c.resolved_at = ComplaintStatus.RESOLVED.value, now
            record(s, self.ctx, actor, Entity.COMPLAINT, c.id, "complaint_resolved",
                   from_value=ComplaintStatus.INVESTIGATED.value, to_value=ComplaintStatus.RESOLVED.value,
                   reason=c.resolution)
            if c.vehicle_id is None:
                c.status, c.closed_at = ComplaintStatus.CLOSED.value, now
                record(s, self.ctx, actor, Entity.COMPLAINT, c.id, "complaint_closed",
                       from_value=ComplaintStatus.RESOLVED.value, to_value=ComplaintStatus.CLOSED.value,
                       detail={"follow_up": None})
                unflag_closed(s, self.ctx, c, actor=actor)
            else:
                due = now.astimezone(self.ctx.tz).date() + timedelta(days=self.ctx.settings.follow_up.second_call_days)
                _second_call(s, self.ctx, c, due, actor=actor)
            publish_complaint(s, self.ctx, c)
            return view_of(s, self.ctx, c)

    def workmanship(self, first: date, last: date) -> list[ComplaintView]:
        """Workmanship complaints on orders, opened first..last (site days): they count as comebacks and are
        listed beside the rework register."""
        start, _ = self.ctx.day_bounds(first)
        _, end = self.ctx.day_bounds(last)
        with self.ctx.db.read() as s:
            rows = s.scalars(select(Complaint).where(
                Complaint.site_id == self.ctx.site, Complaint.problem_class == ProblemClass.WORKMANSHIP.value,
                Complaint.repair_order_id.is_not(None), Complaint.opened_at >= start, Complaint.opened_at < end)
                .order_by(Complaint.opened_at.desc()))
            return [view_of(s, self.ctx, c) for c in rows]


def _second_call(s: Session, ctx: ServiceContext, c: Complaint, due: date, *, actor: Actor | str) -> FollowUpCall:
    assert c.vehicle_id is not None
    key = f"complaint:{c.id}"
    call = s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == key))
    if call is None:
        call = FollowUpCall(site_id=ctx.site, kind=FollowUpKind.COMPLAINT.value, dedup_key=key,
                            vehicle_id=c.vehicle_id, repair_order_id=c.repair_order_id, complaint_id=c.id,
                            due_on=due, first_due_on=due, status=FollowUpStatus.DUE.value, attempts=0,
                            created_at=ctx.now())
        s.add(call)
        s.flush()
        record(s, ctx, actor, Entity.FOLLOW_UP, call.id, "follow_up_scheduled", to_value=due.isoformat(),
               detail={"kind": call.kind, "complaint": c.id})
    return call
