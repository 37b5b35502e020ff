"""/kiosk/walkaround/<number>, the six-position walkaround on the advisor's tablet (issue 11): in NiceGUI's simulated
browser through the composition root (readings and items saved as typed and kept across a reload, a mark placed on
the diagram and its photo attached when it arrives, a red measurement proposed as a job line, the explanation
before the estimate), the session-authenticated photo route; and in Chromium at 1280×800, a tap on the drawn car,
a photo through the file input, an upload that fails and is retried while the mark stays put."""

from __future__ import annotations

import io
import logging
import time
from typing import Any

import pytest
from nicegui.testing import User
from PIL import Image
from sqlalchemy import select

from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.domain.walkaround import Position
from shopfloor.i18n import Translator
from shopfloor.kiosk.reception.walkaround_model import ZONES, position_at
from shopfloor.main import Shopfloor
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing import chromium_pages as chromium
from shopfloor.testing.plugin import DemoServer
from shopfloor.testing.simulated_browser import scan, sees, sign_in, staff_member, until

ZH = Translator("zh-CN")
EN = Translator("en")
SHOTS = chromium.SHOTS
HOSTILE = '<img src=x onerror="window.__xss=1">'


def jpeg(size: tuple[int, int] = (640, 480), colour: str = "#c0392b") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def _new_order(system: Shopfloor, codes: tuple[str, ...] = ("M10",)) -> str:
    """A car checked in now for `codes` (M10 asks for the tyres' tread and the brake pads to be measured)."""
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    result = system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=list(codes)))
    return str(result.repair_order["number"])


async def test_the_order_on_the_kiosk_opens_its_walkaround(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _new_order(system)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open("/kiosk")
    scan(user, number)  # the order's number, as its ticket's QR
    await until(lambda: sees(user, marker="open-walkaround"))
    user.find(marker="open-walkaround").click()
    await until(lambda: sees(user, marker="stepper"))
    await user.should_see(marker="plate", content=system.repair_orders.get(number)["plate_display"])


def test_a_tap_belongs_to_the_step_when_its_zone_holds_it_else_to_the_nearest_zone() -> None:
    assert position_at(0.2, 0.3, Position.FRONT) == Position.FRONT  # the left front corner, seen from the front
    assert position_at(0.2, 0.3, Position.LEFT_FRONT) == Position.LEFT_FRONT
    assert position_at(0.2, 0.3, Position.REAR) == Position.LEFT_FRONT
    assert position_at(0.5, 0.55, None) == Position.INTERIOR
    assert position_at(0.5, 0.97, Position.INTERIOR) == Position.REAR
    assert position_at(0.95, 0.5, None) == Position.RIGHT_SIDE  # beside the car: the nearest zone
    for zone in ZONES.values():
        assert 0 <= zone[0] < zone[2] <= 1 and 0 <= zone[1] < zone[3] <= 1


async def test_walked_typed_saved_and_kept_across_a_reload(staff_app: tuple[User, Shopfloor],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    user, system = staff_app
    number = _new_order(system)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open(f"/kiosk/walkaround/{number}")
    await user.should_see(marker="stepper")
    await user.should_see(ZH("walkaround.position_hint.interior"))
    user.find(marker="mileage").type("45210").trigger("blur")  # saved once the field is left
    user.find(marker="fuel").elements.pop().set_value(3)  # the gauge at 3/8
    user.find(marker="protection-kit").click()
    user.find(marker="item-warning_lamps").elements.pop().set_value("red")
    user.find(marker="note-warning_lamps").type("发动机故障灯亮")
    user.find(marker="rest-green-interior").click()

    async def saved() -> bool:
        view = system.reception.walkaround.get(number)
        return view is not None and view.items.get("audio", {}).get("status") == "green" \
            and view.fuel_eighths == 3 and view.items.get("warning_lamps", {}).get("note") == "发动机故障灯亮"
    await until(saved, timeout=8)
    view = system.reception.walkaround.get(number)
    assert view is not None and view.mileage_km == 45210 and view.protection_kit and not view.valuables_taken
    assert view.items["warning_lamps"]["status"] == "red"
    assert system.repair_orders.get(number)["mileage_km"] == 45210

    await user.open(f"/kiosk/walkaround/{number}")  # a reload: what was typed is there
    await user.should_see(marker="stepper")
    assert user.find(marker="note-warning_lamps").elements.pop().value == "发动机故障灯亮"
    assert user.find(marker="item-warning_lamps").elements.pop().value == "red"
    # every interior item is checked: it opens at the next position
    assert user.find(marker="stepper").elements.pop().value == Position.LEFT_FRONT.value
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_an_odometer_below_the_cars_last_reading_is_saved_once_confirmed(
        staff_app: tuple[User, Shopfloor]) -> None:
    from shopfloor.domain.models import Vehicle

    user, system = staff_app
    number = _new_order(system)
    with system.db.write() as s:  # the car was read at 90 000 km on its last visit
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        vehicle = s.get(Vehicle, ro.vehicle_id) if ro is not None else None
        assert vehicle is not None
        vehicle.mileage_km = 90_000
    await sign_in(user, staff_member(system, "张伟"))
    await user.open(f"/kiosk/walkaround/{number}")
    user.find(marker="mileage").type("45210").trigger("blur")
    await until(lambda: sees(user, marker="mileage-confirm"), timeout=8)
    assert system.repair_orders.get(number)["mileage_km"] != 45210  # nothing saved before it is confirmed
    user.find(marker="mileage-confirm").click()

    async def saved() -> bool:
        view = system.reception.walkaround.get(number)
        return view is not None and view.mileage_km == 45210
    await until(saved, timeout=8)


async def test_a_mark_is_saved_first_and_its_photo_attached_when_it_arrives(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _new_order(system)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open(f"/kiosk/walkaround/{number}")
    await user.should_see(marker="car-diagram")
    user.find(marker="stepper").elements.pop().set_value(Position.LEFT_FRONT.value)
    user.find(marker="car-diagram").trigger("place", {"x": 0.2, "y": 0.3})
    await user.should_see(marker="mark-dialog")
    await user.should_see(ZH("walkaround.mark.title", n=1, position=ZH("walkaround.position.left_front")))
    # the key is the page's own: read from the diagram's provisional mark, where the tap was
    diagram = user.find(marker="car-diagram").elements.pop()
    key = diagram.props["selected"]
    assert key and any(m["key"] == key for m in diagram.props["marks"])
    user.find(marker="mark-save").click()  # no kind yet: nothing placed
    await user.should_see(marker="mark-dialog")
    user.find(marker="mark-kind").elements.pop().set_value("scratch")
    user.find(marker="mark-note").type("左前门下沿")
    user.find(marker="mark-save").click()

    async def marked() -> bool:
        view = system.reception.walkaround.get(number)
        return view is not None and len(view.marks) == 1
    await until(marked)
    mark = system.reception.walkaround.get(number).marks[0]  # type: ignore[union-attr]
    assert (mark.position, mark.kind, mark.x, mark.y, mark.note, mark.photo_id) == (
        "left_front", "scratch", 0.2, 0.3, "左前门下沿", None)

    # the photo is on its way and then stored: car_diagram.js says so, the mark gets it
    user.find(marker="car-diagram").trigger("photo_state", {"key": key, "state": "retrying", "attempt": 2})
    await user.should_see(ZH("walkaround.mark.retrying"))
    photo = system.reception.photos.upload(number, jpeg(), actor="张伟")
    user.find(marker="car-diagram").trigger("photo", {"key": key, "id": photo.id, "url": photo.url})

    async def attached() -> bool:
        view = system.reception.walkaround.get(number)
        return view is not None and [m.photo_id for m in view.marks] == [photo.id]
    await until(attached, timeout=8)
    await user.should_not_see(ZH("walkaround.mark.retrying"))
    await user.should_see(marker="view-photo-1")

    # a tap on the mark changes it; delete removes it
    user.find(marker="car-diagram").trigger("select", {"key": key})
    await user.should_see(marker="mark-delete")
    user.find(marker="mark-delete").click()
    await until(lambda: _no_marks(system, number))


async def _left(user: User) -> bool:
    return not await sees(user, marker="stepper")


async def _no_marks(system: Shopfloor, number: str) -> bool:
    view = system.reception.walkaround.get(number)
    return view is not None and view.marks == []


async def test_a_red_measurement_is_proposed_as_a_line_and_the_explanation_leads_to_the_estimate(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _new_order(system)
    lines_before = len(system.repair_orders.get(number)["job_lines"])
    await sign_in(user, staff_member(system, "李娜"))
    await user.open(f"/kiosk/walkaround/{number}?lang=en")
    await user.should_see(marker="stepper")
    user.find(marker="stepper").elements.pop().set_value(Position.LEFT_FRONT.value)
    await user.should_see(marker="measure-brake_pad_front")
    user.find(marker="measure-brake_pad_front").elements.pop().set_value(1.5)
    await user.should_see(marker="light-brake_pad_front", content=EN("walkaround.status.red"))
    user.find(marker="propose-brake_pad_front").click()

    async def proposed() -> bool:
        return len(system.repair_orders.get(number)["job_lines"]) == lines_before + 1
    await until(proposed, timeout=8)
    line = system.repair_orders.get(number)["job_lines"][-1]
    await user.should_see(marker="proposed-brake_pad_front")
    # the item in the page's language; the line's description as stored (in the site's language)
    item = EN("walkaround.item.brake_pad_front")
    shown = next(iter(user.find(marker="proposed-brake_pad_front").elements)).text
    assert shown.startswith(f"Proposed: {item} ({line['description']} · ") and shown.endswith(")"), shown
    assert "¥" in shown and "Job line" not in shown
    view = system.reception.walkaround.get(number)
    assert view is not None and view.items["brake_pad_front"]["value"] == 1.5
    assert view.items["brake_pad_front"]["job_line"] == line["id"]

    user.find(marker="stepper").elements.pop().set_value("explain")
    await user.should_see(f"{EN('walkaround.item.brake_pad_front')} 1.5 mm")
    user.find(marker="continue-estimate").click()  # not explained yet: stays
    await user.should_see(EN("walkaround.page.explain_first"))
    user.find(marker="explained").click()
    user.find(marker="continue-estimate").click()
    await until(lambda: _left(user), timeout=8)  # on the estimate's page
    view = system.reception.walkaround.get(number)
    assert view is not None and view.explained
    # opened again: the proposal read from the order says the same, without the price it was proposed at
    await user.open(f"/kiosk/walkaround/{number}?lang=en")
    user.find(marker="stepper").elements.pop().set_value(Position.LEFT_FRONT.value)
    await user.should_see(marker="proposed-brake_pad_front")
    hours = f"{float(line['hours']):g}"
    assert next(iter(user.find(marker="proposed-brake_pad_front").elements)).text == \
        EN("walkaround.page.proposed_line", item=item, line=line["description"], hours=hours)


def _earlier_visit(system: Shopfloor) -> tuple[str, str]:
    """A car that was here before, delivered with a walkaround of one scratch: checked in again now. (new order,
    the earlier order)"""
    from datetime import timedelta

    from shopfloor.domain.reception_models import DamageMark, Walkaround

    with system.db.write() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        old = s.scalars(select(RepairOrder).where(RepairOrder.status == "delivered",
                                                  RepairOrder.vehicle_id.not_in(busy),
                                                  RepairOrder.vehicle_id.in_(select(QrTag.vehicle_id)))
                        .order_by(RepairOrder.opened_at.desc())).first()
        assert old is not None
        at = old.opened_at + timedelta(minutes=20)
        s.add(Walkaround(repair_order_id=old.id, items={}, recorded_at=at, recorded_by="李娜"))
        s.add(DamageMark(repair_order_id=old.id, vehicle_id=old.vehicle_id, position="rear", kind="dent", x=0.5,
                         y=0.93, note="后保险杠凹陷", created_at=at, created_by="李娜"))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id == old.vehicle_id))
        earlier = old.number
    assert tag is not None
    number = system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order["number"]
    return str(number), earlier


async def test_last_visits_marks_are_drawn_faded_with_their_day(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number, earlier = _earlier_visit(system)
    [mark] = system.reception.walkaround.earlier_marks(number)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open(f"/kiosk/walkaround/{number}")
    await user.should_see(ZH("walkaround.page.earlier_legend", date=mark.on.isoformat(), number=earlier))
    diagram = user.find(marker="car-diagram").elements.pop()
    [drawn] = diagram.props["earlier"]
    assert (drawn["x"], drawn["y"]) == (0.5, 0.93)
    assert drawn["title"] == ZH("walkaround.page.earlier_mark", kind=ZH("walkaround.kind.dent"),
                                position=ZH("walkaround.position.rear"), date=mark.on.isoformat(),
                                number=earlier) + " · 后保险杠凹陷"
    assert diagram.props["marks"] == []  # not this visit's: nothing to record again
    user.find(marker="car-diagram").trigger("earlier", {"index": 0})
    await user.should_see(drawn["title"])


# --- the photo route ---------------------------------------------------------------------------------------------

async def test_the_photo_route_takes_a_signed_in_advisors_photo_and_refuses_the_rest(
        staff_app: tuple[User, Shopfloor]) -> None:
    """As car_diagram.js sends it: the image's bytes, the session's cookie and the X-Shopfloor-Photo header."""
    import httpx
    from nicegui import app

    user, system = staff_app
    number = _new_order(system)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as anonymous:
        answer = await anonymous.post(f"/kiosk/photos/{number}", content=jpeg(), headers={"X-Shopfloor-Photo": "1"})
        assert answer.status_code == 401
    await sign_in(user, staff_member(system, "张伟"))
    cookies = dict(user.http_client.cookies)  # the simulated browser's session: signed in as 张伟
    assert cookies
    async with httpx.AsyncClient(transport=transport, base_url="http://test", cookies=cookies) as tablet:
        headers = {"X-Shopfloor-Photo": "1"}
        assert (await tablet.post(f"/kiosk/photos/{number}", content=jpeg())).status_code == 403  # no header
        forged = await tablet.post(f"/kiosk/photos/{number}", content=jpeg(),
                                   headers={**headers, "Origin": "http://evil.example"})
        assert forged.status_code == 403
        text = await tablet.post(f"/kiosk/photos/{number}", content=b"not a photo at all", headers=headers)
        assert text.status_code == 415 and text.json()["detail"] == ZH("walkaround.error.not_an_image")
        big = await tablet.post(f"/kiosk/photos/{number}", headers=headers,
                                content=b"\xff\xd8\xff" + b"\x00" * (system.settings.reception.photo_max_mb << 20))
        assert big.status_code == 413
        stored = await tablet.post(f"/kiosk/photos/{number}", content=jpeg((4000, 3000)), headers=headers)
        assert stored.status_code == 201, stored.text
        body = stored.json()
        assert body["url"].startswith("/photos/") and max(body["width"], body["height"]) == \
            system.settings.reception.photo_max_px
        assert system.reception.photos.photo(number, body["id"]) is not None
        unknown = await tablet.post("/kiosk/photos/RO20990101-001", content=jpeg(), headers=headers)
        assert unknown.status_code == 404


# --- Chromium, against the demo as `shopfloor demo` runs it ------------------------------------------------------

def _checked_in(server: DemoServer) -> str:
    """A car checked in now from a booking."""
    waiting = next(a for a in server.api("/api/v1/appointments") if a["status"] in ("booked", "confirmed", "late"))
    status, answer = server.call("POST", "/api/v1/checkins", {"tag": waiting["tag"]})
    assert status in (200, 201), answer
    return str(answer["repair_order"]["number"])


def _tap(drv: Any, x: float, y: float) -> None:
    """A tap on the drawn car at (x, y), fractions of the 400×600 drawing (the diagram's box is exactly 2:3)."""
    from selenium.webdriver.common.action_chains import ActionChains

    svg = chromium.wait_for(drv, "[data-testid=car-diagram]", state="visible")
    box = svg.rect
    ActionChains(drv).move_to_element_with_offset(svg, int((x - 0.5) * box["width"]),
                                                  int((y - 0.5) * box["height"])).click().perform()


def _step(drv: Any, title: str) -> None:
    drv.find_element("xpath", f"//div[contains(@class,'q-stepper__tab')][.//*[normalize-space(text())='{title}']]") \
        .click()
    time.sleep(0.6)


def _sides_read_downwards(drv: Any, left: str, right: str) -> None:
    """Both sides' labels written the same way, downwards beside the car (a right side turned by rotate(90) read
    upside down in Chinese): no rotation, vertical writing, taller than wide, each beside its own side."""
    for testid, text in (("diagram-left", left), ("diagram-right", right)):
        found = drv.execute_script(
            "const e = document.querySelector(arguments[0]); const r = e.getBoundingClientRect();"
            "const svg = e.ownerSVGElement.getBoundingClientRect();"
            "return [e.textContent, e.getAttribute('transform'), getComputedStyle(e).writingMode,"
            " r.width, r.height, (r.left + r.width / 2 - svg.left) / svg.width];", f"[data-testid={testid}]")
        label, transform, mode, width, height, where = found
        assert (label, transform, mode) == (text, None, "vertical-rl"), found
        assert height > width > 0, found
        assert (where < 0.1) if testid == "diagram-left" else (where > 0.9), found


def _walkaround(server: DemoServer, number: str) -> dict[str, Any]:
    return server.api(f"/api/v1/repair-orders/{number}/walkaround")


def _marks(server: DemoServer, number: str) -> list[dict[str, Any]]:
    """The walkaround's marks as stored; none while the page's first save is on its way (a 404 until then: the
    mark is drawn on the car before the server has it)."""
    return list(_walkaround(server, number).get("marks", []))


@pytest.mark.browser
def test_marks_tapped_on_the_car_and_a_photo_sent_through_a_broken_network(demo_server: DemoServer, driver: Any,
                                                                          tmp_path: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    drv = driver
    number = _checked_in(demo_server)
    chromium.sign_in(drv, demo_server, "张伟", path=f"/kiosk/walkaround/{number}")
    chromium.wait_for(drv, "[data-testid=car-diagram]", state="visible")
    time.sleep(0.8)
    drv.save_screenshot(f"{SHOTS}/walkaround-interior-zh.png")
    _sides_read_downwards(drv, ZH("walkaround.diagram.left"), ZH("walkaround.diagram.right"))

    _step(drv, ZH("walkaround.position.left_front"))
    _tap(drv, 0.2, 0.3)  # the left front door
    chromium.wait_for(drv, ".q-dialog", state="visible")
    time.sleep(0.4)
    drv.save_screenshot(f"{SHOTS}/walkaround-mark-dialog-zh.png")
    chromium.press(drv, ZH("walkaround.kind.scratch"))
    drv.find_element("css selector", ".q-dialog input[type=text], .q-dialog input:not([type])").send_keys("左前门下沿")
    chromium.press(drv, ZH("walkaround.mark.place"))
    chromium.wait_for(drv, "[data-mark][data-kind=scratch]")
    WebDriverWait(drv, 10).until(lambda _d: len(_marks(demo_server, number)) == 1)
    mark = _walkaround(demo_server, number)["marks"][0]
    assert (mark["position"], mark["kind"], mark["note"], mark["photo"]) == ("left_front", "scratch", "左前门下沿",
                                                                              None)
    assert abs(mark["x"] - 0.2) < 0.02 and abs(mark["y"] - 0.3) < 0.02

    # the photo, while the network to the server is broken: the mark stays, the page says it is retrying
    photo = tmp_path / "scratch.jpg"
    photo.write_bytes(jpeg((1600, 1200)))
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/kiosk/photos/*"]})
    chromium.press(drv, ZH("walkaround.mark.photo"))
    drv.find_element("css selector", "[data-testid=photo-input]").send_keys(str(photo))
    WebDriverWait(drv, 10).until(lambda d: ZH("walkaround.mark.retrying") in d.find_element("tag name", "body").text)
    assert drv.find_elements("css selector", "[data-testid=photo-pending]")
    time.sleep(0.3)
    drv.save_screenshot(f"{SHOTS}/walkaround-photo-retrying-zh.png")
    assert _walkaround(demo_server, number)["marks"][0]["photo"] is None  # the mark is kept without it
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    chromium.press(drv, ZH("walkaround.mark.retry_now"))
    WebDriverWait(drv, 15).until(lambda _d: _walkaround(demo_server, number)["marks"][0]["photo"] is not None)
    WebDriverWait(drv, 10).until(lambda d: not d.find_elements("css selector", "[data-testid=photo-pending]"))
    kept = _walkaround(demo_server, number)["marks"][0]
    assert (kept["x"], kept["y"]) == (mark["x"], mark["y"])

    # a second mark, on the right side; then the explanation and on to the estimate
    _step(drv, ZH("walkaround.position.right_side"))
    _tap(drv, 0.8, 0.55)
    chromium.wait_for(drv, ".q-dialog", state="visible")
    chromium.press(drv, ZH("walkaround.kind.dent"))
    drv.find_element("css selector", ".q-dialog input[type=text], .q-dialog input:not([type])").send_keys(HOSTILE)
    chromium.press(drv, ZH("walkaround.mark.place"))
    WebDriverWait(drv, 10).until(lambda _d: len(_marks(demo_server, number)) == 2)
    assert _walkaround(demo_server, number)["marks"][1]["position"] == "right_side"
    assert HOSTILE in drv.find_element("tag name", "body").text  # shown as the words typed, nothing run
    assert drv.execute_script("return window.__xss") is None
    time.sleep(0.5)
    drv.save_screenshot(f"{SHOTS}/walkaround-marks-zh.png")
    _step(drv, ZH("walkaround.position.explain"))
    drv.find_element("xpath", f"//*[normalize-space(text())='{ZH('walkaround.page.explained')}']").click()
    time.sleep(0.5)
    drv.save_screenshot(f"{SHOTS}/walkaround-explain-zh.png")
    chromium.press(drv, ZH("walkaround.page.continue_estimate"))
    WebDriverWait(drv, 10).until(lambda d: f"/kiosk/estimate/{number}" in d.current_url)
    assert _walkaround(demo_server, number)["explained"] is True

    drv.get(f"{demo_server.base}/kiosk/walkaround/{number}?lang=en")  # in English, the marks as they were left
    chromium.wait_for(drv, "[data-mark][data-kind=dent]")
    time.sleep(0.8)
    drv.save_screenshot(f"{SHOTS}/walkaround-en.png")
    _sides_read_downwards(drv, EN("walkaround.diagram.left"), EN("walkaround.diagram.right"))
