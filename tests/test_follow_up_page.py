"""/follow-up in NiceGUI's simulated browser: customer service (孙丽) sees the day's 3-day calls with whom to call and
what was done, reads the script, records a satisfied customer's score, an unreachable one (tried again tomorrow),
and a problem that becomes a complaint and, in the same dialog, an appointment (on the first day with a free time when
today is full, or later from the call list); an overdue call is marked."""

from __future__ import annotations

from datetime import timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.domain.aftersales_models import FollowUpCall
from shopfloor.domain.models import Appointment, QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.aftercare.follow_ups import schedule_after_delivery
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

ZH = Translator("zh-CN")


def _calls_due_today(system: Shopfloor, count: int, *, overdue: int = 0) -> list[int]:
    """`count` orders checked in and given their 3-day call due today (the first `overdue` of them left over from
    yesterday, as an unreachable call is)."""
    today = system.ctx.today()
    ids = []
    for n in range(count):
        with system.db.read() as s:
            busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
            tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id)
                           .limit(1))
        assert tag is not None
        number = str(system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["OIL"]))
                     .repair_order["number"])
        with system.db.write() as s:
            ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
            assert ro is not None
            call = schedule_after_delivery(s, system.ctx, ro, "test")
            call.due_on = today  # as if delivered three days ago
            call.first_due_on = today - timedelta(days=1) if n < overdue else today
            s.flush()
            ids.append(call.id)
    return ids


def _call(system: Shopfloor, call_id: int) -> FollowUpCall:
    with system.db.read() as s:
        call = s.get(FollowUpCall, call_id)
        assert call is not None
        s.expunge(call)
        return call


async def told(user: User, text: str) -> bool:
    """Whether the page said `text` in a notification."""
    return bool(user.notify.contains(text))


async def gone(user: User, marker: str) -> bool:
    return not await sees(user, marker=marker)


def _set(user: User, marker: str, value: object) -> None:
    element = next(iter(user.find(marker=marker).elements))
    assert isinstance(element, ui.toggle | ui.select | ui.textarea | ui.input)
    element.value = value


async def test_customer_service_records_a_score_an_unreachable_customer_and_a_problem_booked_in(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    satisfied, unreachable, problem = _calls_due_today(system, 3, overdue=1)
    await sign_in(user, staff_member(system, "孙丽"))
    await user.open("/follow-up")
    await until(lambda: sees(user, marker="follow-up-list"), timeout=20)
    await until(lambda: sees(user, marker=f"follow-up-{satisfied}"), timeout=20)
    await user.should_see(marker=f"follow-up-{problem}")
    await user.should_see(marker="overdue")  # the call left from yesterday
    await user.should_see(ZH("follow_up.page.attempts", done=0, most=3))

    # satisfied: the script, then one tap on the score
    user.find(marker=f"follow-up-open-{satisfied}").click()
    await until(lambda: sees(user, marker="call-script"), timeout=20)
    await user.should_see(ZH("follow_up.page.satisfied_title"))
    user.find(marker="score-9").click()

    async def scored() -> bool:
        call = _call(system, satisfied)
        return call.status == "done" and call.score == 9 and call.called_by == "孙丽"
    await until(scored, timeout=20)
    await until(lambda: gone(user, "call-panel"), timeout=20)

    # unreachable: tried again tomorrow, the tries left said on the button
    await until(lambda: sees(user, marker=f"follow-up-open-{unreachable}"), timeout=20)
    user.find(marker=f"follow-up-open-{unreachable}").click()
    await until(lambda: sees(user, marker="unreachable"), timeout=20)
    await user.should_see(ZH("follow_up.page.unreachable", left=2))
    user.find(marker="unreachable").click()

    async def retried() -> bool:
        call = _call(system, unreachable)
        return call.attempts == 1 and call.due_on == system.ctx.today() + timedelta(days=1)
    await until(retried, timeout=20)
    await until(lambda: gone(user, "call-panel"), timeout=20)

    # a problem: refused without a class (nothing lost), then a complaint and the booking in the same dialog
    await until(lambda: sees(user, marker=f"follow-up-open-{problem}"), timeout=20)
    user.find(marker=f"follow-up-open-{problem}").click()
    await until(lambda: sees(user, marker="problem-register"), timeout=20)
    _set(user, "problem-note", "换机油后发动机有异响")
    user.find(marker="problem-register").click()
    await until(lambda: told(user, ZH("follow_up.page.pick_class")), timeout=20)
    assert _call(system, problem).status == "due"
    _set(user, "problem-class", "workmanship")
    user.find(marker="problem-register").click()
    await until(lambda: sees(user, marker="complaint-made"), timeout=20)
    call = _call(system, problem)
    assert call.outcome == "problem" and call.raised_complaint_id is not None
    complaint = system.aftercare.complaints.get(call.raised_complaint_id)
    assert complaint.problem_class == "workmanship" and complaint.source == "call"
    assert complaint.text == "换机油后发动机有异响"

    await until(lambda: sees(user, marker="slot"), timeout=20)  # today's free times, proposed at once
    user.find(marker="slot").click()  # the first (the best) time
    await until(lambda: sees(user, marker="booked-done"), timeout=20)
    booked = _call(system, problem).appointment_id
    assert booked is not None
    with system.db.read() as s:
        appt = s.get(Appointment, booked)
        assert appt is not None and appt.vehicle_id == call.vehicle_id and appt.source == "active"


async def test_the_list_has_its_filters_and_an_empty_day_says_so(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    _calls_due_today(system, 1)
    await sign_in(user, staff_member(system, "孙丽"))
    tomorrow = system.ctx.today() + timedelta(days=30)
    await user.open(f"/follow-up?day={tomorrow.isoformat()}")
    await until(lambda: sees(user, content=ZH("follow_up.page.empty")), timeout=20)
    await user.open("/follow-up")
    await until(lambda: sees(user, marker="follow-up-call"), timeout=20)
    _set(user, "follow-up-filter", "7dc")
    await until(lambda: sees(user, content=ZH("follow_up.page.empty")), timeout=20)
    _set(user, "follow-up-filter", "3dc")
    await until(lambda: sees(user, marker="follow-up-call"), timeout=20)


async def test_a_full_today_offers_a_later_day_and_the_call_list_books_the_return_visit(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    [problem] = _calls_due_today(system, 1)
    clock = system.ctx.clock
    clock.set(clock.now().astimezone(system.ctx.tz).replace(hour=23, minute=0))  # nothing left today
    await sign_in(user, staff_member(system, "孙丽"))
    await user.open("/follow-up")
    await until(lambda: sees(user, marker=f"follow-up-open-{problem}"), timeout=20)
    user.find(marker=f"follow-up-open-{problem}").click()
    await until(lambda: sees(user, marker="problem-register"), timeout=20)
    _set(user, "problem-class", "workmanship")
    _set(user, "problem-note", "换完机油第二天机油灯亮")
    user.find(marker="problem-register").click()
    await until(lambda: sees(user, marker="complaint-made"), timeout=20)
    # the first day with a free time is offered with its times, not a full today
    await until(lambda: sees(user, marker="book-first"), timeout=20)
    await until(lambda: sees(user, marker="slot"), timeout=20)
    await user.should_not_see(ZH("calls.no_slots", day=""))
    # closed without booking: the done call keeps the way back to booking
    user.find(marker="panel-close").click()
    await until(lambda: gone(user, "call-panel"), timeout=20)
    await until(lambda: sees(user, marker=f"book-return-{problem}"), timeout=20)
    user.find(marker=f"book-return-{problem}").click()
    await until(lambda: sees(user, marker="book-panel"), timeout=20)
    await user.should_see("换完机油第二天机油灯亮")
    await until(lambda: sees(user, marker="slot"), timeout=20)
    user.find(marker="slot").click()
    await until(lambda: sees(user, marker="booked-done"), timeout=20)
    booked = _call(system, problem).appointment_id
    assert booked is not None
    with system.db.read() as s:
        appt = s.get(Appointment, booked)
        assert appt is not None and appt.start.astimezone(system.ctx.tz).date() > system.ctx.today()
        assert appt.complaining_customer  # the customer is flagged by the complaint: the booking carries it
