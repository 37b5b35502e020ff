"""The whole system in real headless Chromium: a wedge scanner types a tag at the kiosk, and the card on the
appointment board turns `arrived` by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from shopfloor.testing.plugin import DemoServer

pytestmark = pytest.mark.browser




def _wait(drv, css: str, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def _click_text(drv, text: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = f"//button[.//*[normalize-space(text())='{text}']]"
    WebDriverWait(drv, timeout).until(ec.element_to_be_clickable((By.XPATH, xpath))).click()


def _log_in(drv, server: DemoServer, name: str, pin: str) -> None:  # type: ignore[no-untyped-def]
    drv.get(server.base + "/kiosk")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, 15).until(ec.element_to_be_clickable(
        (By.XPATH, f"//button[.//*[contains(text(), '{name}')]]"))).click()
    for digit in pin:
        _click_text(drv, digit)
    _click_text(drv, "OK")


def test_scan_at_kiosk_marks_the_card_arrived_on_the_board(demo_server: DemoServer, driver) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    today = demo_server.api("/api/v1/appointments")
    assert isinstance(today, list) and today
    waiting = next(a for a in today if a["status"] in ("booked", "confirmed", "late"))
    plate, tag = waiting["plate"], waiting["tag"]

    driver.get(f"{demo_server.base}/board/appointments?token={demo_server.credentials['boards']['token']}")
    card = _wait(driver, f'[data-plate="{plate}"]')
    assert card.get_attribute("data-status") != "arrived"
    board = driver.current_window_handle

    driver.switch_to.new_window("window")
    name, pin = next(iter(demo_server.credentials["advisors"].items()))
    _log_in(driver, demo_server, name, pin)
    _wait(driver, "[data-testid=scan-hint]")
    ActionChains(driver).send_keys(tag + Keys.ENTER).perform()  # as a keyboard-wedge scanner types it
    _wait(driver, "[data-testid=scan-plate]")

    driver.switch_to.window(board)
    _wait(driver, f'[data-plate="{plate}"][data-status="arrived"]', timeout=10)


def test_wrong_pin_is_refused_with_a_message(demo_server: DemoServer, driver) -> None:  # type: ignore[no-untyped-def]
    name = next(iter(demo_server.credentials["advisors"]))
    right = demo_server.credentials["advisors"][name]
    wrong = "".join(str((int(c) + 1) % 10) for c in right)
    _log_in(driver, demo_server, name, wrong)
    message = _wait(driver, "[data-testid=login-error]")
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
    strip = _wait(driver, "[data-testid=capacity-strip]")
    total = strip.find_element(By.CSS_SELECTOR, '[data-skill="maintenance"]')
    allocated = float(total.get_attribute("data-allocated"))
    on_board = {c.get_attribute("data-plate") for c in driver.find_elements(By.CSS_SELECTOR, "[data-plate]")}
    plate = next(h["plate"] for h in server.api("/api/v1/customers?query=%E4%BA%AC&limit=50")
                 if h["plate"] not in on_board)
    board = driver.current_window_handle

    driver.switch_to.new_window("window")  # the booking tablet
    name, pin = next(iter(server.credentials["advisors"].items()))
    driver.get(server.base + "/booking")
    from selenium.webdriver.support import expected_conditions as ec

    WebDriverWait(driver, 30).until(ec.element_to_be_clickable(
        (By.XPATH, f"//button[.//*[contains(text(), '{name}')]]"))).click()
    for digit in pin:
        _click_text(driver, digit)
    _click_text(driver, "OK")
    search = _wait(driver, "input[data-testid=customer-search]")
    search.send_keys(plate[1:6])
    WebDriverWait(driver, 30).until(ec.element_to_be_clickable((By.CSS_SELECTOR, f'[data-plate="{plate}"]'))).click()
    _wait(driver, "[data-testid=vehicle-plate]")
    driver.find_elements(By.CSS_SELECTOR, "[data-testid^=day-]")[0].click()  # today
    WebDriverWait(driver, 30).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=op-OIL]"))).click()
    WebDriverWait(driver, 30).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=slot-0]"))).click()
    booked = int(_wait(driver, "[data-testid=booked-id]", timeout=30).text.removeprefix("#"))

    driver.switch_to.window(board)
    card = _wait(driver, f'[data-plate="{plate}"]', timeout=30)
    assert card.get_attribute("data-key") == str(booked) and card.get_attribute("data-status") == "booked"
    WebDriverWait(driver, 30).until(lambda d: float(d.find_element(
        By.CSS_SELECTOR, '[data-testid=capacity-strip] [data-skill="maintenance"]').get_attribute("data-allocated"))
        == allocated + 0.5)
