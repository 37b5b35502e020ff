"""Headless Chromium for page tests: Debian's chromium + chromedriver, at a screen's real size (tablet 1280×800,
wall screen 1920×1080). Required under CI=true; skipped locally without them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
TABLET = (1280, 800)
WALL = (1920, 1080)


@contextmanager
def chromium(size: tuple[int, int] = TABLET, *extra: str) -> Iterator[Any]:
    """A headless Chromium (selenium WebDriver) whose page is exactly `size` CSS pixels, quit on exit."""
    from shopfloor.testing.plugin import require_service

    require_service(os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), "Debian's chromium + chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    width, height = size
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-dev-shm-usage", f"--window-size={width},{height}", *extra):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # --window-size includes the browser's own frame: the page itself gets the exact size only this way
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    drv.implicitly_wait(0)
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture
def driver() -> Iterator[Any]:
    """Chromium at the advisor tablet's size."""
    with chromium(TABLET) as drv:
        yield drv


@pytest.fixture
def wall_driver() -> Iterator[Any]:
    """Chromium at the wall screen's size."""
    with chromium(WALL, "--hide-scrollbars") as drv:
        yield drv
