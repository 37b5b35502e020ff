"""/setup's people tabs: in NiceGUI's simulated browser, the manager adds a person (their one-time PIN shown once,
big), is refused taking the last manager off, adds a technician and a bay, and a tab is built only once opened;
in Chromium on the running demo, a technician added on /setup is on /workshop/dispatch's board without a restart,
and each people tab is photographed at the tablet's 1280×800."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.contract import topics
from shopfloor.domain.models import OutboxMessage
from shopfloor.main import Shopfloor
from shopfloor.services.audit import AuditService, Entity
from shopfloor.testing import chromium_pages as chromium
from shopfloor.testing.plugin import DemoServer, start_server
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

MANAGER = "赵经理"


async def test_a_person_added_gets_a_one_time_pin_and_the_last_manager_stays(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, MANAGER))
    await user.open("/setup?tab=staff")
    await user.should_see(marker="staff-list")
    await user.should_see(content="孙丽")
    user.find(marker="staff-add").click()
    await user.should_see(marker="staff-form")
    user.find(marker="staff-form-name").type("周敏")
    user.find(marker="staff-form-code").type("E")
    user.find(marker="staff-form-role-advisor").click()
    user.find(marker="staff-form-save").click()
    await until(lambda: sees(user, marker="one-time-pin-value"))
    person = next(v for v in system.staff_admin.listing() if v.name == "周敏")
    assert person.must_change_pin and person.roles == ("advisor",)
    shown = next(iter(user.find(marker="one-time-pin-value").elements)).text
    assert len(shown) == 6 and system.auth.login(person.id, shown).name == "周敏"
    rows = AuditService(system.ctx).read(Entity.STAFF, str(person.id))
    assert rows[0].action == "staff_added" and rows[0].actor == MANAGER
    user.find(marker="one-time-pin-done").click()

    manager = staff_member(system, MANAGER)
    user.find(marker=f"staff-deactivate-{manager.id}").click()
    user.find(marker="staff-deactivate-confirm-yes").click()
    async def refused() -> bool:
        return bool(user.notify.contains("最后一位在用的经理"))  # the site speaks Chinese

    await until(refused)
    assert next(v for v in system.staff_admin.listing() if v.name == MANAGER).active


async def test_a_pin_reset_from_a_row_shows_the_new_pin_that_signs_in(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, MANAGER))
    await user.open("/setup?tab=staff")
    await user.should_see(marker="staff-list")
    person = staff_member(system, "孙丽")
    user.find(marker=f"staff-reset-{person.id}").click()
    await until(lambda: sees(user, marker="staff-reset-confirm"))
    user.find(marker="staff-reset-confirm-yes").click()  # the list is drawn again, this row with it
    await until(lambda: sees(user, marker="one-time-pin-value"))
    shown = next(iter(user.find(marker="one-time-pin-value").elements)).text
    assert len(shown) == 6 and shown.isdigit()
    assert system.auth.login(person.id, shown).name == "孙丽"
    user.find(marker="one-time-pin-done").click()
    await until(lambda: not_seen(user, "one-time-pin-value"))

    user.find(marker="staff-add").click()  # no name: the field named in the reader's language
    await until(lambda: sees(user, marker="staff-form"))
    user.find(marker="staff-form-code").type("Q")
    user.find(marker="staff-form-role-advisor").click()
    user.find(marker="staff-form-save").click()

    async def named() -> bool:
        return bool(user.notify.contains("缺少姓名。"))

    await until(named)


async def not_seen(user: User, marker: str) -> bool:
    return not await sees(user, marker=marker)


async def test_a_technician_and_a_bay_added_on_their_tabs(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, MANAGER))
    await user.open("/setup?tab=technicians")
    await user.should_see(marker="tech-list")
    assert not await sees(user, marker="bay-list")  # built when first opened
    user.find(marker="tech-add").click()
    user.find(marker="tech-form-name").type("马超")
    user.find(marker="tech-form-start").type("08:00")
    user.find(marker="tech-form-end").type("16:00")
    user.find(marker="tech-form-break").type("30")
    user.find(marker="tech-form-days").type("1-5")
    user.find(marker="tech-form-save").click()
    await until(lambda: sees(user, marker="tech-name", content="马超"))
    tech = next(v for v in system.technician_admin.listing() if v.name == "马超")
    assert tech.skill == "maintenance" and tech.shift is not None and tech.shift.weekdays == (0, 1, 2, 3, 4)
    with system.db.read() as s:  # its state for the job progress board, on the bus once the publisher sends it
        assert s.scalar(select(OutboxMessage.id).where(
            OutboxMessage.topic.contains(f"/{topics.TECHNICIANS}/{tech.id}"))) is not None

    user.find(marker="setup-tab-bays").click()
    await until(lambda: sees(user, marker="bay-list"))
    user.find(marker="bay-add").click()
    await until(lambda: sees(user, marker="bay-form"))
    user.find(marker="bay-form-code").type("p1")
    user.find(marker="bay-form-save").click()
    await until(lambda: sees(user, marker="bay-code", content="P1"))
    assert any(b.code == "P1" and b.kind == "lift" for b in system.bay_admin.listing())


async def test_leave_and_a_holiday_recorded_on_the_calendar_tab(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, MANAGER))
    await user.open("/setup?tab=calendar")
    await user.should_see(marker="shift-list")
    user.find(marker="holiday-add").click()
    await until(lambda: sees(user, marker="holiday-form"))
    user.find(marker="holiday-form-name").type("停电检修")
    user.find(marker="holiday-form-save").click()
    today = system.ctx.today()

    async def saved() -> bool:
        return any(h.day == today for h in system.calendar_admin.holidays())

    await until(saved)
    assert [(h.day, h.name) for h in system.calendar_admin.holidays() if h.day == today] == [(today, "停电检修")]
    holiday = next(h for h in system.calendar_admin.holidays() if h.day == today)
    await until(lambda: sees(user, marker=f"holiday-row-{holiday.id}"))  # the list drawn again
    assert system.booking.capacity(today)["total"]["available"] == 0  # booking sees it at once

    user.find(marker="leave-add").click()
    await until(lambda: sees(user, marker="leave-form"))
    user.find(marker="leave-form-save").click()  # nobody chosen: said, nothing saved
    async def warned() -> bool:
        return bool(user.notify.contains("请先选择技师"))

    await until(warned)
    assert not [v for v in system.calendar_admin.leave() if v.day == today]


# -- Chromium ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def daytime_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo at 10:30 site time: the technicians on shift, the dispatch board's hours on screen."""
    server = start_server(Path(tmp_path_factory.mktemp("setup-people")), "demo", "--time", "10:30",
                          "--no-printer-agents")
    yield server
    server.stop()


def _shot(driver: Any, name: str) -> None:
    folder = Path(chromium.SHOTS) / "setup-people"
    folder.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(folder / f"{name}.png"))


@pytest.mark.browser
def test_a_technician_added_on_setup_is_on_the_dispatch_board(daytime_server: DemoServer, driver: Any,
                                                               tmp_path: Path) -> None:
    server = daytime_server
    chromium.sign_in(driver, server, MANAGER, "/setup?tab=technicians")
    chromium.wait_for(driver, "[data-testid=tech-list]", state="visible")
    _shot(driver, "technicians")
    chromium.wait_for(driver, "[data-testid=tech-add]", state="clickable").click()
    chromium.wait_for(driver, "input[data-testid=tech-form-name], [data-testid=tech-form-name] input",
                      state="visible").send_keys("马超")
    chromium.wait_for(driver, "[data-testid=tech-form-save]", state="clickable").click()
    chromium.click_xpath(driver, "//*[@data-testid='tech-list']//*[normalize-space(text())='马超']", timeout=15)
    assert "tab=technicians" in driver.current_url

    driver.get(server.base + "/workshop/dispatch")
    chromium.wait_for(driver, "[data-testid=dispatch-title]")
    deadline = time.monotonic() + 20
    while "马超" not in driver.find_element("tag name", "body").text:
        assert time.monotonic() < deadline, "the new technician never reached the dispatch board"
        time.sleep(0.3)

    for tab, ready in (("staff", "staff-list"), ("calendar", "shift-list"), ("bays", "bay-list")):
        driver.get(server.base + f"/setup?tab={tab}")
        chromium.wait_for(driver, f"[data-testid={ready}]", state="visible")
        time.sleep(0.5)  # the list's rows after the panel
        _shot(driver, tab)

    # switching tabs keeps the open one in the address
    chromium.wait_for(driver, "[data-testid=setup-tab-technicians]", state="clickable").click()
    chromium.wait_for(driver, "[data-testid=tech-list]", state="visible")
    assert driver.current_url.endswith("tab=technicians")

    # a CSV with a bad line among good ones: the good rows kept, the bad line named with its column
    upload = tmp_path / "technicians.csv"
    upload.write_text("name,skill,active,shift_start,shift_end,break_minutes,weekdays\n"
                      "关羽,repair,yes,08:00,17:00,60,1-5\n张飞,chef,yes,,,,\n", encoding="utf-8")
    chromium.wait_for(driver, "[data-testid=tech-csv-import]", state="clickable").click()
    chromium.wait_for(driver, ".q-menu input[type=file]").send_keys(str(upload))
    report = chromium.wait_for(driver, "[data-testid=tech-csv-report]", state="visible")
    assert "第 3 行，列 skill" in report.text
    chromium.wait_for(driver, "[data-testid=tech-list]")
    time.sleep(0.5)
    _shot(driver, "technicians-import-report")
    assert "关羽" in driver.find_element("css selector", "[data-testid=tech-list]").text

    # someone new: their one-time PIN in a dialog of its own, big
    driver.get(server.base + "/setup?tab=staff")
    chromium.wait_for(driver, "[data-testid=staff-add]", state="clickable").click()
    for field, text in (("name", "周敏"), ("code", "E")):
        chromium.wait_for(driver, f"input[data-testid=staff-form-{field}], [data-testid=staff-form-{field}] input",
                          state="visible").send_keys(text)
    chromium.wait_for(driver, "[data-testid=staff-form-role-advisor]", state="clickable").click()
    chromium.wait_for(driver, "[data-testid=staff-form-save]", state="clickable").click()
    pin = chromium.wait_for(driver, "[data-testid=one-time-pin-value]", state="visible")
    assert len(pin.text) == 6 and pin.text.isdigit() and pin.size["height"] >= 50
    time.sleep(0.3)
    _shot(driver, "staff-one-time-pin")

    # a forgotten PIN reset from the person's row: the new one shown, though the list is drawn again
    chromium.wait_for(driver, "[data-testid=one-time-pin-done]", state="clickable").click()
    chromium.wait_for(driver, "[data-testid=staff-list] [data-testid^=staff-reset-]", state="clickable").click()
    chromium.wait_for(driver, "[data-testid=staff-reset-confirm-yes]", state="clickable").click()
    pin = chromium.wait_for(driver, "[data-testid=one-time-pin-value]", state="visible")
    assert len(pin.text) == 6 and pin.text.isdigit()
    time.sleep(0.3)
    _shot(driver, "staff-reset-pin")
    chromium.wait_for(driver, "[data-testid=one-time-pin-done]", state="clickable").click()

    # an import with a line refused: the report in view at once, the missing field named in Chinese
    people = tmp_path / "staff.csv"
    people.write_text("name,code,roles,active\n黄忠,H,advisor,yes\n,K,advisor,yes\n", encoding="utf-8")
    chromium.wait_for(driver, "[data-testid=staff-csv-import]", state="clickable").click()
    chromium.wait_for(driver, ".q-menu input[type=file]").send_keys(str(people))
    report = chromium.wait_for(driver, "[data-testid=staff-csv-report]", state="visible")
    assert "第 3 行，列 name：缺少姓名。" in report.text and "黄忠" in report.text
    time.sleep(0.5)
    assert driver.execute_script("const r = arguments[0].getBoundingClientRect();"
                                 "return r.top >= 0 && r.bottom <= window.innerHeight;", report)
    _shot(driver, "staff-import-report")
