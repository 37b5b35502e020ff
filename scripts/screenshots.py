"""Screenshot every page of a running demo at its real size, walking the kiosk through a check-in.

    python scripts/screenshots.py --base http://127.0.0.1:8080 --data-dir data --out /tmp/shots [--lang en]

Uses Debian's headless Chromium + chromedriver. Look at the PNGs: a page you have not seen is not done.
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait


def chrome(width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--hide-scrollbars", f"--window-size={width},{height}"):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # --window-size counts the window, not the page: pin the viewport to the device's real size.
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return drv


def click(drv: webdriver.Chrome, xpath: str) -> None:
    WebDriverWait(drv, 10).until(ec.element_to_be_clickable((By.XPATH, xpath))).click()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--out", default="/tmp/shots")
    ap.add_argument("--lang", default="zh-CN")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    creds = tomllib.loads((Path(args.data_dir) / "credentials.toml").read_text())
    request = urllib.request.Request(f"{args.base}/api/v1/appointments",
                                     headers={"Authorization": f"Bearer {creds['api']['token']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        today = json.load(response)
    suffix = "" if args.lang == "zh-CN" else "-en"

    wall = chrome(1920, 1080)
    wall.get(f"{args.base}/board/progress?lang={args.lang}")  # a fresh, unpaired screen first
    time.sleep(2.5)
    wall.save_screenshot(str(out / f"board-unpaired{suffix}.png"))
    token = creds["boards"]["token"]
    for name, path in (("appointments", f"/board/appointments?token={token}&lang={args.lang}"),
                       ("progress", f"/board/progress?token={token}&lang={args.lang}"),
                       ("lounge", f"/lounge?lang={args.lang}")):
        wall.get(args.base + path)
        time.sleep(2.5)
        wall.save_screenshot(str(out / f"board-{name}{suffix}.png"))
    wall.quit()

    drv = chrome(1280, 800)
    drv.get(f"{args.base}/kiosk?lang={args.lang}")
    time.sleep(1.5)
    drv.save_screenshot(str(out / f"kiosk-login{suffix}.png"))
    advisor, pin = next(iter(creds["advisors"].items()))
    click(drv, f"//button[.//*[contains(text(), '{advisor}')]]")
    for digit in pin:
        click(drv, f"//button[.//*[normalize-space(text())='{digit}']]")
    click(drv, "//button[.//*[normalize-space(text())='OK']]")
    time.sleep(2)
    drv.save_screenshot(str(out / f"kiosk-idle{suffix}.png"))
    waiting = next(a for a in today if a["status"] in ("booked", "confirmed", "late") and not a["ro_number"])
    ActionChains(drv).send_keys(waiting["tag"] + Keys.ENTER).perform()
    time.sleep(2)
    drv.save_screenshot(str(out / f"kiosk-checkin{suffix}.png"))
    checkbox = drv.find_elements(By.CSS_SELECTOR, ".q-checkbox")
    if len(checkbox) > 2:
        checkbox[2].click()
    drv.find_element(By.CSS_SELECTOR, "textarea").send_keys("起步时右前轮有咯噔声，已经两周了")
    time.sleep(0.5)
    drv.save_screenshot(str(out / f"kiosk-checkin-filled{suffix}.png"))
    click(drv, "//button[.//i[normalize-space(text())='print']]")
    time.sleep(2.5)
    drv.save_screenshot(str(out / f"kiosk-order{suffix}.png"))
    ActionChains(drv).send_keys("SFT-NOTATAG1234" + Keys.ENTER).perform()
    time.sleep(1)
    drv.save_screenshot(str(out / f"kiosk-bad-scan{suffix}.png"))
    drv.quit()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
