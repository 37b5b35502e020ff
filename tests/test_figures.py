"""The manager's figures on hand-built days with known answers, on SQLite and PostgreSQL.

The demo seed fills today (2026-11-23); the hand-built days are weeks earlier (6–8 October 2026, Tuesday to
Thursday of ISO week 41), so nothing else lands in them."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    JobLine,
    Leave,
    RepairOrder,
    RoEvent,
    Shift,
    Technician,
    Vehicle,
)
from shopfloor.services.figures import MAX_DAYS, FiguresService
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

D1, D2, D3 = date(2026, 10, 6), date(2026, 10, 7), date(2026, 10, 8)


pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


@pytest.fixture
def figures(services: Services) -> FiguresService:
    return FiguresService(services.ctx)


def at(svc: Services, day: date, hhmm: str) -> datetime:
    hh, mm = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hh, mm), tzinfo=svc.ctx.tz)


def build_days(svc: Services) -> int:
    """Three days of a small service lane; returns the number of technicians."""
    with svc.db.write() as s:
        advisors = {a.code: a for a in s.scalars(select(Advisor).where(Advisor.site_id == "demo"))}
        vehicles = list(s.scalars(select(Vehicle).order_by(Vehicle.id)))
        # every technician 8 h a day, every day; one of them on 4 h leave on D1
        techs = list(s.scalars(select(Technician).where(Technician.active.is_(True)).order_by(Technician.id)))
        s.execute(delete(Shift))
        s.add_all([Shift(technician_id=t.id, weekday=w, start=time(8, 0), end=time(17, 0), break_minutes=60)
                   for t in techs for w in range(7)])
        s.add(Leave(technician_id=techs[0].id, day=D1, hours=Decimal("4"), reason="doctor"))

        def appt(i: int, start: datetime, advisor: str, status: str, lines: list[tuple[str, float]],
                 arrived: datetime | None = None) -> Appointment:
            a = Appointment(site_id="demo", vehicle_id=vehicles[i].id, advisor_id=advisors[advisor].id, start=start,
                            hours=Decimal(str(sum(h for _, h in lines))), work="work", status=status,
                            arrived_at=arrived, job_lines=[{"description": "x", "hours": h, "skill": k}
                                                           for k, h in lines],
                            skill="repair" if any(k == "repair" for k, _ in lines) else "maintenance")
            s.add(a)
            s.flush()
            return a

        a1 = appt(0, at(svc, D1, "09:00"), "A", "arrived", [("maintenance", 1.0)], at(svc, D1, "09:02"))
        a2 = appt(1, at(svc, D1, "09:15"), "A", "arrived", [("maintenance", 0.5), ("repair", 1.5)],
                  at(svc, D1, "09:10"))
        appt(2, at(svc, D1, "11:00"), "B", "no_show", [("maintenance", 1.5)])
        appt(3, at(svc, D1, "14:00"), "B", "cancelled", [("maintenance", 1.0)])
        appt(4, at(svc, D1, "16:00"), "C", "booked", [("maintenance", 1.0)])

        def ro(n: int, vehicle: int, advisor: str, opened: datetime, lines: list[tuple[str, float]],
               history: list[tuple[datetime, str, str | None]], appointment: Appointment | None = None
               ) -> RepairOrder:
            status, reason = history[-1][1], history[-1][2]
            closed = history[-1][0] if status in ("delivered", "cancelled") else None
            order = RepairOrder(site_id="demo", number=f"RO-FIG-{n}", vehicle_id=vehicles[vehicle].id,
                                appointment_id=appointment.id if appointment else None,
                                advisor_id=advisors[advisor].id, status=status,
                                hold_reason=reason if status == "on_hold" else None, opened_at=opened,
                                closed_at=closed)
            for pos, (skill, hours) in enumerate(lines):
                order.job_lines.append(JobLine(position=pos, description="x", hours=Decimal(str(hours)), skill=skill))
            s.add(order)
            s.flush()
            previous = None
            for moment, to, why in [(opened, "checked_in", None), *history]:
                s.add(RoEvent(repair_order_id=order.id, at=moment, actor="test", kind="transition",
                              from_status=previous, to_status=to, reason=why))
                previous = to
            return order

        ro(1, 0, "A", at(svc, D1, "09:02"), [("maintenance", 1.0)],
           [(at(svc, D1, "09:20"), "dispatched", None), (at(svc, D1, "12:00"), "delivered", None)], a1)
        ro(2, 1, "A", at(svc, D1, "09:10"), [("maintenance", 0.5), ("repair", 1.5)],
           [(at(svc, D1, "09:30"), "dispatched", None), (at(svc, D1, "10:00"), "in_progress", None),
            (at(svc, D2, "11:00"), "delivered", None)], a2)
        # a walk-in waiting for parts overnight, back in work the next morning, out the day after
        ro(3, 5, "B", at(svc, D1, "10:20"), [("repair", 2.0)],
           [(at(svc, D1, "10:40"), "dispatched", None), (at(svc, D1, "11:00"), "in_progress", None),
            (at(svc, D1, "15:00"), "on_hold", "waiting_parts"), (at(svc, D2, "09:00"), "in_progress", None),
            (at(svc, D3, "10:00"), "quality_check", None), (at(svc, D3, "11:00"), "delivered", None)])
        # cancelled orders count nowhere
        ro(4, 6, "C", at(svc, D1, "13:00"), [("maintenance", 0.5)], [(at(svc, D1, "13:30"), "cancelled", None)])
        return len(techs)


def test_a_day_with_known_answers(services: Services, figures: FiguresService) -> None:
    techs = build_days(services)
    report = figures.report(D1, D3)
    assert [d["key"] for d in report["days"]] == ["2026-10-06", "2026-10-07", "2026-10-08"]
    day = report["days"][0]
    # appointment rate: 2 of the 3 orders came by appointment (the cancelled walk-in is left out)
    assert (day["repair_orders"], day["by_appointment"], day["walk_in"]) == (3, 2, 1)
    assert day["appointment_rate"] == pytest.approx(2 / 3, abs=1e-4)
    # show rate: 2 arrived, 1 no-show; the cancelled one is out, the one never marked is pending
    assert (day["appointments"], day["arrived"], day["no_show"], day["cancelled"], day["pending"]) == (4, 2, 1, 1, 1)
    assert day["show_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert day["no_show_rate"] == pytest.approx(1 / 3, abs=1e-4)
    # job mix from the orders' job lines
    assert day["hours"] == {"maintenance": 1.5, "repair": 3.5}
    assert day["worked"] == 5.0 and day["maintenance_share"] == pytest.approx(0.3)
    # sold: the appointments still holding hours (1 + 2 + 1; the no-show and the cancelled one released theirs);
    # available: 8 h per technician, one of them on 4 h leave
    assert day["sold"] == 4.0 and day["available"] == 8.0 * techs - 4
    assert day["sold_share"] == pytest.approx(4 / (8 * techs - 4), abs=1e-4)
    # levelling: 张伟 wrote up two cars in the 09:00 quarter, 李娜 one at 10:15
    lev = day["levelling"]
    assert (lev["arrivals"], lev["cells"], lev["max"], lev["mean"]) == (3, 2, 2, 1.5)
    assert lev["index"] == pytest.approx(4 / 3, abs=1e-3) and lev["over_limit"] == 1 and lev["limit"] == 1
    assert lev["peak"] == {"day": "2026-10-06", "advisor": "张伟", "at": "09:00", "arrivals": 2}
    assert day["carried_over"] == {"cars": 0, "causes": {}}


def test_carried_over_cars_by_their_status_at_midnight(services: Services, figures: FiguresService) -> None:
    build_days(services)
    days = {d["key"]: d for d in figures.report(D1, D3 + timedelta(days=1))["days"]}
    # at D2's midnight: RO 2 in progress, RO 3 on hold for parts
    assert days["2026-10-07"]["carried_over"] == {"cars": 2, "causes": {"in_progress": 1,
                                                                        "on_hold:waiting_parts": 1}}
    # at D3's midnight only RO 3, back in work since D2 09:00
    assert days["2026-10-08"]["carried_over"] == {"cars": 1, "causes": {"in_progress": 1}}
    assert days["2026-10-09"]["carried_over"] == {"cars": 0, "causes": {}}
    # nothing was written up on D2/D3: no rates, not zero
    assert days["2026-10-07"]["appointment_rate"] is None and days["2026-10-07"]["show_rate"] is None
    assert days["2026-10-07"]["levelling"]["max"] == 0 and days["2026-10-07"]["levelling"]["index"] is None


def test_weeks_sum_their_days(services: Services, figures: FiguresService) -> None:
    techs = build_days(services)
    report = figures.report(D1 - timedelta(days=1), D3 + timedelta(days=7))  # Monday of week 41 … week 42
    assert [(w["key"], w["first"], w["last"], w["days"]) for w in report["weeks"]] == [
        ("2026-W41", "2026-10-05", "2026-10-11", 7), ("2026-W42", "2026-10-12", "2026-10-15", 4)]
    week = report["weeks"][0]
    assert (week["repair_orders"], week["by_appointment"], week["arrived"], week["no_show"]) == (3, 2, 2, 1)
    assert week["sold"] == 4.0 and week["available"] == 7 * 8.0 * techs - 4
    # car-days: two cars into D2, one into D3
    assert week["carried_over"] == {"cars": 3, "causes": {"in_progress": 2, "on_hold:waiting_parts": 1}}
    assert week["levelling"]["max"] == 2 and week["levelling"]["cells"] == 2
    assert report["total"]["repair_orders"] == 3 and report["total"]["days"] == 11
    assert report["arrival_profile"] == {"09:00": 2, "10:15": 1}


def test_days_after_today_have_no_carried_over_figure(services: Services, figures: FiguresService) -> None:
    build_days(services)
    services.clock.set(at(services, D2, "08:00"))  # as if the manager looked on D2 at 08:00
    days = {d["key"]: d for d in figures.report(D1, D3)["days"]}
    assert days["2026-10-07"]["carried_over"]["cars"] == 2
    assert days["2026-10-08"]["carried_over"] is None


def test_default_range_is_two_weeks_back_and_this_week(services: Services, figures: FiguresService) -> None:
    # DEMO_NOW is Monday 2026-11-23 10:30 in Beijing
    assert figures.default_range() == (date(2026, 11, 9), date(2026, 11, 29))
    report = figures.report()
    assert (report["first"], report["last"], len(report["days"])) == ("2026-11-09", "2026-11-29", 21)
    assert [w["key"] for w in report["weeks"]] == ["2026-W46", "2026-W47", "2026-W48"]
    # the seeded day: cars in the workshop, appointments holding hours
    today = next(d for d in report["days"] if d["key"] == "2026-11-23")
    assert today["repair_orders"] > 0 and 0 < today["appointment_rate"] <= 1
    assert today["available"] > 0 and today["sold"] > 0
    assert report["days"][-1]["carried_over"] is None  # Sunday 29th is still ahead


def test_a_backwards_or_huge_range_is_refused(figures: FiguresService) -> None:
    with pytest.raises(Invalid):
        figures.report(D2, D1)
    with pytest.raises(Invalid):
        figures.report(D1, D1 + timedelta(days=MAX_DAYS))  # one day more than a report holds
