"""/complaints in NiceGUI's simulated browser: customer service (孙丽) registers a complaint at the desk by the car's
plate (its last order found), gives it an owner, acknowledges it, writes the findings and resolves it, the countdowns
shown meanwhile (hours and minutes in words, an unowned one in red); an advisor registers and sees the list but has
no handling buttons; an important complaint registered elsewhere shows on the manager's open page at once (the bus's
state in the board store), and goes when acknowledged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.contract import topics
from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.escalations import SHOWN
from shopfloor.kiosk.follow_up.common import left
from shopfloor.main import Shopfloor
from shopfloor.services import outbox
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

ZH = Translator("zh-CN")


def _order(system: Shopfloor) -> tuple[str, str]:
    """A new order: (number, plate)."""
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    number = str(system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["OIL"]))
                 .repair_order["number"])
    return number, str(system.repair_orders.get(number)["plate"])


def relay_complaints(system: Shopfloor) -> None:
    """What the board feed hands the store: the complaints' retained states waiting in the outbox (no broker in
    the simulated browser's server)."""
    with system.db.read() as s:
        rows = outbox.pending(s, 10_000)
    for _id, topic, payload, retain in rows:
        if retain and f"/{topics.COMPLAINTS}/" in topic:
            system.board_store.apply(topic, payload)


def _set(user: User, marker: str, value: object) -> None:
    element = next(iter(user.find(marker=marker).elements))
    assert isinstance(element, ui.toggle | ui.select | ui.textarea | ui.input)
    element.value = value


async def gone(user: User, marker: str) -> bool:
    return not await sees(user, marker=marker)


async def test_customer_service_registers_at_the_desk_and_works_the_complaint_through(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number, plate = _order(system)
    await sign_in(user, staff_member(system, "孙丽"))
    await user.open("/complaints")
    await until(lambda: sees(user, marker="complaints-list"), timeout=20)
    user.find(marker="complaint-new").click()
    await until(lambda: sees(user, marker="complaint-dialog"), timeout=20)
    _set(user, "complaint-order", plate)
    _set(user, "complaint-class", "workmanship")
    _set(user, "complaint-text-field", "保养后机油灯还亮")
    user.find(marker="complaint-save").click()

    async def registered() -> bool:
        return any(c.repair_order == number for c in system.aftercare.complaints.open_list())
    await until(registered, timeout=20)
    complaint = next(c for c in system.aftercare.complaints.open_list() if c.repair_order == number)
    assert complaint.source == "desk" and complaint.severity == "normal" and complaint.opened_by == "孙丽"
    await until(lambda: sees(user, marker=f"complaint-{complaint.id}"), timeout=20)
    await user.should_see(marker=f"comeback-{complaint.id}")
    await user.should_see(marker=f"acknowledge-left-{complaint.id}")
    await user.should_see(marker=f"investigate-left-{complaint.id}")
    # hours and minutes in words ("23:59" reads as a time of day); nobody owns it yet: in red
    await user.should_see(ZH("complaints.page.left", time=ZH("complaints.page.hours_minutes", hours=24, minutes=0)))
    await user.should_see(marker="unowned")

    # an owner, then acknowledged (the countdown to it goes), the findings, the resolution
    manager = staff_member(system, "赵经理")
    _set(user, f"assign-{complaint.id}", manager.id)
    await until(lambda: _owner_is(system, complaint.id, "赵经理"), timeout=20)
    await until(lambda: sees(user, marker=f"acknowledge-{complaint.id}"), timeout=20)
    user.find(marker=f"acknowledge-{complaint.id}").click()
    await until(lambda: _status_is(system, complaint.id, "acknowledged"), timeout=20)
    await until(lambda: gone(user, f"acknowledge-left-{complaint.id}"), timeout=20)
    await until(lambda: sees(user, marker=f"findings-open-{complaint.id}"), timeout=20)
    user.find(marker=f"findings-open-{complaint.id}").click()
    await until(lambda: sees(user, marker="findings-text"), timeout=20)
    user.find(marker="findings-save").click()  # nothing written: refused, the dialog stays
    await until(lambda: _told(user, ZH("complaints.error.findings_empty")), timeout=20)
    _set(user, "findings-text", "机油滤清器未拧紧")
    user.find(marker="findings-save").click()
    await until(lambda: _status_is(system, complaint.id, "investigated"), timeout=20)
    await until(lambda: gone(user, "findings-dialog"), timeout=20)
    await until(lambda: sees(user, marker=f"resolve-open-{complaint.id}"), timeout=20)
    user.find(marker=f"resolve-open-{complaint.id}").click()
    await until(lambda: sees(user, marker="resolution-text"), timeout=20)
    _set(user, "resolution-text", "免费返工并赠送一次洗车")
    user.find(marker="resolution-save").click()
    await until(lambda: _status_is(system, complaint.id, "resolved"), timeout=20)
    assert system.aftercare.complaints.get(complaint.id).second_call_id is not None


async def test_an_advisor_registers_and_sees_but_does_not_handle(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number, _plate = _order(system)
    mine = system.aftercare.complaints.register(actor="孙丽", problem_class="price", severity="normal",
                                                text="结算比估价贵", repair_order=number)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open("/complaints")
    await until(lambda: sees(user, marker=f"complaint-{mine.id}"), timeout=20)
    await user.should_see(marker="register-only")
    await user.should_see(marker="complaint-new")
    await user.should_not_see(marker="acknowledge")
    await user.should_not_see(marker="assign")
    await user.should_not_see(marker="escalations")  # an advisor's pages carry no escalation

    # closed ones are searchable (a complaint about no car is closed when resolved: nobody to call back)
    service = system.aftercare.complaints
    closed = service.register(actor="孙丽", problem_class="facilities", severity="normal", text="洗手间没有热水")
    service.acknowledge(closed.id, actor="孙丽")
    service.investigate(closed.id, "热水器坏了", actor="孙丽")
    service.assign(closed.id, staff_member(system, "孙丽").id, actor="孙丽")
    assert service.resolve(closed.id, "已修好", actor="孙丽").status == "closed"
    _set(user, "complaints-view", "closed")
    await until(lambda: sees(user, marker=f"complaint-{closed.id}"), timeout=20)
    _set(user, "complaints-search", "热水")
    await until(lambda: sees(user, marker=f"complaint-{closed.id}"), timeout=20)
    await user.should_not_see(marker=f"complaint-{mine.id}")
    _set(user, "complaints-search", "没有这样的投诉")
    await until(lambda: sees(user, content=ZH("complaints.page.empty_closed")), timeout=20)


async def test_an_important_complaint_shows_on_the_managers_open_page_at_once(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number, _plate = _order(system)
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/manager/figures")
    await until(lambda: sees(user, marker="escalations"), timeout=20)
    await user.should_not_see(marker="escalation")

    # registered at another desk: its state reaches the board store as the feed would hand it over
    important = system.aftercare.complaints.register(
        actor="孙丽", problem_class="workmanship", severity="important", important_because="safety",
        text="刹车异响，客户担心安全", repair_order=number)
    relay_complaints(system)
    await until(lambda: sees(user, marker=f"escalation-{important.id}"), timeout=20)
    await user.should_see(ZH("complaints.page.reason.safety"))
    await user.should_see(number)
    assert user.notify.contains(ZH("complaints.page.escalation", number=important.id))

    # a normal one does not escalate; acknowledged, the important one's banner goes
    system.aftercare.complaints.register(actor="孙丽", problem_class="price", severity="normal", text="太贵",
                                         repair_order=number)
    system.aftercare.complaints.acknowledge(important.id, actor="赵经理")
    relay_complaints(system)
    await until(lambda: gone(user, f"escalation-{important.id}"), timeout=20)
    await user.should_not_see(marker="escalation")

    # at most three banners, then how many more; the banner leads to the complaints desk
    for _ in range(SHOWN + 1):
        system.aftercare.complaints.register(actor="孙丽", problem_class="attitude", severity="important",
                                             important_because="media", text="要找媒体曝光", repair_order=number)
    relay_complaints(system)
    await until(lambda: sees(user, marker="escalation-more"), timeout=20)
    await user.should_see(ZH("complaints.page.escalation_more", count=1))
    assert len(user.find(marker="escalation").elements) == SHOWN
    await until(lambda: sees(user, marker="escalation-go"), timeout=20)
    user.find(marker="escalation-go").click()
    await until(lambda: sees(user, marker="complaints-list"), timeout=20)


async def _owner_is(system: Shopfloor, complaint_id: int, name: str) -> bool:
    return system.aftercare.complaints.get(complaint_id).owner == name


async def _status_is(system: Shopfloor, complaint_id: int, status: str) -> bool:
    return system.aftercare.complaints.get(complaint_id).status == status


async def _told(user: User, text: str) -> bool:
    return bool(user.notify.contains(text))


def test_the_time_left_reads_as_hours_and_minutes_in_both_languages() -> None:
    now = datetime(2026, 12, 4, 16, 8, tzinfo=UTC)
    assert left(ZH, now + timedelta(hours=23, minutes=59, seconds=30), now) == ("剩余 23 小时 59 分", False)
    assert left(ZH, now - timedelta(hours=2, minutes=5), now) == ("已超时 2 小时 5 分", True)
    assert left(ZH, now + timedelta(minutes=45), now) == ("剩余 45 分", False)
    en = Translator("en")
    assert left(en, now + timedelta(hours=23, minutes=59), now) == ("23 h 59 min left", False)
    assert left(en, now - timedelta(minutes=7), now) == ("7 min overdue", True)
