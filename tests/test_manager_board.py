"""The manager's plan board in real headless Chromium: drag a card to another advisor's row and the API shows
the new advisor; a drop that breaks the stagger rule is refused, the card snaps back, and "move anyway" with a
reason moves it with the override logged; a booking made elsewhere appears on the open board by itself.

The board needs a manager's login, so the test runs its own demo server: it signs in as the seeded manager
(role "manager"), or, on a seed without one, promotes advisor D, and sets that person's PIN in the database.
The pieces the page is made of (cards from bus states, the day picker's bounds, the charts' options) are tested
without a browser at the end."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from shopfloor.i18n import Translator
from shopfloor.kiosk.manager import charts as manager_charts
from shopfloor.kiosk.manager.board import card_of, parse_day
from shopfloor.kiosk.manager.capacity import week_entry
from shopfloor.services.auth import hash_pin
from shopfloor.services.figures import FiguresService
from shopfloor.testing.chromium_pages import key_in, wait_for
from shopfloor.testing.plugin import DemoServer, start_server
from shopfloor.testing.polling import eventually_async, wait_until

PIN = "2468"
OPEN_MIN, CLOSE_MIN = 8 * 60, 20 * 60  # config/demo.toml: 08:00–20:00


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    srv = start_server(tmp_path_factory.mktemp("manager-board"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def manager(server: DemoServer) -> str:
    """The name of a staff member with role manager, whose PIN is now PIN."""
    with sqlite3.connect(Path(server.data_dir) / "shopfloor.sqlite3", timeout=30) as db:
        row = db.execute("SELECT id, name FROM advisors WHERE roles = 'manager' AND active ORDER BY id").fetchone()
        if row is None:  # a seed from before the manager was added
            row = db.execute("SELECT id, name FROM advisors WHERE code = 'D'").fetchone()
            db.execute("UPDATE advisors SET roles = 'manager' WHERE id = ?", (row[0],))
        db.execute("UPDATE advisors SET pin_hash = ? WHERE id = ?", (hash_pin(PIN), row[0]))
    return str(row[1])



@pytest.fixture
def driver(wall_driver: Any) -> Any:
    """The plan board is a desk screen: wall-screen size."""
    return wall_driver


def _wait(drv: Any, css: str, timeout: float = 15.0) -> Any:
    return wait_for(drv, css, timeout, "visible")


def _click(drv: Any, xpath: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, 10).until(ec.element_to_be_clickable((By.XPATH, xpath))).click()


def _log_in(drv: Any, server: DemoServer, name: str, pin: str) -> None:
    drv.get(server.base + "/manager/board")
    key_in(drv, name, pin)
    _wait(drv, "[data-testid=board-day]")


def _quiet_day(server: DemoServer) -> date:
    """A day ahead with no bookings yet and technicians at work."""
    today = date.fromisoformat(server.api("/api/v1/capacity")["day"])
    for k in range(7, 60):
        day = today + timedelta(days=k)
        cap = server.api(f"/api/v1/capacity?day={day.isoformat()}")
        if cap["appointments"] == 0 and cap["total"]["available"] > 0 and not cap["holiday"]:
            return day
    raise AssertionError("no quiet day")


def _book(server: DemoServer, plate: str, day: date, hhmm: str, advisor: int) -> dict[str, Any]:
    status, body = server.call("POST", "/api/v1/appointments", {
        "plate": plate, "start": f"{day.isoformat()}T{hhmm}:00+08:00", "hours": 1.0, "skill": "maintenance",
        "work": "测试保养", "advisor": advisor, "actor": "test"})
    assert status == 201, body
    return body


def _drag(drv: Any, card_id: int, advisor: int, minutes: int) -> None:
    """Press on the card, move its left edge to `minutes` on the advisor's row, let go (real pointer events)."""
    from selenium.webdriver.common.action_chains import ActionChains

    geometry = drv.execute_script("""
        const card = document.querySelector(`.mgb-card[data-id="${arguments[0]}"]`).getBoundingClientRect();
        const track = document.querySelector(`[data-track="${arguments[1]}"]`).getBoundingClientRect();
        return {cx: card.left + card.width / 2, cy: card.top + card.height / 2, left: card.left,
                tl: track.left, tw: track.width, ty: track.top + track.height / 2};""", card_id, advisor)
    target_left = geometry["tl"] + (minutes - OPEN_MIN) / (CLOSE_MIN - OPEN_MIN) * geometry["tw"]
    dx, dy = target_left - geometry["left"], geometry["ty"] - geometry["cy"]
    card = drv.find_element("css selector", f'.mgb-card[data-id="{card_id}"]')
    chain = ActionChains(drv, duration=50).move_to_element(card).click_and_hold()
    done_x = done_y = 0
    for step in range(1, 5):  # in a few moves, as a hand does
        x, y = round(dx * step / 4), round(dy * step / 4)
        chain.move_by_offset(x - done_x, y - done_y)
        done_x, done_y = x, y
    chain.pause(0.2).release().perform()


@pytest.mark.browser
def test_drag_moves_refuses_and_overrides(server: DemoServer, manager: str, driver: Any) -> None:
    today = server.api("/api/v1/appointments")
    advisors = {a["advisor"]["code"]: a["advisor"]["id"] for a in today}
    a, b = advisors["A"], advisors["B"]
    plates = sorted({x["plate"] for x in today})
    day = _quiet_day(server)
    first = _book(server, plates[0], day, "10:00", a)
    second = _book(server, plates[1], day, "11:00", b)

    _log_in(driver, server, manager, PIN)
    driver.get(f"{server.base}/manager/board?day={day.isoformat()}")
    _wait(driver, f'.mgb-card[data-id="{first["id"]}"][data-advisor-id="{a}"]')
    _wait(driver, f'.mgb-card[data-id="{second["id"]}"]')

    # 1. onto B's row at the same time: allowed
    _drag(driver, first["id"], b, 10 * 60)
    moved = wait_until(lambda: (x := server.api(f"/api/v1/appointments/{first['id']}"))["advisor"]["id"] == b and x,
                       15, 0.2, "the move to advisor B")
    assert moved["start"].startswith(f"{day.isoformat()}T10:00") and moved["overrides"] == []
    _wait(driver, f'.mgb-card[data-id="{first["id"]}"][data-advisor-id="{b}"][data-start="10:00"]')

    # 2. onto 11:00, where B already has a write-up: the stagger rule refuses, the card snaps back
    _drag(driver, first["id"], b, 11 * 60)
    dialog = _wait(driver, "[data-testid=move-refused]")
    reasons = dialog.find_elements("css selector", "[data-testid=refusal-reason]")
    assert reasons and all(r.text.strip() for r in reasons)
    assert "11:00" in reasons[0].text  # the quarter hour it names
    _wait(driver, f'.mgb-card[data-id="{first["id"]}"][data-advisor-id="{b}"][data-start="10:00"]')
    assert server.api(f"/api/v1/appointments/{first['id']}")["start"].startswith(f"{day.isoformat()}T10:00")

    # 3. move anyway: a reason is required, then the move is made and the override logged
    _click(driver, "//*[@data-testid='move-anyway']")
    assert server.api(f"/api/v1/appointments/{first['id']}")["start"].startswith(f"{day.isoformat()}T10:00")
    wait_until(lambda: "q-field--error" in dialog.find_element("css selector", "label.q-field").get_attribute("class"),
               15, 0.2, "the missing reason shown")
    dialog.find_element("css selector", "textarea[data-testid=override-reason]").send_keys("客户只能这个时间来")
    _click(driver, "//*[@data-testid='move-anyway']")
    forced = wait_until(lambda: (x := server.api(f"/api/v1/appointments/{first['id']}"))["start"].startswith(
        f"{day.isoformat()}T11:00") and x, 15, 0.2, "the overridden move")
    assert [(o["rule"], o["reason"], o["actor"]) for o in forced["overrides"]] == [
        ("stagger", "客户只能这个时间来", manager)]
    _wait(driver, f'.mgb-card[data-id="{first["id"]}"][data-start="11:00"]')

    # 4. someone else books that day: the open board shows the card by itself
    third = _book(server, plates[2], day, "14:00", a)
    _wait(driver, f'.mgb-card[data-id="{third["id"]}"][data-advisor-id="{a}"]')


@pytest.mark.browser
def test_card_details_list_the_cards_history(server: DemoServer, manager: str, driver: Any,
                                             tmp_path: Path) -> None:
    today = server.api("/api/v1/appointments")
    advisors = {a["advisor"]["code"]: (a["advisor"]["id"], a["advisor"]["name"]) for a in today}
    (a, a_name), (b, b_name) = advisors["A"], advisors["B"]
    plates = sorted({x["plate"] for x in today})
    day = _quiet_day(server)
    card = _book(server, plates[3], day, "09:00", a)

    _log_in(driver, server, manager, PIN)
    driver.get(f"{server.base}/manager/board?day={day.isoformat()}")
    _wait(driver, f'.mgb-card[data-id="{card["id"]}"]')
    _drag(driver, card["id"], b, 10 * 60)  # the manager's plain drag
    selector = f'.mgb-card[data-id="{card["id"]}"][data-advisor-id="{b}"][data-start="10:00"]'
    _wait(driver, selector)
    mmdd = f"{day:%m-%d}"
    for lang, booked, moved in (("zh-CN", "预约", "调整"), ("en", "Booked", "Moved")):
        driver.get(f"{server.base}/manager/board?day={day.isoformat()}&lang={lang}")
        _wait(driver, selector).click()
        history = _wait(driver, "[data-testid=card-history]")
        cells = [c.text for c in history.find_elements("css selector", ":scope > *")]
        # rows of when, who, what, from → to (and why); the customer's messages the booking and the move queued
        # (confirmation, reminder re-timed) are rows of the story too
        rows = [cells[i:i + 4] for i in range(0, len(cells), 4)]
        story = [row for row in rows if row[2] in (booked, moved)]
        assert [row[2] for row in story] == [booked, moved], cells
        assert story[1][1] == manager
        assert story[1][3] == f"{mmdd} 09:00 {a_name} → {mmdd} 10:00 {b_name}"
        driver.save_screenshot(str(tmp_path / f"card-details-{lang}.png"))
        driver.find_element("css selector", "[data-testid=card-details] button").click()


@pytest.mark.browser
def test_leaving_a_refused_card_where_it_was(server: DemoServer, manager: str, driver: Any) -> None:
    today = server.api("/api/v1/appointments")
    advisors = {a["advisor"]["code"]: a["advisor"]["id"] for a in today}
    a = advisors["A"]
    plates = sorted({x["plate"] for x in today})
    day = _quiet_day(server)
    first = _book(server, plates[4], day, "09:00", a)
    second = _book(server, plates[5], day, "10:00", a)
    log = Path(server.data_dir) / "server.log"
    logged = log.stat().st_size

    _log_in(driver, server, manager, PIN)
    driver.get(f"{server.base}/manager/board?day={day.isoformat()}")
    _wait(driver, f'.mgb-card[data-id="{second["id"]}"][data-start="10:00"]')
    for attempt in range(2):  # twice: the second dialog must work like the first
        _drag(driver, second["id"], a, 9 * 60)  # onto A's own 09:00 write-up: refused
        _wait(driver, "[data-testid=move-refused]")
        _click(driver, "//*[@data-testid='leave-it']")
        wait_until(lambda: not driver.find_elements("css selector", "[data-testid=move-refused]"),
                   15, 0.2, f"the dialog gone ({attempt})")
        _wait(driver, f'.mgb-card[data-id="{second["id"]}"][data-start="10:00"]')
    time.sleep(1)  # what the server does after the click has reached its log
    after = log.read_bytes()[logged:].decode("utf-8", "replace")
    assert "Traceback" not in after and "ValueError" not in after, after
    assert server.api(f"/api/v1/appointments/{second['id']}")["start"].startswith(f"{day.isoformat()}T10:00")
    assert server.api(f"/api/v1/appointments/{first['id']}")["start"].startswith(f"{day.isoformat()}T09:00")
    # the card can still be dragged (the board did not lose it)
    _drag(driver, second["id"], a, 11 * 60)
    _wait(driver, f'.mgb-card[data-id="{second["id"]}"][data-start="11:00"]')


# -- without a browser ---------------------------------------------------------------------------------------------

async def test_the_refusal_dialog_ends_cleanly_however_it_is_left(caplog: pytest.LogCaptureFixture) -> None:
    """"不调整" answers None and removes the dialog once; a page that goes away while it is open (a closed tab,
    a lost connection) resolves it with None too, and nothing is removed twice (ValueError: list.remove)."""
    import asyncio
    import logging

    from nicegui import Client, ui
    from nicegui.testing.user_simulation import user_simulation

    from shopfloor.kiosk.manager.dialogs import refusal_dialog

    card = {"plate_display": "京A·12345", "customer": "王先生", "time": "10:00", "advisor_name": "张伟"}
    answers: list[str | None] = []
    pages: list[Client] = []

    async def ask() -> None:
        answers.append(await refusal_dialog(Translator("zh-CN"), card, "11:00", "李娜", ["该时段已有客户到店"]))

    async with user_simulation() as user:
        try:
            @ui.page("/refusal")
            def page() -> None:
                pages.append(ui.context.client)
                ui.button("drop", on_click=ask)

            with caplog.at_level(logging.WARNING):
                await user.open("/refusal")
                user.find("drop").click()
                await user.should_see("不调整")
                user.find("不调整").click()
                assert await eventually_async(lambda: answers == [None], 2)
                await user.should_not_see("不调整")

                user.find("drop").click()  # again, and the page goes away with the dialog open
                await user.should_see("不调整")
                pages[-1].delete()
                assert await eventually_async(lambda: answers == [None, None], 2)
                await asyncio.sleep(0.1)
            assert "Traceback" not in caplog.text and "ValueError" not in caplog.text, caplog.text
        finally:
            Client.page_routes.clear()


def test_history_lines_name_each_change_in_the_readers_language() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from shopfloor.kiosk.manager.card_history import history_lines
    from shopfloor.services.audit import AuditRow

    tz = ZoneInfo("Asia/Shanghai")

    def row(at: str, actor: str, action: str, before: str | None, after: str | None, reason: str | None = None,
            detail: dict[str, Any] | None = None, kind: str = "staff") -> AuditRow:
        return AuditRow(1, datetime.fromisoformat(at), actor, kind, None, "appointment", "7", action, before, after,
                        reason, detail)

    rows = [row("2026-11-20T09:00:00+08:00", "孙丽", "booked", None, "2026-11-24 09:00 张伟", "老客户",
                {"rules_broken": [{"rule": "stagger", "detail": "…"}]}),
            row("2026-11-23T15:00:00+08:00", "孙丽", "call", "unreachable", "confirmed"),
            row("2026-11-24T09:20:00+08:00", "system", "late", "confirmed", "late", kind="system"),
            row("2026-11-24T09:40:00+08:00", "郑强", "transition", "in_progress", "on_hold", "waiting_parts")]
    zh = history_lines(Translator("zh-CN"), rows, tz, date(2026, 11, 24))
    assert [(x.when, x.who, x.what, x.change) for x in zh] == [
        ("11-20 09:00", "孙丽", "预约", "→ 11-24 09:00 张伟"),
        ("11-23 15:00", "孙丽", "确认电话", "联系不上 → 已确认"),
        ("09:20", "系统", "标记迟到", "已确认 → 延时到店"),
        ("09:40", "郑强", "工单状态", "维修中 → 暂停")]
    assert zh[0].why == "老客户 · 违反规则：每15分钟到店数" and zh[3].why == "等待零件"
    en = history_lines(Translator("en"), rows, tz, date(2026, 11, 24))
    assert [(x.what, x.change) for x in en] == [
        ("Booked", "→ 11-24 09:00 张伟"), ("Confirmation call", "Not reached → Confirmed"),
        ("Marked late", "Confirmed → Late"), ("Repair order", "In progress → On hold")]
    assert en[0].why == "老客户 · rules overridden: arrivals per quarter hour" and en[2].who == "System"

def test_a_card_from_a_bus_state() -> None:
    from zoneinfo import ZoneInfo

    state = {"id": 7, "version": 12, "status": "late", "start": "2026-11-24T09:15:00+08:00",
             "end": "2026-11-24T10:45:00+08:00", "hours": 1.5, "plate": "京A12345", "plate_display": "京A·12345",
             "customer": "王先生", "work": "20000公里保养", "bay": "3",
             "advisor": {"id": 2, "name": "李娜", "code": "B"},
             "flags": {"waiting_customer": True, "road_test": False, "repeat_repair": True,
                       "complaining_customer": False},
             "parts": {"status": "to_order", "eta": "2026-11-23", "numbers": ""}, "overridden": True}
    card = card_of(state, ZoneInfo("Asia/Shanghai"))
    assert (card["id"], card["date"], card["start_min"], card["time"], card["end"]) == (
        7, "2026-11-24", 9 * 60 + 15, "09:15", "10:45")
    assert card["advisor_id"] == 2 and card["movable"] is True  # a late card can still be moved
    assert card["flags"] == ["repeat_repair", "waiting_customer", "parts_to_order", "override"]
    assert card_of({**state, "status": "arrived"}, ZoneInfo("Asia/Shanghai"))["movable"] is False


def test_the_day_picker_stays_between_today_and_the_booking_horizon() -> None:
    today = date(2026, 11, 23)
    assert parse_day(None, today) == today
    assert parse_day("2026-11-20", today) == today  # the past: today
    assert parse_day("2026-12-01", today) == date(2026, 12, 1)
    assert parse_day("garbage", today) == today
    assert parse_day("2030-01-01", today) == today + timedelta(days=366)


def test_week_bar_from_a_capacity_state() -> None:
    entry = week_entry({"day": "2026-11-24", "holiday": None, "appointments": 5,
                        "total": {"available": 40.0, "allocated": 30.0, "free": 2.0}, "skills": {}})
    assert entry["load"] == 0.75 and entry["appointments"] == 5
    closed = week_entry({"day": "2026-11-25", "holiday": "店庆", "total": {"available": 0, "allocated": 0}})
    assert closed["load"] is None


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_chart_has_one_value_per_period_and_travels_as_json(db_services: Any, lang: str) -> None:
    report = FiguresService(db_services.ctx).report()
    t = Translator(lang)
    for by in ("day", "week"):
        periods = report["days" if by == "day" else "weeks"]
        labels = manager_charts.axis_labels(t, periods, by)
        assert len(set(labels)) == len(periods)
        for chart in manager_charts.CHARTS:
            options = chart(t, periods, labels, report["today"], by)
            json.dumps(options)
            assert options["series"] and all(len(s["data"]) == len(periods) for s in options["series"])
            assert not any("figures." in str(v) for v in (options["title"]["text"], *[s["name"] for s in
                                                                                      options["series"]]))
    profile = manager_charts.arrival_profile(t, {"08:00": 2, "08:45": 1})
    assert profile["xAxis"]["data"] == ["08:00", "08:15", "08:30", "08:45"]
    assert profile["series"][0]["data"] == [2, 0, 0, 1]
