"""/setup's catalogue tabs in the browser: the manager changes a labour rate and the estimate of an open order is
priced with it at once, without a restart; a bad value is refused with the key named; an operation's bay kind is
picked from the site's bay kinds, named as the bays tab names them; one taken out of use is not offered at the
booking desk; and on the running demo a test print goes the whole print path into the file printer's folder."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from shopfloor.domain.models import JobLine, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.services.audit import Actor, Entity
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

if TYPE_CHECKING:
    from nicegui.testing import User

    from shopfloor.main import Shopfloor
    from shopfloor.testing.plugin import DemoServer

NEW_RATE = 777


async def notified(user: User, text: str) -> bool:
    return any(text in message for message in user.notify.messages)


def open_order_with_maintenance(system: Shopfloor) -> str:
    with system.db.read() as s:
        number = s.scalar(select(RepairOrder.number).join(JobLine, JobLine.repair_order_id == RepairOrder.id).where(
            RepairOrder.status.in_([x.value for x in OPEN_STATUSES]), JobLine.skill == "maintenance",
            JobLine.status != "cancelled").order_by(RepairOrder.id).limit(1))
    assert number is not None
    return number


async def test_a_new_labour_rate_prices_the_estimate_at_once(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = open_order_with_maintenance(system)
    before = system.reception.estimate.current(number)
    labour = [line for line in before.lines if line.kind == "labour"]
    assert labour and all(line.unit_price != NEW_RATE for line in labour)
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/setup?tab=operations")
    await until(lambda: sees(user, marker="labour-rates"))
    for element in user.find(marker="rate-maintenance").elements:
        element.value = NEW_RATE
    user.find(marker="rates-save").click()
    await until(lambda: notified(user, "立即生效，无需重启"))
    assert system.ctx.settings.reception.labour_rates["maintenance"] == NEW_RATE
    assert system.settings is system.ctx.settings  # what the composition root holds followed
    after = system.reception.estimate.current(number)
    maintenance = [line for line in after.lines if line.kind == "labour" and
                   any(jl.id == line.job_line_id and jl.skill == "maintenance" for jl in _lines(system, number))]
    assert maintenance and all(line.unit_price == Decimal(NEW_RATE) for line in maintenance)
    await user.open(f"/kiosk/estimate/{number}")
    await until(lambda: sees(user, content=f"¥{NEW_RATE:,.2f}"))
    rows = system.audit.read(Entity.SITE_CONFIG)
    assert [(r.entity_id, r.actor) for r in rows] == [("labour_rates", "赵经理")]


async def test_hours_refused_with_the_key_and_printers_follow(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/setup?tab=hours")
    await until(lambda: sees(user, marker="hours-save"))
    for element in user.find(marker="hours-closing").elements:
        element.value = "06:00"
    user.find(marker="hours-save").click()
    await until(lambda: notified(user, "关门时间（06:00）必须晚于开门时间（08:00）"))  # the form says it
    assert system.ctx.settings.site.closing.hour != 6
    # a printer added on /setup is offered by the pages' printer choice at once
    system.catalogue_setup.printers.save({"name": "bay9", "label": "九号", "transport": "file"}, actor="test")
    assert "bay9" in {p.name for p in system.printer_choice.printers}
    await user.open("/setup?tab=printers")
    await until(lambda: sees(user, marker="printer-bay9"))


async def test_an_operations_bay_kind_is_picked_from_the_sites_kinds(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    system.bay_admin.add("P1", "paint", Actor("赵经理"))  # a kind no operation names yet is offered too
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/setup?tab=operations")
    await until(lambda: sees(user, marker="operation-add"))
    user.find(marker="operation-add").click()
    await until(lambda: sees(user, marker="operation-equipment"))
    picker = next(iter(user.find(marker="operation-equipment").elements))
    assert picker.options == {"": "无（普通工位，任意举升机）", "alignment": "四轮定位 (alignment)",
                              "paint": "烤漆房 (paint)"}
    assert picker.value == ""
    values = {"operation-code": "PNT1", "operation-name-zh": "局部喷漆", "operation-hours": 2,
              "operation-equipment": "paint"}
    for marker, value in values.items():
        for element in user.find(marker=marker).elements:
            element.value = value
    user.find(marker="operation-save").click()
    await until(lambda: notified(user, "已保存"))
    assert {o.code: o.equipment for o in system.catalogue_setup.operations.entries()}["PNT1"] == "paint"
    await until(lambda: sees(user, content="烤漆房 (paint)"))


async def test_an_operation_out_of_use_is_not_offered_at_the_booking_desk(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/setup?tab=operations")
    await until(lambda: sees(user, marker="operation-add"))
    user.find(marker="operation-add").click()
    await until(lambda: sees(user, marker="operation-active"))
    assert next(iter(user.find(marker="operation-active").elements)).value is True  # a new one is offered
    values = {"operation-code": "OLD1", "operation-name-zh": "旧套餐", "operation-hours": 1, "operation-active": False}
    for marker, value in values.items():
        for element in user.find(marker=marker).elements:
            element.value = value
    user.find(marker="operation-save").click()
    await until(lambda: notified(user, "已保存"))
    assert {o.code: o.active for o in system.catalogue_setup.operations.entries()}["OLD1"] is False
    await until(lambda: sees(user, content="停用"))
    await user.open("/booking")
    await until(lambda: sees(user, marker="op-M20"))
    assert not await sees(user, marker="op-OLD1")


def _lines(system: Shopfloor, number: str) -> list[JobLine]:
    with system.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        return list(s.scalars(select(JobLine).where(JobLine.repair_order_id == ro.id)))


def test_a_test_print_lands_in_the_file_printers_folder(demo_server: DemoServer) -> None:
    status, job = demo_server.call("POST", "/api/v1/setup/printers/reception/test-print")
    assert status == 202, job
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, state = demo_server.call("GET", f"/api/v1/setup/print-jobs/{job['id']}")
        if state["status"] != "pending":
            break
        time.sleep(0.3)
    assert state["status"] == "printed", state
    folder = demo_server.data_dir / "tickets" / "reception"
    printed = [p for p in folder.glob("*.bin") if "打印测试".encode("gb18030") in p.read_bytes()]
    assert printed, sorted(p.name for p in folder.iterdir())
