"""The estimate slip on the reception printer (issue 11): ESC/POS in GB18030 (or GBK) with the lines, totals in CNY,
the signature's short digest and time, and the customer's link as a QR; printed again only when a person asks
(marked REPRINT), and a reprint or a move to another printer prints the same slip, not a job ticket. Services on
SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from pyzbar import pyzbar
from sqlalchemy import select

from shopfloor.contract import payloads
from shopfloor.domain.errors import NotFound
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import AuditEntry, PrintJob, RepairOrder
from shopfloor.printer.escpos_text import display_width, paper_width
from shopfloor.printer.estimate_slip import DIGEST_SHOWN, EstimateSlipData, SlipLine, render_estimate_slip
from shopfloor.printer.inspect import decode_raster_images, parse, text_lines
from shopfloor.printer.ticket import PrinterProfile
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.photos import signature_png
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order

pytestmark = ON_BOTH_DATABASES
TOKEN = "test-token"
LINK = "http://shopfloor.test:8080/c/Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"
DIGEST = "9c1f0e7a5b3d2c4e" + "0" * 48
PROFILES = {"80mm-gb18030": PrinterProfile("reception", "gb18030", 48),
            "58mm-gbk": PrinterProfile("handheld", "gbk", 32)}


def slip(**changes: object) -> EstimateSlipData:
    data = EstimateSlipData(
        site_name="星辰丰田4S店 · 朝阳", ro_number="RO20261204-007", plate="京A·12345", customer="王先生",
        advisor="张伟", version=2,
        lines=(SlipLine("labour", "更换机油机滤", "0.8", "240.00", "customer"),
               SlipLine("labour", "前刹车片更换（含刹车盘打磨）", "1.25", "450.00", "warranty"),
               SlipLine("part", "机油滤清器", "1", "68.00", "customer")),
        labour_total="690.00", parts_total="68.00", discount="20.00", total="738.00", customer_total="288.00",
        signed_at=datetime(2026, 12, 4, 9, 30), signer="王建国", digest=DIGEST, qr_text=LINK)
    return replace(data, **changes)  # type: ignore[arg-type]


def qr_of(job: bytes) -> list[str]:
    return [code.data.decode() for image in decode_raster_images(job) for code in pyzbar.decode(image.convert("L"))]


@pytest.fixture(params=list(PROFILES))
def profile(request: pytest.FixtureRequest) -> PrinterProfile:
    return PROFILES[request.param]


def test_the_slip_prints_lines_totals_and_the_signature(profile: PrinterProfile) -> None:
    lines = text_lines(render_estimate_slip(slip(), profile), profile.encoding)
    text = "\n".join(lines)
    for expected in ("估价单", "RO20261204-007", "京A·12345", "王先生", "张伟", "更换机油机滤", "前刹车片更换",
                     "机油滤清器", "保修", "客户已签字", "王建国", "12-04 09:30", DIGEST[:DIGEST_SHOWN]):
        assert expected in text, expected
    assert DIGEST[:DIGEST_SHOWN + 1] not in text  # the short digest, not all of it
    for amount in ("240.00", "450.00", "68.00", "690.00", "-20.00", "738.00", "288.00"):
        assert any(line.rstrip().endswith(amount) for line in lines), amount
    assert "建国" not in text.replace("王建国", "")  # the given name only as the signer wrote it


def test_the_qr_is_the_customer_link(profile: PrinterProfile) -> None:
    job = render_estimate_slip(slip(), profile)
    [image] = decode_raster_images(job)
    assert image.width <= profile.dots_per_line
    assert qr_of(job) == [LINK]


def test_every_line_fits_the_paper(profile: PrinterProfile) -> None:
    parsed = parse(render_estimate_slip(slip(), profile, reprint=True, reprinted_at=datetime(2026, 12, 4, 10, 0)),
                   profile.encoding)
    measure = paper_width(profile.encoding)
    for line in parsed.lines:
        assert line.cells <= profile.columns, line
        assert measure(line.text) <= line.cells
        if line.height == 1:
            assert display_width(line.text) <= profile.columns, line


def test_chinese_is_sent_as_gb18030() -> None:
    job = render_estimate_slip(slip(), PROFILES["80mm-gb18030"])
    assert "更换机油机滤".encode("gb18030") in job
    assert "更换机油机滤".encode() not in job


def test_an_unsigned_version_says_so_and_a_reprint_is_marked(profile: PrinterProfile) -> None:
    first = text_lines(render_estimate_slip(slip(signed_at=None, signer=None, digest=None), profile),
                       profile.encoding)
    assert any("未签字" in line for line in first)
    assert not any("重印" in line or "REPRINT" in line for line in first)
    again = text_lines(render_estimate_slip(slip(), profile, reprint=True, reprinted_at=datetime(2026, 12, 4, 10, 5)),
                       profile.encoding)
    assert "重印" in again[0] and "REPRINT" in again[0]
    assert any("12-04 10:05" in line for line in again)


def test_the_slip_kept_with_its_job_comes_back_the_same() -> None:
    assert EstimateSlipData.from_json(slip().to_json()) == slip()
    with pytest.raises(ValueError):
        slip(qr_text="")
    with pytest.raises(ArithmeticError):
        slip(total="lots")


def _audit(svc: Services, number: str) -> list[str]:
    with svc.db.read() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == number,
                                                              AuditEntry.action.like("estimate_%printed"))
                              .order_by(AuditEntry.id)))


def _jobs(svc: Services, number: str) -> list[PrintJob]:
    with svc.db.read() as s:
        ro_id = s.scalar(select(RepairOrder.id).where(RepairOrder.number == number))
        return list(s.scalars(select(PrintJob).where(PrintJob.repair_order_id == ro_id).order_by(PrintJob.id)))


def test_print_estimate_queues_the_slip_and_a_second_is_a_reprint(services: Services) -> None:
    number = new_order(services, "OIL", "BRK")
    estimate = EstimateService(services.ctx)
    version = estimate.current(number).version
    signed = estimate.sign(number, version, "王建国", signature_png(), actor="张伟")

    first = services.printing.print_estimate(number, "reception", actor="张伟")
    second = services.printing.print_estimate(number, "reception", actor="张伟")

    assert (first.reprint, second.reprint, first.ro_number, first.kind) == (False, True, number, "estimate")
    jobs = _jobs(services, number)
    assert [(j.kind, j.reprint, j.meta["version"]) for j in jobs] == [("estimate", False, version),
                                                                      ("estimate", True, version)]
    text = "\n".join(text_lines(jobs[0].data, "gb18030"))
    with services.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        plate, token = display_plate(ro.vehicle.plate), ro.customer_token
    assert plate in text and signed.digest[:DIGEST_SHOWN] in text and "王建国" in text
    assert qr_of(jobs[0].data) == [f"http://localhost:8080/c/{token}"]
    assert _audit(services, number) == ["estimate_printed", "estimate_reprinted"]
    # the job ticket's own REPRINT check counts tickets, not slips
    assert services.printing.print_ticket(number, "reception", actor="张伟", reprint=None).reprint is False


def test_a_changed_estimate_is_a_new_slip_not_a_reprint(services: Services) -> None:
    number = new_order(services, "OIL")
    estimate = EstimateService(services.ctx)
    services.printing.print_estimate(number, "reception", actor="张伟")
    estimate.update(number, actor="张伟", roles=frozenset(), discount=Decimal("10.00"), discount_reason="老客户")

    again = services.printing.print_estimate(number, "reception", actor="张伟")

    assert again.reprint is False
    [_, job] = _jobs(services, number)
    assert job.meta["version"] == estimate.current(number).version
    assert any(line.rstrip().endswith("-10.00") for line in text_lines(job.data, "gb18030"))


def test_an_uncertain_slip_is_reprinted_as_the_same_slip_by_a_person(services: Services) -> None:
    number = new_order(services, "OIL")
    printing = services.printing
    job = printing.print_estimate(number, "reception", actor="张伟")
    printing.handle_ack("reception", payloads.encode(payloads.print_ack(
        job_id=job.id, result="uncertain", detail="dropped", at="2026-11-23T10:40:00+08:00")))
    assert [j.id for j in printing.needing_decision()] == [job.id]

    again = printing.resolve(job.id, "reprint", actor="张伟")

    assert again is not None and again.reprint
    first, second = _jobs(services, number)
    assert (first.status, second.kind, second.meta["slip"]) == ("superseded", "estimate", first.meta["slip"])
    lines = text_lines(second.data, "gb18030")
    assert "重印" in lines[0] and any("估价单" in line for line in lines)
    moved = printing.redirect(again.id, "workshop", actor="张伟")
    assert (moved.printer, _jobs(services, number)[-1].kind) == ("workshop", "estimate")


def test_unknown_printer_or_order_is_refused_and_nothing_is_queued(services: Services) -> None:
    number = new_order(services, "OIL")
    with pytest.raises(NotFound):
        services.printing.print_estimate(number, "nowhere", actor="张伟")
    with pytest.raises(NotFound):
        services.printing.print_estimate("RO-NOPE", "reception", actor="张伟")
    assert _jobs(services, number) == []


def test_the_api_prints_the_slip(services: Services) -> None:
    number = new_order(services, "OIL")
    client = TestClient(api_app(services.ctx, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})
    url = f"/api/v1/repair-orders/{number}/estimate/print"

    first = client.post(url, json={"printer": "reception"})
    second = client.post(url, json={"printer": "reception"})

    assert first.status_code == 201, first.text
    assert (first.json()["printer"], first.json()["status"], first.json()["reprint"]) == ("reception", "pending",
                                                                                        False)
    assert second.json()["reprint"] is True
    assert client.post(url, json={"printer": "nowhere"}).status_code == 404
    assert client.post(url, json={}).status_code == 422
    assert client.post("/api/v1/repair-orders/RO-NOPE/estimate/print", json={"printer": "reception"}
                       ).status_code == 404
