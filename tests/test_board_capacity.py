"""The appointment board's capacity strip and week-load bars: capacity states (services/capacity.py) in a
BoardStore, their projection for the browser, in-place updates of a connected screen, and only advisors as rows."""

from __future__ import annotations

import copy
import json
import logging
import time
import tomllib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shopfloor.board import cards
from shopfloor.board.appointment_board import AppointmentBoardPage, week_config, week_of
from shopfloor.board.labels import labels
from shopfloor.board.store import BoardStore
from shopfloor.clock import FixedClock
from shopfloor.contract import payloads, topics
from shopfloor.i18n import Translator, catalogue
from shopfloor.settings import PrinterSettings, Settings, SiteSettings
from shopfloor.testing.polling import wait_until

SITE = "test"
TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def capacity(day: date, version: int, *, allocated: float = 5.5, holiday: str | None = None) -> dict[str, Any]:
    """A capacity state in the shape of services/capacity.py capacity_state: two technicians a class."""
    hours = 0.0 if holiday else 8.0
    techs = [
        {"id": 1, "name": "陈刚", "skill": "repair", "available": hours, "reserved": hours * 0.2,
         "allocated": allocated, "free": hours - allocated},
        {"id": 2, "name": "杨帆", "skill": "repair", "available": hours, "reserved": hours * 0.2, "allocated": 9.5,
         "free": hours - 9.5},
        {"id": 5, "name": "周杰", "skill": "maintenance", "available": hours, "reserved": hours * 0.2,
         "allocated": 4.0, "free": hours - 4.0},
        {"id": 6, "name": "吴昊", "skill": "maintenance", "available": hours, "reserved": hours * 0.2,
         "allocated": 0.0, "free": hours},
    ]
    total_allocated = allocated + 9.5 + 4.0
    return {
        "schema": 1, "version": version, "site": SITE, "day": day.isoformat(), "holiday": holiday,
        "reserve_share": 0.2, "technicians": techs,
        "skills": {
            "maintenance": {"available": 2 * hours, "reserved": 3.2, "booked": 3.0, "unplanned": 1.0,
                            "allocated": 4.0, "free": 8.8},
            "repair": {"available": 2 * hours, "reserved": 3.2, "booked": allocated + 6.0, "unplanned": 3.5,
                       "allocated": allocated + 9.5, "free": 0.0},
        },
        "total": {"available": 4 * hours, "reserved": 6.4, "booked": 12.0, "unplanned": 4.5,
                  "allocated": total_allocated, "free": 4.1, "left": 4 * hours - total_allocated},
        "carried_over": {"hours": 3.5, "cars": [
            {"number": "RO20261120-003", "plate_display": "京A·12345", "hours": 2.0, "status": "on_hold",
             "reason": "waiting_parts"},
            {"number": "RO20261121-001", "plate_display": "京B·54321", "hours": 1.5, "status": "in_progress",
             "reason": None}]},
        "walk_in": {"hours": 1.0, "cars": 1}, "appointments": 24,
        "groups": {"repair": {"sellable_left": 0.0, "left": 0.0}, "total": {"sellable_left": 4.1, "left": 7.3}},
    }


def advisor(entity_id: int, role: str, version: int, *, name: str = "", code: str = "") -> dict[str, Any]:
    """A member of staff in the shape of services/views.py advisor_state; role advisor is a board row."""
    return {"schema": 1, "version": version, "site": SITE, "id": entity_id, "name": name or f"员工{entity_id}",
            "code": code or chr(64 + entity_id), "active": True, "roles": [role], "role": role}


def raw(payload: dict[str, Any]) -> bytes:
    return payloads.encode(payload)


def cap_topic(day: date) -> str:
    return topics.state(SITE, topics.CAPACITY, day.isoformat())


def settings() -> Settings:
    return Settings(site=SiteSettings(id=SITE, name="测试店"), printers=[PrinterSettings(name="p")])


@pytest.fixture
def page() -> AppointmentBoardPage:
    return AppointmentBoardPage(BoardStore(SITE), settings(), "token", clock=FixedClock(NOW))


# -- the projection ------------------------------------------------------------------------------------------

def test_a_day_projects_to_technicians_class_totals_and_load() -> None:
    day = cards.capacity_day(TODAY.isoformat(), capacity(TODAY, 1), TZ)
    assert day["day"] == "2026-11-23" and day["closed"] is False and day["holiday"] is None
    assert [(t["name"], t["skill"], t["available"], t["allocated"], t["free"]) for t in day["technicians"]] == [
        ("陈刚", "repair", 8.0, 5.5, 2.5), ("杨帆", "repair", 8.0, 9.5, -1.5),
        ("周杰", "maintenance", 8.0, 4.0, 4.0), ("吴昊", "maintenance", 8.0, 0.0, 8.0)]
    assert day["skills"] == {
        "maintenance": {"available": 16.0, "allocated": 4.0, "free": 8.8, "reserved": 3.2},
        "repair": {"available": 16.0, "allocated": 15.0, "free": 0.0, "reserved": 3.2}}
    assert (day["available"], day["allocated"], day["load"]) == (32.0, 19.0, 0.59)
    assert day["carried_over"] == {"hours": 3.5, "cars": 2}
    assert day["walk_in"] == {"hours": 1.0, "cars": 1}
    json.dumps(day)  # it travels to the browser as is


def test_a_holiday_is_closed_and_has_no_load() -> None:
    day = cards.capacity_day("2026-11-27", capacity(date(2026, 11, 27), 1, allocated=0.0, holiday="元旦"), TZ)
    assert (day["closed"], day["holiday"], day["load"], day["available"]) == (True, "元旦", None, 0.0)


def test_an_overbooked_day_loads_past_one() -> None:
    day = cards.capacity_day("2026-11-24", capacity(date(2026, 11, 24), 1, allocated=30.0), TZ)
    assert day["load"] == round((30.0 + 9.5 + 4.0) / 32.0, 2) and day["load"] > 1


@pytest.mark.parametrize("broken", [
    {"total": "lots"},
    {"technicians": [{"name": "陈刚", "available": "eight"}]},
    {"technicians": ["陈刚"]},
    {"skills": {"repair": {"free": [1]}}},
])
def test_an_undrawable_day_is_skipped_with_a_warning(broken: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    cache = cards.CardCache(cards.capacity_day, TZ)
    with caplog.at_level(logging.WARNING):
        assert cache.card("2026-11-23", capacity(TODAY, 1) | broken) is None
    assert "cannot show 2026-11-23" in caplog.text


def test_an_entity_that_is_not_a_day_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    assert cards.CardCache(cards.capacity_day, TZ).card("tomorrow", capacity(TODAY, 1)) is None
    assert "cannot show tomorrow" in caplog.text


# -- store + page: what a screen gets ----------------------------------------------------------------------

def test_store_feeds_the_week_window(page: AppointmentBoardPage) -> None:
    for offset in range(-1, 8):  # yesterday's state may linger on the broker; day +7 is not on the board yet
        day = TODAY + timedelta(days=offset)
        page.store.apply(cap_topic(day), raw(capacity(day, 10, allocated=float(offset + 1))))
    days = page.capacity_days(TODAY)
    assert sorted(days) == week_of(TODAY) == [(TODAY + timedelta(days=i)).isoformat() for i in range(7)]
    assert [days[d]["load"] for d in week_of(TODAY)] == [
        round((offset + 1 + 13.5) / 32, 2) for offset in range(7)]
    today = days[TODAY.isoformat()]
    assert {t["name"]: t["free"] for t in today["technicians"]} == {"陈刚": 7.0, "杨帆": -1.5, "周杰": 4.0,
                                                                    "吴昊": 8.0}
    assert today["skills"]["maintenance"]["free"] == 8.8 and today["skills"]["repair"]["allocated"] == 10.5


def test_a_stale_version_is_ignored_and_an_empty_payload_removes_the_day(page: AppointmentBoardPage) -> None:
    page.store.apply(cap_topic(TODAY), raw(capacity(TODAY, 10, allocated=5.5)))
    page.store.apply(cap_topic(TODAY), raw(capacity(TODAY, 9, allocated=1.0)))  # older: ignored
    first = page.capacity_days(TODAY)[TODAY.isoformat()]
    assert first["technicians"][0]["allocated"] == 5.5
    assert page.capacity_days(TODAY)[TODAY.isoformat()] is first  # same version: the shared projection
    page.store.apply(cap_topic(TODAY), raw(capacity(TODAY, 11, allocated=7.0)))
    assert page.capacity_days(TODAY)[TODAY.isoformat()]["technicians"][0]["free"] == 1.0
    page.store.apply(cap_topic(TODAY), b"")
    assert page.capacity_days(TODAY) == {}


def test_only_advisors_become_rows(page: AppointmentBoardPage) -> None:
    def staff(entity_id: int, role: str, version: int = 1) -> None:
        page.store.apply(topics.state(SITE, topics.ADVISORS, entity_id), raw(advisor(entity_id, role, version)))

    staff(1, "advisor")
    staff(2, "advisor")
    for entity_id, role in ((3, "manager"), (4, "cs"), (5, "parts")):
        staff(entity_id, role)
    assert sorted(page.advisor_rows()) == ["1", "2"]
    staff(2, "manager", version=2)  # promoted: leaves the board
    assert sorted(page.advisor_rows()) == ["1"]


def test_week_captions_in_both_languages() -> None:
    zh = week_config(Translator("zh-CN"), TODAY)
    en = week_config(Translator("en"), TODAY)
    assert [w["day"] for w in zh] == week_of(TODAY)
    assert [w["label"] for w in zh] == ["今天", "明天", "周三", "周四", "周五", "周六", "周日"]
    assert [w["label"] for w in en][:3] == ["Today", "Tomorrow", "Wed"] and en[2]["date"] == "25/11"
    assert zh[2]["date"] == "11/25"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_strip_label_is_translated(lang: str) -> None:
    words = labels("appointments", lang)
    strip = {name: text for name, text in words.items() if name.startswith("cap.")}
    assert len(strip) > 15
    assert not [name for name, text in strip.items() if text.startswith("board.")]  # a key showing itself
    assert {k for k in catalogue(lang) if k.startswith("board.capacity.")} >= {
        "board.capacity.today", "board.capacity.tomorrow", "board.capacity.weekdays", "board.capacity.day_date"}


# -- a connected screen, in NiceGUI's simulated browser ------------------------------------------------------

async def test_a_connected_screen_follows_capacity_in_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from nicegui import Client
    from nicegui.storage import Storage
    from nicegui.testing.user_simulation import user_simulation

    from shopfloor.board.components import AppointmentBoardView

    monkeypatch.setattr(Storage, "path", tmp_path / "storage")
    store = BoardStore(SITE)
    store.apply(cap_topic(TODAY), raw(capacity(TODAY, 10)))
    store.apply(cap_topic(TODAY - timedelta(days=1)), raw(capacity(TODAY - timedelta(days=1), 10)))
    store.apply(topics.state(SITE, topics.ADVISORS, 1), raw(advisor(1, "advisor", 1, name="张伟")))
    store.apply(topics.state(SITE, topics.ADVISORS, 9), raw(advisor(9, "manager", 1, name="赵经理", code="M")))
    sent: list[tuple[str, tuple[Any, ...]]] = []
    async with user_simulation() as user:
        try:
            AppointmentBoardPage(store, settings(), "s3cret", clock=FixedClock(NOW)).register("/board/appointments")
            client = await user.open("/board/appointments?token=s3cret")
            view = next(e for e in client.elements.values() if isinstance(e, AppointmentBoardView))
            monkeypatch.setattr(view, "run_method", lambda name, *args: sent.append((name, args)))
            assert set(view.capacity) == {TODAY.isoformat()}  # yesterday is not on the board
            assert set(view.rows) == {"1"}  # the manager is no row
            assert [w["day"] for w in view.props["config"]["week"]] == week_of(TODAY)

            tomorrow = TODAY + timedelta(days=1)
            store.apply(cap_topic(tomorrow), raw(capacity(tomorrow, 11, allocated=8.0)))
            store.apply(cap_topic(TODAY), raw(capacity(TODAY, 12, allocated=7.0)))
            store.apply(cap_topic(TODAY), raw(capacity(TODAY, 11, allocated=1.0)))  # stale: nothing sent
            store.apply(cap_topic(TODAY + timedelta(days=7)), raw(capacity(TODAY + timedelta(days=7), 11)))
            store.apply(cap_topic(tomorrow), b"")
            store.apply(topics.state(SITE, topics.ADVISORS, 1), raw(advisor(1, "cs", 2, name="张伟")))
            assert [(name, args[0]["day"] if name == "upsertCapacity" else args[0]) for name, args in sent] == [
                ("upsertCapacity", tomorrow.isoformat()), ("upsertCapacity", TODAY.isoformat()),
                ("removeCapacity", tomorrow.isoformat()), ("removeRow", "1")]
            assert view.capacity[TODAY.isoformat()]["technicians"][0]["free"] == 1.0
            assert set(view.capacity) == {TODAY.isoformat()} and view.rows == {}
        finally:
            Client.page_routes.clear()  # as tests/test_board_store.py: keep our library modules loaded


# -- the real thing: the demo in headless Chromium at the wall screen's size -----------------------------------




@pytest.fixture
def wall(wall_driver: Any) -> Any:
    return wall_driver


@pytest.mark.browser
def test_strip_on_the_wall_updates_in_place(demo_server: Any, wall: Any) -> None:
    from selenium.webdriver.common.by import By

    from shopfloor.contract.access import Role
    from shopfloor.credentials import MqttAccount
    from shopfloor.mqtt import BrokerAddress, MqttLink

    creds = demo_server.credentials
    site = tomllib.loads((demo_server.data_dir / "site.toml").read_text())["site"]["id"]
    wall.get(f"{demo_server.base}/board/appointments?token={creds['boards']['token']}&lang=en")
    strip = wait_until(lambda: wall.find_elements(By.CSS_SELECTOR, "[data-testid=capacity-strip]"), 30)[0]
    today = strip.get_attribute("data-day")
    topic = topics.state(site, topics.CAPACITY, today)

    # the server's own states of the day, as they come (it republishes whenever the day's hours change)
    seen: list[dict[str, Any]] = []
    fake_floor = time.time_ns() // 1000 + 10**9  # our states: versions far above the server's for a while

    def on_message(_topic: str, payload: bytes, _retained: bool) -> None:
        state = json.loads(payload) if payload else None
        if state is not None and state["version"] < fake_floor:
            seen.append(state)

    link = MqttLink(address=BrokerAddress(creds["broker"]["host"], int(creds["broker"]["port"])),
                    account=MqttAccount(creds["mqtt"]["server"]["username"], creds["mqtt"]["server"]["password"]),
                    site=site, role=Role.SERVER, client_id="test-capacity-strip", subscriptions=[topic],
                    on_message=on_message)
    assert link.start(wait=5)
    original: dict[str, Any] | None = None
    try:
        wait_until(lambda: seen, 10)

        def wall_techs() -> dict[str, float]:
            return {e.get_attribute("data-technician"): round(float(e.get_attribute("data-free")), 2)
                    for e in wall.find_elements(By.CSS_SELECTOR, "[data-technician]")}

        # what the server published is what the wall shows (waiting out a republish that is still on its way)
        wait_until(lambda: wall_techs() == {t["name"]: round(t["free"], 2) for t in seen[-1]["technicians"]}, 15)
        original = seen[-1]
        for skill in ("maintenance", "repair"):
            total = wall.find_element(By.CSS_SELECTOR, f"[data-skill={skill}]")
            assert float(total.get_attribute("data-free")) == pytest.approx(original["skills"][skill]["free"])
            assert float(total.get_attribute("data-allocated")) == pytest.approx(
                original["skills"][skill]["allocated"])
        bars = wall.find_elements(By.CSS_SELECTOR, "[data-day][data-load]")
        assert [b.get_attribute("data-day") for b in bars] == week_of(date.fromisoformat(today))
        expected_load = original["total"]["allocated"] / original["total"]["available"]
        assert float(bars[0].get_attribute("data-load")) == pytest.approx(expected_load, abs=0.006)

        # everything fits the screen, the strip between the cards and the legend
        layout = wall.execute_script("""
            const r = (s) => document.querySelector(s).getBoundingClientRect();
            return {scroll: document.documentElement.scrollHeight, body: r('.sfb-appt-body').bottom,
                    strip: [r('[data-testid=capacity-strip]').top, r('[data-testid=capacity-strip]').bottom],
                    foot: r('.sfb-foot').top};""")
        assert layout["scroll"] <= 1080
        assert layout["body"] <= layout["strip"][0] + 1 and layout["strip"][1] <= layout["foot"] + 1

        # a newer state: the first technician overbooked by 2 h; the page must not reload to show it
        wall.execute_script("window.__same_page = true;")
        changed = copy.deepcopy(original)
        first = changed["technicians"][0]
        first["allocated"] = first["available"] + 2.0
        first["free"] = -2.0
        changed["version"] = fake_floor  # the server's states cannot overtake it during the test
        link.publish(topic, payloads.encode(changed), retain=True).wait_for_publish(5)
        tile = f"[data-technician='{first['name']}']"
        wait_until(lambda: wall.find_element(By.CSS_SELECTOR, tile).get_attribute("data-free") == "-2", 15)
        assert "is-over" in (wall.find_element(By.CSS_SELECTOR, tile).get_attribute("class") or "")
        assert wall.execute_script("return window.__same_page === true;")

        # the day deleted from the bus: its bar empties, the strip stays for the rest of the week
        link.publish(topic, b"", retain=True).wait_for_publish(5)
        wait_until(lambda: wall.find_element(By.CSS_SELECTOR, f"[data-day='{today}'][data-load]")
                   .get_attribute("data-load") == "", 15)
        assert not wall.find_elements(By.CSS_SELECTOR, "[data-technician]")
        assert wall.execute_script("return window.__same_page === true;")
    finally:
        if original is not None:
            # the server's latest state back for the other tests; deleted first, so the board takes it whatever
            # version it had from us
            latest = max(seen, key=lambda state: state["version"])
            link.publish(topic, b"", retain=True).wait_for_publish(5)
            link.publish(topic, payloads.encode(latest), retain=True).wait_for_publish(5)
            time.sleep(0.5)  # the embedded broker acknowledges before it stores a retained message
        link.stop()
