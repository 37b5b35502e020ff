"""The reception kiosk's repair-order panel in real headless Chromium: after a move the panel is drawn once,
though both the move's own callback and the bus update it caused ask for it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shopfloor.testing.plugin import DemoServer

pytestmark = pytest.mark.browser


def _wait(drv: Any, css: str, timeout: float = 15.0) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout).until(ec.element_to_be_clickable((By.CSS_SELECTOR, css)))


def _click_text(drv: Any, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, 15).until(ec.element_to_be_clickable(
        (By.XPATH, f"//button[.//*[normalize-space(text())='{text}']]"))).click()


def test_a_move_draws_the_order_once(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    orders = demo_server.api("/api/v1/repair-orders")
    ro = next(o for o in orders if o["status"] == "in_progress")
    name, pin = next(iter(demo_server.credentials["advisors"].items()))
    driver.get(demo_server.base + "/kiosk")
    WebDriverWait(driver, 15).until(lambda d: d.find_element(
        By.XPATH, f"//button[.//*[contains(text(), '{name}')]]")).click()
    for digit in pin:
        _click_text(driver, digit)
    _click_text(driver, "OK")

    def panels() -> list[Any]:
        return driver.find_elements(By.CSS_SELECTOR, "[data-testid=ro-panel]")

    # (ready comes from the quality checks, not from a button: back to work is rework, a move like any other)
    for step, target in enumerate(("quality_check", "in_progress")):
        if step == 0:
            _wait(driver, f'[data-plate="{ro["plate"]}"]').click()
        _wait(driver, f"[data-testid=move-{target}]").click()
        WebDriverWait(driver, 15).until(lambda d, s=target: d.find_elements(
            By.CSS_SELECTOR, f'[data-testid=ro-panel] [data-status="{s}"]'))
        time.sleep(2)  # the bus update of the move has come back by now
        assert len(panels()) == 1, f"after {target}: {len(panels())} panels"
        assert len(driver.find_elements(By.CSS_SELECTOR, "[data-testid=ro-moves]")) == 1
        assert demo_server.api(f"/api/v1/repair-orders/{ro['number']}")["status"] == target
