"""The customer's page in headless Chromium on a phone (375×812): masked until the plate's last four are proven
(zh-CN from the browser's language, en too), then the walkaround marks with their photo, the estimate and the
findings; the customer approves one finding and declines another, and the advisor's kiosk (1280×800), open on the
order, shows both decisions by itself. A wrong token gets the same empty page. Screenshots: $SHOPFLOOR_SHOTS."""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopfloor.testing.browser_fixtures import TABLET, chromium
from shopfloor.testing.chromium_pages import SHOTS, sign_in, wait_for
from shopfloor.testing.photos import signature_png
from shopfloor.testing.plugin import DemoServer, start_server

pytestmark = pytest.mark.browser
PHONE = (375, 812)
CONFIRM = ".q-dialog button.bg-positive, .q-dialog button.bg-negative"
# the button (by its words) on the finding's card (by words of its description)
PRESS_IN_CARD = """
const card = [...document.querySelectorAll('.cp-finding')].find(c => c.innerText.includes(arguments[0]));
const button = [...card.querySelectorAll('button')].find(b => b.innerText.includes(arguments[1]));
button.scrollIntoView({block: 'center'});
button.click();"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    demo = start_server(tmp_path_factory.mktemp("customer-page"), "demo", "--time", "10:30")
    yield demo
    demo.stop()


def _jpeg() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (200, 205, 210))
    ImageDraw.Draw(image).line([(80, 300), (560, 180)], fill=(120, 30, 30), width=9)  # a scratch
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def _upload(server: DemoServer, number: str, data: bytes) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"door.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{server.base}/api/v1/repair-orders/{number}/photos", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {server.credentials['api']['token']}",
                                          "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=10) as response:
        assert response.status == 201
        return dict(json.load(response))


def _order(server: DemoServer) -> tuple[dict[str, Any], list[int]]:
    """An open order of 张伟's, with a walkaround (two marks, one with a photo) and two findings."""
    orders = server.api("/api/v1/repair-orders")
    ro = next(o for o in orders if o["status"] in ("checked_in", "dispatched", "in_progress")
              and o["advisor"]["name"] == "张伟" and o["job_lines"])
    number = ro["number"]
    photo = _upload(server, number, _jpeg())
    status, stored = server.call("POST", f"/api/v1/repair-orders/{number}/walkaround", {
        "mileage_km": None, "fuel_eighths": 5, "protection_kit": True, "valuables_taken": True, "items": {},
        "marks": [{"position": "left_front", "kind": "scratch", "x": 0.2, "y": 0.32, "note": "左前门划痕",
                   "photo": photo["id"]},
                  {"position": "rear", "kind": "dent", "x": 0.62, "y": 0.93}]})
    assert status == 200, stored
    status, estimate = server.call("GET", f"/api/v1/repair-orders/{number}/estimate")
    assert status == 200, estimate
    # a discount makes a new version: the first one, never signed, is a draft the page does not list
    status, estimate = server.call("PATCH", f"/api/v1/repair-orders/{number}/estimate",
                                   {"discount": "30.00", "discount_reason": "老客户"})
    assert status == 200, estimate
    status, signed = server.call("POST", f"/api/v1/repair-orders/{number}/estimate/signature", {
        "version": estimate["version"], "signer": "王建国",
        "signature_png": base64.b64encode(signature_png()).decode()})
    assert status == 201, signed
    found = []
    for description, hours, parts in [("右前刹车片磨损至 2 mm", 0.8, [{"number": "04465-02220", "name": "前刹车片",
                                                                "quantity": 1, "unit_price": 420}]),
                                      ("空调滤芯脏堵", 0.3, [])]:
        status, finding = server.call("POST", f"/api/v1/repair-orders/{number}/additional-work", {
            "description": description, "hours": hours, "parts": parts, "technician": "陈刚"})
        assert status == 201, finding
        found.append(int(finding["id"]))
    return server.api(f"/api/v1/repair-orders/{number}"), found


def _shot(drv: Any, name: str, *, full: bool = False) -> Path:
    """The phone's screen; `full`: the whole page at the phone's width, as far as it scrolls."""
    path = Path(SHOTS) / f"customer-page-{name}.png"
    if full:
        height = int(drv.execute_script("return document.documentElement.scrollHeight"))
        drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": PHONE[0], "height": max(height, PHONE[1]), "deviceScaleFactor": 1,
                             "mobile": False})
        time.sleep(0.4)
    drv.save_screenshot(str(path))
    if full:
        drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": False})
    return path


def _press(drv: Any, css: str) -> None:
    """Click it, again when the page redrew it meanwhile (the kiosk's order list is redrawn on every order's news)."""
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException

    for attempt in range(3):
        element = wait_for(drv, css, state="clickable")
        try:
            drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            element.click()
            return
        except (StaleElementReferenceException, ElementClickInterceptedException):
            if attempt == 2:
                raise
            time.sleep(0.3)


def _fits(drv: Any) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert drv.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]


def _prove(drv: Any, tail: str) -> None:
    field = wait_for(drv, "[data-testid=cp-tail] input, .cp-card input", state="visible")
    field.clear()
    field.send_keys(tail)
    _press(drv, "button.q-btn[data-testid=cp-prove], .cp-card button")


def test_the_customer_decides_on_the_phone_and_the_kiosk_sees_it(server: DemoServer) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    ro, (approve, decline) = _order(server)
    link, plate = ro["customer_link"], ro["plate"]
    path = "/c/" + link.rsplit("/c/", 1)[1]
    with chromium(PHONE, "--lang=zh-CN", "--accept-lang=zh-CN,zh") as phone, chromium(TABLET) as kiosk:
        phone.get(server.base + path)
        head = wait_for(phone, ".cp-plate", state="visible")
        assert "***" in head.text and head.text.endswith(plate[-2:])
        wait_for(phone, ".cp-expected, .cp-alert", state="visible")
        source = phone.page_source
        at = source.find(plate)
        assert at < 0 and ro["number"] not in source, source[max(0, at - 400):at + 100]
        assert "待您确认" in source or "查看详情" in source  # Chinese, from the browser's language
        assert not phone.find_elements("css selector", ".q-header")  # no staff frame, no staff navigation
        _fits(phone)
        _shot(phone, "zh-before")

        _prove(phone, "0000" if plate[-4:] != "0000" else "1111")
        WebDriverWait(phone, 10).until(lambda d: "不正确" in d.page_source)
        _shot(phone, "zh-wrong")
        _prove(phone, plate[-4:].lower())
        wait_for(phone, ".cp-finding button", timeout=15, state="visible")
        wait_for(phone, ".cp-dot", state="visible")
        assert len(phone.find_elements("css selector", ".cp-dot")) == 2
        assert plate[2:] in wait_for(phone, ".cp-plate").text  # proven: the plate in full
        thumb = wait_for(phone, ".cp-thumb img", state="present")
        WebDriverWait(phone, 10).until(lambda d: d.execute_script(
            "return document.querySelector('.cp-thumb img') && document.querySelector('.cp-thumb img').naturalWidth"))
        photo_url = thumb.get_attribute("src")
        source = phone.page_source
        assert "-¥30.00" in source and "¥-" not in source  # the discount as the advisor's kiosk writes it
        assert len(phone.find_elements("css selector", ".cp-version")) == 1  # the signed one; the draft left out
        _fits(phone)
        _shot(phone, "zh-after")
        _shot(phone, "zh-after-full", full=True)
        # the photo opens for this browser only
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(photo_url, timeout=10)
        assert refused.value.code == 404

        # the advisor's kiosk, open on the order, sees the findings waiting
        sign_in(kiosk, server, "张伟")
        _press(kiosk, f'[data-plate="{plate}"]')
        wait_for(kiosk, f'[data-finding="{approve}"]', timeout=15)
        wait_for(kiosk, f'[data-finding="{decline}"]')

        # the customer approves one and declines the other
        for finding, words, button in ((approve, "刹车片", "同意"), (decline, "空调滤芯", "暂不")):
            phone.execute_script(PRESS_IN_CARD, words, button)
            wait_for(phone, CONFIRM, state="clickable")
            if finding == approve:
                time.sleep(0.5)  # the dialog's opening animation
                _shot(phone, "zh-confirm")
            _press(phone, CONFIRM)
            WebDriverWait(phone, 10).until(lambda d: not d.find_elements("css selector", CONFIRM))
        WebDriverWait(phone, 15).until(lambda d: "已同意" in d.page_source and "已拒绝" in d.page_source)
        assert "王建国" in phone.page_source  # who signed the first version (the approved work makes a second)
        _shot(phone, "zh-decided", full=True)
        # the version with the approved work is the customer's own decision, not a signature still missing
        assert "您同意的增项已加入估价单" in phone.page_source and "当前版本尚未签字" not in phone.page_source

        # … and the kiosk shows both decisions by itself
        wait_for(kiosk, f'[data-finding-decided="{approve}"][data-decision="approved"]', timeout=20)
        wait_for(kiosk, f'[data-finding-decided="{decline}"][data-decision="declined"]', timeout=5)
        assert not kiosk.find_elements("css selector", f'[data-finding="{approve}"]')
        assert "客户页面" in kiosk.page_source
        kiosk.save_screenshot(str(Path(SHOTS) / "customer-page-kiosk-decided.png"))

        # the phone follows the order by itself: work found now shows up without a reload
        status, _ = server.call("POST", f"/api/v1/repair-orders/{ro['number']}/additional-work", {
            "description": "雨刮片老化", "hours": 0.2, "technician": "陈刚"})
        assert status == 201
        WebDriverWait(phone, 20).until(lambda d: "雨刮片老化" in d.page_source)

        # a wrong token: the same page with nothing on it
        phone.get(server.base + path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
        wait_for(phone, ".cp-card", state="visible")
        assert not phone.find_elements("css selector", ".cp-plate")
        assert "无效" in phone.page_source
        _shot(phone, "zh-wrong-token")

    with chromium(PHONE, "--lang=en-US", "--accept-lang=en-US,en") as phone:
        phone.get(server.base + path)
        wait_for(phone, ".cp-plate", state="visible")
        assert "See the details" in phone.page_source and plate not in phone.page_source
        _fits(phone)
        _shot(phone, "en-before")
        _prove(phone, plate[-4:])
        wait_for(phone, ".cp-dot", timeout=15, state="visible")
        WebDriverWait(phone, 10).until(lambda d: "Approved" in d.page_source and "Declined" in d.page_source)
        _fits(phone)
        _shot(phone, "en-after")
        _shot(phone, "en-after-full", full=True)
        assert "The work you approved has been added" in phone.page_source and "not signed" not in phone.page_source
