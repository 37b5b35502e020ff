"""/workshop/station, the technician's bay station (issue 10), in NiceGUI's simulated browser through the composition
root: a badge scan signs a technician in and another switches; a ticket scan (the QR's URL) clocks on; pause with a
reason; finish and the self check; additional work found, with a photo, reported for the advisor. And in Chromium,
a keyboard-wedge scanner typing the badge and the ticket; the badge sheet; the photo route."""

from __future__ import annotations

import base64
import logging
import time
from typing import Any, cast

import httpx
import pytest
from nicegui import app, ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from shopfloor.domain.workshop import ticket_url
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.audit import AuditService, Entity
from shopfloor.services.workshop.photos import PhotoStore, kind_of
from shopfloor.testing import chromium_pages as chromium
from shopfloor.testing.plugin import DemoServer
from shopfloor.testing.simulated_browser import scan, sees, sign_in, staff_member, until
from shopfloor.testing.workshop import new_order

TECHNICIAN, OTHER = "陈刚", "杨帆"  # the demo's repair technicians; 陈刚 is also a staff member (PIN 9999)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ZH = Translator("zh-CN")
SHOTS = chromium.SHOTS


def _tech(system: Shopfloor, name: str) -> tuple[int, str]:
    tech = next(t for t in system.repair_orders.technicians() if t["name"] == name)
    return tech["id"], system.workshop.clocking.badges()[tech["id"]]


async def _at_station(user: User, system: Shopfloor, name: str = TECHNICIAN) -> tuple[int, str]:
    """陈刚 opens the station with his PIN and scans `name`'s badge; their id and next job's number."""
    await sign_in(user, staff_member(system, TECHNICIAN))
    await user.open("/workshop/station")
    await user.should_see(marker="scan-badge")
    tech_id, badge = _tech(system, name)
    scan(user, badge)
    await until(lambda: sees(user, marker="bay-technician", content=name))
    number = system.workshop.clocking.next_job(tech_id).repair_order
    assert number is not None
    await user.should_see(marker="next-ro", content=number)
    return tech_id, number


async def test_a_badge_signs_in_and_another_switches(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    first_id, first_job = await _at_station(user, system)
    nxt = system.workshop.clocking.next_job(first_id)
    await user.should_see(marker="complaint", content=nxt.complaint or "")
    await user.should_see(marker="parts-status")
    scan(user, ticket_url("https://shop.example", first_job))  # a ticket before any badge would be refused
    await until(lambda: sees(user, marker="current-job"))

    other_id, other_badge = _tech(system, OTHER)
    scan(user, other_badge.lower() + "\n")  # as some scanners type it: the token is found in any case
    await until(lambda: sees(user, marker="bay-technician", content=OTHER))
    await user.should_not_see(marker="current-job")  # 杨帆 is on nothing
    await user.should_see(marker="next-ro", content=system.workshop.clocking.next_job(other_id).repair_order or "")
    assert system.workshop.clocking.open_of(first_id) is not None  # switching the bay does not clock 陈刚 off

    await user.open("/workshop/station")  # the bay keeps its technician across a reload
    await user.should_see(marker="bay-technician", content=OTHER)

    user.find(marker="station-sign-out").click()
    await until(lambda: sees(user, marker="scan-badge"))
    scan(user, first_job)
    await until(lambda: sees(user, target="请先扫描工牌登录，再扫描施工单"))


async def test_ticket_scan_clocks_on_pause_and_switch(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    tech_id, number = await _at_station(user, system)
    scan(user, ticket_url("http://shop.example:8080", number))
    await until(lambda: sees(user, marker="current-ro", content=number))
    await user.should_see(marker="running-clock")
    clocking = system.workshop.clocking.open_of(tech_id)
    assert clocking is not None and clocking.repair_order == number

    user.find(marker="pause").click()
    await until(lambda: sees(user, marker="pause-waiting_parts"))
    user.find(marker="pause-waiting_parts").click()
    await until(lambda: sees(user, marker="scan-ticket"))
    await until(lambda: _not(sees(user, marker="current-job")))
    stopped = system.workshop.clocking.get(clocking.id)
    assert stopped.outcome == "paused" and stopped.pause_reason == "waiting_parts"
    assert system.repair_orders.get(number)["status"] == "on_hold"
    # the held order waits at the end of the queue with its reason
    await until(lambda: sees(user, marker=f"queue-{number}"))

    # a typed number clocks on as a scan does
    user.find(marker="manual-ticket").type(number).trigger("keydown.enter")
    await until(lambda: sees(user, marker="current-ro", content=number))
    assert system.workshop.clocking.open_of(tech_id) is not None


async def _not(check: Any) -> bool:
    return not await check


async def test_finish_then_the_self_check(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    tech_id, number = await _at_station(user, system)
    scan(user, number)
    await until(lambda: sees(user, marker="current-ro", content=number))
    user.find(marker="finish").click()
    await until(lambda: sees(user, marker="self-check"))
    assert system.repair_orders.get(number)["status"] == "quality_check"
    user.find(marker="self-fail").click()
    await until(lambda: sees(user, marker="self-reason"))
    user.find(marker="self-reason").type("出风口仍有异味")
    user.find(marker="self-fail-confirm").click()
    await until(lambda: sees(user, target=f"{number} 自检不合格，已退回返工"))
    rework = [r for r in system.workshop.quality.rework() if r.number == number]
    assert [(r.stage, r.reason, r.responsible_id) for r in rework] == [("self", "出风口仍有异味", tech_id)]
    # sent back: first in 陈刚's queue again; clock on, finish, and this time it passes
    await until(lambda: sees(user, marker="next-ro", content=number))
    scan(user, number)
    await until(lambda: sees(user, marker="current-ro", content=number))
    user.find(marker="finish").click()
    await until(lambda: sees(user, marker="self-pass"))
    user.find(marker="self-pass").click()
    await until(lambda: sees(user, target=f"{number} 自检合格，等待主管检验"))
    checks = [(r.stage, r.passed) for r in system.workshop.quality.results(number)]
    assert checks == [("self", False), ("self", True)]
    audit = AuditService(system.ctx).read(Entity.REPAIR_ORDER, number)
    assert {(row.action, row.actor) for row in audit} >= {("clock_on", TECHNICIAN), ("qc", TECHNICIAN)}


async def test_a_self_check_left_for_later_waits_on_the_station(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    _tech_id, number = await _at_station(user, system)
    scan(user, number)
    await until(lambda: sees(user, marker="current-ro", content=number))
    user.find(marker="finish").click()
    await until(lambda: sees(user, marker="self-later"))
    user.find(marker="self-later").click()
    await until(lambda: sees(user, marker=f"self-check-{number}"))
    assert system.workshop.quality.results(number) == []
    user.find(marker=f"self-check-{number}").click()
    await until(lambda: sees(user, marker="self-pass"))
    user.find(marker="self-pass").click()
    await until(lambda: sees(user, target=f"{number} 自检合格，等待主管检验"))
    await until(lambda: _not(sees(user, marker=f"self-check-{number}")))
    assert [(r.stage, r.passed) for r in system.workshop.quality.results(number)] == [("self", True)]


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() + str(r.exc_info or "") for r in caplog.records if r.levelno >= logging.ERROR]


async def test_finishing_one_of_two_lines_says_the_rest_is_open(staff_app: tuple[User, Shopfloor],
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """The first of two lines done: the notice shows, no self check yet, and nothing in the log (a notice from a
    deleted slot raised 'parent element deleted'; a dialog deleted twice 'list.remove(x)')."""
    user, system = staff_app
    tech_id, _first = await _at_station(user, system)
    # an order of two lines, both 陈刚's: he takes up the first only
    number = new_order(cast(Any, system), "OIL", "WSH")
    system.workshop.dispatch.dispatch(number, tech_id, actor="郑强", override="test")
    lines = system.repair_orders.get(number)["job_lines"]
    _id, badge = _tech(system, TECHNICIAN)
    system.workshop.clocking.clock_on(badge, number, actor=TECHNICIAN, job_lines=[lines[0]["id"]])
    await user.open("/workshop/station")
    await until(lambda: sees(user, marker="current-ro", content=number))
    user.find(marker="finish").click()
    await until(lambda: sees(user, target=f"{number} 还有其他作业未完成：全部完工后再做自检"))
    await user.should_not_see(marker="self-check")
    assert system.repair_orders.get(number)["status"] != "quality_check"
    # a pause and additional work after it: each dialog opens, closes and is deleted once
    scan(user, number)
    await until(lambda: sees(user, marker="current-ro", content=number))
    user.find(marker="pause").click()
    await until(lambda: sees(user, marker="pause-break"))
    user.find(marker="pause-break").click()
    await until(lambda: _not(sees(user, marker="current-job")))
    user.find(marker="additional").click()
    await until(lambda: sees(user, marker="aw-cancel"))
    user.find(marker="aw-cancel").click()
    await until(lambda: _not(sees(user, marker="additional-dialog")))
    assert _errors(caplog) == []


async def test_a_pause_for_another_reason_asks_why(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    tech_id, number = await _at_station(user, system)
    scan(user, number)
    await until(lambda: sees(user, marker="current-ro", content=number))
    clocking = system.workshop.clocking.open_of(tech_id)
    assert clocking is not None
    user.find(marker="pause").click()
    await until(lambda: sees(user, marker="pause-other"))
    user.find(marker="pause-other").click()
    await until(lambda: sees(user, marker="pause-note"))
    user.find(marker="pause-other-confirm").click()  # no words: the dialog stays, nothing is stopped
    await until(lambda: sees(user, target="请填写暂停原因"))
    assert system.workshop.clocking.open_of(tech_id) is not None
    user.find(marker="pause-note").type("举升机故障，等待维修")
    user.find(marker="pause-other-confirm").click()
    await until(lambda: sees(user, target=f"已暂停：{number}（举升机故障，等待维修）"))
    stopped = system.workshop.clocking.get(clocking.id)
    assert (stopped.outcome, stopped.pause_reason) == ("paused", "other")
    off = [row for row in AuditService(system.ctx).read(Entity.REPAIR_ORDER, number) if row.action == "clock_off"]
    assert off and off[-1].detail["note"] == "举升机故障，等待维修"


async def test_a_scan_that_looks_like_a_badge_is_refused_as_a_badge(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await _at_station(user, system)
    scan(user, "SFB-WRONGBADGE123")
    await until(lambda: sees(user, target="这不是技师工牌：SFB-WRONGBADGE123"))
    await user.should_see(marker="bay-technician", content=TECHNICIAN)  # the bay keeps its technician
    scan(user, "SFB-" + "A" * 24)  # well formed, held by no one
    await until(lambda: sees(user, target="没有技师使用此工牌（工牌丢失请在设置数据中补发）"))


async def test_the_self_check_lists_the_orders_lines(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    _tech_id, number = await _at_station(user, system)
    scan(user, number)
    await until(lambda: sees(user, marker="current-ro", content=number))
    user.find(marker="finish").click()
    await until(lambda: sees(user, marker="self-check-lines"))
    for line in system.repair_orders.get(number)["job_lines"]:
        await user.should_see(marker="self-check-line", content=line["description"])
    await user.should_see(marker="self-check-who", content=TECHNICIAN)


async def test_additional_work_with_a_photo_is_reported_for_the_advisor(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    tech_id, number = await _at_station(user, system)
    scan(user, number)
    await until(lambda: sees(user, marker="current-ro", content=number))
    user.find(marker="additional").click()
    await until(lambda: sees(user, marker="additional-dialog"))
    user.find(marker="aw-description").type("前刹车片磨损到限")
    user.find(marker="aw-hours").elements.pop().set_value(1.5)
    user.find(marker="aw-parts").type("04465-02220，刹车片")
    upload = user.find(ui.upload).elements.pop()
    with user.client:  # type: ignore[union-attr]
        await upload.handle_uploads([SmallFileUpload("brake.png", "image/png", PNG)])
    await until(lambda: sees(user, target="照片已添加"))
    user.find(marker="aw-send").click()
    await until(lambda: sees(user, target="已报告服务顾问：前刹车片磨损到限"))
    found = system.workshop.additional_work.for_order(number)
    assert len(found) == 1
    finding = found[0]
    assert (finding.status, finding.hours, finding.technician_id) == ("pending", 1.5, tech_id)
    assert [p.number or p.name for p in finding.parts] == ["04465-02220", "刹车片"]  # a name alone, or as a number
    assert finding.photo is not None and finding.photo.endswith(".png")
    assert (system.options.data_dir / "photos" / finding.photo).read_bytes() == PNG
    # the order's state (the kiosk's panel reads it) carries the pending finding and where its photo is
    state = system.repair_orders.get(number)
    assert state["additional_work"][0]["photo"] == f"/photos/{finding.photo}"
    # the photo is for signed-in staff only
    assert user.http_client is not None
    answer = await user.http_client.get(f"/photos/{finding.photo}")
    assert answer.status_code == 200 and answer.content == PNG
    assert answer.headers["content-type"] == "image/png"
    assert (await user.http_client.get("/photos/..%2Fshopfloor.sqlite3")).status_code == 404
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as stranger:
        assert (await stranger.get(f"/photos/{finding.photo}")).status_code == 401


async def test_a_picked_catalogue_operation_fills_the_hours_and_the_words(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    _tech_id, number = await _at_station(user, system)
    user.find(marker="additional").click()  # on the next job, before clocking on
    await until(lambda: sees(user, marker="aw-operation"))
    user.find(marker="aw-operation").elements.pop().set_value("BRK")
    assert user.find(marker="aw-hours").elements.pop().value == 1.5
    user.find(marker="aw-send").click()
    await until(lambda: sees(user, target="已报告服务顾问：更换前刹车片"))
    (finding,) = system.workshop.additional_work.for_order(number)
    assert (finding.operation_code, finding.photo) == ("BRK", None)


async def test_a_dispatch_heard_on_the_bus_redraws_the_station(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    tech_id, number = await _at_station(user, system)
    # an order 杨帆 has not started: the foreman gives it to 陈刚 instead
    waiting = next(ro for ro in system.repair_orders.open_orders() if ro["number"] != number
                   and all(line["status"] in ("waiting", "dispatched") for line in ro["job_lines"]))
    state = system.workshop.dispatch.dispatch(waiting["number"], tech_id, actor="郑强", override="test")
    await user.should_see(marker="next-ro", content=number)  # the station reads when the bus says so
    system.board_store.changed.emit("repair-orders", waiting["number"], state)  # as the feed hands it on
    # dispatch put it first: his next job now, the one he had waits in the queue
    await until(lambda: sees(user, marker="next-ro", content=waiting["number"]))
    await user.should_see(marker=f"queue-{number}")


def test_only_images_are_kept_as_photos(tmp_path: Any) -> None:
    from shopfloor.domain.errors import Invalid

    store = PhotoStore(tmp_path)
    assert kind_of(b"\xff\xd8\xff\xe0rest") == "jpg" and kind_of(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    for bad in (b"", b"<svg onload=alert(1)>", b"GIF89a....", b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024)):
        with pytest.raises(Invalid):
            store.save(bad)
    name = store.save(PNG)
    assert store.path(name) == tmp_path / "photos" / name
    assert store.path("../" + name) is None and store.path(name.upper()) is None
    store.discard(name)
    assert store.path(name) is None


async def test_badge_sheet_for_the_foreman_not_the_technician(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, TECHNICIAN))
    await user.open("/workshop/badges")
    await user.should_see(marker="not-allowed")
    user.find(marker="log-out").click()
    await until(lambda: sees(user, marker="pin-OK") or sees(user, marker=f"advisor-{staff_member(system, '郑强').id}"))
    await sign_in(user, staff_member(system, "郑强"))
    await user.open("/workshop/station")
    await user.should_see(marker="badges-link")
    await user.open("/workshop/badges")
    await user.should_see(marker="badge-sheet")
    assert len(user.find(marker="badge-card").elements) == len(system.repair_orders.technicians())


# --- Chromium, against the demo as `shopfloor demo` runs it ----------------------------------------------------

def _job_to_dispatch(server: DemoServer) -> str:
    """An open order with a line not started yet, or else a car checked in for it now."""
    for ro in server.api("/api/v1/repair-orders"):
        if any(line["status"] in ("waiting", "dispatched") for line in ro["job_lines"]):
            return str(ro["number"])
    waiting = next(a for a in server.api("/api/v1/appointments") if a["status"] in ("booked", "confirmed", "late"))
    status, answer = server.call("POST", "/api/v1/checkins", {"tag": waiting["tag"]})
    assert status in (200, 201), answer
    return str(answer["repair_order"]["number"])


def _ticks(drv: Any) -> bool:
    """Whether the running clock's text changes by itself (the same element: station_clock.js, not a redraw)."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    for _ in range(5):
        try:
            clock = drv.find_element("css selector", "[data-testid=running-clock]")
            before = clock.text
            WebDriverWait(drv, 3, poll_frequency=0.1).until(lambda _d, c=clock, b=before: c.text != b)
            return True
        except StaleElementReferenceException:
            continue  # redrawn meanwhile (the bus told the station): try the new one
        except TimeoutException:
            return False
    return False


@pytest.mark.browser
def test_wedge_scanner_signs_in_and_clocks_on(demo_server: DemoServer, wall_driver: Any) -> None:
    """Badge and ticket typed by a keyboard-wedge scanner; the foreman's dispatch reaches the station over the bus;
    the clock runs in the browser."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    drv = wall_driver
    tech = {t["name"]: t for t in demo_server.api("/api/v1/technicians")}[TECHNICIAN]
    chromium.sign_in(drv, demo_server, TECHNICIAN, path="/workshop/station")
    chromium.wait_for(drv, "[data-testid=scan-badge]")
    drv.save_screenshot(f"{SHOTS}/station-empty-1920.png")
    ActionChains(drv).send_keys(tech["badge"] + Keys.ENTER).perform()  # as a keyboard-wedge scanner types it
    assert chromium.wait_for(drv, "[data-testid=bay-technician]").text == TECHNICIAN

    number = _job_to_dispatch(demo_server)
    status, answer = demo_server.call("POST", f"/api/v1/repair-orders/{number}/dispatch", {
        "technician": tech["id"], "override": {"reason": "station test"}})
    assert status == 200, answer
    chromium.wait_for(drv, f"[data-ro='{number}']")  # the station heard it from the bus
    drv.save_screenshot(f"{SHOTS}/station-next-1920.png")

    ActionChains(drv).send_keys(f"{demo_server.base}/ro/{number}" + Keys.ENTER).perform()
    chromium.wait_for(drv, "[data-testid=running-clock]")
    assert chromium.wait_for(drv, "[data-testid=current-ro]").text == number
    assert _ticks(drv), "the running clock does not count on in the browser"
    drv.save_screenshot(f"{SHOTS}/station-working-1920.png")
    chromium.press(drv, ZH("station.additional"))
    chromium.wait_for(drv, ".q-dialog .q-uploader", state="visible")
    time.sleep(0.4)
    drv.save_screenshot(f"{SHOTS}/station-additional-1920.png")
    chromium.press(drv, ZH("station.cancel"))
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    time.sleep(0.5)
    drv.save_screenshot(f"{SHOTS}/station-working-1280.png")
    chromium.press(drv, ZH("station.pause"))
    time.sleep(0.4)
    drv.save_screenshot(f"{SHOTS}/station-pause-1280.png")
    chromium.press(drv, ZH("workshop.pause.break"))
    chromium.wait_for(drv, "[data-testid=next-job]")
    WebDriverWait(drv, 10).until(lambda d: not d.find_elements("css selector", "[data-testid=current-job]"))
    assert demo_server.api(f"/api/v1/technicians/{tech['id']}/next-job")["current"] is None
    drv.save_screenshot(f"{SHOTS}/station-paused-1280.png")
    drv.get(demo_server.base + "/workshop/station?lang=en")  # the bay keeps its technician; in English
    chromium.wait_for(drv, "[data-testid=next-job]")
    assert chromium.wait_for(drv, "[data-testid=bay-technician]").text == TECHNICIAN
    time.sleep(0.5)
    drv.save_screenshot(f"{SHOTS}/station-en-1280.png")


@pytest.mark.browser
def test_badge_sheet_carries_each_badge_as_a_readable_qr(demo_server: DemoServer, driver: Any) -> None:
    from PIL import Image
    from pyzbar.pyzbar import decode

    techs = demo_server.api("/api/v1/technicians")
    chromium.sign_in(driver, demo_server, "郑强", path="/workshop/station")
    chromium.press(driver, ZH("station.badges"))  # the station's way to the sheet
    chromium.wait_for(driver, "[data-testid=badge-sheet]")
    time.sleep(0.5)
    driver.save_screenshot(f"{SHOTS}/badges-1280.png")
    cards = driver.find_elements("css selector", ".badge-card")
    assert len(cards) == len(techs)
    card = cards[0]
    card.screenshot(f"{SHOTS}/badge-card.png")
    found = {d.data.decode() for d in decode(Image.open(f"{SHOTS}/badge-card.png"))}
    assert found == {techs[0]["badge"]}
    assert techs[0]["name"] in card.text
    # as printed: A4 at 96 dpi, the navigation and the button gone, two columns of cards
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 794, "height": 1123, "deviceScaleFactor": 1, "mobile": False})
    time.sleep(0.5)
    driver.save_screenshot(f"{SHOTS}/badges-print-a4.png")
    assert not driver.find_element("css selector", ".q-header").is_displayed()
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69, "marginTop": 0.4,
                                                     "marginBottom": 0.4, "marginLeft": 0.4, "marginRight": 0.4,
                                                     "preferCSSPageSize": True})
    pages = base64.b64decode(pdf["data"]).count(b"/Type /Page") - base64.b64decode(pdf["data"]).count(b"/Type /Pages")
    assert pages == -(-len(techs) // 10), pages  # ten cards a sheet
