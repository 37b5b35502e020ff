"""The reception kiosk in headless Chromium at 1280×800 with a booked car: the scan opens the form with the booked
operations ticked, the free-text line kept (ticked, removable), the booking's notes, flags and parts shown, the
total and the promise from the booked hours; checked in, the order has every booked line. A tag that cannot be
scanned: the plate typed into the field finds the car."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import pytest

from shopfloor.domain.identifiers import display_plate
from shopfloor.testing.chromium_pages import SHOTS, first_advisor, sign_in, wait_for
from shopfloor.testing.plugin import DemoServer

pytestmark = pytest.mark.browser

FREE_TEXT = "右前轮起步时异响，检查"


def _book_lines(server: DemoServer, appointment_id: int) -> None:
    """What the booking desk wrote for this appointment: a catalogue operation, a free-text line, notes, flags."""
    lines = [{"code": "OIL", "description": "更换机油机滤", "hours": 0.5, "skill": "maintenance", "equipment": None},
             {"code": None, "description": FREE_TEXT, "hours": 1.2, "skill": "repair", "equipment": None}]
    with sqlite3.connect(server.data_dir / "shopfloor.sqlite3", timeout=10) as db:
        db.execute("UPDATE appointments SET job_lines = ?, hours = 1.7, skill = 'repair', notes = ?, "
                   "waiting_customer = 1, road_test = 1, parts_status = 'to_order', parts_numbers = '04152-YZZA6' "
                   "WHERE id = ?", (json.dumps(lines, ensure_ascii=False), "客户要求保留旧机滤", appointment_id))


def test_a_scan_opens_the_booked_car_with_its_booked_work(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = next(a for a in demo_server.api("/api/v1/appointments")
                   if a["status"] in ("booked", "confirmed", "late") and not a["ro_number"])
    _book_lines(demo_server, waiting["id"])
    sign_in(driver, demo_server, first_advisor(demo_server), "/kiosk?lang=zh-CN")
    wait_for(driver, "[data-testid=scan-hint]")
    ActionChains(driver).send_keys(waiting["tag"] + Keys.ENTER).perform()  # as a keyboard-wedge scanner types it
    assert wait_for(driver, "[data-testid=scan-plate]").text == display_plate(waiting["plate"])

    def ticked(testid: str) -> bool:
        box = wait_for(driver, f"[data-testid={testid}]")
        return box.get_attribute("aria-checked") == "true"

    assert ticked("op-OIL") and ticked("free-0")
    assert not ticked("op-ALN")
    assert FREE_TEXT in wait_for(driver, "[data-testid=free-0]").text
    notes = wait_for(driver, "[data-testid=booking-notes]").text
    for expected in ("客户要求保留旧机滤", "客户等候", "需路试", "04152-YZZA6"):
        assert expected in notes, expected
    WebDriverWait(driver, 10).until(lambda d: "1.7" in d.find_element(
        "css selector", "[data-testid=total-hours]").text)
    promised = wait_for(driver, "input[data-testid=promised]")
    WebDriverWait(driver, 10).until(lambda d: promised.get_attribute("value"))
    driver.save_screenshot(f"{SHOTS}/kiosk-booked-scan.png")

    after = {a["id"]: a for a in demo_server.api("/api/v1/appointments")}[waiting["id"]]
    assert after["status"] == "arrived"  # an advisor's scan: the customer is here

    # the free-text line can be left off; the booked operation stays
    wait_for(driver, "[data-testid=free-0]", state="clickable").click()
    WebDriverWait(driver, 10).until(lambda d: "0.5" in d.find_element(
        "css selector", "[data-testid=total-hours]").text)
    wait_for(driver, "[data-testid=free-0]", state="clickable").click()
    WebDriverWait(driver, 10).until(lambda d: "1.7" in d.find_element(
        "css selector", "[data-testid=total-hours]").text)
    wait_for(driver, "[data-testid=check-in]", state="clickable").click()

    def order() -> dict[str, Any] | None:
        found = [r for r in demo_server.api("/api/v1/repair-orders") if r["plate"] == waiting["plate"]]
        return found[0] if found else None
    ro = WebDriverWait(driver, 15).until(lambda d: order())
    assert [(line["code"], line["description"], line["hours"]) for line in ro["job_lines"]] == [
        ("OIL", "更换机油机滤", 0.5), (None, FREE_TEXT, 1.2)]


def test_a_damaged_tag_is_found_by_the_plate(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    waiting = next(a for a in demo_server.api("/api/v1/appointments")
                   if a["status"] in ("booked", "confirmed", "late") and not a["ro_number"])
    sign_in(driver, demo_server, first_advisor(demo_server), "/kiosk?lang=zh-CN")
    wait_for(driver, "[data-testid=scan-hint]")
    field = wait_for(driver, "input[data-testid=manual-tag]", state="clickable")
    plate = waiting["plate"]
    # typed by a person: slower than a wedge scanner, whose bursts the page takes as a scan
    for key in f"{plate[:2]} {plate[2:].lower()}":
        field.send_keys(key)
        time.sleep(0.12)
    field.send_keys(Keys.ENTER)
    try:
        assert wait_for(driver, "[data-testid=scan-plate]").text == display_plate(plate)
    finally:
        driver.save_screenshot(f"{SHOTS}/kiosk-plate-entry.png")
