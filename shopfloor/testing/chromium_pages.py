"""Driving shopfloor's pages in Chromium (selenium WebDriver, browser_fixtures.driver): waiting for an element,
pressing a button by its text, and a staff member signing in on the PIN keypad. Selenium is imported inside each
function, as in the browser tests themselves: only a run that drives Chromium loads it."""

from __future__ import annotations

import os
import tempfile
import time
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from shopfloor.testing.plugin import DemoServer

# where browser tests leave their screenshots to be looked at: $SHOPFLOOR_SHOTS, else the temporary directory
SHOTS = os.environ.get("SHOPFLOOR_SHOTS") or tempfile.gettempdir()
os.makedirs(SHOTS, exist_ok=True)

# selenium's expected conditions, by the state a test waits for
_CONDITIONS = {"present": "presence_of_element_located", "visible": "visibility_of_element_located",
               "clickable": "element_to_be_clickable"}


def wait_for(drv: Any, css: str, timeout: float = 15.0,
             state: Literal["present", "visible", "clickable"] = "present") -> Any:
    """The first element matching `css` once it is in `state`; fails the test after `timeout` seconds."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    condition = getattr(ec, _CONDITIONS[state])
    return WebDriverWait(drv, timeout).until(condition((By.CSS_SELECTOR, css)))


def press(drv: Any, text: str, timeout: float = 10.0, *, exact: bool = True) -> None:
    """Click the button whose text is `text` (exact=False: whose text contains it, as a staff member's name)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = (f"//button[.//*[normalize-space(text())='{text}']]" if exact
             else f"//button[.//*[contains(text(), '{text}')]]")
    WebDriverWait(drv, timeout).until(ec.element_to_be_clickable((By.XPATH, xpath))).click()


def key_in(drv: Any, name: str, pin: str, timeout: float = 15.0) -> None:
    """On the PIN keypad the page shows: choose `name`, key in `pin` and press OK."""
    press(drv, name, timeout, exact=False)
    for key in [*pin, "OK"]:
        press(drv, key)


def first_advisor(server: DemoServer) -> str:
    """The name of the first staff member in the server's credentials (an advisor on the demo site)."""
    return next(iter(server.credentials["advisors"]))


def sign_in(drv: Any, server: DemoServer, name: str, path: str = "/kiosk", timeout: float = 15.0) -> None:
    """Open `path` and sign `name` in with their PIN from the server's credentials; returns once signed in."""
    drv.get(server.base + path)
    key_in(drv, name, server.credentials["advisors"][name], timeout)
    wait_for(drv, "[data-testid=signed-in]", timeout)


def click_xpath(drv: Any, xpath: str, timeout: float = 15.0) -> None:
    """Click the element at `xpath` once clickable; a redraw in between (stale element, an overlay) is retried."""
    _click("xpath", xpath, drv, timeout)


def click_css(drv: Any, css: str, timeout: float = 15.0) -> None:
    """Click the element at the CSS selector `css` once clickable, like `click_xpath`."""
    _click("css selector", css, drv, timeout)


def _click(by: str, where: str, drv: Any, timeout: float) -> None:
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    deadline = time.monotonic() + timeout
    while True:
        try:
            WebDriverWait(drv, max(deadline - time.monotonic(), 0.5)).until(
                ec.element_to_be_clickable((by, where))).click()
            return
        except (StaleElementReferenceException, ElementClickInterceptedException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
