"""The whole system in real headless Chromium: a wedge scanner types a tag at the kiosk, and the card on the
appointment board turns `arrived` by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from shopfloor.testing.chromium_pages import first_advisor, key_in, sign_in, wait_for
from shopfloor.testing.plugin import DemoServer

pytestmark = pytest.mark.browser


def test_scan_at_kiosk_marks_the_card_arrived_on_the_board(demo_server: DemoServer, driver) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    today = demo_server.api("/api/v1/appointments")
    assert isinstance(today, list) and today
    waiting = next(a for a in today if a["status"] in ("booked", "confirmed", "late"))
    plate, tag = waiting["plate"], waiting["tag"]

    driver.get(f"{demo_server.base}/board/appointments?token={demo_server.credentials['boards']['token']}")
    card = wait_for(driver, f'[data-plate="{plate}"]')
    assert card.get_attribute("data-status") != "arrived"
    board = driver.current_window_handle

    driver.switch_to.new_window("window")
    sign_in(driver, demo_server, first_advisor(demo_server))
    wait_for(driver, "[data-testid=scan-hint]")
    ActionChains(driver).send_keys(tag + Keys.ENTER).perform()  # as a keyboard-wedge scanner types it
    wait_for(driver, "[data-testid=scan-plate]")

    driver.switch_to.window(board)
    wait_for(driver, f'[data-plate="{plate}"][data-status="arrived"]', timeout=10)


def test_wrong_pin_is_refused_with_a_message(demo_server: DemoServer, driver) -> None:  # type: ignore[no-untyped-def]
    name = first_advisor(demo_server)
    right = demo_server.credentials["advisors"][name]
    wrong = "".join(str((int(c) + 1) % 10) for c in right)
    driver.get(demo_server.base + "/kiosk")
    key_in(driver, name, wrong)
    message = wait_for(driver, "[data-testid=login-error]")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: message.text.strip() != "")
    assert "PIN" in message.text


def test_board_without_token_shows_no_personal_data(demo_server: DemoServer, driver) -> None:  # type: ignore[no-untyped-def]
    today = demo_server.api("/api/v1/appointments")
    assert isinstance(today, list)
    driver.get(f"{demo_server.base}/board/appointments")
    time.sleep(2)
    html = driver.page_source
    assert "token" in html
    for appt in today:
        assert appt["plate"] not in html and appt["customer"] not in html
    assert not driver.find_elements("css selector", "[data-plate]")


@pytest.fixture(scope="module")
def mid_morning_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo whose clock reads 10:30: today still has free slots whenever the tests run."""
    from shopfloor.testing.plugin import start_server

    server = start_server(tmp_path_factory.mktemp("demo-1030"), "demo", "--time", "10:30")
    yield server
    server.stop()


def test_a_booking_appears_on_the_board_with_the_capacity_strip_updated(  # type: ignore[no-untyped-def]
        mid_morning_demo: DemoServer, driver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = mid_morning_demo
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # this tab is the wall screen
                           {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    driver.get(f"{server.base}/board/appointments?token={server.credentials['boards']['token']}")
    strip = wait_for(driver, "[data-testid=capacity-strip]")
    total = strip.find_element(By.CSS_SELECTOR, '[data-skill="maintenance"]')
    allocated = float(total.get_attribute("data-allocated"))
    on_board = {c.get_attribute("data-plate") for c in driver.find_elements(By.CSS_SELECTOR, "[data-plate]")}
    plate = next(h["plate"] for h in server.api("/api/v1/customers?query=%E4%BA%AC&limit=50")
                 if h["plate"] not in on_board)
    board = driver.current_window_handle

    driver.switch_to.new_window("window")  # the booking tablet
    sign_in(driver, server, first_advisor(server), "/booking", timeout=30)
    search = wait_for(driver, "input[data-testid=customer-search]")
    search.send_keys(plate[1:6])
    wait_for(driver, f'[data-plate="{plate}"]', timeout=30, state="clickable").click()
    wait_for(driver, "[data-testid=vehicle-plate]")
    driver.find_elements(By.CSS_SELECTOR, "[data-testid^=day-]")[0].click()  # today
    wait_for(driver, "[data-testid=op-OIL]", timeout=30, state="clickable").click()
    wait_for(driver, "[data-testid=slot-0]", timeout=30, state="clickable").click()
    booked = int(wait_for(driver, "[data-testid=booked-id]", timeout=30).text.removeprefix("#"))

    driver.switch_to.window(board)
    card = wait_for(driver, f'[data-plate="{plate}"]', timeout=30)
    assert card.get_attribute("data-key") == str(booked) and card.get_attribute("data-status") == "booked"
    WebDriverWait(driver, 30).until(lambda d: float(d.find_element(
        By.CSS_SELECTOR, '[data-testid=capacity-strip] [data-skill="maintenance"]').get_attribute("data-allocated"))
        == allocated + 0.5)
