"""The vehicle's QR tag after the booking desk creates a customer: the label through the print queue (its QR is
the tag reception scans), and the /booking page in headless Chromium showing the new tag at once, from the
vehicle card again, and printing it on the reception printer."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest
from pyzbar import pyzbar
from sqlalchemy import select

from shopfloor.contract import payloads, topics
from shopfloor.domain.errors import NotFound
from shopfloor.domain.identifiers import display_plate, with_check_digit
from shopfloor.domain.models import OutboxMessage, PrintJob
from shopfloor.printer.inspect import decode_raster_images, text_lines
from shopfloor.printer.ticket import PrinterProfile
from shopfloor.services.customers import CustomerService
from shopfloor.services.tag_labels import TagLabelData, TagLabelService, render_tag_label
from shopfloor.testing.chromium_pages import SHOTS, first_advisor, sign_in, wait_for
from shopfloor.testing.plugin import DemoServer, Services


def _qr(data: bytes) -> list[str]:
    return [r.data.decode() for image in decode_raster_images(data) for r in pyzbar.decode(image.convert("L"))]


def test_a_new_cars_tag_prints_as_a_label_through_the_queue(services: Services) -> None:
    hit = CustomerService(services.ctx).create(plate="京A54321", vin=with_check_digit("LFMAB2CD0RA654321"),
                                               model="卡罗拉", surname="欧阳", given_name="建国", salutation="先生",
                                               phone="13800138000",
                                               actor="张伟")
    tags = TagLabelService(services.ctx, services.printing)
    shown = tags.tag_of(hit["vehicle_id"])
    assert shown["token"] == hit["tag"] and shown["plate_display"] == "京A·54321"

    job = tags.print_label(hit["vehicle_id"], "reception", "张伟")
    assert job.status == "pending" and job.ro_number is None
    with services.db.read() as s:
        row = s.get(PrintJob, job.id)
        assert row is not None and row.kind == "tag_label" and row.requested_by == "张伟"
        assert row.meta == {"vehicle_id": hit["vehicle_id"], "plate": "京A54321"}
        message = s.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == topics.print_job("demo", "reception", job.id))).one()
    assert message.retain and json.loads(message.payload)["kind"] == "tag_label"
    assert payloads.parse(payloads.PrintJob, message.payload).content() == row.data
    text = "\n".join(text_lines(row.data, "gb18030"))
    assert "京A·54321" in text and "欧阳先生" in text and "建国" not in text  # the given name never reaches paper
    assert _qr(row.data) == [hit["tag"]]  # what reception scans: the car's own tag
    # the tag the label carries finds the car at reception
    assert services.checkin.find_tag(hit["tag"]) == hit["tag"]

    with pytest.raises(NotFound):
        tags.tag_of(10**9)


def test_a_tag_label_on_an_ascii_printer_is_in_english() -> None:
    data = TagLabelData(site_name="Demo Toyota", plate="京A·12345", customer="Mr Smith", model="Camry",
                        token="SFT-" + "A" * 24)
    lines = text_lines(render_tag_label(data, PrinterProfile("ascii", encoding="ascii", columns=32)), "ascii")
    assert "Vehicle QR tag" in lines and all(len(line) <= 32 for line in lines)


def _labels_for(server: DemoServer, plate: str) -> list[list[str]]:
    """The tag labels for `plate` the reception printer's agent has printed (its file transport)."""
    folder = server.data_dir / "tickets" / "reception"
    found = []
    for path in sorted(folder.glob("*.bin")) if folder.exists() else []:
        lines = text_lines(path.read_bytes(), "gb18030")
        if "车辆二维码标签" in lines and any(display_plate(plate) in line for line in lines):
            found.append(lines)
    return found


@pytest.mark.browser
def test_the_booking_desk_shows_and_prints_a_new_customers_tag(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    sign_in(driver, demo_server, first_advisor(demo_server), "/booking?lang=zh-CN")
    wait_for(driver, "[data-testid=new-customer]", state="clickable").click()
    serial = random.randrange(100000, 999999)
    plate, vin = f"京A{serial % 100000:05d}", with_check_digit(f"LFMAB2CD0RA{serial}")
    for name, value in (("new-surname", "欧阳"), ("new-given", "建国"), ("new-plate", plate),
                        ("new-phone", "138 0013 8000"), ("new-vin", vin), ("new-model", "卡罗拉")):
        field = wait_for(driver, f"input[data-testid={name}]", state="clickable")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(value)
    wait_for(driver, "[data-testid=new-save]", state="clickable").click()

    # the new tag is shown at once, drawn on the server
    dialog = wait_for(driver, "[data-testid=tag-dialog]", state="visible")
    token = wait_for(driver, "[data-testid=tag-token]", state="visible").text
    assert token.startswith("SFT-") and display_plate(plate) in dialog.text
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "const i = document.querySelector('[data-testid=tag-qr] img'); return i && i.complete && i.naturalWidth"))
    driver.save_screenshot(f"{SHOTS}/booking-new-tag.png")
    wait_for(driver, "[data-testid=tag-print-label]", state="clickable").click()
    deadline = time.monotonic() + 20
    labels = _labels_for(demo_server, plate)
    while not labels and time.monotonic() < deadline:
        time.sleep(0.3)
        labels = _labels_for(demo_server, plate)
    assert labels, "no tag label reached the reception printer"
    assert token in labels[-1]
    wait_for(driver, "[data-testid=tag-close]", state="clickable").click()

    # the same tag again from the vehicle card
    WebDriverWait(driver, 10).until(lambda d: not d.find_elements("css selector", "[data-testid=tag-dialog]"))
    wait_for(driver, "[data-testid=show-tag]", state="clickable").click()
    assert wait_for(driver, "[data-testid=tag-token]", state="visible").text == token
    time.sleep(0.5)  # the dialog's opening transition
    driver.save_screenshot(f"{SHOTS}/booking-vehicle-tag.png")
    # printed on paper, the page shows the tag card alone (what window.print() gets after 用普通纸打印)
    driver.execute_script("document.body.classList.add('printing-tag')")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    visibility = "return getComputedStyle(document.querySelector(arguments[0])).visibility"
    assert driver.execute_script(visibility, ".q-header") == "hidden"
    assert driver.execute_script(visibility, "[data-testid=tag-print-label]") == "hidden"
    assert driver.execute_script(visibility, ".tag-print [data-testid=tag-token]") == "visible"
    driver.save_screenshot(f"{SHOTS}/booking-tag-paper.png")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    driver.execute_script("document.body.classList.remove('printing-tag')")
    wait_for(driver, "[data-testid=tag-close]", state="clickable").click()
    WebDriverWait(driver, 10).until(lambda d: not d.find_elements("css selector", "[data-testid=tag-dialog]"))
    driver.save_screenshot(f"{SHOTS}/booking-vehicle-card.png")
