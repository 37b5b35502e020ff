"""The follow-up calls (domain.md §5): the 3-day call after a delivery, the 7-day call after a new car's sale, the
second call after a complaint; outcomes, retries when unreachable, a problem turned into a complaint or a booking.

A call is due on `due_on`. Satisfied (a score 1–10) or a problem (a class: a complaint is registered) makes it
done; unreachable moves it to the next day until [follow_up] max_attempts tries, then it is given up. Every try is
a FollowUpAttempt row (the 3DC reach rate counts them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import (
    ComplaintSource,
    FollowUpKind,
    FollowUpOutcome,
    FollowUpStatus,
    MessageTemplate,
    PaymentKind,
    ProblemClass,
    Severity,
)
from shopfloor.domain.aftersales_models import FollowUpAttempt, FollowUpCall, Payment
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import RepairOrder, Vehicle
from shopfloor.domain.workshop import LineStatus
from shopfloor.i18n import t
from shopfloor.services.aftercare.complaints import close_after_call, register_in
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext

MAX_NOTE = 2000
PROBLEM_HOURS = 1.0  # a problem booked from a call: an hour of diagnosis until the advisor knows better
RETURN_DAYS = 14  # how far ahead the first day with a free time for the return visit is looked for


def _delivered_day(ctx: ServiceContext, ro: RepairOrder) -> date:
    return (ro.closed_at or ctx.now()).astimezone(ctx.tz).date()


def schedule_after_delivery(s: Session, ctx: ServiceContext, ro: RepairOrder, actor: Actor | str) -> FollowUpCall:
    """The 3-day call of a delivered order, due [follow_up] after_service_days after its delivered site-day (in
    the caller's transaction). Delivered again after a reopen: the call not made yet moves to the new day; one
    already made stays as it was."""
    due = _delivered_day(ctx, ro) + timedelta(days=ctx.settings.follow_up.after_service_days)
    key = f"3dc:{ro.number}"
    call = s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == key))
    if call is None:
        call = FollowUpCall(site_id=ctx.site, kind=FollowUpKind.AFTER_SERVICE.value, dedup_key=key,
                            vehicle_id=ro.vehicle_id, repair_order_id=ro.id, due_on=due, first_due_on=due,
                            status=FollowUpStatus.DUE.value, attempts=0, created_at=ctx.now())
        s.add(call)
        s.flush()
        record(s, ctx, actor, Entity.FOLLOW_UP, call.id, "follow_up_scheduled", to_value=due.isoformat(),
               detail={"kind": call.kind, "repair_order": ro.number})
    elif call.status == FollowUpStatus.DUE.value and call.due_on != due:
        before = call.due_on
        call.due_on = call.first_due_on = due
        record(s, ctx, actor, Entity.FOLLOW_UP, call.id, "follow_up_rescheduled", from_value=before.isoformat(),
               to_value=due.isoformat(), detail={"repair_order": ro.number})
    return call


def cancel_for_order(s: Session, ctx: ServiceContext, ro: RepairOrder, actor: Actor | str) -> None:
    """A reopened delivery: its 3-day call not made yet is removed (with its tries, if any); a call already made
    is kept (the customer was called about that visit)."""
    call = s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == f"3dc:{ro.number}"))
    if call is None or call.status != FollowUpStatus.DUE.value:
        return
    record(s, ctx, actor, Entity.FOLLOW_UP, call.id, "follow_up_cancelled", from_value=call.due_on.isoformat(),
           detail={"repair_order": ro.number, "attempts": call.attempts})
    s.execute(delete(FollowUpAttempt).where(FollowUpAttempt.follow_up_id == call.id))
    s.delete(call)
    s.flush()


def _missing_new_car_vehicles(s: Session, ctx: ServiceContext, day: date) -> list[int]:
    try:
        sold = day - timedelta(days=ctx.settings.follow_up.new_car_days)
    except OverflowError:  # a day in the calendar's first week: no car was sold before it
        return []
    have = select(FollowUpCall.vehicle_id).where(FollowUpCall.site_id == ctx.site,
                                                 FollowUpCall.kind == FollowUpKind.NEW_CAR.value)
    return list(s.scalars(select(Vehicle.id).where(Vehicle.site_id == ctx.site, Vehicle.sold_on == sold,
                                                   Vehicle.id.not_in(have)).order_by(Vehicle.id)))


@dataclass(frozen=True)
class AttemptView:
    at: datetime
    by: str
    outcome: str
    note: str


@dataclass(frozen=True)
class FollowUpView:
    id: int
    kind: str
    status: str
    due_on: date
    first_due_on: date
    attempts: int
    max_attempts: int
    customer: str  # full name
    addressed: str  # 王先生: how the caller greets them
    phone: str
    plate: str
    model: str
    repair_order: str | None
    delivered_at: datetime | None
    advisor: str | None
    work: list[str]  # the job lines done
    amount_paid: Decimal  # payments less refunds
    sold_on: date | None  # a new car's sale (the 7-day call)
    complaint_id: int | None  # a complaint's second call
    raised_complaint_id: int | None
    appointment_id: int | None
    outcome: str | None
    score: int | None
    problem_class: str | None
    note: str
    called_by: str | None
    called_at: datetime | None
    tries: list[AttemptView]
    script: str  # the call script in the language asked, its fields filled


def _paid(s: Session, ro_id: int) -> Decimal:
    rows = s.execute(select(Payment.kind, func.coalesce(func.sum(Payment.amount), 0))
                     .where(Payment.repair_order_id == ro_id).group_by(Payment.kind))
    total = Decimal("0.00")
    for kind, amount in rows:
        total += Decimal(amount) if kind == PaymentKind.PAYMENT.value else -Decimal(amount)
    return total.quantize(Decimal("0.01"))


def _view(s: Session, ctx: ServiceContext, call: FollowUpCall, lang: str) -> FollowUpView:
    vehicle = s.get(Vehicle, call.vehicle_id)
    assert vehicle is not None
    customer = vehicle.customer
    ro = s.get(RepairOrder, call.repair_order_id) if call.repair_order_id is not None else None
    work = [line.description for line in ro.job_lines if line.status != LineStatus.CANCELLED.value] if ro else []
    fields = {"customer": customer.addressed, "site": ctx.settings.site.name, "plate": display_plate(vehicle.plate),
              "model": vehicle.model, "advisor": ro.advisor.name if ro else "",
              "date": (ro.closed_at.astimezone(ctx.tz).date().isoformat() if ro and ro.closed_at else
                       (vehicle.sold_on.isoformat() if vehicle.sold_on else "")),
              "work": "、".join(work) if lang.startswith("zh") else ", ".join(work)}
    return FollowUpView(
        id=call.id, kind=call.kind, status=call.status, due_on=call.due_on, first_due_on=call.first_due_on,
        attempts=call.attempts, max_attempts=ctx.settings.follow_up.max_attempts, customer=customer.full_name,
        addressed=customer.addressed, phone=customer.phone, plate=display_plate(vehicle.plate), model=vehicle.model,
        repair_order=ro.number if ro else None, delivered_at=ro.closed_at if ro else None,
        advisor=ro.advisor.name if ro else None, work=work, amount_paid=_paid(s, ro.id) if ro else Decimal("0.00"),
        sold_on=vehicle.sold_on, complaint_id=call.complaint_id, raised_complaint_id=call.raised_complaint_id,
        appointment_id=call.appointment_id, outcome=call.outcome, score=call.score, problem_class=call.problem_class,
        note=call.note, called_by=call.called_by, called_at=call.called_at,
        tries=[AttemptView(a.at, a.by, a.outcome, a.note) for a in call.attempts_made],
        script=t(lang, f"follow_up.script.{call.kind}", **fields))


class FollowUpService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _get(self, s: Session, call_id: int) -> FollowUpCall:
        call = s.get(FollowUpCall, call_id)
        if call is None or call.site_id != self.ctx.site:
            raise NotFound("follow_up.error.unknown", id=call_id)
        return call

    def _add_new_car_calls(self, day: date) -> None:
        """The 7-day calls of the day are made when its list is read: the cars sold new_car_days before it."""
        with self.ctx.db.read() as s:
            if not _missing_new_car_vehicles(s, self.ctx, day):
                return
        with self.ctx.db.write() as s:
            for vehicle_id in _missing_new_car_vehicles(s, self.ctx, day):
                call = FollowUpCall(site_id=self.ctx.site, kind=FollowUpKind.NEW_CAR.value,
                                    dedup_key=f"7dc:vehicle:{vehicle_id}", vehicle_id=vehicle_id, due_on=day,
                                    first_due_on=day, status=FollowUpStatus.DUE.value, attempts=0,
                                    created_at=self.ctx.now())
                s.add(call)
                s.flush()
                record(s, self.ctx, "system", Entity.FOLLOW_UP, call.id, "follow_up_scheduled",
                       to_value=day.isoformat(), detail={"kind": call.kind, "vehicle": vehicle_id})

    def due(self, day: date, *, lang: str | None = None, include_done: bool = False) -> list[FollowUpView]:
        """The calls due on `day` (site day), the 7-day calls of new cars among them; `include_done`: also the
        calls of that day already made or given up (the desk shows what it did)."""
        self.ctx.day_bounds(day)  # a day at the calendar's ends is refused as input
        self._add_new_car_calls(day)
        lang = lang or self.ctx.settings.site.language
        with self.ctx.db.read() as s:
            q = select(FollowUpCall).where(FollowUpCall.site_id == self.ctx.site, FollowUpCall.due_on == day)
            if not include_done:
                q = q.where(FollowUpCall.status == FollowUpStatus.DUE.value)
            return [_view(s, self.ctx, c, lang) for c in s.scalars(q.order_by(FollowUpCall.id))]

    def get(self, call_id: int, lang: str | None = None) -> FollowUpView:
        with self.ctx.db.read() as s:
            return _view(s, self.ctx, self._get(s, call_id), lang or self.ctx.settings.site.language)

    def script(self, call_id: int, lang: str) -> str:
        return self.get(call_id, lang).script

    def record(self, call_id: int, outcome: str, *, actor: Actor | str, score: int | None = None,
               problem_class: str | None = None, note: str = "", severity: str = Severity.NORMAL.value,
               important_because: str | None = None, lang: str | None = None) -> FollowUpView:
        """The call's outcome. Satisfied needs a score 1–10 and queues the thank-you; a problem needs its class and
        registers a complaint (its words: the note); unreachable tries again the next day. A call made refuses a
        second outcome."""
        try:
            result = FollowUpOutcome(outcome)
        except ValueError:
            raise Invalid("follow_up.error.outcome", value=str(outcome)[:20]) from None
        note = (note or "").strip()
        if len(note) > MAX_NOTE:
            raise Invalid("follow_up.error.note_long", most=MAX_NOTE)
        if result is FollowUpOutcome.SATISFIED:
            if score is None or isinstance(score, bool) or not 1 <= score <= 10:
                raise Invalid("follow_up.error.score")
        elif score is not None:
            raise Invalid("follow_up.error.score_not_satisfied")
        cls: ProblemClass | None = None
        if result is FollowUpOutcome.PROBLEM:
            try:
                cls = ProblemClass(str(problem_class))
            except ValueError:
                raise Invalid("follow_up.error.class") from None
        elif problem_class:
            raise Invalid("follow_up.error.class_not_problem")
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            call = self._get(s, call_id)
            if call.status != FollowUpStatus.DUE.value:
                raise Refused("follow_up.error.done", status=call.status)
            call.attempts += 1
            s.add(FollowUpAttempt(follow_up_id=call.id, at=now, by=str(actor)[:80], outcome=result.value, note=note))
            call.outcome, call.called_by, call.called_at = result.value, str(actor)[:80], now
            if note:
                call.note = note
            before = call.status
            if result is FollowUpOutcome.UNREACHABLE:
                if call.attempts >= self.ctx.settings.follow_up.max_attempts:
                    call.status = FollowUpStatus.GAVE_UP.value
                else:
                    call.due_on = self.ctx.today() + timedelta(days=1)
            else:
                call.status = FollowUpStatus.DONE.value
            detail: dict[str, Any] = {"attempt": call.attempts, "kind": call.kind}
            if result is FollowUpOutcome.SATISFIED:
                call.score = score
                detail["score"] = score
                self._thank(s, call, actor)
            if cls is not None:
                call.problem_class = cls.value
                ro = s.get(RepairOrder, call.repair_order_id) if call.repair_order_id is not None else None
                complaint = register_in(
                    s, self.ctx, actor=actor, problem_class=cls.value, severity=severity,
                    text=note or t(self.ctx.settings.site.language, f"follow_up.class_text.{cls.value}"),
                    source=ComplaintSource.CALL.value, repair_order=ro, vehicle=s.get(Vehicle, call.vehicle_id),
                    important_because=important_because, follow_up_id=call.id)
                call.raised_complaint_id = complaint.id
                detail["complaint"] = complaint.id
            record(s, self.ctx, actor, Entity.FOLLOW_UP, call.id, "follow_up_called", from_value=before,
                   to_value=result.value, reason=note or None, detail=detail)
            if call.status != FollowUpStatus.DUE.value:
                close_after_call(s, self.ctx, call, actor=actor)
            s.flush()
            s.refresh(call)
            return _view(s, self.ctx, call, lang or self.ctx.settings.site.language)

    def _thank(self, s: Session, call: FollowUpCall, actor: Actor | str) -> None:
        from shopfloor.services.customer_messages.enqueue import queue_message

        vehicle = s.get(Vehicle, call.vehicle_id)
        assert vehicle is not None
        ro = s.get(RepairOrder, call.repair_order_id) if call.repair_order_id is not None else None
        queue_message(s, self.ctx, template=MessageTemplate.THANK_YOU, customer=vehicle.customer,
                      dedup_key=f"thank_you:{call.id}", actor=actor, repair_order=ro,
                      fields={"plate": display_plate(vehicle.plate),
                              "advisor": ro.advisor.name if ro is not None else ""})

    def _to_book(self, call_id: int) -> tuple[str, int]:
        """The problem's words (the appointment's concern) and the car of a problem call not booked yet."""
        with self.ctx.db.read() as s:
            call = self._get(s, call_id)
            if call.outcome != FollowUpOutcome.PROBLEM.value:
                raise Refused("follow_up.error.not_problem")
            if call.appointment_id is not None:
                raise Refused("follow_up.error.booked", appointment=call.appointment_id)
            concern = call.note or t(self.ctx.settings.site.language,
                                     f"follow_up.class_text.{call.problem_class or 'other'}")
            return concern[:200], call.vehicle_id

    def return_slots(self, call_id: int, day: date) -> list[dict[str, Any]]:
        """The free times on `day` for the return visit of a problem call (as the booking proposes them, best
        first): the hour of diagnosis book() books."""
        from shopfloor.domain.capacity import REPAIR
        from shopfloor.services.booking import BookingService, WorkLine

        concern, _ = self._to_book(call_id)
        return BookingService(self.ctx).propose_slots(day, [WorkLine(concern, PROBLEM_HOURS, REPAIR)])

    def first_free_day(self, call_id: int, first: date | None = None,
                       days: int = RETURN_DAYS) -> tuple[date, list[dict[str, Any]]] | None:
        """The first day from `first` (today by default) with a free time for the return visit, and its times;
        None when the next `days` days are all full (or closed). A full today is the usual case: the desk must
        not have to step through the days one by one to find out."""
        day = max(first or self.ctx.today(), self.ctx.today())
        for _ in range(days):
            slots = self.return_slots(call_id, day)
            if slots:
                return day, slots
            day += timedelta(days=1)
        return None

    def book(self, call_id: int, start: datetime, *, actor: Actor | str, advisor_id: int | None = None,
             hours: float = PROBLEM_HOURS, override_reason: str | None = None) -> int:
        """A problem found on the call booked in one step: an appointment for the call's car whose concern is the
        problem's note, linked on the call. The booking's own rules apply (BookingRefused unless overridden)."""
        from shopfloor.domain.capacity import REPAIR
        from shopfloor.services.booking import BookingRequest, BookingService, WorkLine

        concern, vehicle_id = self._to_book(call_id)
        booked = BookingService(self.ctx).book(BookingRequest(
            start=start, lines=[WorkLine(description=concern, hours=hours, skill=REPAIR)], actor=actor,
            vehicle_id=vehicle_id, advisor_id=advisor_id, work=concern, override_reason=override_reason,
            source="active", notes=t(self.ctx.settings.site.language, "follow_up.booked_note", id=call_id)))
        appointment_id = int(booked["id"])
        with self.ctx.db.write() as s:
            call = self._get(s, call_id)
            other = call.appointment_id
            if other is None:
                call.appointment_id = appointment_id
                record(s, self.ctx, actor, Entity.FOLLOW_UP, call.id, "follow_up_booked", to_value=appointment_id)
        if other is not None:  # a colleague booked the same call meanwhile (the list offers it): one visit, not two
            BookingService(self.ctx).cancel(appointment_id, actor=actor, reason=t(
                self.ctx.settings.site.language, "follow_up.booked_twice", id=call_id, appointment=other))
            raise Refused("follow_up.error.booked", appointment=other)
        return appointment_id
