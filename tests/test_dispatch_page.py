"""/workshop/dispatch, the foreman's job progress board (issue 10): in NiceGUI's simulated browser through the
composition root, a tap dispatch (the board emits `assign` for the tapped car and technician) refused for the skill
class with its reason, then given with a typed reason (logged as an override); proposals with why. In Chromium, a
car dragged onto a technician's row, and the wall board (/board/progress) drawing the actual bar after a clocking
made through the API (POST /api/v1/clockings)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.main import Shopfloor
from shopfloor.services.audit import AuditService, Entity
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing import chromium_pages as chromium
from shopfloor.testing.browser_fixtures import WALL
from shopfloor.testing.browser_fixtures import chromium as open_chromium
from shopfloor.testing.plugin import DemoServer, start_server
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

FOREMAN, MAINTENANCE_TECH = "郑强", "周杰"
SHOTS = "/work/notes/shots"


def _new_order(system: Shopfloor, *operations: str) -> str:
    with system.ctx.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    return str(system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=list(operations)))
               .repair_order["number"])


def _tech_id(system: Shopfloor, name: str) -> int:
    return int(next(t for t in system.repair_orders.technicians() if t["name"] == name)["id"])


async def test_a_tap_dispatch_refused_for_skill_is_given_with_a_typed_reason(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _new_order(system, "TBT")  # a timing belt: repair work
    tech = _tech_id(system, MAINTENANCE_TECH)
    await sign_in(user, staff_member(system, FOREMAN))
    await user.open("/workshop/dispatch")
    await user.should_see(marker="dispatch-board")

    # the car tapped, then 周杰's row: the board emits assign
    user.find(marker="dispatch-board").trigger("assign", {"number": number, "technician": str(tech)})
    await until(lambda: sees(user, marker="refusal-reason", content=MAINTENANCE_TECH))
    assert system.repair_orders.get(number)["job_lines"][0]["technician"] is None
    user.find(marker="dispatch-anyway").click()  # no reason typed: not dispatched
    await user.should_see(marker="refusal-reason")
    user.find(marker="override-reason").type("客户同意，周杰由赵磊指导")
    user.find(marker="dispatch-anyway").click()
    await until(lambda: _given(system, number, MAINTENANCE_TECH))
    rows = AuditService(system.ctx).read(Entity.REPAIR_ORDER, number)
    override = next(r for r in rows if r.action == "dispatch_override")
    assert override.reason == "客户同意，周杰由赵磊指导" and override.actor == FOREMAN

    # propose: the best technicians with why, and one given from the list
    other = _new_order(system, "WSH")
    user.find(marker="dispatch-board").trigger("propose", {"number": other})
    await until(lambda: sees(user, marker="proposal"))
    await user.should_see(content="今日空闲")


async def _given(system: Shopfloor, number: str, name: str) -> bool:
    line = system.repair_orders.get(number)["job_lines"][0]
    return (line.get("technician") or {}).get("name") == name


# -- Chromium ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def daytime_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo at 10:30 site time: the technicians on shift, so a clocking lands inside the board's hours."""
    server = start_server(Path(tmp_path_factory.mktemp("dispatch")), "demo", "--time", "10:30",
                          "--no-printer-agents")
    yield server
    server.stop()


def _check_in(server: DemoServer) -> str:
    appointments = [a for a in server.api("/api/v1/appointments")
                    if a["status"] in ("booked", "confirmed", "late") and not a.get("ro_number") and a.get("tag")]
    for a in appointments:
        status, answer = server.call("POST", "/api/v1/checkins", {"tag": a["tag"]})
        if status == 201 and all(line["skill"] == "maintenance" for line in answer["repair_order"]["job_lines"]):
            return str(answer["repair_order"]["number"])
    raise AssertionError("no maintenance appointment left to check in")


def _refused_first(driver: Any, given: str, timeout: float = 15.0) -> bool:
    """Whether the refusal dialog comes up before the bar of the dispatched car."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.find_elements("css selector", "[data-testid=override-reason] textarea"):
            return True
        if driver.find_elements("css selector", given):
            return False
        time.sleep(0.1)
    raise AssertionError("neither dispatched nor refused")


DRAG = """
const [card, row] = arguments;
const data = new DataTransfer();
card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: data}));
row.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: data}));
row.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
"""


@pytest.mark.browser
def test_a_car_dragged_to_a_row_is_dispatched_and_the_wall_draws_the_clocked_bar(
        daytime_server: DemoServer, driver: Any) -> None:
    server = daytime_server
    number = _check_in(server)
    tech = next(t for t in server.api("/api/v1/technicians") if t["name"] == MAINTENANCE_TECH)
    chromium.sign_in(driver, server, FOREMAN, "/workshop/dispatch")
    card = chromium.wait_for(driver, f'[data-testid=queue-card][data-number="{number}"]', 20)
    row = chromium.wait_for(driver, f'.sfj-row[data-technician="{MAINTENANCE_TECH}"]')
    driver.execute_script(DRAG, card, row)
    if _refused_first(driver, f'.sfj-plan[data-number="{number}"]'):
        # the promise cannot be kept with him: the reason typed, dispatched anyway
        driver.find_element("css selector", "[data-testid=override-reason] textarea").send_keys("客户同意")
        driver.find_element("css selector", "[data-testid=dispatch-anyway]").click()
    chromium.wait_for(driver, f'.sfj-row[data-technician="{MAINTENANCE_TECH}"] .sfj-plan[data-number="{number}"]', 15)
    line = server.api(f"/api/v1/repair-orders/{number}")["job_lines"][0]
    assert line["technician"]["name"] == MAINTENANCE_TECH
    driver.save_screenshot(f"{SHOTS}/dispatch-dragged-1280x800.png")

    with open_chromium(WALL, "--hide-scrollbars") as wall:
        wall.get(f"{server.base}/board/progress?token={server.credentials['boards']['token']}")
        chromium.wait_for(wall, f'.sfj-row[data-technician="{MAINTENANCE_TECH}"] .sfj-plan[data-number="{number}"]',
                          20)
        assert not wall.find_elements("css selector", f'.sfj-actual[data-number="{number}"]')
        status, answer = server.call("POST", "/api/v1/clockings", {"badge": tech["badge"], "scan": number})
        assert status == 201, answer
        bar = chromium.wait_for(
            wall, f'.sfj-row[data-technician="{MAINTENANCE_TECH}"] .sfj-actual[data-number="{number}"]', 10)
        assert bar.get_attribute("data-clocking") == str(answer["clocking"]["id"])
        time.sleep(0.3)
        wall.save_screenshot(f"{SHOTS}/progress-clocked-1920x1080.png")


async def test_the_foreman_confirms_a_clocking_closed_at_the_end_of_the_shift(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _new_order(system, "WSH")
    tech = _tech_id(system, "吴昊")  # 08:30–17:30
    system.workshop.dispatch.dispatch(number, tech, actor=FOREMAN, override="test")
    clocking, _ = system.workshop.clocking.clock_on(system.workshop.clocking.badges()[tech], number, actor="吴昊")
    clock = system.ctx.clock
    clock.set(clock.now().astimezone(system.ctx.tz).replace(hour=18, minute=0))
    assert system.workshop.clocking.close_at_shift_end() == 1
    await sign_in(user, staff_member(system, FOREMAN))
    await user.open("/workshop/dispatch")
    await until(lambda: sees(user, marker="assumed-clockings", content="（1）"))
    user.find(marker="assumed-clockings").click()
    await until(lambda: sees(user, marker="confirm-clocking"))
    user.find(marker="confirm-clocking").click()
    await until(lambda: sees(user, marker="assumed-clockings", content="（0）"))
    assert system.workshop.clocking.get(clocking.id).confirmed_by == FOREMAN


# -- a car in work before the day's first hour, a finished job beside it -------------------------------------------

@pytest.fixture(scope="module")
def early_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo at 06:30, before the board's first hour (08:00): a car clocked on now has its plan laid before the
    hours the board shows."""
    server = start_server(Path(tmp_path_factory.mktemp("dispatch-early")), "demo", "--time", "06:30",
                          "--no-printer-agents")
    yield server
    server.stop()


def _checked_in(server: DemoServer, fits: Any) -> str:
    for a in server.api("/api/v1/appointments"):
        if a["status"] not in ("booked", "confirmed", "late") or a.get("ro_number") or not a.get("tag"):
            continue
        status, answer = server.call("POST", "/api/v1/checkins", {"tag": a["tag"]})
        if status == 201 and fits(answer["repair_order"]["job_lines"]):
            return str(answer["repair_order"]["number"])
    raise AssertionError("no appointment left that fits")


ON_TOP = """const bar = arguments[0]; const r = bar.getBoundingClientRect();
const hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 12), r.top + r.height / 2);
return r.width > 0 && r.height > 0 && bar.contains(hit);"""


@pytest.mark.browser
def test_the_car_in_work_is_on_its_technicians_row_even_planned_before_the_first_hour(
        early_server: DemoServer, driver: Any) -> None:
    server = early_server
    tech = next(t for t in server.api("/api/v1/technicians") if t["name"] == MAINTENANCE_TECH)
    # finished in seconds: a job of 1.8 h or more, its bar laid from 06:30 over the board's first hour
    finished = _checked_in(server, lambda lines: sum(line["hours"] for line in lines) >= 1.8)
    # in work: a short job, its whole plan (06:30 + its hours) before 08:00
    working = _checked_in(server, lambda lines: sum(line["hours"] for line in lines) <= 1.2)
    for number in (finished, working):
        status, answer = server.call("POST", f"/api/v1/repair-orders/{number}/dispatch",
                                     {"technician": tech["id"], "override": {"reason": "test"}})
        assert status == 200, answer
    status, answer = server.call("POST", "/api/v1/clockings", {"badge": tech["badge"], "scan": finished})
    assert status == 201, answer
    time.sleep(2)  # worked a moment: an efficiency far above anything plausible
    status, _ = server.call("POST", f"/api/v1/clockings/{answer['clocking']['id']}/stop", {"outcome": "finished"})
    assert status == 200
    status, answer = server.call("POST", "/api/v1/clockings", {"badge": tech["badge"], "scan": working})
    assert status == 201, answer

    chromium.sign_in(driver, server, FOREMAN, "/workshop/dispatch")
    row = f'.sfj-row[data-technician="{MAINTENANCE_TECH}"]'
    bar = chromium.wait_for(driver, f'{row} .sfj-plan[data-number="{working}"][data-state="current"]', 20)
    assert driver.execute_script(ON_TOP, bar), "the car in work is covered or not drawn"
    done = chromium.wait_for(driver, f'{row} .sfj-plan[data-number="{finished}"][data-state="done"]')
    assert driver.execute_script(ON_TOP, done), "the finished job is covered"
    efficiency = driver.find_element("css selector", f'{row} [data-fig="efficiency"]')
    assert efficiency.text == ">300%" and "is-capped" in (efficiency.get_attribute("class") or "")
    assert float(efficiency.get_attribute("data-value") or 0) > 3  # the figure itself is kept
    assert "300%" in (efficiency.get_attribute("title") or "")
    time.sleep(0.3)
    driver.save_screenshot(f"{SHOTS}/dispatch-in-work-early-1280x800.png")
