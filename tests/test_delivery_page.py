"""/delivery in NiceGUI's simulated browser: the advisor (张伟) finds a ready car on the list, ticks the completion
check, tells the customer (and is told so), is refused "deliver" while unpaid (in words: to the cashier) and while
an item of the walk is not done (named in words), delivers after the cashier took the money with the next service
shown; the manager (赵经理) finds the car among those delivered lately and reopens it with a reason, the advisor
sees no reopen. On /kiosk the order's "deliver" opens the desk: no delivery in one tap."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.domain.models import PrintJob, RepairOrder
from shopfloor.domain.workshop import ticket_url
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.settlement.delivery import WALK
from shopfloor.testing.delivery import settle
from shopfloor.testing.settlement import ready_bill
from shopfloor.testing.simulated_browser import scan, sees, sign_in, staff_member, until

ZH = Translator("zh-CN")


def element(user: User, marker: str) -> ui.element:
    return next(iter(user.find(marker=marker).elements))


def tick(user: User, marker: str) -> None:
    box = element(user, marker)
    assert isinstance(box, ui.checkbox | ui.switch)
    box.value = True


async def test_completion_check_notify_refused_unpaid_then_delivered(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = ready_bill(system.ctx, system.checkin, "OIL")
    delivery = system.settlement.delivery
    await sign_in(user, staff_member(system, "张伟"))
    await user.open("/delivery")
    await until(lambda: sees(user, marker="delivery-desk"), timeout=20)
    await until(lambda: sees(user, marker=f"delivery-{number}"), timeout=20)
    assert await sees(user, content=ZH("delivery.page.unpaid"))
    user.find(marker=f"delivery-{number}").click()
    await until(lambda: sees(user, marker="item-lines_done"), timeout=20)
    assert element(user, "item-final_inspection").enabled is False  # the system's, locked
    tick(user, "item-covers_removed")
    tick(user, "item-order_checked")
    user.find(marker="save-check").click()

    async def checked() -> bool:
        return delivery.completion(number).passed
    await until(checked, timeout=20)

    async def may_notify() -> bool:
        return bool(element(user, "notify").enabled)
    await until(may_notify, timeout=20)
    said_before = len(user.notify.messages)
    user.find(marker="notify").click()

    async def told() -> bool:
        return delivery.completion(number).customer_notified_at is not None
    await until(told, timeout=20)

    async def says_told() -> bool:
        return any(m.startswith("已通知客户") for m in user.notify.messages[said_before:])
    await until(says_told, timeout=20)  # the customer was told, in words (not "saved")
    assert ZH("delivery.page.saved") not in user.notify.messages[said_before:]

    async def redrawn() -> bool:  # the order drawn again as told: the walk ticked after it is the one kept
        return str(getattr(element(user, "notified-state"), "text", "")).startswith("已通知客户")
    await until(redrawn, timeout=20)
    await until(lambda: sees(user, marker="next-service"), timeout=20)
    for key in WALK:
        tick(user, f"walk-{key}")
    user.find(marker="deliver").click()
    await until(lambda: sees(user, content=ZH("delivery.page.refused_unpaid")),
                timeout=20)
    assert delivery.completion(number).status == "ready"

    settle(system.ctx, number)  # the cashier took the money
    element(user, "walk-see_off").value = False
    user.find(marker="deliver").click()

    async def named() -> bool:
        return user.notify.contains("交车项目尚未完成：送别客户")  # named, not see_off
    await until(named, timeout=20)
    assert delivery.completion(number).status == "ready"
    tick(user, "walk-see_off")
    user.find(marker="deliver").click()
    await until(lambda: sees(user, marker="delivered-state"), timeout=20)
    with system.ctx.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None and ro.status == "delivered" and ro.delivered_by == "张伟"
        assert s.scalar(select(PrintJob).where(PrintJob.repair_order_id == ro.id,
                                               PrintJob.kind == "delivery_sheet")) is not None
    assert not await sees(user, marker="reopen")  # an advisor may not reopen


async def test_the_manager_reopens_a_delivery_with_a_reason(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = ready_bill(system.ctx, system.checkin, "OIL")
    settle(system.ctx, number)
    system.settlement.delivery.deliver(number, {key: True for key in WALK}, actor="张伟")
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/delivery")  # not on the list to deliver: among those delivered lately
    await until(lambda: sees(user, marker=f"delivered-{number}"), timeout=20)
    assert not await sees(user, marker=f"delivery-{number}")
    user.find(marker=f"delivered-{number}").click()
    await until(lambda: sees(user, marker="reopen"), timeout=20)
    user.find(marker="reopen").click()
    await until(lambda: sees(user, marker="reopen-reason"), timeout=20)
    user.find(marker="reopen-reason").type("交错车了")
    user.find(marker="reopen-confirm").click()

    async def reopened() -> bool:
        return system.settlement.delivery.completion(number).status == "ready"
    await until(reopened, timeout=20)


async def test_the_kiosks_deliver_opens_the_delivery_desk(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = ready_bill(system.ctx, system.checkin, "OIL")
    settle(system.ctx, number)  # paid and inspected: the one tap used to deliver it
    await sign_in(user, staff_member(system, "张伟"))
    await user.open("/kiosk")
    scan(user, ticket_url("http://shopfloor.local:8080", number))
    await until(lambda: sees(user, marker="move-delivered"), timeout=20)
    assert await sees(user, content=ZH("delivery.kiosk.open_desk"))
    user.find(marker="move-delivered").click()
    await until(lambda: sees(user, marker="walk-walk_car"), timeout=20)  # the desk, the order open, to walk
    assert system.settlement.delivery.completion(number).status == "ready"

