"""The 招揽 call lists (services/solicitation.py) on hand-built vehicles with a fixed clock, their CSV export and
monthly files; and the seeded demo: every list has entries and no day is booked beyond what the technicians can
sell."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shopfloor.clock import FixedClock
from shopfloor.db import Database
from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    Customer,
    Holiday,
    JobLine,
    LabourOperation,
    Leave,
    RepairOrder,
    Shift,
    Site,
    Technician,
    Vehicle,
    VehicleItem,
)
from shopfloor.i18n import t
from shopfloor.services.context import ServiceContext
from shopfloor.services.solicitation import KINDS, SolicitationService, add_months, days_after, months_between
from shopfloor.testing.plugin import Services, make_services

# Monday 2026-11-23, 10:30 in Beijing
NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
TODAY = date(2026, 11, 23)
HORIZON = 30  # config/demo.toml [booking] call_ahead_days
INTERVAL_DAYS = 180
INTERVAL_KM = 5000


class Site_:
    """A bare site (no demo data) with the maintenance catalogue, and a helper to add customers' cars."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.ctx: ServiceContext = svc.ctx
        self.n = 0
        with self.ctx.db.write() as s:
            s.add(Site(id="demo", name="test"))
            s.flush()
            s.add(Advisor(site_id="demo", code="A", name="张伟", pin_hash="x"))
            for code, km, hours in (("M05", 5000, "0.8"), ("M10", 10000, "1.2"), ("M20", 20000, "1.8"),
                                    ("M40", 40000, "2.5")):
                s.add(LabourOperation(site_id="demo", code=code, name_zh=f"{km}公里保养", name_en=f"{km:,} km service",
                                      hours=Decimal(hours), skill="maintenance", interval_km=km))
            s.add(LabourOperation(site_id="demo", code="BRK", name_zh="更换前刹车片", name_en="Replace brake pads",
                                  hours=Decimal("1.5"), skill="repair"))

    def car(self, **dates: Any) -> int:
        self.n += 1
        channel = dates.pop("channel", "sms")
        with self.ctx.db.write() as s:
            customer = Customer(site_id="demo", surname="王", given_name="建国", salutation="先生",
                                phone=f"1380000{self.n:04d}", preferred_channel=channel)
            vehicle = Vehicle(site_id="demo", customer=customer, vin=f"TESTVIN{self.n:010d}",
                              plate=f"京A{self.n:05d}", model="卡罗拉", **dates)
            s.add_all([customer, vehicle])
            s.flush()
            return vehicle.id

    def appointment(self, vehicle_id: int, start: datetime, status: str = "booked") -> None:
        with self.ctx.db.write() as s:
            advisor = s.scalars(select(Advisor)).first()
            assert advisor is not None
            s.add(Appointment(site_id="demo", vehicle_id=vehicle_id, advisor_id=advisor.id, start=start,
                              hours=Decimal("1.0"), work="保养", status=status))

    def repair_order(self, vehicle_id: int, opened: date, code: str = "BRK", km: int | None = None,
                     status: str = "delivered") -> None:
        with self.ctx.db.write() as s:
            advisor = s.scalars(select(Advisor)).first()
            assert advisor is not None
            at = datetime.combine(opened, time(9, 0), tzinfo=self.ctx.tz)
            ro = RepairOrder(site_id="demo", number=f"RO-T-{vehicle_id}-{opened:%Y%m%d}-{code}", vehicle_id=vehicle_id,
                             advisor_id=advisor.id, status=status, mileage_km=km, opened_at=at,
                             closed_at=at + timedelta(hours=3) if status == "delivered" else None)
            ro.job_lines.append(JobLine(position=0, operation_code=code, description=code, hours=Decimal("1"),
                                        skill="maintenance"))
            s.add(ro)

    def lists(self, today: date | None = None, lang: str = "zh-CN") -> dict[str, list[dict[str, Any]]]:
        return SolicitationService(self.ctx).lists(today, lang)

    def ids(self, kind: str, today: date | None = None) -> list[int]:
        return [e["vehicle_id"] for e in self.lists(today)[kind]]


@pytest.fixture
def site(sqlite_db: Database) -> Site_:
    return Site_(make_services(sqlite_db, FixedClock(NOW)))


def ahead_ctx(ctx: ServiceContext, call_ahead_days: int) -> ServiceContext:
    booking = ctx.settings.booking.model_copy(update={"call_ahead_days": call_ahead_days})
    return ServiceContext(ctx.db, ctx.settings.model_copy(update={"booking": booking}), ctx.clock)


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def test_month_arithmetic() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 23), -6) == date(2026, 5, 23)
    assert add_months(date(2026, 1, 31), -2) == date(2025, 11, 30)
    assert months_between(date(2026, 5, 23), TODAY) == 6
    assert months_between(date(2026, 5, 24), TODAY) == 5


def test_first_service_three_weeks_after_the_sale(site: Site_) -> None:
    sold_today = site.car(sold_on=TODAY)
    overdue = site.car(sold_on=days(-60))
    oldest_new = site.car(sold_on=days(-90))
    too_old = site.car(sold_on=days(-91))  # not a new car any more
    came_back = site.car(sold_on=days(-40))
    site.repair_order(came_back, days(-10), code="M05", km=2100)
    entries = site.lists()["first_service"]
    assert [e["vehicle_id"] for e in entries] == [oldest_new, overdue, sold_today]
    assert entries[2]["due"] == days(21).isoformat() and entries[0]["due"] == days(-69).isoformat()
    assert entries[0]["suggested_work"]["code"] == "M05"  # the smallest package
    assert entries[2]["detail"] == f"新车交付 {TODAY} → 首保 {days(21)}（交车后3周）"
    assert too_old not in site.ids("first_service")
    # the call-ahead window's last day is inside it
    for ahead, listed in ((21, True), (20, False)):
        ids = [e["vehicle_id"] for e in SolicitationService(ahead_ctx(site.ctx, ahead)).entries("first_service")]
        assert (sold_today in ids) is listed


def test_a_package_out_of_use_is_not_suggested(site: Site_) -> None:
    car = site.car(sold_on=days(-60))
    with site.ctx.db.write() as s:
        package = s.scalars(select(LabourOperation).where(LabourOperation.code == "M05")).one()
        package.active = False
    entry = next(e for e in site.lists()["first_service"] if e["vehicle_id"] == car)
    assert entry["suggested_work"]["code"] == "M10"  # the smallest package still offered


def test_maintenance_by_days_with_the_boundary_at_the_horizon(site: Site_) -> None:
    at_horizon = site.car(sold_on=days(-900), last_service_on=days(HORIZON - INTERVAL_DAYS), last_service_km=18400,
                          mileage_at=days(HORIZON - INTERVAL_DAYS), mileage_km=18400)
    beyond = site.car(sold_on=days(-900), last_service_on=days(HORIZON + 1 - INTERVAL_DAYS), last_service_km=8000)
    entries = site.lists()["maintenance_due"]
    assert [e["vehicle_id"] for e in entries] == [at_horizon]
    e = entries[0]
    assert e["due"] == days(HORIZON).isoformat() and e["booked"] is False
    assert e["detail"] == f"上次保养 {days(HORIZON - INTERVAL_DAYS)} · 18,400 km → {days(HORIZON)} 满 180 天"
    # 18,400 + 5,000 = 23,400 km: the 25,000 km milestone, a 5,000 km service
    assert e["suggested_work"] == {"code": "M05", "description": "5000公里保养", "hours": 0.8, "skill": "maintenance"}
    assert beyond not in site.ids("maintenance_due")


def test_mileage_projection_beats_the_day_interval(site: Site_) -> None:
    # 100 days ago at 15,000 km; 90 days later the odometer read 19,500: 50 km a day, so 20,000 km on day 100
    # after the service (today) - long before the 180 days are up
    driven = site.car(sold_on=days(-700), last_service_on=days(-100), last_service_km=15000,
                      mileage_at=days(-10), mileage_km=19500)
    # a car driven little: the day interval comes first
    idle = site.car(sold_on=days(-700), last_service_on=days(-170), last_service_km=15000,
                    mileage_at=days(-20), mileage_km=17000)
    entries = {e["vehicle_id"]: e for e in site.lists()["maintenance_due"]}
    assert entries[driven]["due"] == TODAY.isoformat()
    assert entries[driven]["detail"] == f"上次保养 {days(-100)} · 15,000 km → 预计 {TODAY} 达 20,000 km"
    assert entries[driven]["suggested_work"]["code"] == "M20"  # the 20,000 km service
    assert entries[idle]["due"] == days(10).isoformat() and "满 180 天" in entries[idle]["detail"]
    en = SolicitationService(site.ctx).entries("maintenance_due", lang="en")
    assert "expected to reach 20,000 km" in next(e for e in en if e["vehicle_id"] == driven)["detail"]


def test_due_dates_past_the_calendars_end_are_never_due(site: Site_) -> None:
    # a service date typed as 9999-12-31 in a DMS export; a car whose odometer moved 1 km in 690 days, read at a
    # repair last week (its next 5,000 km lie some 9,000 years ahead): both answered OverflowError, and every
    # list was gone
    typed = site.car(sold_on=days(-900), last_service_on=date(9999, 12, 31), last_service_km=8000)
    parked = site.car(sold_on=days(-900), last_service_on=days(-700), last_service_km=15000)
    site.repair_order(parked, days(-10), code="BRK", km=15001)
    due = {e["vehicle_id"]: e["due"] for e in site.lists()["maintenance_due"]}
    assert typed not in due
    assert due[parked] == days(180 - 700).isoformat()  # the day interval, long past
    assert add_months(date(2026, 1, 1), 1) == date(2026, 2, 1) and days_after(date(9999, 12, 30), 2) == date.max


def test_our_own_delivered_service_counts_as_the_last_service(site: Site_) -> None:
    car = site.car(sold_on=days(-900), last_service_on=days(-175), last_service_km=30000)
    assert car in site.ids("maintenance_due")
    site.repair_order(car, days(-20), code="M10", km=35100)
    assert car not in site.ids("maintenance_due")
    # a repair visit is no service: the reading projects the mileage from the recorded service
    other = site.car(sold_on=days(-900), last_service_on=days(-60), last_service_km=30000)
    site.repair_order(other, days(-30), code="BRK", km=32400)  # 80 km a day: 35,000 km on day 63
    assert {e["vehicle_id"]: e["due"] for e in site.lists()["maintenance_due"]}[other] == days(3).isoformat()


def test_a_vehicle_with_a_future_appointment_is_kept_but_marked_booked(site: Site_) -> None:
    booked = site.car(insurance_expires_on=days(5))
    free = site.car(insurance_expires_on=days(6))
    cancelled = site.car(insurance_expires_on=days(7))
    tomorrow_9 = datetime.combine(days(1), time(9, 0), tzinfo=site.ctx.tz)
    site.appointment(booked, tomorrow_9)
    site.appointment(cancelled, tomorrow_9, status="cancelled")
    site.appointment(free, tomorrow_9 - timedelta(days=3), status="arrived")  # a visit in the past
    entries = {e["vehicle_id"]: e for e in site.lists()["insurance_renewal"]}
    assert entries[booked]["booked"] and entries[booked]["booked_on"] == days(1).isoformat()
    assert not entries[free]["booked"] and not entries[cancelled]["booked"]
    # a car in the workshop is not called either
    site.repair_order(free, TODAY, status="in_progress")
    assert {e["vehicle_id"]: e["booked"] for e in site.lists()["insurance_renewal"]}[free] is True


@pytest.mark.parametrize(("kind", "field"), [("insurance_renewal", "insurance_expires_on"),
                                             ("annual_inspection", "inspection_due_on"),
                                             ("warranty_expiring", "warranty_expires_on")])
def test_dates_within_the_call_ahead_window(site: Site_, kind: str, field: str) -> None:
    inside = [site.car(**{field: days(n)}) for n in (HORIZON, 0, 12)]
    for n in (-1, HORIZON + 1):
        site.car(**{field: days(n)})
    entries = site.lists()[kind]
    assert [e["vehicle_id"] for e in entries] == [inside[1], inside[2], inside[0]]  # by due date
    assert [e["due"] for e in entries] == [days(0).isoformat(), days(12).isoformat(), days(HORIZON).isoformat()]
    assert entries[2]["detail"].endswith(f"（还有 {HORIZON} 天）")


def test_lapsed_12_is_not_also_lapsed_6(site: Site_) -> None:
    six = site.car(sold_on=days(-1000), last_service_on=add_months(TODAY, -6), last_service_km=40000)
    not_yet = site.car(sold_on=days(-1000), last_service_on=add_months(TODAY, -6) + timedelta(days=1))
    twelve = site.car(sold_on=days(-1000), last_service_on=add_months(TODAY, -12), last_service_km=40000)
    eleven = site.car(sold_on=days(-1000), last_service_on=add_months(TODAY, -12) + timedelta(days=1))
    recent_visit = site.car(sold_on=days(-1000), last_service_on=add_months(TODAY, -14))
    site.repair_order(recent_visit, days(-40))  # a repair visit is a visit
    never_back = site.car(sold_on=add_months(TODAY, -13))
    lists = site.lists()
    assert [e["vehicle_id"] for e in lists["lapsed_6"]] == [eleven, six]
    assert [e["vehicle_id"] for e in lists["lapsed_12"]] == [never_back, twelve]
    assert not_yet not in site.ids("lapsed_6") and recent_visit not in site.ids("lapsed_6") + site.ids("lapsed_12")
    six_entry = lists["lapsed_6"][1]
    assert six_entry["due"] == TODAY.isoformat() and "已 6 个月未回厂" in six_entry["detail"]
    assert lists["lapsed_12"][0]["detail"].startswith(f"{add_months(TODAY, -13)} 购车后未回厂")
    # a lapsed customer is called from the lapsed list, not the maintenance one
    assert not {six, twelve, eleven} & set(site.ids("maintenance_due"))


def test_lapsed_is_per_customer(site: Site_) -> None:
    old = site.car(sold_on=days(-1500), last_service_on=days(-400))
    with site.ctx.db.write() as s:
        owner = s.get_one(Vehicle, old).customer
        s.add(Vehicle(site_id="demo", customer=owner, vin="TESTVIN9999999999", plate="京A99999", model="汉兰达",
                      sold_on=days(-300), last_service_on=days(-20)))
    assert old not in site.ids("lapsed_12") + site.ids("lapsed_6")


def test_parts_arrived_not_closed(site: Site_) -> None:
    arrived = site.car()
    closed = site.car()
    coming = site.car()
    with site.ctx.db.write() as s:
        s.add_all([
            VehicleItem(vehicle_id=arrived, kind="parts_order", description="前刹车片", part_numbers="04465-02220",
                        created_on=days(-8), eta=days(-2), arrived_on=days(-2)),
            VehicleItem(vehicle_id=closed, kind="parts_order", description="蓄电池", part_numbers="28800-0T120",
                        created_on=days(-8), arrived_on=days(-3), closed_on=days(-1)),
            VehicleItem(vehicle_id=coming, kind="parts_order", description="正时皮带", created_on=days(-2),
                        eta=days(3)),
            VehicleItem(vehicle_id=coming, kind="recall", description="召回", created_on=days(-2)),
        ])
    entries = site.lists()["parts_arrived"]
    assert [e["vehicle_id"] for e in entries] == [arrived]
    assert entries[0]["due"] == days(-2).isoformat() and entries[0]["item_id"] is not None
    assert entries[0]["detail"] == f"前刹车片（04465-02220）{days(-2)} 到货"


def test_entry_shape_and_unknown_kind(site: Site_) -> None:
    car = site.car(inspection_due_on=days(3), channel="wechat")
    entries = SolicitationService(site.ctx).entries("annual_inspection")
    assert entries == [{
        "kind": "annual_inspection", "vehicle_id": car, "customer_id": entries[0]["customer_id"], "plate": "京A00001",
        "plate_display": "京A·00001", "model": "卡罗拉", "customer": "王先生", "phone": "13800000001",
        "preferred_channel": "wechat", "complaining": False, "due": days(3).isoformat(),
        "detail": f"年检 {days(3)} 到期（还有 3 天）", "suggested_work": None, "booked": False, "booked_on": None,
        "item_id": None}]
    assert list(site.lists()) == list(KINDS)
    with pytest.raises(Invalid):
        SolicitationService(site.ctx).entries("nonsense")


def test_csv_has_a_bom_translated_headers_and_parses_back(site: Site_) -> None:
    site.car(sold_on=days(-900), last_service_on=days(-170), last_service_km=18400, channel="letter")
    site.car(insurance_expires_on=days(4), channel="wechat")
    service = SolicitationService(site.ctx)
    for lang in ("zh-CN", "en"):
        lists = service.lists(lang=lang)
        entries = lists["maintenance_due"] + lists["insurance_renewal"]
        data = service.to_csv(entries, lang)
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        header = rows[0]
        assert header[0] == t(lang, "solicitation.column.kind") and header[2] == t(lang, "solicitation.column.plate")
        assert len(rows) == 3 and all(len(r) == len(header) for r in rows)
        first = dict(zip(header, rows[1], strict=True))
        assert first[t(lang, "solicitation.column.plate")] == "京A·00001"
        assert first[t(lang, "solicitation.column.channel")] == t(lang, "solicitation.channel.letter")
        assert first[t(lang, "solicitation.column.kind")] == t(lang, "solicitation.kind.maintenance_due")
        assert first[t(lang, "solicitation.column.detail")] == entries[0]["detail"]
        assert "M05" in first[t(lang, "solicitation.column.suggested_work")]
    assert "名单" in service.to_csv([], "zh-CN").decode("utf-8-sig") and "List" in service.to_csv([], "en").decode()


def test_csv_cells_are_not_formulas(site: Site_) -> None:
    car = site.car(insurance_expires_on=days(4))
    with site.ctx.db.write() as s:
        customer = s.get_one(Vehicle, car).customer
        customer.surname, customer.salutation = "=HYPERLINK(\"x\")", ""
    data = SolicitationService.to_csv(site.lists()["insurance_renewal"], "en").decode("utf-8-sig")
    assert "'=HYPERLINK" in data


def test_write_monthly_writes_once_and_never_overwrites(site: Site_, tmp_path: Path) -> None:
    site.car(insurance_expires_on=date(2026, 12, 10))
    service = SolicitationService(site.ctx)
    written = service.write_monthly(tmp_path, date(2026, 12, 1))
    folder = tmp_path / "call-lists" / "2026-12"
    assert sorted(written) == sorted(folder / f"{k}.csv" for k in KINDS)
    insurance = (folder / "insurance_renewal.csv").read_bytes()
    assert insurance.startswith(b"\xef\xbb\xbf") and "2026-12-10" in insurance.decode("utf-8-sig")
    assert len((folder / "first_service.csv").read_bytes().decode("utf-8-sig").splitlines()) == 1  # header only
    # what the staff were given stays as it was, even when the data changes
    (folder / "first_service.csv").write_bytes(b"edited by hand")
    site.car(insurance_expires_on=date(2026, 12, 11))
    assert service.write_monthly(tmp_path, date(2026, 12, 1)) == []
    assert (folder / "insurance_renewal.csv").read_bytes() == insurance
    assert (folder / "first_service.csv").read_bytes() == b"edited by hand"
    # a list missing from the month is written, the others kept
    (folder / "lapsed_6.csv").unlink()
    assert service.write_monthly(tmp_path, date(2026, 12, 1)) == [folder / "lapsed_6.csv"]
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*"))


# -- the seeded demo -------------------------------------------------------------------------------------------
def test_the_demo_has_entries_on_every_list(services: Services) -> None:
    lists = SolicitationService(services.ctx).lists()
    for kind in KINDS:
        assert 2 <= len(lists[kind]) <= 6, (kind, len(lists[kind]))
        assert [e["due"] for e in lists[kind]] == sorted(e["due"] for e in lists[kind])
    every = [e for entries in lists.values() for e in entries]
    assert any(e["booked"] for e in every) and not all(e["booked"] for e in every)
    assert {e["preferred_channel"] for e in every} >= {"sms", "wechat", "phone"}
    assert any("预计" in e["detail"] for e in lists["maintenance_due"])  # by the mileage projection
    assert any("满" in e["detail"] for e in lists["maintenance_due"])  # by the day interval


def _technician_hours(s: Any, day: date) -> tuple[float, float]:
    """(repair, all) technician hours on the day, straight from the seeded shifts, leave and holidays."""
    if s.scalar(select(Holiday.id).where(Holiday.day == day)) is not None:
        return 0.0, 0.0
    repair = total = 0.0
    for tech in s.scalars(select(Technician)):
        shift = s.scalar(select(Shift).where(Shift.technician_id == tech.id, Shift.weekday == day.weekday()))
        hours = 0.0
        if shift is not None:
            hours = (datetime.combine(day, shift.end) - datetime.combine(day, shift.start)).seconds / 3600 \
                - shift.break_minutes / 60
        for leave in s.scalars(select(Leave).where(Leave.technician_id == tech.id, Leave.day == day)):
            hours = 0.0 if leave.hours is None else hours - float(leave.hours)
        total += hours
        repair += hours if tech.skill == "repair" else 0.0
    return repair, total


def test_the_demo_is_not_overbooked_and_levelled(services: Services) -> None:
    ctx = services.ctx
    reserve = ctx.settings.booking.walk_in_reserve
    today = ctx.today()
    booked: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    arrivals: dict[tuple[date, int, datetime], int] = defaultdict(int)
    per_day: dict[date, int] = defaultdict(int)
    with ctx.db.read() as s:
        for appt in s.scalars(select(Appointment)):
            start = appt.start.astimezone(ctx.tz)
            day = start.date()
            if appt.status in ("cancelled", "no_show"):
                continue
            lines = appt.job_lines or [{"hours": float(appt.hours), "skill": appt.skill}]
            booked[day][0] += sum(float(str(x["hours"])) for x in lines if x["skill"] == "repair")
            booked[day][1] += sum(float(str(x["hours"])) for x in lines)
            per_day[day] += 1
            if day > today:
                quarter = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
                arrivals[(day, appt.advisor_id, quarter)] += 1
                opening = datetime.combine(day, ctx.settings.site.opening, tzinfo=ctx.tz)
                closing = datetime.combine(day, ctx.settings.site.closing, tzinfo=ctx.tz)
                assert opening <= start and start + timedelta(hours=float(appt.hours)) <= closing
        hours = {day: _technician_hours(s, day) for day in booked}
        staff = {a.name: a.roles for a in s.scalars(select(Advisor))}
        assert s.scalar(select(Holiday.day)) == today + timedelta(days=10)
        assert s.scalar(select(Leave.day)) == today + timedelta(days=1)
    assert set(booked) == {today + timedelta(days=k) for k in range(-14, 7)}
    for day, (repair, total) in sorted(booked.items()):
        repair_hours, total_hours = hours[day]
        assert total <= (1 - reserve) * total_hours + 1e-6, (day, total, total_hours)
        assert repair <= (1 - reserve) * repair_hours + 1e-6, (day, repair, repair_hours)
    for k in range(1, 7):
        assert 12 <= per_day[today + timedelta(days=k)] <= 22
    assert max(arrivals.values()) == 1  # at most one arrival per advisor per quarter hour
    assert {"赵经理": "manager", "孙丽": "cs", "钱进": "parts"}.items() <= staff.items()
    assert [role for role in staff.values()].count("advisor") == 4


def test_the_demo_history_and_carried_over_cars(services: Services) -> None:
    ctx = services.ctx
    today = ctx.today()
    start, _ = ctx.day_bounds(today)
    with ctx.db.read() as s:
        past = list(s.scalars(select(Appointment).where(Appointment.start < start)))
        statuses = {a.status for a in past}
        carried = list(s.scalars(select(RepairOrder).where(RepairOrder.opened_at < start,
                                                           RepairOrder.closed_at.is_(None))))
        items = {(i.kind, i.arrived_on is not None) for i in s.scalars(select(VehicleItem))}
        future = list(s.scalars(select(Appointment).where(Appointment.start >= start + timedelta(days=1))))
        complaining = s.scalar(select(Customer).where(Customer.complaining.is_(True)))
        rebooked = [a for a in past if a.rebooked_as_id is not None]
    assert statuses == {"arrived", "no_show", "cancelled"}
    assert sorted(ro.status for ro in carried) == ["in_progress", "on_hold"]
    assert [ro.hold_reason for ro in carried if ro.status == "on_hold"] == ["waiting_parts"]
    assert all(ro.opened_at.astimezone(ctx.tz).date() == today - timedelta(days=1) for ro in carried)
    assert items >= {("recall", False), ("declined", False), ("parts_order", True), ("parts_order", False)}
    assert complaining is not None and rebooked
    assert any(a.repeat_repair for a in future) and any(a.waiting_customer for a in future)
    assert any(a.road_test for a in future) and any(a.complaining_customer for a in future)
    assert {a.parts_status for a in future} >= {"in_stock", "to_order", "arrived"}
    assert all(a.parts_eta is not None for a in future if a.parts_status == "to_order")
    assert any(a.call_outcome == "confirmed" for a in future) and all(a.job_lines for a in future)
