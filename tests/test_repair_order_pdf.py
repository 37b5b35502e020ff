"""The repair order as an A4 PDF (issue 11): its text read back with pypdf holds the plate, the customer's surname,
the Chinese job lines and every signed version; its QR scans back to the customer's link; the API and the staff
route serve it. Services on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from nicegui import app
from nicegui.testing import User
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pyzbar import pyzbar
from sqlalchemy import select

from shopfloor.documents.data import (
    CustomerInfo,
    EstimateInfo,
    MarkInfo,
    PricedLine,
    RepairOrderDocument,
    SignatureInfo,
    VehicleInfo,
    WalkaroundInfo,
)
from shopfloor.documents.repair_order_pdf import render
from shopfloor.domain.errors import NotFound
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import RepairOrder
from shopfloor.main import Shopfloor
from shopfloor.services.reception.documents import DocumentService
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.reception.photos import OrderPhotoService
from shopfloor.services.reception.walkaround import MarkInput, WalkaroundInput, WalkaroundService
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.simulated_browser import sign_in, staff_member
from shopfloor.testing.workshop import new_order

pytestmark = ON_BOTH_DATABASES
TOKEN = "test-token"
LINK = "http://shopfloor.test:8080/c/Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"


def signature_png() -> bytes:
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(40, 150), (120, 40), (200, 160), (300, 60), (420, 150), (540, 80)],
                               fill=(0, 0, 80, 255), width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def document(**changes: object) -> RepairOrderDocument:
    lines = (PricedLine("labour", "更换机油机滤", Decimal("0.8"), Decimal("300"), Decimal("240.00"), "customer", "OIL"),
             PricedLine("labour", "前刹车片更换（含刹车盘打磨）", Decimal("1.25"), Decimal("360"), Decimal("450.00"),
                        "warranty", "BRK"),
             PricedLine("part", "机油滤清器", Decimal("1"), Decimal("68"), Decimal("68.00"), "customer", "90915-YZZE1"))
    doc = RepairOrderDocument(
        site_name="星辰丰田4S店 · 朝阳", number="RO20261204-007", status="已接车", advisor="张伟",
        opened_at=datetime(2026, 12, 4, 9, 5), promised_at=datetime(2026, 12, 4, 16, 30),
        complaint="早上冷车启动时发动机有“咔咔”异响", customer=CustomerInfo("欧阳", "建国", "先生", "13800138000", ""),
        vehicle=VehicleInfo("京A·12345", "LFV2A21K8D3012345", "卡罗拉", 45210, 5, None, None, None),
        estimate=EstimateInfo(2, lines, Decimal("690.00"), Decimal("68.00"), Decimal("20.00"), "老客户",
                              Decimal("738.00"), Decimal("288.00"), "CNY", False),
        keep_replaced_parts=True, followup_channel="wechat", customer_leaves_car=True,
        walkaround=WalkaroundInfo(True, True, True, {"windscreen": "red", "left_front_tyre": "yellow"},
                                  (MarkInfo("left_front", "scratch", 0.2, 0.3, "车门下沿"),
                                   MarkInfo("rear", "dent", 0.5, 0.95)), datetime(2026, 12, 4, 9, 12), "张伟"),
        customer_link=LINK, made_at=datetime(2026, 12, 4, 9, 40),
        signatures=(SignatureInfo("estimate", 1, "欧阳建国", datetime(2026, 12, 4, 9, 30), "3f2a" * 16,
                                  signature_png(), Decimal("240.00")),))
    return doc if not changes else RepairOrderDocument(**{**doc.__dict__, **changes})


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def qr_codes(pdf: bytes, folder: Path) -> list[str]:
    """The QR codes on the PDF's first page, rendered as a person would print it."""
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-", str(folder / "page")], input=pdf,
                   check=True, timeout=60)
    [png] = folder.glob("page*.png")
    return [code.data.decode() for code in pyzbar.decode(Image.open(png).convert("L"))]


def test_the_text_holds_the_four_groups_the_lines_and_the_signature() -> None:
    pdf = render(document())
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    for expected in ("京A·12345", "欧阳", "更换机油机滤", "前刹车片更换（含刹车盘打磨）", "机油滤清器",
                     "RO20261204-007", "一、客户信息", "二、车辆信息", "三、服务信息", "四、额外信息",
                     "LFV2A21K8D3012345", "45,210 km", "5/8", "早上冷车启动时发动机有“咔咔”异响", "张伟",
                     "2026-12-04 16:30", "738.00", "288.00", "-20.00", "保修", "微信", "欧阳建国", "3f2a" * 16,
                     "划痕", "凹陷", "车门下沿", "星辰丰田4S店 · 朝阳"):
        assert expected in text, expected


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_the_qr_code_scans_back_to_the_customer_link(tmp_path: Path) -> None:
    assert qr_codes(render(document()), tmp_path) == [LINK]


def test_an_order_without_walkaround_estimate_or_signature_still_makes_a_document() -> None:
    text = text_of(render(document(walkaround=None, estimate=None, signatures=())))
    assert "尚未做环车检查" in text and "尚无估价" in text and "尚无签字" in text


def test_stored_words_are_never_read_as_markup() -> None:
    text = text_of(render(document(complaint="<b>刹车</b> & <font name='x'>异响</font>")))
    assert "<b>刹车</b> & <font name='x'>异响</font>" in text.replace("\n", " ")


def _plate_and_surname(svc: Services, number: str) -> tuple[str, str]:
    with svc.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        return display_plate(ro.vehicle.plate), ro.vehicle.customer.surname


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_an_order_checked_in_walked_and_signed_reads_back_from_its_pdf(services: Services, tmp_path: Path) -> None:
    number = new_order(services, "OIL", "BRK")
    walkaround, estimate = WalkaroundService(services.ctx), EstimateService(services.ctx)
    photos = OrderPhotoService(services.ctx, tmp_path)
    photo = photos.upload(number, jpeg(), actor="张伟")
    walkaround.record(number, WalkaroundInput(
        mileage_km=None, fuel_eighths=3, protection_kit=True, valuables_taken=True, items={},
        marks=[MarkInput("left_front", "scratch", 0.2, 0.3, "左前门划痕", photo=photo.id),
               MarkInput("rear", "dent", 0.5, 0.9)], explained=True), actor="张伟")
    current = estimate.current(number)
    signed = estimate.sign(number, current.version, "王建国", signature_png(), actor="张伟")
    documents = DocumentService(services.ctx, "http://shopfloor.test:8080", photos=photos)

    pdf = documents.repair_order_pdf(number)

    text = text_of(pdf)
    images = [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    assert len(images) == 2  # the mark's photo and the signature
    assert "损伤照片" in text and "1. 左前 · 划痕" in text

    plate, surname = _plate_and_surname(services, number)
    assert plate in text and surname in text and number in text
    for line in current.lines:
        assert line.description in text, line.description
    assert any("\u4e00" <= ch <= "\u9fff" for line in current.lines for ch in line.description)
    for expected in ("王建国", signed.digest, "左前门划痕", "3/8", f"{current.customer_total:,.2f}"):
        assert expected in text, expected
    assert documents.repair_order(number).customer_link == documents.customer_page.link(number)


def test_every_signed_version_is_in_the_pdf(services: Services) -> None:
    number = new_order(services, "OIL")
    estimate = EstimateService(services.ctx)
    first = estimate.sign(number, estimate.current(number).version, "王建国", signature_png(), actor="张伟")
    estimate.update(number, actor="张伟", roles=frozenset(), discount=Decimal("10.00"), discount_reason="老客户")
    second_version = estimate.current(number).version
    second = estimate.sign(number, second_version, "王建国", signature_png(), actor="张伟")

    doc = DocumentService(services.ctx, "http://shopfloor.test:8080").repair_order(number)

    assert [(s.document, s.version, s.digest) for s in doc.signatures] == [
        ("estimate", 1, first.digest), ("estimate", second_version, second.digest)]
    assert all(s.png for s in doc.signatures)
    text = text_of(render(doc))
    assert first.digest in text and second.digest in text


def test_an_unknown_order_has_no_document_and_stores_nothing(services: Services) -> None:
    with pytest.raises(NotFound):
        DocumentService(services.ctx, "http://shopfloor.test:8080").repair_order_pdf("RO-NOPE")


def test_the_api_serves_the_pdf(services: Services) -> None:
    number = new_order(services, "OIL")
    client = TestClient(api_app(services.ctx, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})

    response = client.get(f"/api/v1/repair-orders/{number}/documents/repair-order.pdf")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    plate, surname = _plate_and_surname(services, number)
    text = text_of(response.content)
    assert plate in text and surname in text
    assert client.get("/api/v1/repair-orders/RO-NOPE/documents/repair-order.pdf").status_code == 404
    assert TestClient(api_app(services.ctx, TOKEN)).get(
        f"/api/v1/repair-orders/{number}/documents/repair-order.pdf").status_code == 401


async def test_signed_in_staff_open_the_pdf_in_the_browser(staff_app: tuple[User, Shopfloor]) -> None:
    """The estimate page's 'PDF' opens /documents/repair-order/<number>.pdf: the browser's staff session opens it,
    nobody else."""
    user, system = staff_app
    number = new_order(system, "OIL")  # type: ignore[arg-type]  # the server has the db and checkin it uses
    url = f"/documents/repair-order/{number}.pdf"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as stranger:
        assert (await stranger.get(url)).status_code == 401
    await sign_in(user, staff_member(system, "张伟"))
    assert user.http_client is not None

    answer = await user.http_client.get(url)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert number in text_of(answer.content)
    assert (await user.http_client.get("/documents/repair-order/RO-NOPE.pdf")).status_code == 404


def test_the_pen_lines_are_for_what_was_not_signed_on_the_pad() -> None:
    from dataclasses import replace

    unsigned = document()
    assert unsigned.estimate is not None
    text = text_of(render(unsigned)).replace(" ", "")
    assert "客户签字：___" in text and "服务顾问签字：___" in text
    signed = document(estimate=replace(unsigned.estimate, signed=True))
    text = text_of(render(signed)).replace(" ", "")
    assert "客户签字：" not in text and "服务顾问签字：张伟" in text  # the signature above is the customer's
    decided = document(estimate=replace(unsigned.estimate, consent="decision",
                                        consented_by=("客户页面 12-04 10:32：更换前刹车片",)))
    text = text_of(render(decided)).replace(" ", "")
    assert "客户签字：" not in text and "已加入客户同意的增项" in text and "更换前刹车片" in text
