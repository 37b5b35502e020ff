"""The customer's "not happy? tell us" on /c/<token> in NiceGUI's simulated browser: offered only after the plate
proof, refused without a class or words (what was typed kept), registered on their order as a complaint from the
customer's page with the customer as the actor, answered with the deadlines in words; limited per link."""

from __future__ import annotations

from datetime import datetime, timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.customer.complaint import PER_CLIENT, PER_LINK, ComplaintLimit
from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.simulated_browser import sees, until

ZH = Translator("zh-CN")


def _order(system: Shopfloor) -> tuple[str, str, str]:
    """A new order: (number, the customer's token, plate)."""
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    number = str(system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["OIL"]))
                 .repair_order["number"])
    with system.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None and ro.customer_token
        return number, ro.customer_token, ro.vehicle.plate


def _set(user: User, marker: str, value: object) -> None:
    element = next(iter(user.find(marker=marker).elements))
    assert isinstance(element, ui.radio | ui.textarea | ui.input)
    element.value = value


async def _proved(user: User, token: str, plate: str) -> None:
    await user.open(f"/c/{token}")
    await until(lambda: sees(user, marker="cp-tail"), timeout=20)
    await user.should_not_see(marker="cp-complain-open")  # nothing to complain through before the proof
    _set(user, "cp-tail", plate[-4:])
    user.find(marker="cp-prove").click()
    await until(lambda: sees(user, marker="cp-complain-open"), timeout=20)


async def test_the_customer_tells_us_after_the_proof_and_hears_when_we_call(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number, token, plate = _order(system)
    await _proved(user, token, plate)
    user.find(marker="cp-complain-open").click()
    await until(lambda: sees(user, marker="cp-complain"), timeout=20)
    _set(user, "cp-complain-text", "等了很久没人理")
    user.find(marker="cp-complain-send").click()
    await until(lambda: sees(user, content=ZH("complaints.page.customer.pick_class")), timeout=20)
    _set(user, "cp-complain-class", "attitude")
    user.find(marker="cp-complain-send").click()
    await until(lambda: sees(user, marker="cp-complain-thanks"), timeout=20)
    mine = [c for c in system.aftercare.complaints.open_list() if c.repair_order == number]
    assert len(mine) == 1
    complaint = mine[0]
    assert (complaint.source, complaint.problem_class, complaint.severity) == ("customer_page", "attitude", "normal")
    assert complaint.text == "等了很久没人理"
    assert complaint.opened_by == system.reception.customer_page.open(token).customer_masked  # 王先生, no staff
    rules = system.settings.follow_up
    thanks = next(iter(user.find(marker="cp-complain-thanks").elements))
    assert isinstance(thanks, ui.label)
    assert thanks.text == ZH("complaints.page.customer.thanks", number=complaint.id,
                             acknowledge=ZH("complaints.page.customer.hours", count=f"{rules.acknowledge_hours:g}"),
                             investigate=ZH("complaints.page.customer.hours", count=f"{rules.investigate_hours:g}"))
    assert "24 小时" in thanks.text and "48 小时" in thanks.text


async def test_a_link_sends_a_few_complaints_and_is_then_told_to_call(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number, token, plate = _order(system)
    for n in range(PER_LINK + 1):
        await _proved(user, token, plate) if n == 0 else await user.open(f"/c/{token}")
        await until(lambda: sees(user, marker="cp-complain-open"), timeout=20)
        user.find(marker="cp-complain-open").click()
        await until(lambda: sees(user, marker="cp-complain"), timeout=20)
        _set(user, "cp-complain-class", "price")
        _set(user, "cp-complain-text", f"第 {n + 1} 次")
        user.find(marker="cp-complain-send").click()
        if n < PER_LINK:
            await until(lambda: sees(user, marker="cp-complain-thanks"), timeout=20)
    await until(lambda: sees(user, content=ZH("complaints.page.customer.too_many")), timeout=20)
    assert len([c for c in system.aftercare.complaints.open_list() if c.repair_order == number]) == PER_LINK


def test_the_limit_counts_per_link_and_per_client_and_forgets_after_a_day() -> None:
    limit = ComplaintLimit()
    now = datetime(2026, 11, 24, 10, 0)
    for n in range(PER_CLIENT):
        assert limit.allowed(f"token-{n}", "10.0.0.9", now)
        limit.count(f"token-{n}", "10.0.0.9", now)
    assert not limit.allowed("token-new", "10.0.0.9", now)  # one phone, many links
    assert limit.allowed("token-new", "10.0.0.10", now)
    assert limit.allowed("token-new", "10.0.0.9", now + timedelta(hours=24, seconds=1))
