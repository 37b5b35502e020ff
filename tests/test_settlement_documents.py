"""The settlement list (JT/T 1133) as an A4 PDF and on the reception printer, and the JT/T 1132 export of the settled
orders (issue 12), on SQLite and PostgreSQL: the PDF carries the standard's fields, the ESC/POS list decodes as
GB18030 with its lines, the same list again is a REPRINT and a new payment a new paper; the export has one record
per order settled in the range and nothing else; the API's codes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.documents.settlement_data import SettlementList, capital_amount
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import AuditEntry, PrintJob, RepairOrder, Vehicle
from shopfloor.printer.inspect import text_lines
from shopfloor.printer.settlement_list import render_list
from shopfloor.printer.ticket import PrinterProfile
from shopfloor.services.context import ServiceContext
from shopfloor.services.settlement.documents import SettlementDocuments
from shopfloor.services.settlement.jtt1132 import CSV_COLUMNS
from shopfloor.services.settlement.settlement import SettlementService
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.settlement import OIL_FILTER, priced_order
from shopfloor.testing.workshop import new_order

pytestmark = ON_BOTH_DATABASES

LICENCE = "京交运管许可朝字110105000000号"
CASHIER = ApiToken("cashier-desk", "cashier-token", frozenset({StaffRole.CASHIER}))
TECHNICIAN = ApiToken("bay-3", "technician-token", frozenset({StaffRole.TECHNICIAN}))
ADVISOR = ApiToken("reception-tablet", "advisor-token", frozenset({StaffRole.ADVISOR}))


def _documents(services: Services) -> tuple[SettlementService, SettlementDocuments]:
    settlement = SettlementService(services.ctx)
    return settlement, SettlementDocuments(services.ctx, settlement, services.printing, "http://localhost:8080")


def _vehicle(services: Services, number: str) -> tuple[str, str]:
    with services.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        vehicle = s.get(Vehicle, ro.vehicle_id)
        assert vehicle is not None
        return display_plate(vehicle.plate), vehicle.vin


def _settle(services: Services, settlement: SettlementService, number: str) -> Decimal:
    """Paid in two parts (card, then WeChat): settled."""
    left = settlement.summary(number).left
    half = (left / 2).quantize(Decimal("0.01"))
    settlement.pay(number, "card", half, actor="李娜", reference="POS 883421")
    settlement.pay(number, "wechat", left - half, actor="李娜", reference="4200001234")
    assert settlement.summary(number).settled
    return left


def _jobs(services: Services, number: str) -> list[PrintJob]:
    with services.db.read() as s:
        ro_id = s.scalar(select(RepairOrder.id).where(RepairOrder.number == number))
        return list(s.scalars(select(PrintJob).where(PrintJob.repair_order_id == ro_id).order_by(PrintJob.id)))


def test_the_pdf_carries_the_settlement_lists_fields(services: Services) -> None:
    settlement, documents = _documents(services)
    number = priced_order(services.ctx, services.checkin, "OIL", "BRK", payers={1: "warranty"}, discount="20.00")
    paid = _settle(services, settlement, number)
    view = settlement.summary(number)
    assert {x.kind for x in view.lines} == {"labour", "part"} and view.payer_totals.get("warranty")

    reader = PdfReader(io.BytesIO(documents.list_pdf(number)))
    text = "".join(page.extract_text() for page in reader.pages)

    plate, vin = _vehicle(services, number)
    for expected in ("机动车维修结算清单", number, plate, vin, LICENCE, "道路运输经营许可证号", "托修方", "行驶里程",
                     "进厂日期", "结算日期", "出厂日期", "维修类别", "工时费合计", "材料费合计", "其他费用", "总计",
                     "实收", "质量保证期", "托修方签字", "结算员", "李娜", "银行卡", "微信支付", "星辰丰田4S店",
                     "优惠", "老客户", "其中保修承担", OIL_FILTER):
        assert expected in text, expected
    for line in view.lines:
        assert line.description in text, line.description
    for amount in (view.labour, view.parts, view.total, view.payer_totals["warranty"], paid):
        assert f"{amount:,.2f}" in text, amount
    assert reader.metadata is not None and number in str(reader.metadata.title)
    assert f"大写金额{capital_amount(view.total)}" in text.replace(" ", "").replace("\n", "")  # beside the total


def test_the_list_on_paper_a_reprint_and_a_new_payment(services: Services) -> None:
    settlement, documents = _documents(services)
    number = new_order(services, "OIL")
    left = settlement.summary(number).left
    settlement.pay(number, "cash", Decimal("100.00"), actor="李娜", tendered=Decimal("200.00"))

    first = documents.print_list(number, "reception", actor="李娜")
    again = documents.print_list(number, "reception", actor="李娜")
    settlement.pay(number, "alipay", left - Decimal("100.00"), actor="李娜")
    after_payment = documents.print_list(number, "reception", actor="李娜")

    assert (first.reprint, again.reprint, after_payment.reprint) == (False, True, False)
    assert first.kind == "settlement_list"
    jobs = _jobs(services, number)
    assert jobs[0].meta["version"] == jobs[1].meta["version"] != jobs[2].meta["version"]
    lines = text_lines(jobs[0].data, "gb18030")
    text = "\n".join(lines)
    plate, vin = _vehicle(services, number)
    for expected in ("机动车维修结算清单", number, plate, vin, LICENCE, "现金", "未结清", "质量保证期", "托修方签字"):
        assert expected in text, expected
    assert "重印" not in text
    assert any(line.rstrip().endswith("100.00") for line in lines)
    assert "机动车维修结算清单".encode("gb18030") in jobs[0].data
    reprinted = text_lines(jobs[1].data, "gb18030")
    assert "重印" in reprinted[0] and "REPRINT" in reprinted[0]
    settled_text = "\n".join(text_lines(jobs[2].data, "gb18030"))
    assert "支付宝" in settled_text and "未结清" not in settled_text
    assert f"大写金额：{capital_amount(left)}" in settled_text  # right under the total
    with services.db.read() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_id == number, AuditEntry.action.like("settlement_list_%")).order_by(AuditEntry.id)))
    assert actions == ["settlement_list_printed", "settlement_list_reprinted", "settlement_list_printed"]


def test_a_moved_list_prints_the_kept_document(services: Services) -> None:
    settlement, documents = _documents(services)
    number = new_order(services, "OIL")
    job = documents.print_list(number, "reception", actor="李娜")
    _settle(services, settlement, number)  # the order moves on: the paper waiting is still the one asked for

    moved = services.printing.redirect(job.id, "workshop", actor="李娜")

    first, second = _jobs(services, number)
    assert (moved.kind, second.meta["document"]) == ("settlement_list", first.meta["document"])
    assert "未结清" in "\n".join(text_lines(second.data, "gb18030"))


def test_the_paper_fits_58_and_80_mm_and_refuses_an_ascii_printer(services: Services) -> None:
    settlement, documents = _documents(services)
    number = new_order(services, "OIL", "BRK")
    _settle(services, settlement, number)
    document = documents.document(number)
    assert SettlementList.from_json(document.to_json()) == document
    for profile in (PrinterProfile("r", "gb18030", 48), PrinterProfile("h", "gbk", 32)):
        lines = text_lines(render_list(document, profile), profile.encoding)
        assert all(len(line.encode("gbk", "replace")) <= profile.columns for line in lines)
    with pytest.raises(ValueError):
        render_list(document, PrinterProfile("plain", "ascii", 48))


def _settle_on(services: Services, settlement: SettlementService, day: date, *operations: str) -> str:
    services.clock.set(services.clock.now().replace(year=day.year, month=day.month, day=day.day, hour=3))
    number = priced_order(services.ctx, services.checkin, *operations)  # the oil filter on its first line
    _settle(services, settlement, number)
    return number


def test_the_export_has_one_record_per_order_settled_in_the_range(services: Services) -> None:
    settlement, documents = _documents(services)
    # a month on from the demo's history (its own settled orders): the range holds only this test's
    today = services.clock.now().astimezone(services.ctx.tz).date() + timedelta(days=30)
    before = _settle_on(services, settlement, today - timedelta(days=3), "OIL")
    inside = [_settle_on(services, settlement, today - timedelta(days=1), "OIL", "BRK"),
              _settle_on(services, settlement, today, "OIL")]
    unsettled = new_order(services, "OIL")
    first, last = today - timedelta(days=1), today

    records = json.loads(documents.export(first, last, "json").decode("utf-8"))

    assert [r["basicInfo"]["costlistcode"] for r in records] == inside
    assert before not in json.dumps(records) and unsettled not in json.dumps(records)
    record = records[0]
    plate, vin = _vehicle(services, inside[0])
    view = settlement.summary(inside[0])
    assert set(record) == {"basicInfo", "repairprojectlist", "vehiclepartslist", "shopfloor"}
    basic = record["basicInfo"]
    assert (basic["vehicleplatenumber"], basic["vin"], basic["companyname"]) == (plate, vin, "星辰丰田4S店 · 朝阳")
    assert basic["settledate"] == f"{first:%Y%m%d}" and len(basic["repairdate"]) == 8 and basic["faultdescription"]
    assert [p["repairproject"] for p in record["repairprojectlist"]] == [
        x.description for x in view.lines if x.kind == "labour"]
    assert all(Decimal(p["workinghours"]) > 0 for p in record["repairprojectlist"])
    assert [p["partsname"] for p in record["vehiclepartslist"]] == [
        x.description for x in view.lines if x.kind == "part"]
    assert [(p["partscode"], p["partsquantity"]) for p in record["vehiclepartslist"]] == [(OIL_FILTER, "1")]
    assert record["shopfloor"]["parts_prices"][0]["unit_price"] == "68.00"
    ours = record["shopfloor"]
    assert (ours["licence_number"], ours["labour_cost"], ours["parts_cost"], ours["total_cost"], ours["paid"]) == (
        LICENCE, f"{view.labour:.2f}", f"{view.parts:.2f}", f"{view.total:.2f}", f"{view.paid:.2f}")

    raw = documents.export(first, last, "csv")
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["costlistcode"] for r in rows] == inside
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["vin"] == vin and rows[0]["companyname"] == "星辰丰田4S店 · 朝阳"
    assert json.loads(rows[0]["repairprojectlist"]) == record["repairprojectlist"]
    assert json.loads(rows[0]["vehiclepartslist"]) == record["vehiclepartslist"]
    assert documents.export(today + timedelta(days=1), today + timedelta(days=2), "json") == b"[]"


def test_the_api(services: Services) -> None:
    settlement, _ = _documents(services)
    number = new_order(services, "OIL")
    _settle(services, settlement, number)
    app = api_app(services.ctx, "integrator", CASHIER, TECHNICIAN, ADVISOR)
    cashier, technician, advisor = (TestClient(app, headers={"Authorization": f"Bearer {x.token}"})
                                    for x in (CASHIER, TECHNICIAN, ADVISOR))
    today = services.clock.now().astimezone(services.ctx.tz).date()
    export = "/api/v1/settlements/export"

    pdf = cashier.get(f"/api/v1/repair-orders/{number}/documents/settlement-list.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    printed = advisor.post(f"/api/v1/repair-orders/{number}/settlement-list", json={"printer": "reception"})
    assert printed.status_code == 201, printed.text
    assert printed.json()["reprint"] is False
    assert advisor.post(f"/api/v1/repair-orders/{number}/settlement-list", json={"printer": "reception"}
                        ).json()["reprint"] is True
    assert advisor.post(f"/api/v1/repair-orders/{number}/settlement-list", json={"printer": "nowhere"}
                        ).status_code == 404
    assert advisor.post("/api/v1/repair-orders/RO-NOPE/settlement-list", json={"printer": "reception"}
                        ).status_code == 404

    got = cashier.get(export, params={"from": today.isoformat(), "to": today.isoformat(), "format": "json"})
    assert got.status_code == 200, got.text
    assert number in [r["basicInfo"]["costlistcode"] for r in got.json()]
    as_csv = cashier.get(export, params={"from": today.isoformat(), "to": today.isoformat(), "format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode()) and number in as_csv.content.decode("utf-8-sig")

    for params in ({"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()},
                   {"from": (today - timedelta(days=366)).isoformat(), "to": today.isoformat()},
                   {"from": "yesterday", "to": today.isoformat()},
                   {"from": today.isoformat(), "to": today.isoformat(), "format": "xml"},
                   {"from": "0001-01-01", "to": "0001-01-02"}, {"from": "9999-12-31", "to": "9999-12-31"}):
        assert cashier.get(export, params=params).status_code == 422, params
    year = cashier.get(export, params={"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()})
    assert year.status_code == 200

    for response in (technician.get(export, params={"from": today.isoformat(), "to": today.isoformat()}),
                     advisor.get(export, params={"from": today.isoformat(), "to": today.isoformat()}),
                     technician.get(f"/api/v1/repair-orders/{number}/documents/settlement-list.pdf"),
                     technician.post(f"/api/v1/repair-orders/{number}/settlement-list", json={"printer": "reception"})):
        assert response.status_code == 403, response.text


def test_the_ctx_settings_licence_reaches_the_list(services: Services) -> None:
    """A site without a licence number configured still gets a list (the field shows —), not an error."""
    conf = services.ctx.settings.settlement.model_copy(update={"licence_number": ""})
    ctx = ServiceContext(services.db, services.ctx.settings.model_copy(update={"settlement": conf}), services.clock)
    settlement = SettlementService(ctx)
    documents = SettlementDocuments(ctx, settlement, services.printing, "http://localhost:8080")
    number = new_order(services, "OIL")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(documents.list_pdf(number))).pages)
    assert LICENCE not in text and "道路运输经营许可证号" in text and "未结清" in text
