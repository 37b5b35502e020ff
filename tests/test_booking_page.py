"""Booking: the confirmation slip and text (shopfloor/services/confirmations.py) on a seeded demo site, and the
/booking page in real headless Chromium: find a car by part of its plate, choose the work, tap the best slot, see
the confirmation, print the slip through the printer agent."""

from __future__ import annotations

import json
import random
import re
import time
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shopfloor.contract import payloads, topics
from shopfloor.domain.identifiers import display_plate, with_check_digit
from shopfloor.domain.models import OutboxMessage, PrintJob
from shopfloor.i18n import Translator
from shopfloor.printer.inspect import decode_raster_images, text_lines
from shopfloor.printer.ticket import PrinterProfile
from shopfloor.services.booking import BookingRequest
from shopfloor.services.confirmations import ConfirmationData, ConfirmationService, render_confirmation
from shopfloor.testing.chromium_pages import click_css, first_advisor, sign_in, wait_for
from shopfloor.testing.plugin import DemoServer, Services

TOMORROW = date(2026, 11, 24)  # the day after DEMO_NOW


def _book(services: Services, codes: list[str], **extra: Any) -> dict[str, Any]:
    lines = services.booking.lines(codes=codes)
    slot = services.booking.propose_slots(TOMORROW, lines)[0]
    plate = services.appointments.list_day(services.ctx.today())[0]["plate"]
    return services.booking.book(BookingRequest(start=datetime.fromisoformat(slot["start"]), lines=lines,
                                                actor="张伟", plate=plate, advisor_id=slot["advisor"]["id"], **extra))


def test_confirmation_slip_prints_through_the_queue(services: Services) -> None:
    appt = _book(services, ["M20", "DGN"], parts_status="to_order", parts_eta=TOMORROW, parts_numbers="04465-02220")
    confirmations = ConfirmationService(services.ctx, services.printing)

    job = confirmations.print_confirmation(appt["id"], "reception", "张伟")

    assert job.status == "pending" and job.ro_number is None and not job.reprint
    with services.db.read() as s:
        row = s.get(PrintJob, job.id)
        assert row is not None and row.kind == "confirmation" and row.repair_order_id is None
        assert row.meta == {"appointment_id": appt["id"]}
        data = row.data
        # retained on the printer's job topic, as a ticket is: the agent prints it from there
        message = s.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == topics.print_job("demo", "reception", job.id))).one()
    assert message.retain
    payload = json.loads(message.payload)
    assert payload["kind"] == "confirmation" and payload["ro_number"] is None
    assert payloads.parse(payloads.PrintJob, message.payload).content() == data

    lines = text_lines(data, "gb18030")
    text = "\n".join(lines)
    assert "预约确认单" in text
    assert display_plate(appt["plate"]) in text
    assert "11月24日 星期二" in text
    start, end = appt["start"][11:16], appt["end"][11:16]
    assert f"{start}–{end}" in text
    assert appt["advisor"]["name"] in text
    assert any(line.startswith("20000公里保养") and line.endswith("1.8") for line in lines)
    assert any(line.startswith("故障诊断") and line.endswith("1.0") for line in lines)
    assert any(line.startswith("预计工时合计") and line.endswith("2.8") for line in lines)
    assert any("需订货" in line and "11-24" in line for line in lines)
    assert "04465-02220" in text
    assert "保养手册" in text
    assert "010-6588 8888" in text
    assert f"#{appt['id']}" in text
    assert appt["customer"] in text
    assert not any("重印" in line for line in lines)
    assert len(decode_raster_images(data)) == 1  # the vehicle's tag, scanned at reception on arrival

    # the agent's acknowledgement settles it like a ticket, with no repair order behind it
    settled = []
    services.printing.settled.subscribe(settled.append)
    services.printing.handle_ack("reception", payloads.encode(payloads.print_ack(
        job_id=job.id, result=payloads.ACK_PRINTED, at="2026-11-23T10:31:00+08:00")))
    assert [(j.id, j.status, j.ro_number) for j in settled] == [(job.id, "printed", None)]
    with services.db.read() as s:
        cleared = s.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == topics.print_job("demo", "reception", job.id)).order_by(OutboxMessage.id)).all()
    assert cleared[-1].payload == b""

    again = confirmations.print_confirmation(appt["id"], "workshop", "张伟")
    assert again.reprint
    with services.db.read() as s:
        second = s.get(PrintJob, again.id)
        assert second is not None
        assert "重印 REPRINT" in text_lines(second.data, "gbk")


def test_confirmation_text_in_the_preferred_channel(services: Services) -> None:
    appt = _book(services, ["OIL"])
    confirmations = ConfirmationService(services.ctx, services.printing)
    preferred = confirmations.message(appt["id"])
    assert preferred["channel"] == preferred["preferred"] == "sms"
    assert display_plate(appt["plate"]) in preferred["text"] and "11月24日" in preferred["text"]
    assert appt["start"][11:16] in preferred["text"] and "保养手册" in preferred["text"]
    letter = confirmations.message(appt["id"], "letter")
    assert letter["channel"] == "letter" and letter["text"] != preferred["text"]
    assert confirmations.message(appt["id"], "pigeon")["channel"] == "sms"


def test_slip_on_an_ascii_printer_is_in_english() -> None:
    start = datetime(2026, 11, 24, 9, 30)
    data = ConfirmationData(site_name="Demo Toyota", appointment_id=7, plate="京A·12345", customer="Mr Wang",
                            advisor="Zhang", start=start, end=start + timedelta(hours=1.5),
                            job_lines=[("Oil and filter change", 0.5), ("Wheel alignment", 1.0)],
                            hotline="010-6588 8888", language="zh-CN", flags=["waiting_customer"])
    lines = text_lines(render_confirmation(data, PrinterProfile("ascii", encoding="ascii", columns=32)), "ascii")
    text = "\n".join(lines)
    assert "APPOINTMENT CONFIRMATION" in text and "Tue 24 Nov" in text and "09:30" in text
    assert "Customer waits" in text and "maintenance booklet" in text
    assert all(len(line) <= 32 for line in lines)


# --- the page in Chromium -----------------------------------------------------------------------------------

def _wait(drv: Any, css: str, timeout: float = 15.0) -> Any:
    return wait_for(drv, css, timeout, "clickable")


def _slips_for(server: DemoServer, plate: str) -> list[list[str]]:
    folder = server.data_dir / "tickets" / "reception"
    found = []
    for path in sorted(folder.glob("*.bin")) if folder.exists() else []:
        lines = text_lines(path.read_bytes(), "gb18030")
        if "预约确认单" in lines and any(display_plate(plate) in line for line in lines):
            found.append(lines)
    return found


@pytest.mark.browser
def test_book_from_a_partial_plate_to_the_printed_slip(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    plate = demo_server.api("/api/v1/appointments")[0]["plate"]  # 京QCF353: search "qcf3", no province
    sign_in(driver, demo_server, first_advisor(demo_server), "/booking?lang=zh-CN")

    _wait(driver, "input[data-testid=customer-search]").send_keys(plate[2:6].lower())
    click_css(driver, f'[data-plate="{plate}"]')
    assert _wait(driver, "[data-testid=vehicle-plate]").text == display_plate(plate)

    tiles = driver.find_elements(By.CSS_SELECTOR, "[data-testid^=day-]")
    day = tiles[1].get_attribute("data-testid").removeprefix("day-")  # tomorrow: open all day whenever this runs
    tiles[1].click()
    click_css(driver, "[data-testid=op-OIL]")
    click_css(driver, "[data-testid=op-ALN]")
    WebDriverWait(driver, 15).until(
        lambda d: "1.5" in d.find_element(By.CSS_SELECTOR, "[data-testid=work-total]").text)
    click_css(driver, "[data-testid=slot-0]")

    booked = _wait(driver, "[data-testid=booked-id]").text
    appointment_id = int(booked.removeprefix("#"))
    assert _wait(driver, "[data-testid=confirm-hours]").text == "1.5 h"
    assert "保养手册" in _wait(driver, "[data-testid=confirm-bring]").text
    text = _wait(driver, "textarea[data-testid=confirm-text]").get_attribute("value")
    assert display_plate(plate) in text

    listed = {a["id"]: a for a in demo_server.api(f"/api/v1/appointments?day={day}")}
    assert appointment_id in listed
    appt = listed[appointment_id]
    assert appt["plate"] == plate and appt["hours"] == 1.5 and appt["status"] == "booked"
    assert [line["code"] for line in appt["job_lines"]] == ["OIL", "ALN"]
    assert _wait(driver, "[data-testid=confirm-time]").text.startswith(appt["start"][11:16])

    click_css(driver, "[data-testid=print-confirmation]")
    deadline = time.monotonic() + 20
    while not _slips_for(demo_server, plate) and time.monotonic() < deadline:
        time.sleep(0.3)
    slips = _slips_for(demo_server, plate)
    assert slips, "no confirmation slip reached the reception printer"
    assert f"#{appointment_id}" in "\n".join(slips[-1])
    # the agent's acknowledgement comes back to this page (PrintService.settled, from the publisher's thread)
    printed = Translator("zh-CN")("booking_page.confirm.printed")
    WebDriverWait(driver, 20, poll_frequency=0.1).until(
        lambda d: any(printed in n.text for n in d.find_elements(By.CSS_SELECTOR, ".q-notification")))


@pytest.mark.browser
def test_a_new_customer_form_says_what_is_wrong(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    sign_in(driver, demo_server, first_advisor(demo_server), "/booking?lang=en")
    _wait(driver, "[data-testid=new-customer]").click()
    _wait(driver, "input[data-testid=new-plate]").send_keys("京A1")
    _wait(driver, "input[data-testid=new-phone]").send_keys("1.38E+10")
    _wait(driver, "[data-testid=new-save]").click()
    form = _wait(driver, "[data-testid=new-form]")
    WebDriverWait(driver, 10).until(lambda d: "not a valid Chinese plate" in form.text)
    assert "Enter the customer's surname" in form.text
    assert "is not valid: 7 to 15 digits" in form.text
    assert "Enter the VIN" in form.text

    # corrected, it saves and the new car is the one being booked
    serial = random.randrange(100000, 999999)
    plate, vin = f"京A{serial % 100000:05d}", with_check_digit(f"LFMAB2CD0RA{serial}")
    for name, value in (("new-surname", "欧阳"), ("new-plate", plate), ("new-phone", "138 0013 8000"),
                        ("new-vin", vin), ("new-model", "卡罗拉")):
        field = _wait(driver, f"input[data-testid={name}]")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(value)
    _wait(driver, "[data-testid=new-save]").click()
    assert _wait(driver, "[data-testid=vehicle-plate]").text == display_plate(plate)
    status, hit = demo_server.call("POST", "/api/v1/appointments", {
        "plate": plate, "start": f"{date.today() + timedelta(days=3)}T09:00:00", "job_lines": ["OIL"],
        "override": {"reason": "test"}})
    assert status == 201 and hit["customer"] == "欧阳先生"


@pytest.mark.browser
def test_a_refused_time_can_be_booked_anyway_with_a_reason(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # advisor D already has an arrival at 17:00 the day after tomorrow: one per quarter hour is the rule
    today = date.fromisoformat(demo_server.api("/api/v1/appointments")[0]["start"][:10])
    day = today + timedelta(days=2)
    plate = demo_server.api("/api/v1/appointments")[1]["plate"]
    status, first = demo_server.call("POST", "/api/v1/appointments", {
        "plate": plate, "start": f"{day}T17:00:00", "advisor": "D", "job_lines": ["WSH"], "actor": "test",
        "override": {"reason": "test setup"}})
    assert status == 201, first
    vehicle, advisor = first["vehicle_id"], first["advisor"]["id"]

    sign_in(driver, demo_server, first_advisor(demo_server),
            f"/booking?lang=en&vehicle={vehicle}&day={day}&advisor={advisor}&work=OIL")
    _wait(driver, "[data-testid=vehicle-plate]")
    _wait(driver, "[data-testid=manual]").click()
    _wait(driver, "input[data-testid=manual-time]").send_keys("1700")
    _wait(driver, "[data-testid=manual-book]").click()

    dialog = WebDriverWait(driver, 15).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=override]"))
    # the demo may already have placed one of its own arrivals there: one or more, in proper English
    assert re.search(r"has (1 arrival|[2-9] arrivals) between 17:00 and 17:15 \(limit 1\)", dialog.find_element(
        By.CSS_SELECTOR, "[data-testid=refused-stagger]").text)
    book_anyway = dialog.find_element(By.CSS_SELECTOR, "[data-testid=override-book]")
    assert not book_anyway.is_enabled()  # not without a reason
    _wait(driver, "textarea[data-testid=override-reason]").send_keys("Customer can only come at five")
    WebDriverWait(driver, 10).until(lambda d: book_anyway.is_enabled())
    book_anyway.click()

    appointment_id = int(_wait(driver, "[data-testid=booked-id]").text.removeprefix("#"))
    assert "Customer can only come at five" in _wait(driver, "[data-testid=confirm-override]").text
    booked = demo_server.api(f"/api/v1/appointments/{appointment_id}")
    assert booked["start"].startswith(f"{day}T17:00") and booked["advisor"]["id"] == advisor
    name = next(iter(demo_server.credentials["advisors"]))
    assert {(o["rule"], o["reason"], o["actor"]) for o in booked["overrides"]} >= {
        ("stagger", "Customer can only come at five", name)}
