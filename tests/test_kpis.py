"""The service KPIs on SQLite and PostgreSQL: every figure's numerator and denominator against a day counted by
hand (orders, appointments, promises, clockings, settlement, calls, complaints, vehicles written for it on a day
the demo does not touch); properties over the demo's history (shares stay within 0..1, the days of a week add up
to the week); the API's contract, its CSV and its 422s."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shopfloor.domain.aftersales_models import Complaint, FollowUpAttempt, FollowUpCall
from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    Customer,
    Holiday,
    JobLine,
    RepairOrder,
    RoEvent,
    Technician,
    Vehicle,
)
from shopfloor.domain.parts_models import PartsLine
from shopfloor.domain.workshop_models import Clocking, ClockingLine, Promise
from shopfloor.services.kpis import BOUNDED, KEYS, SNAPSHOTS, KpiReport, KpiService
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

DAY = date(2024, 3, 13)  # a Wednesday long before the demo's history (its oldest visit is < 24 months back)


def _at(ctx_tz: object, day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=ctx_tz)  # type: ignore[arg-type]


def _fixture_day(svc: Services) -> dict[str, Decimal]:
    """Writes the hand-counted day; returns the labour rates it was priced at."""
    ctx = svc.ctx
    tz, site = ctx.tz, ctx.site

    def at(hh: int, mm: int = 0, days: int = 0) -> datetime:
        return _at(tz, DAY + timedelta(days=days), hh, mm)

    with svc.db.write() as s:
        advisor = s.scalar(select(Advisor).where(Advisor.site_id == site, Advisor.name == "张伟"))
        tech = s.scalar(select(Technician).where(Technician.site_id == site).order_by(Technician.id).limit(1))
        assert advisor is not None and tech is not None
        s.add(Holiday(site_id=site, day=DAY, name="盘点"))  # no shift anywhere: clocked in = the clockings alone
        cars = []
        for i in range(8):
            customer = Customer(site_id=site, surname="测", given_name=f"试{i}")
            cars.append(Vehicle(site_id=site, customer=customer, vin=f"KPITEST{i:010d}", plate=f"沪K{i:05d}"))
        cars[5].sold_on = DAY  # back for a first service later (R6)
        cars[6].sold_on = DAY  # not back
        cars[6].insurance_expires_on = cars[7].insurance_expires_on = DAY
        s.add_all(cars)
        s.flush()

        def appt(car: Vehicle, hh: int, status: str, arrived: bool) -> Appointment:
            a = Appointment(site_id=site, vehicle_id=car.id, advisor_id=advisor.id, start=at(hh), hours=Decimal(1),
                            work="保养", status=status, arrived_at=at(hh) if arrived else None, version=1)
            s.add(a)
            return a

        a1, a2 = appt(cars[0], 9, "arrived", True), appt(cars[3], 10, "arrived", True)
        appt(cars[4], 11, "no_show", False)
        appt(cars[4], 14, "cancelled", False)
        s.flush()

        def order(n: int, car: Vehicle, opened: datetime, status: str, **kw: object) -> RepairOrder:
            ro = RepairOrder(site_id=site, number=f"KPI{n:03d}", vehicle_id=car.id, advisor_id=advisor.id,
                             status=status, opened_at=opened, version=1, **kw)
            s.add(ro)
            return ro

        r1 = order(1, cars[0], at(8, 50), "delivered", appointment_id=a1.id, closed_at=at(15), settled_at=at(14, 50),
                   discount=Decimal(20))
        r2 = order(2, cars[1], at(9, 30), "delivered", closed_at=at(16), settled_at=at(15, 50))
        order(3, cars[2], at(10), "cancelled")
        order(4, cars[3], at(10, 5), "in_progress", appointment_id=a2.id)
        order(7, cars[4], at(10, days=-200), "delivered", closed_at=at(12, days=-200))  # lapsed 6 months by DAY
        s.flush()
        order(5, cars[0], at(9, days=5), "checked_in", comeback_of_id=r1.id)  # r1 came back: not fixed
        order(6, cars[5], at(9, days=20), "checked_in")
        lines = [JobLine(repair_order_id=r1.id, position=0, description="保养", hours=Decimal("2.0"),
                         skill="maintenance", status="done", payer="customer", finished_at=at(12)),
                 JobLine(repair_order_id=r2.id, position=0, description="刹车", hours=Decimal("1.0"), skill="repair",
                         status="done", payer="customer", finished_at=at(13)),
                 JobLine(repair_order_id=r2.id, position=1, description="召回", hours=Decimal("0.5"), skill="repair",
                         status="done", payer="warranty", finished_at=at(13)),
                 JobLine(repair_order_id=r2.id, position=2, description="取消", hours=Decimal("3.0"), skill="repair",
                         status="cancelled", payer="customer")]
        s.add_all(lines)
        s.flush()
        s.add_all([PartsLine(repair_order_id=r1.id, job_line_id=lines[0].id, number="P1", name="机油",
                             quantity=Decimal(2), unit_price=Decimal("45.50"), status="issued", created_by="t",
                             created_at=at(9)),
                   PartsLine(repair_order_id=r2.id, job_line_id=lines[2].id, number="P2", name="油泵",
                             quantity=Decimal(1), unit_price=Decimal("300.00"), status="issued", created_by="t",
                             created_at=at(9)),
                   PartsLine(repair_order_id=r2.id, job_line_id=lines[3].id, number="P3", name="取消的",
                             quantity=Decimal(1), unit_price=Decimal("999.00"), status="to_pick", created_by="t",
                             created_at=at(9))])
        s.add_all([Clocking(site_id=site, technician_id=tech.id, repair_order_id=r1.id, started_at=at(9),
                            ended_at=at(12), started_by="t", lines=[ClockingLine(job_line_id=lines[0].id)]),
                   Clocking(site_id=site, technician_id=tech.id, repair_order_id=r2.id, started_at=at(12),
                            ended_at=at(13), started_by="t",
                            lines=[ClockingLine(job_line_id=lines[1].id), ClockingLine(job_line_id=lines[2].id)])])
        # ready: r1 at 14:00 (first promise 13:00 missed, the last 16:00 kept), r2 at 12:00 (12:30 kept)
        s.add_all([RoEvent(repair_order_id=r1.id, at=at(14), actor="t", kind="transition", to_status="ready"),
                   RoEvent(repair_order_id=r2.id, at=at(12), actor="t", kind="transition", to_status="ready"),
                   RoEvent(repair_order_id=r2.id, at=at(15), actor="t", kind="transition", to_status="ready")])
        s.add_all([Promise(repair_order_id=r1.id, promised_at=at(13), kind="checkin", recorded_by="t",
                           recorded_at=at(9)),
                   Promise(repair_order_id=r1.id, promised_at=at(16), kind="new", recorded_by="t", recorded_at=at(12)),
                   Promise(repair_order_id=r2.id, promised_at=at(12, 30), kind="checkin", recorded_by="t",
                           recorded_at=at(9))])
        # a workmanship complaint on r2 40 days after its delivery: outside first_time_fix_days (30)
        s.add(Complaint(site_id=site, repair_order_id=r2.id, source="desk", problem_class="workmanship",
                        severity="normal", description="x", status="open", opened_at=at(10, days=40), opened_by="t",
                        acknowledge_by=at(10, days=41), investigate_by=at(10, days=42), version=1))

        def complaint(cls: str, ack: datetime | None, inv: datetime | None) -> None:
            s.add(Complaint(site_id=site, source="call", problem_class=cls, severity="normal", description="x",
                            status="open", opened_at=at(9), opened_by="t", acknowledge_by=at(9, days=1),
                            acknowledged_at=ack, investigate_by=at(9, days=2), investigated_at=inv, version=1))

        complaint("workmanship", at(10), at(17))  # on time
        complaint("price", at(11, days=1), at(17))  # acknowledged late
        complaint("attitude", at(10), None)  # never investigated, its deadline long past

        def call(kind: str, car: Vehicle, ro: RepairOrder | None, attempts: list[tuple[datetime, str]],
                 score: int | None) -> None:
            last_at, outcome = attempts[-1]
            c = FollowUpCall(site_id=site, kind=kind, dedup_key=f"kpi:{kind}:{car.id}", vehicle_id=car.id,
                             repair_order_id=ro.id if ro is not None else None,
                             due_on=DAY, first_due_on=DAY, status="done", attempts=len(attempts), outcome=outcome,
                             score=score, note="", called_by="t", called_at=last_at, created_at=at(8))
            s.add(c)
            s.flush()
            s.add_all(FollowUpAttempt(follow_up_id=c.id, at=a, by="t", outcome=o, note="") for a, o in attempts)

        # (made on the day of delivery: the day counted is the call's)
        call("3dc", cars[0], r1, [(at(10), "unreachable"), (at(11), "satisfied")], 9)
        call("3dc", cars[1], r2, [(at(12), "problem")], None)
        call("7dc", cars[2], None, [(at(13), "satisfied")], 10)  # not a 3-day call
    fallback = svc.ctx.settings.workshop.labour_rate
    return {skill: Decimal(str(svc.ctx.settings.reception.labour_rate(skill, fallback)))
            for skill in ("maintenance", "repair")}


def _counted(report: KpiReport) -> dict[str, tuple[object, object]]:
    return {f.key: (f.numerator, f.denominator) for f in report.figures}


def test_a_day_counted_by_hand(services: Services) -> None:
    rate = _fixture_day(services)
    report = KpiService(services.ctx).report(DAY, DAY)
    got = _counted(report)
    labour = (2 * rate["maintenance"] + Decimal("1.5") * rate["repair"]).quantize(Decimal("0.01"))
    customer = 2 * rate["maintenance"] + 91 - 20 + rate["repair"]
    expected: dict[str, tuple[object, object]] = {
        "intake": (3, None), "appointment_rate": (2, 3), "show_rate": (2, 3),
        "on_time_first": (1, 2), "on_time_last": (2, 2), "first_time_fix": (1, 2),
        "productivity": (4, 4), "efficiency": (3.5, 4), "proficiency": (3.5, 4), "hours_per_order": (3.5, 2),
        "labour_revenue": (labour, None), "parts_revenue": (Decimal("391.00"), None),
        "customer_paid": (customer, None), "average_ticket": (labour + 391 - 20, 2),
        "reach_3dc": (2, 3), "csi": (9, 1), "csi_top": (1, 2),
        "complaints_opened": (3, None), "complaints.workmanship": (1, None), "complaints.price": (1, None),
        "complaints.attitude": (1, None), "complaints.process": (0, None), "complaints_on_time": (1, 3),
        "first_service_return": (1, 2), "insurance_renewal": (None, 2),
        "lapsed_3": (1, 4), "lapsed_6": (1, 4), "lapsed_12": (0, 4)}
    assert {k: got[k] for k in expected} == expected
    figure = report.figure
    assert figure("appointment_rate").value == round(2 / 3, 4)
    assert figure("average_ticket").value == ((labour + 371) / 2).quantize(Decimal("0.01"))
    assert figure("insurance_renewal").value is None and figure("insurance_renewal").target is not None
    assert figure("productivity").target is not None and figure("productivity").target.high == 0.875
    assert all(f.formula["en"] and f.formula["zh-CN"] and "kpis." not in f.formula["en"] for f in report.figures)
    # the day is its own only period, and a week around it holds it
    assert _counted(report) == {f.key: (f.numerator, f.denominator) for f in report.periods[0].figures}
    week = KpiService(services.ctx).report(DAY - timedelta(days=2), DAY + timedelta(days=4), "week")
    assert _counted(week)["on_time_last"] == (2, 2) and _counted(week)["intake"] == (3, None)


def test_refused_ranges(services: Services) -> None:
    kpis = KpiService(services.ctx)
    with pytest.raises(Invalid):
        kpis.report(DAY, DAY - timedelta(days=1))
    with pytest.raises(Invalid):
        kpis.report(DAY, DAY + timedelta(days=400))
    with pytest.raises(Invalid):
        kpis.report(DAY, DAY, "year")
    assert len(kpis.report(DAY, DAY + timedelta(days=399), "month").periods) == 14


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(back=st.integers(min_value=0, max_value=20), length=st.integers(min_value=0, max_value=20))
def test_shares_stay_within_0_and_1_and_days_add_up_to_weeks(services: Services, back: int, length: int) -> None:
    kpis = KpiService(services.ctx)
    last = services.ctx.today() - timedelta(days=back)
    first = last - timedelta(days=length)
    days, weeks = kpis.report(first, last, "day"), kpis.report(first, last, "week")
    for report in (days, weeks):
        for figures in [report.figures, *(p.figures for p in report.periods)]:
            assert [f.key for f in figures] == list(KEYS)
            for f in figures:
                if f.key in BOUNDED and f.value is not None:
                    assert 0 <= float(f.value) <= 1, f
                if f.value is not None and f.unit != "CNY":
                    assert float(f.value) >= 0
    for week in weeks.periods:
        members = [p for p in days.periods if week.first <= date.fromisoformat(p.key) <= week.last]
        for i, f in enumerate(week.figures):
            if f.key in SNAPSHOTS:
                continue
            parts = [m.figures[i] for m in members]
            assert sum(Decimal(str(p.numerator or 0)) for p in parts) == pytest.approx(
                Decimal(str(f.numerator or 0)), abs=Decimal("0.05")), f.key
            assert sum(float(p.denominator or 0) for p in parts) == pytest.approx(float(f.denominator or 0),
                                                                                    abs=0.05), f.key
    # the whole range is the sum of its weeks too
    total = days.figures
    for i, f in enumerate(total):
        if f.key not in SNAPSHOTS and f.unit != "CNY":
            assert sum(float(w.figures[i].denominator or 0) for w in weeks.periods) == pytest.approx(
                float(f.denominator or 0), abs=0.05)


def test_demo_history_gives_every_figure_a_value(services: Services) -> None:
    today = services.ctx.today()
    report = KpiService(services.ctx).report(today - timedelta(days=13), today)
    missing = [f.key for f in report.figures if f.value is None and f.key != "insurance_renewal"]
    assert missing == []


TOKEN = "kpi-token"


def test_api_contract_csv_and_422(services: Services) -> None:
    _fixture_day(services)
    client = TestClient(api_app(services.ctx, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})
    r = client.get("/api/v1/kpis", params={"from": DAY.isoformat(), "to": DAY.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"], body["by"]) == (DAY.isoformat(), DAY.isoformat(), "day")
    figures = {f["key"]: f for f in body["figures"]}
    assert set(figures) == set(KEYS)
    for f in figures.values():
        assert {"value", "numerator", "denominator", "formula", "unit"} <= set(f)
    assert figures["show_rate"]["numerator"] == 2 and figures["show_rate"]["denominator"] == 3
    assert figures["parts_revenue"]["value"] == "391.00"
    assert figures["efficiency"]["target"] == {"value": 1.25, "high": None}
    assert [p["key"] for p in body["periods"]] == [DAY.isoformat()]
    month = client.get("/api/v1/kpis", params={"from": "2024-03-01", "to": "2024-04-30", "by": "month"}).json()
    assert [p["key"] for p in month["periods"]] == ["2024-03", "2024-04"]
    for params in ({"from": "2024-03-14", "to": "2024-03-13"}, {"from": "2023-01-01", "to": "2024-03-13"},
                   {"from": "2024-02-30"}, {"by": "year"}):
        assert client.get("/api/v1/kpis", params=params).status_code == 422, params
        assert client.get("/api/v1/kpis.csv", params=params).status_code == 422, params
    r = client.get("/api/v1/kpis.csv", params={"from": DAY.isoformat(), "to": DAY.isoformat(), "lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["period", "from", "to", "key"]
    show = next(row for row in rows[1:] if row[0] == "range" and row[3] == "show_rate")
    assert show[5:8] == ["0.6667", "2", "3"]
    assert client.get("/api/v1/kpis", headers={"Authorization": "Bearer nope"}).status_code == 401
