"""Follow-up calls on SQLite and PostgreSQL: the 3-day call is scheduled at delivery on the delivered site-day +
[follow_up] after_service_days (once; moved by a redelivery, removed by a reopen), the 7-day calls of new cars appear
in the day's list, and the outcomes: satisfied (score 1–10, the thank-you queued), a problem (its class: a complaint
registered and linked), unreachable (tried the next day until max_attempts, then given up); a call made refuses a
second outcome; a problem is booked in one step. Everything audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shopfloor.domain.aftersales_models import Complaint, CustomerMessage, FollowUpAttempt, FollowUpCall
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.models import Appointment, AuditEntry, RepairOrder, Vehicle
from shopfloor.services.aftercare.follow_ups import FollowUpService, cancel_for_order, schedule_after_delivery
from shopfloor.services.settlement.delivery import DeliveryService
from shopfloor.services.settlement.settlement import SettlementService
from shopfloor.testing.delivery import delivered
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES


def _call(svc: Services, key: str) -> FollowUpCall:
    with svc.db.read() as s:
        call = s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == key))
        assert call is not None
        return call


def _audited(svc: Services, action: str) -> list[AuditEntry]:
    with svc.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_delivery_schedules_the_3dc_on_the_delivered_day_plus_after_service_days(services: Services) -> None:
    svc = services
    number = delivered(svc)
    call = _call(svc, f"3dc:{number}")
    days = svc.ctx.settings.follow_up.after_service_days
    assert (call.kind, call.status, call.attempts) == ("3dc", "due", 0)
    assert call.due_on == call.first_due_on == svc.ctx.today() + timedelta(days=days)
    follow = FollowUpService(svc.ctx)
    assert follow.due(svc.ctx.today()) == [] or all(v.repair_order != number for v in follow.due(svc.ctx.today()))
    [view] = [v for v in follow.due(call.due_on) if v.repair_order == number]
    # what the caller needs on the call
    with svc.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        customer, plate, advisor = ro.vehicle.customer, ro.vehicle.plate, ro.advisor.name
        lines = [line.description for line in ro.job_lines]
    assert view.customer == customer.full_name and view.phone == customer.phone
    assert view.plate.replace("·", "") == plate and view.advisor == advisor and view.work == lines
    assert view.delivered_at is not None and view.amount_paid == SettlementService(svc.ctx).summary(number).paid
    assert view.attempts == 0 and view.max_attempts == svc.ctx.settings.follow_up.max_attempts
    assert customer.addressed in view.script and advisor in view.script and lines[0] in view.script
    assert "{" not in view.script
    assert customer.addressed in follow.script(view.id, "en") and "Hello" in follow.script(view.id, "en")
    # scheduling again (a second route through the delivery) is the same call
    with svc.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        assert schedule_after_delivery(s, svc.ctx, ro, "system").id == call.id
    assert [a.entity_id for a in _audited(svc, "follow_up_scheduled")].count(str(call.id)) == 1


def test_the_day_counts_in_the_site_timezone_and_a_reopen_removes_the_call(services: Services) -> None:
    svc = services
    number = delivered(svc)
    with svc.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        # delivered at 23:30 site time: 15:30 UTC is still the site's day
        local = datetime.combine(date(2026, 12, 1), datetime.min.time(), tzinfo=svc.ctx.tz) + timedelta(hours=23.5)
        ro.closed_at = local
        call = schedule_after_delivery(s, svc.ctx, ro, "张伟")
        assert call.due_on == date(2026, 12, 1) + timedelta(days=svc.ctx.settings.follow_up.after_service_days)
        cancel_for_order(s, svc.ctx, ro, "赵经理")
    with svc.db.read() as s:
        assert s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == f"3dc:{number}")) is None
    [cancelled] = _audited(svc, "follow_up_cancelled")
    assert cancelled.actor == "赵经理" and number in (cancelled.detail or "")
    assert len(_audited(svc, "follow_up_rescheduled")) == 1


def test_a_call_made_is_kept_by_a_reopen(services: Services) -> None:
    svc = services
    number = delivered(svc)
    call = _call(svc, f"3dc:{number}")
    FollowUpService(svc.ctx).record(call.id, "satisfied", score=9, actor="孙丽")
    with svc.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        cancel_for_order(s, svc.ctx, ro, "赵经理")
    assert _call(svc, f"3dc:{number}").status == "done"


def test_new_cars_sold_new_car_days_before_are_called_on_the_day(services: Services) -> None:
    svc = services
    day = svc.ctx.today() + timedelta(days=1)
    sold = day - timedelta(days=svc.ctx.settings.follow_up.new_car_days)
    with svc.db.write() as s:
        vehicles = list(s.scalars(select(Vehicle).order_by(Vehicle.id).limit(3)))
        vehicles[0].sold_on = sold
        vehicles[1].sold_on = sold
        vehicles[2].sold_on = sold - timedelta(days=1)
        others = list(s.scalars(select(Vehicle).where(Vehicle.sold_on == sold, Vehicle.id.not_in(
            [v.id for v in vehicles]))))
        ids = sorted([vehicles[0].id, vehicles[1].id, *(v.id for v in others)])
    follow = FollowUpService(svc.ctx)
    new_cars = [v for v in follow.due(day) if v.kind == "7dc"]
    assert sorted(f"7dc:vehicle:{i}" for i in ids) == sorted(_call(svc, f"7dc:vehicle:{i}").dedup_key for i in ids)
    assert len(new_cars) == len(ids) and all(v.sold_on == sold and v.repair_order is None for v in new_cars)
    assert all(v.plate and v.customer and "{" not in v.script for v in new_cars)
    # read again: the same calls, not new ones
    assert len([v for v in follow.due(day) if v.kind == "7dc"]) == len(ids)
    with svc.db.read() as s:
        assert s.scalar(select(func.count()).select_from(FollowUpCall).where(FollowUpCall.kind == "7dc")) == len(ids)


def test_satisfied_needs_a_score_and_queues_the_thank_you(services: Services) -> None:
    svc = services
    number = delivered(svc)
    call = _call(svc, f"3dc:{number}")
    follow = FollowUpService(svc.ctx)
    for bad in (None, 0, 11):
        with pytest.raises(Invalid):
            follow.record(call.id, "satisfied", score=bad, actor="孙丽")
    with pytest.raises(Invalid):
        follow.record(call.id, "satisfied", score=8, problem_class="price", actor="孙丽")
    with pytest.raises(Invalid):
        follow.record(call.id, "delighted", actor="孙丽")
    view = follow.record(call.id, "satisfied", score=9, note="很满意", actor="孙丽")
    assert (view.status, view.outcome, view.score, view.attempts, view.called_by) == ("done", "satisfied", 9, 1, "孙丽")
    with svc.db.read() as s:
        message = s.scalar(select(CustomerMessage).where(CustomerMessage.dedup_key == f"thank_you:{call.id}"))
        assert message is not None and message.template == "thank_you"
        assert s.scalar(select(func.count()).select_from(FollowUpAttempt)
                        .where(FollowUpAttempt.follow_up_id == call.id)) == 1
    with pytest.raises(Refused):
        follow.record(call.id, "unreachable", actor="孙丽")
    [entry] = _audited(svc, "follow_up_called")
    assert (entry.actor, entry.to_value, entry.entity) == ("孙丽", "satisfied", "follow_up")
    assert entry.entity_id == str(call.id)


def test_a_problem_registers_a_linked_complaint_and_books_in_one_step(services: Services) -> None:
    svc = services
    number = delivered(svc)
    call = _call(svc, f"3dc:{number}")
    follow = FollowUpService(svc.ctx)
    with pytest.raises(Invalid):
        follow.record(call.id, "problem", note="刹车异响", actor="孙丽")  # no class
    with pytest.raises(Refused):
        follow.book(call.id, svc.ctx.now() + timedelta(days=1), actor="孙丽")  # not a problem yet
    view = follow.record(call.id, "problem", problem_class="workmanship", note="刹车有异响", actor="孙丽")
    assert (view.status, view.outcome, view.problem_class) == ("done", "problem", "workmanship")
    assert view.raised_complaint_id is not None
    with svc.db.read() as s:
        complaint = s.get(Complaint, view.raised_complaint_id)
        assert complaint is not None
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        assert (complaint.source, complaint.problem_class, complaint.severity, complaint.description) == (
            "call", "workmanship", "normal", "刹车有异响")
        assert complaint.repair_order_id == ro.id and complaint.vehicle_id == ro.vehicle_id
    # booked in one step: an appointment for the car with the problem as its concern
    start = datetime.combine(svc.ctx.today() + timedelta(days=2), datetime.min.time(),
                             tzinfo=svc.ctx.tz) + timedelta(hours=10)
    appointment_id = follow.book(call.id, start, actor="孙丽", override_reason="test: any slot")
    with svc.db.read() as s:
        appt = s.get(Appointment, appointment_id)
        assert appt is not None and appt.vehicle_id == call.vehicle_id and "刹车有异响" in appt.work
    assert follow.get(call.id).appointment_id == appointment_id
    with pytest.raises(Refused):
        follow.book(call.id, start + timedelta(hours=2), actor="孙丽", override_reason="test")
    assert [e.to_value for e in _audited(svc, "follow_up_booked")] == [str(appointment_id)]


def test_unreachable_is_tried_the_next_day_until_it_is_given_up(services: Services) -> None:
    svc = services
    number = delivered(svc)
    call = _call(svc, f"3dc:{number}")
    follow = FollowUpService(svc.ctx)
    most = svc.ctx.settings.follow_up.max_attempts
    svc.clock.advance(days=(call.due_on - svc.ctx.today()).days)
    for attempt in range(1, most):
        view = follow.record(call.id, "unreachable", actor="孙丽")
        assert (view.status, view.attempts, view.due_on) == ("due", attempt, svc.ctx.today() + timedelta(days=1))
        assert view.first_due_on == call.first_due_on
        svc.clock.advance(days=1)
        assert [v.id for v in follow.due(svc.ctx.today()) if v.id == call.id] == [call.id]
    view = follow.record(call.id, "unreachable", note="关机", actor="孙丽")
    assert (view.status, view.attempts) == ("gave_up", most)
    assert len(view.tries) == most and view.tries[-1].note == "关机"
    assert call.id not in [v.id for v in follow.due(svc.ctx.today())]
    assert call.id in [v.id for v in follow.due(svc.ctx.today(), include_done=True)]
    with pytest.raises(Refused):
        follow.record(call.id, "satisfied", score=5, actor="孙丽")


def test_amount_paid_is_payments_less_refunds(services: Services) -> None:
    svc = services
    number = delivered(svc)
    bills = SettlementService(svc.ctx)
    paid = bills.summary(number)
    assert paid.payments and paid.paid > Decimal("10.00")
    bills.refund(number, paid.payments[0].id, Decimal("10.00"), "goodwill", actor="收银员")
    call = _call(svc, f"3dc:{number}")
    assert FollowUpService(svc.ctx).get(call.id).amount_paid == paid.paid - Decimal("10.00")


def test_the_managers_reopen_removes_the_call_and_the_next_delivery_schedules_it_again(services: Services) -> None:
    svc = services
    number = delivered(svc)
    delivery = DeliveryService(svc.ctx, SettlementService(svc.ctx), svc.printing)
    delivery.reopen(number, "交错车了", actor="赵经理")
    with svc.db.read() as s:
        assert s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == f"3dc:{number}")) is None
    svc.clock.advance(days=1)
    svc.repair_orders.transition(number, "delivered", actor="张伟")
    call = _call(svc, f"3dc:{number}")
    assert call.status == "due"
    assert call.due_on == svc.ctx.today() + timedelta(days=svc.ctx.settings.follow_up.after_service_days)
    assert [e.actor for e in _audited(svc, "follow_up_cancelled")] == ["赵经理"]


def test_a_day_at_the_calendars_ends_is_an_empty_list_or_refused(services: Services) -> None:
    follow = FollowUpService(services.ctx)
    assert follow.due(date(1, 1, 3)) == []  # no car sold a week before it, no 500
    with pytest.raises(Invalid):
        follow.due(date.max)


def test_a_full_day_offers_the_first_day_with_a_free_time_and_the_caller_registers(services: Services) -> None:
    svc = services
    number = delivered(svc)
    call = _call(svc, f"3dc:{number}")
    follow = FollowUpService(svc.ctx)
    with pytest.raises(Refused):
        follow.first_free_day(call.id)  # not a problem: nothing to book
    view = follow.record(call.id, "problem", problem_class="workmanship", note="机油灯亮", actor="孙丽")
    # the complaint is the caller's: registered by them, audited as them
    with svc.db.read() as s:
        complaint = s.get(Complaint, view.raised_complaint_id)
        assert complaint is not None and complaint.opened_by == "孙丽"
    [registered] = [e for e in _audited(svc, "complaint_registered") if e.entity == "complaint"]
    assert registered.actor == "孙丽"
    # late in the evening today has no time left: the first free day is a later one, with its times
    today = svc.ctx.today()
    svc.clock.set(datetime.combine(today, datetime.min.time(), tzinfo=svc.ctx.tz) + timedelta(hours=23))
    assert follow.return_slots(call.id, today) == []
    found = follow.first_free_day(call.id)
    assert found is not None
    day, slots = found
    assert day > today and slots and all(date.fromisoformat(x["start"][:10]) == day for x in slots)
    assert all(follow.return_slots(call.id, today + timedelta(days=n)) == [] for n in range((day - today).days))
    assert follow.first_free_day(call.id, days=1) is None  # today only: full
    # booked from those times; then nothing more to book
    follow.book(call.id, datetime.fromisoformat(slots[0]["start"]), actor="孙丽", advisor_id=slots[0]["advisor"]["id"])
    with pytest.raises(Refused):
        follow.first_free_day(call.id)
