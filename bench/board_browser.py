"""Render time of the wall appointment board in real headless Chromium at 1920×1080: a 200-card day with the
capacity strip and the week bars (bench/board_preview.py's synthetic day, served by NiceGUI).

- first render: navigation start → every card and the capacity strip in the DOM and painted (a MutationObserver
  installed before the page's own scripts, then the next animation frame);
- the day drawn from nothing: all 200 cards handed to the component at once → painted (no framework loading);
- one change: the component's upsert() of one card (what the server sends when a booking or move arrives) →
  Vue re-laid out all 200 cards and the frame after is painted.

    python bench/board_browser.py [--loads 10] [--updates 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shopfloor.ports import free_port

OBSERVER = """
window.__sfb = {done: null};
new MutationObserver((_, obs) => {
  const cards = document.querySelectorAll('.sfb-appt-card').length;
  if (cards >= %d && document.querySelector('[data-testid="capacity-strip"]')) {
    obs.disconnect();
    requestAnimationFrame(() => { window.__sfb.done = performance.now(); });
  }
}).observe(document, {childList: true, subtree: true});
"""

UPDATE = """
const done = arguments[arguments.length - 1];
const comp = getElement(document.querySelector('.sfb-appt').closest('[id^="c"]'));
const card = document.querySelectorAll('.sfb-appt-card')[arguments[0] % 200];
const key = card.dataset.key;
const item = Object.assign({}, comp.items[key], {status: arguments[0] % 2 ? 'late' : 'confirmed', version: Date.now()});
const t0 = performance.now();
comp.upsert(item);
Vue.nextTick(() => requestAnimationFrame(() => done(performance.now() - t0)));
"""

REDRAW = """
const done = arguments[arguments.length - 1];
const comp = getElement(document.querySelector('.sfb-appt').closest('[id^="c"]'));
const all = comp.items;
comp.items = {};
Vue.nextTick(() => requestAnimationFrame(() => {
  const t0 = performance.now();
  comp.items = all;
  Vue.nextTick(() => requestAnimationFrame(() => done(performance.now() - t0)));
}));
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--updates", type=int, default=50)
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    port = free_port()
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("board_preview.py")), "--port", str(port),
                               "--at", "14:30"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/board/progress", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1920,1080"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                                  options=options)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER % 200})
        driver.get(base + "/board/appointments?token=dev-token")  # pairs this browser (cookie)
        loads: list[float] = []
        scripting: list[float] = []
        for _ in range(args.loads):
            driver.get(base + "/board/appointments")
            for _ in range(200):
                done = driver.execute_script("return window.__sfb.done")
                if done is not None:
                    break
                time.sleep(0.05)
            assert done is not None, "the board never showed 200 cards and the capacity strip"
            loads.append(float(done))
            scripting.append(float(driver.execute_script(
                "const m = performance.getEntriesByType('navigation')[0];"
                "return window.__sfb.done - m.domContentLoadedEventEnd")))
        cards = driver.execute_script("return document.querySelectorAll('.sfb-appt-card').length")
        updates = [float(driver.execute_async_script(UPDATE, i)) for i in range(args.updates)]
        redraws = [float(driver.execute_async_script(REDRAW)) for _ in range(args.loads)]
        driver.quit()
    finally:
        server.terminate()
        server.wait(10)
    print(f"Chromium {os.uname().machine}, 1920×1080, {cards} cards + capacity strip (8 technicians) + week bars")
    print(f"first render (navigation start → all drawn and painted), {len(loads)} loads: "
          f"p50 {statistics.median(loads):.0f} ms, max {max(loads):.0f} ms; of which after DOMContentLoaded "
          f"(Vue building the board): p50 {statistics.median(scripting):.0f} ms, max {max(scripting):.0f} ms")
    print(f"the whole day drawn again from no cards (Vue render of 200 cards → painted), {len(redraws)} times: "
          f"p50 {statistics.median(redraws):.1f} ms, max {max(redraws):.1f} ms")
    print(f"one card changed (upsert → re-layout → painted), {len(updates)} changes: p50 "
          f"{statistics.median(updates):.1f} ms, p95 {percentile(updates, 0.95):.1f} ms, max {max(updates):.1f} ms")


if __name__ == "__main__":
    main()
