"""The whole system in real headless Chromium: a wedge scanner types a tag at the kiosk, and the card on the
appointment board turns `arrived` by itself."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shopfloor.ports import free_port
from shopfloor.testing.plugin import require_service

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@dataclass
class DemoServer:
    base: str
    data_dir: Path
    credentials: dict
    process: subprocess.Popen[bytes]

    def api(self, path: str) -> object:
        req = urllib.request.Request(self.base + path,
                                     headers={"Authorization": f"Bearer {self.credentials['api']['token']}"})
        with urllib.request.urlopen(req, timeout=10) as response:
            return json.load(response)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    data_dir = tmp_path_factory.mktemp("demo")
    http_port, mqtt_port = free_port(), free_port()
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "shopfloor.cli", "demo", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--http-port", str(http_port), "--mqtt-port", str(mqtt_port)],
        stdout=log, stderr=subprocess.STDOUT,
        # NiceGUI switches to its screen-test mode when it sees pytest's variable: the demo must run as itself.
        env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
    base = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"demo exited early:\n{(data_dir / 'server.log').read_text()}")
        try:
            with urllib.request.urlopen(base + "/kiosk", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"demo did not answer:\n{(data_dir / 'server.log').read_text()}")
    creds = tomllib.loads((data_dir / "credentials.toml").read_text())
    yield DemoServer(base, data_dir, creds, process)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("demo did not stop on Ctrl-C within 20 s")
    log.close()


@pytest.fixture
def driver() -> Iterator[object]:
    require_service(os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), "Debian's chromium + chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1280,800"):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.implicitly_wait(0)
    yield drv
    drv.quit()


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
