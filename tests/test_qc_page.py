"""/workshop/qc in NiceGUI's simulated browser: the foreman fails an order's check (a rework row with the reason,
the technician responsible and the line sent back), the technician redoes it, the foreman passes it; the final
inspection passes only with every item of the delivery-readiness list ticked, and a failure names the items."""

from __future__ import annotations

import logging

import pytest
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.domain.models import JobLine, QrTag, RepairOrder, Technician
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.workshop.inspection import FINAL_CHECKLIST
from shopfloor.testing.simulated_browser import sign_in, staff_member, until

ZH = Translator("zh-CN")


def _order_at_the_foreman(system: Shopfloor, tech_name: str = "周杰") -> tuple[str, Technician]:
    """A new order, worked and self-checked by `tech_name`: waiting for the foreman's check."""
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
        tech = s.scalar(select(Technician).where(Technician.name == tech_name))
    assert tag is not None and tech is not None
    number = str(system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["OIL"]))
                 .repair_order["number"])
    work = system.workshop
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    _work_it(system, tech, number)
    work.quality.record(number, "self", True, actor=tech.name)
    return number, tech


def _work_it(system: Shopfloor, tech: Technician, number: str) -> None:
    clocking, _ = system.workshop.clocking.clock_on(tech.badge, number, actor=tech.name)
    system.workshop.clocking.stop(clocking.id, "finished", actor=tech.name)


async def test_the_foreman_fails_a_check_into_the_rework_register_then_passes_it(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number, tech = _order_at_the_foreman(system)
    await sign_in(user, staff_member(system, "郑强"))
    await user.open("/workshop/qc")
    await user.should_see(marker="qc-desk")
    user.find(marker=f"qc-order-{number}").trigger("click")
    await user.should_see(marker="qc-stage")
    await user.should_see(ZH("qc.stage.foreman"))
    user.find(marker="qc-fail").click()
    user.find(marker="qc-reason").type("机油加注过量")
    user.find(marker="qc-responsible").click()
    user.find(tech.name).click()
    user.find(marker="qc-send-back").click()

    async def sent_back() -> bool:
        return any(r.number == number for r in system.workshop.quality.rework())
    await until(sent_back)
    row = next(r for r in system.workshop.quality.rework() if r.number == number)
    assert (row.stage, row.reason, row.found_by, row.responsible) == ("foreman", "机油加注过量", "郑强", tech.name)
    assert system.repair_orders.get(number)["status"] != "quality_check"

    _work_it(system, tech, number)
    system.workshop.quality.record(number, "self", True, actor=tech.name)
    await user.open("/workshop/qc")
    user.find(marker=f"qc-order-{number}").trigger("click")
    await user.should_see(marker="qc-stage", content=ZH("qc.stage.foreman"))
    user.find(marker="qc-pass").click()

    async def at_final() -> bool:
        return any(r.stage == "foreman" and r.passed for r in system.workshop.quality.results(number)
                   if r.round == 1)
    await until(at_final)

    # the register tab lists the row with its time lost
    await user.open("/workshop/qc?tab=rework")
    await user.should_see(marker="rework-table")
    table = user.find(marker="rework-table").elements.pop()
    assert [(r["number"], r["reason"], r["responsible"]) for r in table.rows if r["number"] == number] == [
        (number, "机油加注过量", tech.name)]


async def test_the_final_inspection_needs_every_item_and_a_failure_names_the_missing(
        staff_app: tuple[User, Shopfloor], caplog: pytest.LogCaptureFixture) -> None:
    user, system = staff_app
    number, tech = _order_at_the_foreman(system)
    system.workshop.quality.record(number, "foreman", True, actor="郑强")
    await sign_in(user, staff_member(system, "郑强"))
    await user.open("/workshop/qc")
    user.find(marker=f"qc-order-{number}").trigger("click")
    await user.should_see(marker="qc-checklist")
    # every line done: ticked by the system and locked
    done = user.find(marker="qc-item-items_done").elements.pop()
    assert done.value is True and not done.enabled
    for item in FINAL_CHECKLIST:
        if item not in ("no_tools", "items_done"):
            user.find(marker=f"qc-item-{item}").click()
    await user.should_see(ZH("qc.still_open", items=ZH("qc.item.no_tools")))
    user.find(marker="qc-pass").click()  # disabled: nothing recorded
    user.find(marker="qc-fail").click()
    user.find(marker="qc-send-back").click()

    async def failed() -> bool:
        return any(r.number == number and r.stage == "final" for r in system.workshop.quality.rework())
    await until(failed)
    row = next(r for r in system.workshop.quality.rework() if r.number == number)
    assert ZH("qc.item.no_tools") in row.reason and row.responsible == tech.name

    _work_it(system, tech, number)
    for stage in ("self", "foreman"):
        system.workshop.quality.record(number, stage, True, actor="郑强")
    await user.open("/workshop/qc")
    user.find(marker=f"qc-order-{number}").trigger("click")
    await user.should_see(marker="qc-checklist")
    for item in FINAL_CHECKLIST:
        if item != "items_done":
            user.find(marker=f"qc-item-{item}").click()
    await user.should_see(ZH("qc.all_ticked"))
    user.find(marker="qc-pass").click()

    async def ready() -> bool:
        return system.repair_orders.get(number)["status"] == "ready"
    await until(ready)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_line_still_open_keeps_the_final_inspection_from_passing(staff_app: tuple[User, Shopfloor],
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """"Every job line done" is the order's to say: unticked with the open line named, pass stays disabled."""
    user, system = staff_app
    number, _tech = _order_at_the_foreman(system)
    system.workshop.quality.record(number, "foreman", True, actor="郑强")
    with system.db.write() as s:  # as if a line were reopened behind the inspector's back
        line = s.scalars(select(JobLine).join(RepairOrder).where(RepairOrder.number == number)).first()
        assert line is not None
        line.status, description = "paused", line.description
    await sign_in(user, staff_member(system, "郑强"))
    await user.open("/workshop/qc")
    user.find(marker=f"qc-order-{number}").trigger("click")
    await user.should_see(marker="qc-checklist")
    done = user.find(marker="qc-item-items_done").elements.pop()
    assert done.value is False and not done.enabled
    await user.should_see(marker="qc-lines-open", content=description)
    for item in FINAL_CHECKLIST:
        if item != "items_done":
            user.find(marker=f"qc-item-{item}").click()
    await user.should_see(ZH("qc.still_open", items=ZH("qc.item.items_done")))
    assert not user.find(marker="qc-pass").elements.pop().enabled
    user.find(marker="qc-pass").click()
    assert system.workshop.quality.results(number)[-1].stage == "foreman"  # nothing recorded
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_the_failure_form_can_be_cancelled(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number, _tech = _order_at_the_foreman(system)
    await sign_in(user, staff_member(system, "郑强"))
    await user.open("/workshop/qc")
    user.find(marker=f"qc-order-{number}").trigger("click")
    await user.should_see(marker="qc-stage")
    user.find(marker="qc-fail").click()
    await user.should_see(marker="qc-send-back")
    user.find(marker="qc-fail-cancel").click()
    await user.should_not_see(marker="qc-send-back")
    assert not any(r.number == number for r in system.workshop.quality.rework())
