"""The reception kiosk's repair-order panel in real headless Chromium: after a move the panel is drawn once,
though both the move's own callback and the bus update it caused ask for it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shopfloor.testing.chromium_pages import first_advisor, sign_in, wait_for
from shopfloor.testing.plugin import DemoServer

pytestmark = pytest.mark.browser


def test_a_move_draws_the_order_once(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    orders = demo_server.api("/api/v1/repair-orders")
    ro = next(o for o in orders if o["status"] == "in_progress")
    sign_in(driver, demo_server, first_advisor(demo_server))

    def panels() -> list[Any]:
        return driver.find_elements(By.CSS_SELECTOR, "[data-testid=ro-panel]")

    # (ready comes from the quality checks, not from a button: back to work is rework, a move like any other)
    for step, target in enumerate(("quality_check", "in_progress")):
        if step == 0:
            wait_for(driver, f'[data-plate="{ro["plate"]}"]', state="clickable").click()
        wait_for(driver, f"[data-testid=move-{target}]", state="clickable").click()
        WebDriverWait(driver, 15).until(lambda d, s=target: d.find_elements(
            By.CSS_SELECTOR, f'[data-testid=ro-panel] [data-status="{s}"]'))
        time.sleep(2)  # the bus update of the move has come back by now
        assert len(panels()) == 1, f"after {target}: {len(panels())} panels"
        assert len(driver.find_elements(By.CSS_SELECTOR, "[data-testid=ro-moves]")) == 1
        assert demo_server.api(f"/api/v1/repair-orders/{ro['number']}")["status"] == target
