"""Customers' personal data under PIPL (services/setup/personal_data.py, api/personal_data.py): the inactive list's
boundaries, the export of an access request, erasure that leaves no trace of the person in the customer and message
rows (nor, on SQLite, anywhere in the database file) while the orders' accounts stay and still render, refusals,
the audit and the API's answers — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.aftersales_models import CustomerMessage, Payment
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import (
    Appointment,
    AuditEntry,
    Customer,
    OutboxMessage,
    PrintJob,
    RepairOrder,
    Vehicle,
)
from shopfloor.domain.reception_models import OrderPhoto, SignedDocument
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.kpis import KpiService
from shopfloor.services.printing import PrintService
from shopfloor.services.reception.signed_documents import content_digest, signature_digest
from shopfloor.services.settlement.services import SettlementServices
from shopfloor.services.setup.personal_data import PersonalDataService, cutoff, mask_plate
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

MANAGER = Actor("赵经理", staff_id=5)
PHONE, EMAIL, OPENID = "13912345670", "liang.li@example.cn", "oWx1234567890abcdefghijklmno"
SURNAME, GIVEN, ADDRESS = "欧阳", "丽华", "北京市海淀区中关村大街27号"
SIGNER = "欧阳丽华"
MANAGER_TOKEN = ApiToken("privacy-desk", "manager-token", frozenset({StaffRole.MANAGER}))
CS_TOKEN = ApiToken("cs-desk", "cs-token", frozenset({StaffRole.CUSTOMER_SERVICE}))


def service(services: Services, tmp_path: Path) -> PersonalDataService:
    return PersonalDataService(services.ctx, tmp_path)


def add_customer(services: Services, plate: str, *, last_service: date | None = None, sold: date | None = None,
                 erased: bool = False) -> int:
    with services.db.write() as s:
        c = Customer(site_id=services.ctx.site, surname="测", given_name=plate[-3:], phone=f"1770000{plate[-4:]}",
                     erased_at=services.ctx.now() if erased else None)
        s.add(c)
        s.flush()
        s.add(Vehicle(site_id=services.ctx.site, customer_id=c.id, vin=f"TESTVIN0000{plate[-6:]}", plate=plate,
                      last_service_on=last_service, sold_on=sold))
        return c.id


def test_the_inactive_list_starts_the_day_the_years_are_up(services: Services, tmp_path: Path) -> None:
    svc = service(services, tmp_path)
    years = services.ctx.settings.retention.personal_data_years
    limit = cutoff(services.ctx.today(), years)
    gone = add_customer(services, "京T00001", last_service=limit - timedelta(days=1))
    on_the_day = add_customer(services, "京T00002", last_service=limit)
    never = add_customer(services, "京T00003")
    sold_lately = add_customer(services, "京T00004", last_service=limit - timedelta(days=900),
                               sold=limit + timedelta(days=1))
    erased = add_customer(services, "京T00005", last_service=limit - timedelta(days=400), erased=True)
    booked_lately = add_customer(services, "京T00006", last_service=limit - timedelta(days=400))
    with services.db.write() as s:
        vehicle = s.scalar(select(Vehicle).where(Vehicle.customer_id == booked_lately))
        assert vehicle is not None
        s.add(Appointment(site_id=services.ctx.site, vehicle_id=vehicle.id, advisor_id=1, status="no_show",
                          start=services.ctx.now() - timedelta(days=30), hours=Decimal("1"), work="保养"))

    listed = {r.id: r for r in svc.inactive()}

    assert gone in listed and listed[gone].last_visit == limit - timedelta(days=1)
    assert never in listed and listed[never].last_visit is None
    assert booked_lately in listed  # a no-show is no visit
    assert on_the_day not in listed and sold_lately not in listed and erased not in listed
    assert listed[gone].plates == ["京T00001"] and listed[gone].phone == "17700000001"
    ordered = [r.id for r in svc.inactive()]
    assert ordered.index(never) < ordered.index(gone)  # no visit at all first, then the longest gone
    # with one more year the customer on the limit's day minus one is not listed yet
    assert gone not in {r.id for r in svc.inactive(years + 1)}
    assert booked_lately not in {r.id for r in svc.inactive(30)}
    with pytest.raises(Invalid):
        svc.inactive(0)


def closed_paid_customer(services: Services) -> tuple[int, str]:
    """A demo customer whose delivered order was paid, with no open order and nothing booked from today."""
    today = datetime.combine(services.ctx.today(), datetime.min.time(), tzinfo=services.ctx.tz)
    with services.db.read() as s:
        for customer_id, number in s.execute(
                select(Vehicle.customer_id, RepairOrder.number).join(RepairOrder, RepairOrder.vehicle_id == Vehicle.id)
                .join(Payment, Payment.repair_order_id == RepairOrder.id).where(RepairOrder.status == "delivered")
                .order_by(RepairOrder.id)):
            vehicles = select(Vehicle.id).where(Vehicle.customer_id == customer_id)
            busy = s.scalar(select(func.count()).select_from(RepairOrder).where(
                RepairOrder.vehicle_id.in_(vehicles), RepairOrder.status.in_([x.value for x in OPEN_STATUSES])))
            coming = s.scalar(select(func.count()).select_from(Appointment).where(
                Appointment.vehicle_id.in_(vehicles), Appointment.status.in_(("booked", "confirmed", "late")),
                Appointment.start >= today))
            if not busy and not coming:
                return customer_id, number
    raise AssertionError("the demo has no delivered, paid order of a customer with nothing coming")


def png() -> bytes:
    image = Image.new("RGB", (40, 20), "white")
    for x in range(5, 35):
        image.putpixel((x, 10), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def give_them_data(services: Services, tmp_path: Path, customer_id: int, number: str) -> str:
    """The customer's contacts, a message, a signed estimate (with its audit row) and a photo: what erasure must
    take away. Returns the photo's file name."""
    now = services.ctx.now()
    photo = "0123456789abcdef0123456789abcdef.jpg"
    (tmp_path / "photos").mkdir(exist_ok=True)
    (tmp_path / "photos" / photo).write_bytes(b"\xff\xd8\xff" + b"car" * 100)
    with services.db.write() as s:
        c = s.get(Customer, customer_id)
        assert c is not None
        c.surname, c.given_name, c.phone, c.email, c.wechat_openid, c.address = (SURNAME, GIVEN, PHONE, EMAIL,
                                                                                 OPENID, ADDRESS)
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        s.add(CustomerMessage(site_id=services.ctx.site, customer_id=customer_id, repair_order_id=ro.id,
                              dedup_key=f"ready:{number}", template="ready", channel="sms", language="zh-CN",
                              recipient=PHONE, body=f"{SURNAME}女士您好，您的爱车已可取车",
                              params={"customer": SURNAME},
                              state="sent", send_after=now, attempts=1, created_at=now, created_by="system",
                              sent_at=now, updated_at=now))
        s.add(CustomerMessage(site_id=services.ctx.site, customer_id=customer_id, repair_order_id=None,
                              dedup_key=f"next:{number}", template="next_service", channel="sms", language="zh-CN",
                              recipient=PHONE, body=f"{SURNAME}女士，下次保养", params={}, state="queued",
                              send_after=now + timedelta(days=90), attempts=0, created_at=now, created_by="system",
                              updated_at=now))
        content = {"number": number, "customer": f"{SURNAME}{GIVEN}", "salutation": "女士",
                   "plate": ro.vehicle.plate, "vin": ro.vehicle.vin, "total": "100.00"}
        digest = content_digest(content)
        signed_at = now.replace(microsecond=0)
        s.add(SignedDocument(repair_order_id=ro.id, kind="estimate", version=1, content=content,
                             content_digest=digest, created_at=now, created_by="王芳", signed_at=signed_at,
                             signer=SIGNER, signature_png=png(),
                             digest=signature_digest(digest, png(), SIGNER, signed_at), witnessed_by="王芳"))
        record(s, services.ctx, "王芳", Entity.REPAIR_ORDER, number, "estimate_signed", to_value=1,
               detail={"version": 1, "signer": SIGNER, "digest": digest})
        s.add(PrintJob(site_id=services.ctx.site, printer="reception", kind="settlement_list", repair_order_id=ro.id,
                       reprint=False, data=f"{SURNAME}{GIVEN} {PHONE}".encode("gb18030"), status="printed",
                       requested_by="林静", created_at=now, finished_at=now, version=1))
        s.add(OutboxMessage(topic=f"shopfloor/v1/{services.ctx.site}/repair-orders/{number}/state",
                            payload=f'{{"customer": "{SURNAME}女士", "phone": "{PHONE}"}}'.encode(), retain=True,
                            created_at=now, sent_at=now))
        s.add(OrderPhoto(repair_order_id=ro.id, name=photo, width=10, height=10, size_bytes=303, uploaded_at=now,
                         uploaded_by="王芳"))
    return photo


def paid(services: Services) -> tuple[int, Decimal]:
    with services.db.read() as s:
        orders = s.scalar(select(func.count()).select_from(RepairOrder))
        total = s.scalar(select(func.sum(Payment.amount)))
        return int(orders or 0), Decimal(total or 0)


def test_the_export_holds_what_the_site_keeps_about_the_person(services: Services, tmp_path: Path) -> None:
    customer_id, number = closed_paid_customer(services)
    photo = give_them_data(services, tmp_path, customer_id, number)
    doc = service(services, tmp_path).export([customer_id], actor=MANAGER)
    json.dumps(doc)  # JSON as it is
    person = doc["customers"][0]
    assert person["customer"]["phone"] == PHONE and person["customer"]["email"] == EMAIL
    order = next(o for o in person["repair_orders"] if o["number"] == number)
    assert order["payments"] and all(Decimal(p["amount"]) > 0 for p in order["payments"])
    assert order["lines"] and order["signed_documents"][0]["signer"] == SIGNER
    assert photo in order["photos"] and photo in person["photos"]
    assert {m["recipient"] for m in person["messages"]} == {PHONE}
    assert person["vehicles"] and person["follow_up_calls"] is not None
    rows = [r for r in _audit(services, customer_id) if r.action == "personal_data_exported"]
    assert len(rows) == 1 and rows[0].actor == "赵经理" and rows[0].actor_id == 5
    assert PHONE not in (rows[0].detail or "") and SURNAME not in (rows[0].detail or "")


def _audit(services: Services, customer_id: int) -> list[AuditEntry]:
    with services.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "customer",
                                                       AuditEntry.entity_id == str(customer_id))))


def test_erasure_leaves_no_trace_of_the_person_and_keeps_the_accounts(services: Services, tmp_path: Path) -> None:
    customer_id, number = closed_paid_customer(services)
    photo = give_them_data(services, tmp_path, customer_id, number)
    with services.db.read() as s:
        plates = list(s.scalars(select(Vehicle.plate).where(Vehicle.customer_id == customer_id)))
    before = paid(services)
    settlement = SettlementServices.on(services.ctx, PrintService(services.ctx), "http://localhost:8080")
    bill_before = settlement.settlement.summary(number)

    done = service(services, tmp_path).erase(customer_id, "客户来电要求删除个人信息", actor=MANAGER)

    assert (done.messages, done.messages_cancelled, done.signatures, done.photos) == (2, 1, 1, 1)
    assert done.photo_files_removed == 1 and not (tmp_path / "photos" / photo).exists()
    with services.db.read() as s:  # no paper and no sent bus message about the order is left
        assert not s.scalar(select(func.count()).select_from(PrintJob).join(RepairOrder).where(
            RepairOrder.number == number, PrintJob.status.in_(("printed", "moved", "superseded", "failed"))))
        assert not s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.topic.contains(f"/{number}"), OutboxMessage.sent_at.is_not(None)))
    with services.db.read() as s:
        c = s.get(Customer, customer_id)
        assert c is not None and c.erased_at is not None
        assert (c.surname, c.given_name, c.salutation, c.phone, c.email, c.wechat_openid, c.address) == (
            "已删除", "", "", "", "", "", "")
        masked = list(s.scalars(select(Vehicle.plate).where(Vehicle.customer_id == customer_id)))
        assert masked == [mask_plate(p) for p in plates] and all(p.startswith("*") for p in masked)
        for m in s.scalars(select(CustomerMessage).where(CustomerMessage.customer_id == customer_id)):
            assert (m.recipient, m.subject, m.body, m.params) == ("", "", "", {})
            assert m.state in ("sent", "cancelled")
        doc = s.scalar(select(SignedDocument).join(RepairOrder).where(RepairOrder.number == number))
        assert doc is not None and doc.signature_png is None and doc.signer == "已删除"
        assert SURNAME not in json.dumps(doc.content, ensure_ascii=False)
        assert not list(s.scalars(select(OrderPhoto).join(RepairOrder).where(RepairOrder.number == number)))
        every_audit = " ".join(f"{r.reason} {r.detail} {r.from_value} {r.to_value}" for r in s.scalars(
            select(AuditEntry)))
    assert SIGNER not in every_audit and PHONE not in every_audit and SURNAME not in every_audit
    # the accounts: as many orders, the same money, the same bill
    assert paid(services) == before
    bill_after = settlement.settlement.summary(number)
    assert (bill_after.total, bill_after.paid, bill_after.left) == (bill_before.total, bill_before.paid,
                                                                    bill_before.left)
    # the settlement list of the old order renders, with what is left of the person
    listed = settlement.documents.document(number)
    assert listed.customer == "已删除" and listed.customer_phone == "" and "**" in listed.plate
    assert settlement.documents.list_pdf(number).startswith(b"%PDF")
    day = services.ctx.today()
    assert KpiService(services.ctx).report(day - timedelta(days=60), day).to_dict()
    erased_rows = [r for r in _audit(services, customer_id) if r.action == "personal_data_erased"]
    assert len(erased_rows) == 1 and erased_rows[0].actor == "赵经理" and erased_rows[0].actor_kind == "staff"
    assert erased_rows[0].reason == "客户来电要求删除个人信息"
    assert json.loads(erased_rows[0].detail or "{}")["signatures"] == 1
    url = make_url(services.db.url)
    if url.get_backend_name() == "sqlite":  # nothing of the person anywhere in the file (nor its WAL)
        assert url.database is not None
        for path in (Path(url.database), Path(f"{url.database}-wal")):
            data = path.read_bytes() if path.exists() else b""
            for trace in (PHONE, EMAIL, OPENID, ADDRESS, f"{SURNAME}{GIVEN}"):
                assert trace.encode() not in data, f"{trace} still in {path.name}"


def test_erasure_is_refused_while_an_order_is_open_or_a_visit_is_booked(services: Services, tmp_path: Path) -> None:
    svc = service(services, tmp_path)
    with services.db.read() as s:
        open_customer, open_number = s.execute(select(Vehicle.customer_id, RepairOrder.number).join(
            RepairOrder, RepairOrder.vehicle_id == Vehicle.id).where(
            RepairOrder.status.in_([x.value for x in OPEN_STATUSES])).limit(1)).one()
        booked_customer = s.execute(select(Vehicle.customer_id).join(Appointment, Appointment.vehicle_id == Vehicle.id)
                                    .where(Appointment.status == "booked",
                                           Appointment.start > services.ctx.now() + timedelta(days=1))
                                    .limit(1)).scalar_one()
    with pytest.raises(Refused) as refused:
        svc.erase(open_customer, "request", actor=MANAGER)
    assert open_number in refused.value.message("en") and "still open" in refused.value.message("en")
    with pytest.raises(Refused) as refused:
        svc.erase(booked_customer, "request", actor=MANAGER)
    assert "appointment still to come" in refused.value.message("en")
    with pytest.raises(Invalid):
        svc.erase(open_customer, "  ", actor=MANAGER)
    with pytest.raises(NotFound):
        svc.erase(999_999, "request", actor=MANAGER)
    with services.db.read() as s:
        c = s.get(Customer, open_customer)
        assert c is not None and c.erased_at is None and c.phone  # nothing changed
    assert not [r for r in _audit(services, open_customer) if r.action == "personal_data_erased"]
    customer_id, _ = closed_paid_customer(services)
    svc.erase(customer_id, "request", actor=MANAGER)
    with pytest.raises(Refused):
        svc.erase(customer_id, "again", actor=MANAGER)


def test_the_api_lists_exports_and_erases_for_the_manager_only(services: Services, tmp_path: Path) -> None:
    app = api_app(services.ctx, "integrator", MANAGER_TOKEN, CS_TOKEN)
    manager = TestClient(app, headers={"Authorization": f"Bearer {MANAGER_TOKEN.token}"})
    cs = TestClient(app, headers={"Authorization": f"Bearer {CS_TOKEN.token}"})
    old = add_customer(services, "京T00009", last_service=date(2019, 5, 1))
    customer_id, number = closed_paid_customer(services)

    listed = manager.get("/api/v1/personal-data/inactive")
    assert listed.status_code == 200, listed.text
    assert old in {c["id"] for c in listed.json()["customers"]}
    assert listed.json()["years"] == services.ctx.settings.retention.personal_data_years
    assert manager.get("/api/v1/personal-data/inactive?years=10").json()["years"] == 10
    assert manager.get("/api/v1/personal-data/inactive?years=0").status_code == 422
    assert cs.get("/api/v1/personal-data/inactive").status_code == 403

    exported = manager.get(f"/api/v1/customers/{customer_id}/personal-data")
    assert exported.status_code == 200, exported.text
    assert number in {o["number"] for o in exported.json()["customers"][0]["repair_orders"]}
    assert manager.get("/api/v1/customers/999999/personal-data").status_code == 404
    assert cs.get(f"/api/v1/customers/{customer_id}/personal-data").status_code == 403

    assert manager.post(f"/api/v1/customers/{customer_id}/erase", json={}).status_code == 422
    assert cs.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "request"}).status_code == 403
    erased = manager.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "客户书面请求"})
    assert erased.status_code == 200, erased.text
    assert erased.json()["customer_id"] == customer_id and erased.json()["repair_orders"] >= 1
    again = manager.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "again"})
    assert again.status_code == 409 and "erased already" in again.json()["detail"]
    assert manager.post("/api/v1/customers/999999/erase", json={"reason": "x"}).status_code == 404
    with services.db.read() as s:
        open_customer = s.execute(select(Vehicle.customer_id).join(RepairOrder, RepairOrder.vehicle_id == Vehicle.id)
                                  .where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES])).limit(1)
                                  ).scalar_one()
    refused = manager.post(f"/api/v1/customers/{open_customer}/erase", json={"reason": "request"})
    assert refused.status_code == 409 and "still open" in refused.json()["detail"]
    rows = [r for r in _audit(services, customer_id) if r.action == "personal_data_erased"]
    assert rows and rows[0].actor == "privacy-desk" and rows[0].actor_kind == "api"
    paths = manager.get("/api/openapi.json").json()["paths"]
    assert {"/api/v1/personal-data/inactive", "/api/v1/customers/{customer_id}/personal-data",
            "/api/v1/customers/{customer_id}/erase"} <= set(paths)


def test_an_erased_customer_is_found_by_what_is_left(services: Services, tmp_path: Path) -> None:
    svc = service(services, tmp_path)
    customer_id, _ = closed_paid_customer(services)
    phone = svc.customer(customer_id).phone
    assert [m.id for m in svc.find(phone)] == [customer_id]
    svc.erase(customer_id, "request", actor=MANAGER)
    assert svc.find(phone) == []
    assert svc.customer(customer_id).erased
    with services.db.write() as s:  # an erased customer is not listed again, however long gone
        s.execute(update(Vehicle).where(Vehicle.customer_id == customer_id).values(last_service_on=date(2015, 1, 1)))
    assert customer_id not in {r.id for r in svc.inactive()}
