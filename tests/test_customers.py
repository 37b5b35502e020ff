"""Customer look-up, the vehicle overview and keeping the records (shopfloor/services/customers.py), on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shopfloor import i18n
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import InvalidIdentifier, with_check_digit
from shopfloor.domain.models import Advisor, Appointment, JobLine, QrTag, RepairOrder, Vehicle
from shopfloor.services.customers import CustomerService, normalize_phone
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

VIN_OUYANG = with_check_digit("LFMAP22C0R0123456")
VIN_SMITH = with_check_digit("LVGBM53K0RG900001")
VIN_NEV = with_check_digit("LFMZ3AAB0R0900002")


pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


@pytest.fixture
def customers(services: Services) -> CustomerService:
    return CustomerService(services.ctx)


@pytest.fixture
def known(customers: CustomerService) -> dict[str, dict[str, Any]]:
    """Three customers of our own on top of the demo's thirty: a compound surname, a foreigner, an NEV plate."""
    return {
        "ouyang": customers.create(plate="京A 12345", vin=VIN_OUYANG, model="卡罗拉", surname="欧阳", given_name="建国",
                                   salutation="先生", phone="138-0013-8000"),
        "smith": customers.create(plate="沪C·5Z9X8", vin=VIN_SMITH, model="凯美瑞", surname="Smith", given_name="John",
                                  salutation="先生", phone="+44 20 7946 0958", preferred_channel="wechat"),
        "nev": customers.create(plate="京AD12345", vin=VIN_NEV, model="bZ4X", surname="王", given_name="建华",
                                salutation="女士", phone="+86 139 1056 7890"),
    }


def plates(results: list[dict[str, Any]]) -> list[str]:
    return [r["plate"] for r in results]


# --- search ----------------------------------------------------------------------------------------------

# (input, whose car, what matched): every case runs against one seeded database per backend
PARTIAL_INPUTS = [
    ("京A12345", "ouyang", "plate"),
    ("京A·12345", "ouyang", "plate"),
    ("京a 12345", "ouyang", "plate"),
    ("京A1", "ouyang", "plate"),
    ("A12", "ouyang", "plate"),          # without the province, as people read it out
    ("a-123", "ouyang", "plate"),
    ("5Z9", "smith", "plate"),
    ("1380013", "ouyang", "phone"),      # partial phone
    ("8000", "ouyang", "phone"),         # last digits
    ("138 0013 8000", "ouyang", "phone"),
    ("13910567890", "nev", "phone"),     # stored without +86
    ("欧阳", "ouyang", "name"),
    ("欧阳建", "ouyang", "name"),
    ("欧阳建国", "ouyang", "name"),
    ("建国", "ouyang", "name"),
    ("smith", "smith", "name"),          # Latin names, any case
    ("SMI", "smith", "name"),
    ("john smith", "smith", "name"),
    ("John", "smith", "name"),
    ("王建", "nev", "name"),
    (VIN_OUYANG[-6:], "ouyang", "vin"),  # the last six of the VIN
    (VIN_SMITH[3:11].lower(), "smith", "vin"),
    (VIN_NEV, "nev", "vin"),
]


def test_search_finds_by_each_kind_of_partial_input(customers: CustomerService,
                                                    known: dict[str, dict[str, Any]]) -> None:
    failures = []
    for query, who, match in PARTIAL_INPUTS:
        results = customers.search(query, limit=100)
        wanted = known[who]
        found = [r for r in results if r["vehicle_id"] == wanted["vehicle_id"]]
        if found != [{**wanted, "match": match}]:
            failures.append((query, who, found or plates(results)))
    assert not failures


def test_a_hit_carries_what_the_desk_needs(customers: CustomerService, known: dict[str, dict[str, Any]]) -> None:
    hit = customers.search("京A12345")[0]
    assert hit["plate"] == "京A12345" and hit["plate_display"] == "京A·12345"
    assert hit["vin"] == VIN_OUYANG and hit["model"] == "卡罗拉"
    assert hit["customer"] == "欧阳建国" and hit["addressed"] == "欧阳先生"
    assert hit["phone"] == "13800138000" and hit["preferred_channel"] == "sms"
    assert re.fullmatch(r"SFT-[A-Z2-7]{24}", hit["tag"])
    smith = customers.search("smith")[0]
    assert smith["customer"] == "John Smith" and smith["phone"] == "+442079460958"
    assert smith["preferred_channel"] == "wechat"


def test_exact_matches_come_first(services: Services, customers: CustomerService,
                                  known: dict[str, dict[str, Any]]) -> None:
    # a second plate that contains the first one's digits, and a phone that starts the same
    other = customers.create(plate="京B12345", vin=with_check_digit("LFMAP22C0R0123457"), surname="李", given_name="四",
                             phone="13800138001")
    assert plates(customers.search("京A12345")) == ["京A12345"]
    by_digits = customers.search("12345")
    assert set(plates(by_digits)) >= {"京A12345", "京B12345", "京AD12345"}
    assert plates(customers.search("京B12345"))[0] == "京B12345"
    assert customers.search("13800138001")[0]["vehicle_id"] == other["vehicle_id"]
    assert customers.search("13800138000")[0]["vehicle_id"] == known["ouyang"]["vehicle_id"]
    assert customers.search(VIN_OUYANG)[0]["vin"] == VIN_OUYANG
    # a plate that starts with the input (the province left out) ranks above one that merely contains it
    customers.create(plate="京BA1299", vin=with_check_digit("LFMAP22C0R0123458"), surname="赵", phone="13800138002")
    ranked = plates(customers.search("A12", limit=100))
    assert ranked.index("京A12345") < ranked.index("京BA1299")
    assert all(p[1:].startswith("A12") for p in ranked[:ranked.index("京A12345")])


def test_search_words_combine(customers: CustomerService, known: dict[str, dict[str, Any]]) -> None:
    """'王 D12' is a 王 whose plate has D12 in it: not every 王, not every D12."""
    results = customers.search("王 D12")
    assert plates(results) == ["京AD12345"]


def test_search_takes_like_wildcards_literally(customers: CustomerService, known: dict[str, dict[str, Any]]) -> None:
    assert customers.search("%") == []
    assert customers.search("_") == []
    assert customers.search("京A_2345") == []
    assert customers.search("欧%国") == []
    assert customers.search("\\") == []
    assert customers.search("   ") == []


def test_search_limit_and_site(services: Services, customers: CustomerService) -> None:
    assert len(customers.search("京", limit=5)) == 5
    assert len(customers.search("京", limit=1000)) <= 100
    # the demo's own customers are found too: every demo plate by its full text
    with services.db.read() as s:
        demo_plates = list(s.scalars(select(Vehicle.plate)))
    for plate in demo_plates[:5]:
        assert customers.search(plate)[0]["plate"] == plate


# --- records ---------------------------------------------------------------------------------------------

def test_create_issues_a_tag_that_scans(services: Services, customers: CustomerService,
                                        known: dict[str, dict[str, Any]]) -> None:
    hit = known["ouyang"]
    scanned = services.checkin.scan(hit["tag"], actor="张伟")
    assert scanned.plate == "京A12345" and scanned.customer == "欧阳先生"
    # a second car for the same customer
    second = customers.create(plate="京N·7K8L9", vin=with_check_digit("LVGDC46A0NG900003"), model="汉兰达",
                              customer_id=hit["customer_id"])
    assert second["customer_id"] == hit["customer_id"] and second["tag"] != hit["tag"]
    overview = customers.overview(hit["vehicle_id"])
    assert [v["plate"] for v in overview["other_vehicles"]] == ["京N7K8L9"]


def test_create_validates(customers: CustomerService, known: dict[str, dict[str, Any]]) -> None:
    good: dict[str, Any] = {"plate": "京A54321", "vin": with_check_digit("LFMAP22C0R0555555"), "surname": "陈",
                            "phone": "13912345678"}
    with pytest.raises(InvalidIdentifier) as bad:
        customers.create(**{**good, "plate": "XA12345"})
    assert bad.value.key == "error.plate_province"
    with pytest.raises(InvalidIdentifier) as bad:
        bad_vin = good["vin"][:8] + ("1" if good["vin"][8] != "1" else "2") + good["vin"][9:]
        customers.create(**{**good, "vin": bad_vin})
    assert bad.value.key == "error.vin_check"
    for phone in ("123", "1" * 16, "1.38001E+10", "abc1234567"):
        with pytest.raises(Invalid) as exc:
            customers.create(**{**good, "phone": phone})
        assert exc.value.key == "customer_error.phone_invalid"
    with pytest.raises(Invalid) as exc:
        customers.create(**{**good, "phone": ""})
    assert exc.value.key == "customer_error.phone_missing"
    with pytest.raises(Invalid) as exc:
        customers.create(**{**good, "surname": "  "})
    assert exc.value.key == "customer_error.surname_empty"
    for field, value in (("surname", "王\x1b[2J"), ("given_name", "建\n国"), ("salutation", "\u202e生先")):
        with pytest.raises(Invalid) as exc:
            customers.create(**{**good, field: value})
        assert exc.value.key == "customer_error.name_control"
    with pytest.raises(Invalid):
        customers.create(**good, preferred_channel="fax")
    with pytest.raises(NotFound):
        customers.create(plate="京A54321", vin=good["vin"], customer_id=999_999)
    with pytest.raises(NotFound):
        customers.create(plate="京A54321", vin=good["vin"], customer_id=2**40)
    # nothing of the refused ones was written
    assert customers.search("京A54321") == []


def test_duplicate_vin_is_refused_with_a_clear_message(customers: CustomerService,
                                                       known: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(Refused) as exc:
        customers.create(plate="京A99999", vin=VIN_OUYANG.lower(), surname="钱", phone="13900000000")
    assert exc.value.key == "customer_error.vin_taken"
    assert "京A·12345" in exc.value.message("zh-CN") and VIN_OUYANG in exc.value.message("en")
    assert customers.search("京A99999") == []


def test_update_customer(customers: CustomerService, known: dict[str, dict[str, Any]]) -> None:
    cid = known["ouyang"]["customer_id"]
    out = customers.update_customer(cid, preferred_channel="WeChat", complaining=True, phone="+86 186 1234 5678",
                                    address="北京市朝阳区建国路88号")
    assert out["preferred_channel"] == "wechat" and out["complaining"] is True
    assert out["phone"] == "18612345678" and out["address"] == "北京市朝阳区建国路88号"
    assert customers.search("18612345678")[0]["complaining"] is True
    assert customers.overview(known["ouyang"]["vehicle_id"])["complaining"] is True
    out = customers.update_customer(cid, complaining=False, salutation="女士")
    assert out["complaining"] is False and out["addressed"] == "欧阳女士" and out["phone"] == "18612345678"
    with pytest.raises(Invalid):
        customers.update_customer(cid, preferred_channel="pigeon")
    with pytest.raises(Invalid):
        customers.update_customer(cid, phone="12")
    with pytest.raises(NotFound):
        customers.update_customer(0, complaining=True)


def test_items_open_arrive_and_close(services: Services, customers: CustomerService,
                                     known: dict[str, dict[str, Any]]) -> None:
    vid = known["smith"]["vehicle_id"]
    today = services.ctx.today()
    recall = customers.add_item(vid, "recall", "燃油泵召回 20V-682")
    parts = customers.add_item(vid, "parts_order", "右前大灯总成", part_numbers="81110-06C50", eta=today + timedelta(3))
    declined = customers.add_item(vid, "declined", "更换后刹车片（剩余3mm）")
    assert parts["state"] == "on_order" and parts["eta"] == (today + timedelta(3)).isoformat()
    assert recall["state"] == "open" and recall["created_on"] == today.isoformat()
    arrived = customers.mark_parts_arrived(parts["id"], today)
    assert arrived["state"] == "arrived" and arrived["arrived_on"] == today.isoformat()
    with pytest.raises(Refused):
        customers.mark_parts_arrived(recall["id"], today)
    with pytest.raises(Invalid):
        customers.mark_parts_arrived(parts["id"], today + timedelta(days=1))
    closed = customers.close_item(declined["id"])
    assert closed["state"] == "closed" and customers.close_item(declined["id"])["closed_on"] == today.isoformat()
    with pytest.raises(Refused):
        customers.mark_parts_arrived(customers.close_item(parts["id"])["id"], today)
    items = customers.overview(vid)["open_items"]
    assert [(i["kind"], i["state"]) for i in items] == [("recall", "open")]
    assert len(customers.items(vid, include_closed=True)) == 3
    with pytest.raises(Invalid):
        customers.add_item(vid, "wish", "x")
    with pytest.raises(Invalid):
        customers.add_item(vid, "recall", "  ")
    with pytest.raises(NotFound):
        customers.add_item(999_999, "recall", "x")
    with pytest.raises(NotFound):
        customers.close_item(999_999)


# --- overview --------------------------------------------------------------------------------------------

def _visit(services: Services, vehicle_id: int, days_ago: int, status: str = "delivered", km: int = 30000,
           number: str | None = None) -> str:
    now = services.ctx.now()
    with services.db.write() as s:
        advisor_id = s.scalar(select(Advisor.id).order_by(Advisor.id).limit(1))
        count = s.scalar(select(func.count()).select_from(RepairOrder))
        ro = RepairOrder(site_id=services.ctx.site, number=number or f"RO-HIST-{count}", vehicle_id=vehicle_id,
                         advisor_id=advisor_id, status=status, complaint="保养", mileage_km=km,
                         opened_at=now - timedelta(days=days_ago),
                         closed_at=now - timedelta(days=days_ago) + timedelta(hours=3)
                         if status in ("delivered", "cancelled") else None)
        ro.job_lines.append(JobLine(position=0, operation_code="M20", description="20000公里保养",
                                    hours=Decimal("1.8"), skill="maintenance"))
        s.add(ro)
        return ro.number


def _appointment(services: Services, vehicle_id: int, start_in: timedelta, status: str = "booked") -> int:
    with services.db.write() as s:
        advisor_id = s.scalar(select(Advisor.id).order_by(Advisor.id).limit(1))
        appt = Appointment(site_id=services.ctx.site, vehicle_id=vehicle_id, advisor_id=advisor_id,
                           start=services.ctx.now() + start_in, hours=Decimal("1.2"), work="10000公里保养",
                           status=status, version=1)
        s.add(appt)
        s.flush()
        return appt.id


def test_overview_shows_history_appointments_and_items(services: Services, customers: CustomerService,
                                                       known: dict[str, dict[str, Any]]) -> None:
    vid = known["ouyang"]["vehicle_id"]
    old = _visit(services, vid, days_ago=200, km=20100)
    recent = _visit(services, vid, days_ago=12, km=29800)
    _visit(services, vid, days_ago=5, status="cancelled")
    tomorrow = _appointment(services, vid, timedelta(days=1))
    _appointment(services, vid, timedelta(days=2), status="cancelled")
    _appointment(services, vid, timedelta(days=-3), status="no_show")
    late_today = _appointment(services, vid, timedelta(minutes=-20), status="late")
    customers.add_item(vid, "campaign", "免费空调检测活动")
    out = customers.overview(vid)
    assert out["customer"]["name"] == "欧阳建国" and out["vehicle"]["plate_display"] == "京A·12345"
    assert [v["number"] for v in out["visits"]][1:] == [recent, old]  # newest first; the cancelled one is listed
    first = out["visits"][1]
    assert first["mileage_km"] == 29800 and first["status"] == "delivered"
    assert first["work"] == [{"code": "M20", "description": "20000公里保养", "hours": 1.8, "skill": "maintenance"}]
    assert first["opened_on"] == (services.ctx.today() - timedelta(days=12)).isoformat()
    assert [a["id"] for a in out["appointments"]] == [late_today, tomorrow]
    assert out["appointments"][1]["plate"] == "京A12345"
    assert [i["description"] for i in out["open_items"]] == ["免费空调检测活动"]
    assert out["last_service"]["km"] == 29800
    assert out["repeat_repair"] is True and out["repeat_repair_of"] == recent
    assert out["complaining"] is False and out["open_ro"] is None


def test_repeat_repair_follows_the_setting(services: Services, customers: CustomerService,
                                           known: dict[str, dict[str, Any]]) -> None:
    vid = known["smith"]["vehicle_id"]
    days = services.ctx.settings.booking.repeat_repair_days
    assert customers.overview(vid)["repeat_repair"] is False  # never here
    _visit(services, vid, days_ago=days + 1)
    assert customers.overview(vid)["repeat_repair"] is False
    number = _visit(services, vid, days_ago=days - 1)
    out = customers.overview(vid)
    assert out["repeat_repair"] is True and out["repeat_repair_of"] == number
    # the car in the workshop now is this visit, not the earlier one
    open_now = _visit(services, vid, days_ago=0, status="in_progress")
    out = customers.overview(vid)
    assert out["open_ro"] == open_now and out["repeat_repair_of"] == number


def test_last_service_prefers_the_later_record(services: Services, customers: CustomerService,
                                               known: dict[str, dict[str, Any]]) -> None:
    vid = known["nev"]["vehicle_id"]
    with services.db.write() as s:
        v = s.get(Vehicle, vid)
        assert v is not None
        v.last_service_on, v.last_service_km = date(2026, 6, 15), 5020
    assert customers.overview(vid)["last_service"] == {"on": "2026-06-15", "km": 5020}
    _visit(services, vid, days_ago=400, km=1000)  # older than the DMS date: not used
    assert customers.overview(vid)["last_service"] == {"on": "2026-06-15", "km": 5020}
    _visit(services, vid, days_ago=10, km=9870)
    assert customers.overview(vid)["last_service"] == {
        "on": (services.ctx.today() - timedelta(days=10)).isoformat(), "km": 9870}


def test_overview_of_a_seeded_car_in_the_workshop(services: Services, customers: CustomerService) -> None:
    with services.db.read() as s:
        ro = s.scalars(select(RepairOrder).order_by(RepairOrder.id)).first()
        assert ro is not None
        vid, number = ro.vehicle_id, ro.number
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id == vid))
    out = customers.overview(vid)
    assert out["open_ro"] == number and out["visits"][0]["number"] == number
    assert out["vehicle"]["tag"] == tag
    with pytest.raises(NotFound):
        customers.overview(999_999)
    with pytest.raises(NotFound):
        customers.overview(-1)


# --- messages --------------------------------------------------------------------------------------------

def test_normalize_phone() -> None:
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert normalize_phone("0086 13800138000") == "13800138000"
    assert normalize_phone("(010) 6552-1234") == "01065521234"
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    for bad in ("", "123456", "1.38E+10", "138 0013 800O"):
        with pytest.raises(Invalid):
            normalize_phone(bad)


def test_every_message_key_used_is_in_both_catalogues() -> None:
    root = Path(__file__).resolve().parent.parent / "shopfloor" / "services"
    keys: set[str] = set()
    for name in ("customers.py", "dms_csv.py", "dms_import.py", "ical.py"):
        keys |= set(re.findall(r'"((?:customer_error|dms_import|ical|error)\.[a-z_]+)"', (root / name).read_text()))
    assert len(keys) > 30
    for lang in i18n.LANGUAGES:
        missing = sorted(k for k in keys if k not in i18n.catalogue(lang))
        assert not missing, (lang, missing)
    assert Refused("customer_error.vin_taken", vin="X", plate="京A·1").message("zh-CN").startswith("车架号 X")
