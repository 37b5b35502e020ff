"""Booking through the service and the API, on SQLite and PostgreSQL: the contract the acceptance checks use
(/api/v1/slots, POST /api/v1/appointments with 409 reasons and logged overrides, /api/v1/capacity), moves,
no-shows, and what goes on the bus."""

import itertools
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shopfloor.contract import payloads, topics
from shopfloor.contract.entity_states import CapacityState
from shopfloor.db import Database
from shopfloor.demo import seed
from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import Appointment, Bay, BookingOverride, LabourOperation, OutboxMessage, Vehicle
from shopfloor.services.booking import BookingRefused, BookingRequest, WorkLine
from shopfloor.services.capacity import count_marked, load_plan, refresh_marked
from shopfloor.services.customers import CustomerService
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.demo_day import quiet_day
from shopfloor.testing.plugin import DEMO_PINS, ON_BOTH_DATABASES, Services, make_services

TOKEN = "test-token"


pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


@pytest.fixture
def client(services: Services) -> TestClient:
    return TestClient(api_app(services.ctx, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})


def plates(svc: Services) -> list[str]:
    with svc.db.read() as s:
        return list(s.scalars(select(Vehicle.plate).order_by(Vehicle.id)))


def local(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+08:00"


def test_slots_are_proposed_best_first_with_why(client: TestClient, services: Services) -> None:
    day = quiet_day(services)
    r = client.get("/api/v1/slots", params={"day": day.isoformat(), "hours": 1.5, "skill": "maintenance"})
    assert r.status_code == 200, r.text
    slots = r.json()
    assert 1 <= len(slots) <= 5
    for slot in slots:
        assert slot["start"].startswith(day.isoformat())
        assert {"id", "name", "code"} <= set(slot["advisor"])
        assert slot["why"] and "arrival" in slot["why"]
    assert [s["score"] for s in slots] == sorted(s["score"] for s in slots)
    # Booking the first proposal is accepted as it stands, with the advisor shopfloor named.
    r = client.post("/api/v1/appointments", json={"plate": plates(services)[0], "start": slots[0]["start"],
                                                  "advisor": slots[0]["advisor"], "hours": 1.5,
                                                  "skill": "maintenance", "work": "换机油"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["advisor"]["id"] == slots[0]["advisor"]["id"] and body["status"] == "booked"
    assert body["hours"] == 1.5 and body["skill"] == "maintenance" and body["overrides"] == []
    # The next proposals avoid the time just taken.
    again = client.get("/api/v1/slots", params={"day": day.isoformat(), "hours": 1.5, "skill": "maintenance"}).json()
    assert again[0]["start"] != slots[0]["start"] or again[0]["advisor"]["id"] != slots[0]["advisor"]["id"]


def test_booking_by_catalogue_lines_and_default_advisor(client: TestClient, services: Services) -> None:
    day = quiet_day(services)
    r = client.post("/api/v1/appointments", json={"plate": plates(services)[1], "start": local(day, 9),
                                                  "job_lines": ["M20", {"description": "右前轮异响检查", "hours": 0.5,
                                                                        "skill": "repair"}]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["skill"] == "repair" and body["hours"] == pytest.approx(1.8 + 0.5)
    assert [line["code"] for line in body["job_lines"]] == ["M20", None]
    assert body["advisor"]["code"] and body["bay"] is not None


def test_capacity_per_technician_and_skill_class(client: TestClient, services: Services) -> None:
    day = quiet_day(services)
    before = client.get("/api/v1/capacity", params={"day": day.isoformat()}).json()
    assert before["technicians"] and {"available", "allocated", "free", "reserved"} <= set(before["technicians"][0])
    for skill in ("maintenance", "repair"):
        assert {"available", "allocated", "free", "reserved"} <= set(before["skills"][skill])
    assert before["skills"]["repair"]["reserved"] == pytest.approx(0.2 * before["skills"]["repair"]["available"])
    r = client.post("/api/v1/appointments", json={"plate": plates(services)[2], "start": local(day, 10),
                                                  "hours": 3, "skill": "repair", "work": "更换正时皮带"})
    assert r.status_code == 201
    after = client.get("/api/v1/capacity", params={"day": day.isoformat()}).json()
    assert after["skills"]["repair"]["allocated"] == before["skills"]["repair"]["allocated"] + 3
    assert after["skills"]["repair"]["free"] == pytest.approx(before["skills"]["repair"]["free"] - 3)
    assert sum(t["allocated"] for t in after["technicians"]) == pytest.approx(
        sum(t["allocated"] for t in before["technicians"]) + 3)
    assert client.get("/api/v1/capacity", params={"day": "2026-13-01"}).status_code == 422


def _fill_repair(client: TestClient, svc: Services, day: date) -> float:
    """Book repair work until only less than 3 h of sellable repair hours remain; returns what is left."""
    plate_list = plates(svc)
    for i in range(40):
        free = client.get("/api/v1/capacity", params={"day": day.isoformat()}).json()["skills"]["repair"]["free"]
        if free < 3:
            return float(free)
        hours = min(3.0, free)
        slots = client.get("/api/v1/slots", params={"day": day.isoformat(), "hours": hours, "skill": "repair"}).json()
        assert slots, f"{free} h free but no slot proposed"
        r = client.post("/api/v1/appointments", json={"plate": plate_list[i % len(plate_list)],
                                                      "start": slots[0]["start"], "hours": hours, "skill": "repair"})
        assert r.status_code == 201, r.text
    raise AssertionError("never filled")


def test_409_reserve_then_capacity_and_overrides_are_logged(client: TestClient, services: Services) -> None:
    day = quiet_day(services)
    free = _fill_repair(client, services, day)
    cap = client.get("/api/v1/capacity", params={"day": day.isoformat()}).json()["skills"]["repair"]
    # 13:00 with an advisor who has no arrival then: only the hours can be the problem
    busy = {a["advisor"]["code"] for a in client.get("/api/v1/appointments", params={"day": day.isoformat()}).json()
            if a["start"][11:16] in ("13:00", "13:05", "13:10")}
    advisor = next(code for code in "ABCD" if code not in busy)
    ask = {"plate": plates(services)[3], "start": local(day, 13), "advisor": advisor, "hours": free + 0.5,
           "skill": "repair", "work": "变速箱检查"}
    r = client.post("/api/v1/appointments", json=ask)
    assert r.status_code == 409 and r.json()["reason"] == "reserve", r.text
    assert "walk-in reserve" in r.json()["detail"]
    assert client.get("/api/v1/slots", params={"day": day.isoformat(), "hours": free + 0.5,
                                               "skill": "repair"}).json() == []
    beyond = {**ask, "hours": cap["reserved"] + free + 1}
    r = client.post("/api/v1/appointments", json=beyond)
    assert r.status_code == 409 and r.json()["reason"] == "capacity"
    # Booked anyway: with a reason, logged with who and why. Who is the API token's name ("api", the
    # integrator's), not the free-text actor of the body.
    r = client.post("/api/v1/appointments", json={**ask, "override": {"reason": "VIP 客户，经理同意"},
                                                  "actor": "赵经理"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(o["rule"], o["actor"], o["reason"]) for o in body["overrides"]] == [("reserve", "api",
                                                                                   "VIP 客户，经理同意")]
    with services.db.read() as s:
        logged = list(s.scalars(select(BookingOverride).where(BookingOverride.appointment_id == body["id"])))
        assert [(o.rule, o.actor) for o in logged] == [("reserve", "api")] and "reserve" in logged[0].detail
    # An empty reason is no reason.
    assert client.post("/api/v1/appointments", json={**ask, "override": {"reason": ""}}).status_code == 422


def test_409_stagger_for_one_advisor_in_one_quarter_hour(client: TestClient, services: Services) -> None:
    day = quiet_day(services)
    p = plates(services)
    first = client.post("/api/v1/appointments", json={"plate": p[4], "start": local(day, 9, 0), "advisor": "A",
                                                      "hours": 0.5, "skill": "maintenance"})
    assert first.status_code == 201
    r = client.post("/api/v1/appointments", json={"plate": p[5], "start": local(day, 9, 10), "advisor": "A",
                                                  "hours": 0.5, "skill": "maintenance"})
    assert r.status_code == 409 and r.json()["reason"] == "stagger"
    # Without a named advisor shopfloor picks one who is free then.
    r = client.post("/api/v1/appointments", json={"plate": p[5], "start": local(day, 9, 10), "hours": 0.5,
                                                  "skill": "maintenance"})
    assert r.status_code == 201 and r.json()["advisor"]["code"] != "A"


def test_409_bay_when_the_alignment_rack_is_taken(client: TestClient, services: Services) -> None:
    day = quiet_day(services)
    with services.db.write() as s:  # one alignment rack, and the catalogue's alignment needs it
        if s.scalar(select(Bay).where(Bay.kind == "alignment")) is None:
            s.add(Bay(site_id=services.ctx.site, code="A1", kind="alignment"))
        aln = s.scalar(select(LabourOperation).where(LabourOperation.code == "ALN"))
        assert aln is not None
        aln.equipment = "alignment"
    p = plates(services)
    r = client.post("/api/v1/appointments", json={"plate": p[6], "start": local(day, 10), "advisor": "A",
                                                  "job_lines": ["ALN"]})
    assert r.status_code == 201 and r.json()["bay"] == "A1" and r.json()["equipment"] == "alignment"
    r = client.post("/api/v1/appointments", json={"plate": p[7], "start": local(day, 10, 30), "advisor": "B",
                                                  "job_lines": ["ALN"]})
    assert r.status_code == 409 and r.json()["reason"] == "bay", r.text
    r = client.post("/api/v1/appointments", json={"plate": p[7], "start": local(day, 11, 0), "advisor": "B",
                                                  "job_lines": ["ALN"]})
    assert r.status_code == 201 and r.json()["bay"] == "A1"


def test_bad_bookings_get_clear_messages(client: TestClient, services: Services) -> None:
    day = quiet_day(services)
    p = plates(services)[0]
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"plate": "京Z99999", "start": local(day, 9), "hours": 1}, 404, "京Z99999"),
        ({"plate": p, "start": local(day, 7), "hours": 1}, 422, "open"),
        ({"plate": p, "start": local(day, 20, 30), "hours": 1}, 422, "open"),
        ({"plate": p, "start": "2020-01-01T09:00:00+08:00", "hours": 1}, 422, "passed"),
        ({"plate": p, "start": local(day, 9)}, 422, "Choose the work"),
        ({"plate": p, "start": local(day, 9), "job_lines": ["NOPE"]}, 422, "NOPE"),
        ({"plate": p, "start": local(day, 9), "hours": 1, "advisor": "Z"}, 404, "Z"),
        ({"start": local(day, 9), "hours": 1}, 422, "plate"),
    ]
    for body, status, needle in cases:
        r = client.post("/api/v1/appointments", json=body)
        assert r.status_code == status, (body, r.text)
        assert needle in r.text, (body, r.text)


@pytest.mark.parametrize(("work", "tiny"), [
    ({"hours": 1e-9}, 1e-9),
    ({"hours": 0.09}, 0.09),
    ({"job_lines": [{"description": "看看", "hours": 0.01}]}, 0.01),
    ({"hours": 1, "job_lines": [{"code": "M10", "hours": 1e-9}]}, 1e-9),
])
def test_a_job_takes_at_least_a_tenth_of_an_hour(client: TestClient, services: Services, work: dict[str, Any],
                                                 tiny: float) -> None:
    # hours=1e-9 was booked, stored as 0.00 h: a card that holds no time
    day = quiet_day(services)
    body = {"plate": plates(services)[0], "start": local(day, 9), **work}
    r = client.post("/api/v1/appointments", json=body)
    assert r.status_code == 422 and "greater than or equal to 0.1" in r.text, r.text
    with services.db.read() as s:
        assert s.scalars(select(Appointment).where(Appointment.hours <= 0)).first() is None
    assert client.get("/api/v1/slots", params={"day": day.isoformat(), "hours": tiny}).status_code == 422
    # the booking page calls the service: the same floor there, with a message that says why
    lines = [WorkLine("看看", tiny)]
    start = datetime.fromisoformat(local(day, 9))
    for call in (lambda: services.booking.lines(hours=tiny, work="看看"),
                 lambda: services.booking.propose_slots(day, lines),
                 lambda: services.booking.book(BookingRequest(start=start, lines=lines, actor="测试",
                                                              plate=plates(services)[0]))):
        with pytest.raises(Invalid, match=r"0\.1–100 hours"):
            call()
    assert client.post("/api/v1/appointments", json={**body, "hours": 0.1, "job_lines": None}).status_code == 201


def test_a_booking_puts_its_appointment_on_the_bus_and_its_day_s_capacity_follows(services: Services) -> None:
    """The appointment's state in the booking's transaction, with a mark on the day; the capacity refresher's
    round writes the day's state (tests/test_capacity_refresh.py: always a full recomputation)."""
    day = quiet_day(services)
    with services.db.read() as s:
        last = s.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0
    marked = count_marked(services.ctx)
    appt = services.booking.book(BookingRequest(start=datetime.fromisoformat(local(day, 11)),
                                                lines=services.booking.lines(codes=["M10"]), actor="张伟",
                                                plate=plates(services)[8]))
    site = services.ctx.site
    with services.db.read() as s:
        booked = {m.topic for m in s.scalars(select(OutboxMessage).where(OutboxMessage.id > last))}
    assert topics.state(site, topics.APPOINTMENTS, appt["id"]) in booked
    assert topics.state(site, topics.CAPACITY, day.isoformat()) not in booked
    assert count_marked(services.ctx) == marked + 1
    assert day in refresh_marked(services.ctx) and count_marked(services.ctx) == 0
    with services.db.read() as s:
        new = list(s.scalars(select(OutboxMessage).where(OutboxMessage.id > last).order_by(OutboxMessage.id)))
    by_topic = {m.topic: m for m in new}
    cap = by_topic[topics.state(site, topics.CAPACITY, day.isoformat())]
    state = payloads.parse(CapacityState, cap.payload)
    assert cap.retain and state is not None and state.day == day.isoformat() and state.appointments == 1
    assert state.skills.maintenance.booked == pytest.approx(1.2)
    assert {m.created_at for m in new} == {services.ctx.now()}


def test_move_checks_the_rules_without_counting_the_card_itself(services: Services) -> None:
    day = quiet_day(services)
    b = services.booking
    p = plates(services)
    one = b.book(BookingRequest(start=datetime.fromisoformat(local(day, 9)), lines=b.lines(hours=1, skill="repair"),
                                actor="t", plate=p[0], advisor_id=b.advisor_by_name("A")))
    two = b.book(BookingRequest(start=datetime.fromisoformat(local(day, 10)), lines=b.lines(hours=1, skill="repair"),
                                actor="t", plate=p[1], advisor_id=b.advisor_by_name("B")))
    # a card moved within its own quarter hour does not collide with itself
    moved = b.move(one["id"], datetime.fromisoformat(local(day, 9, 5)), None, actor="赵经理")
    assert moved["start"] == local(day, 9, 5)
    with pytest.raises(BookingRefused) as refused:
        b.move(two["id"], datetime.fromisoformat(local(day, 9, 0)), b.advisor_by_name("A"), actor="赵经理")
    assert refused.value.reason == "stagger"
    assert b.get(two["id"])["start"] == local(day, 10)  # nothing changed
    forced = b.move(two["id"], datetime.fromisoformat(local(day, 9, 0)), b.advisor_by_name("A"), actor="赵经理",
                    override_reason="客户只能这个时间")
    assert forced["advisor"]["code"] == "A" and [o["rule"] for o in forced["overrides"]] == ["stagger"]


def test_late_then_no_show_releases_the_hours(services: Services) -> None:
    b = services.booking
    now = services.ctx.now()
    start = (now + timedelta(minutes=30)).replace(second=0, microsecond=0)
    start = start.replace(minute=start.minute - start.minute % 15)
    appt = b.book(BookingRequest(start=start, lines=b.lines(hours=2, skill="repair"), actor="t",
                                 plate=plates(services)[29], advisor_id=b.advisor_by_name("D"), override_reason="t"))
    today = services.ctx.today()

    def holds_hours() -> bool:
        with services.db.read() as s:
            return appt["id"] in {x.id for x in load_plan(s, services.ctx, today).bookings}

    assert holds_hours()
    grace = services.ctx.settings.site.late_grace_minutes
    services.clock.advance(minutes=30 + grace + 1)
    services.appointments.mark_late()
    assert b.get(appt["id"])["status"] == "late"
    services.clock.advance(minutes=services.ctx.settings.booking.no_show_after_minutes)
    services.appointments.mark_late()
    state = b.get(appt["id"])
    assert state["status"] == "no_show" and state["no_show_at"] is not None
    assert not holds_hours()
    assert appt["id"] in [x["id"] for x in services.appointments.no_shows(today, today)]
    # one-tap rebooking links the two
    tomorrow = quiet_day(services, 1)
    new = b.book(BookingRequest(start=datetime.fromisoformat(local(tomorrow, 15)), lines=b.lines(hours=2,
                                skill="repair"), actor="孙丽", plate=plates(services)[29], source="rebook",
                                rebook_of=appt["id"], override_reason="rebook"))
    assert b.get(appt["id"])["rebooked_as"] == new["id"]
    assert appt["id"] not in [x["id"] for x in services.appointments.no_shows(today, today)]


def test_call_outcomes_and_cancel(services: Services) -> None:
    day = quiet_day(services)
    b = services.booking
    appt = b.book(BookingRequest(start=datetime.fromisoformat(local(day, 14)), lines=b.lines(codes=["OIL"]),
                                 actor="t", plate=plates(services)[10]))
    assert b.record_call(appt["id"], "confirmed", actor="孙丽")["status"] == "confirmed"
    with pytest.raises(Exception, match="Unknown call outcome"):
        b.record_call(appt["id"], "maybe", actor="孙丽")
    with pytest.raises(Exception, match="needs a reason"):
        b.cancel(appt["id"], actor="孙丽", reason=" ")
    cancelled = b.cancel(appt["id"], actor="孙丽", reason="客户出差")
    assert cancelled["status"] == "cancelled" and b.capacity(day)["appointments"] == 0


# -- the rules hold through the service, for random sequences of bookings --------------------------------------

_days = itertools.count(40)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["maintenance", "repair"]), st.sampled_from([0.5, 1.0, 2.5, 4.0]),
                          st.integers(min_value=0, max_value=40), st.sampled_from(["A", "B", None]), st.booleans()),
                min_size=5, max_size=25))
def test_service_never_sells_beyond_the_rules_and_logs_every_override(sqlite_services: Services,
                                                                      attempts: list) -> None:
    svc = sqlite_services
    day = svc.ctx.today() + timedelta(days=next(_days))
    b = svc.booking
    p = plates(svc)
    overridden = set()
    for i, (skill, hours, quarter, advisor, force) in enumerate(attempts):
        start = datetime.fromisoformat(local(day, 8)) + timedelta(minutes=15 * quarter)
        req = BookingRequest(start=start, lines=b.lines(hours=hours, skill=skill), actor="prop", plate=p[i % len(p)],
                             advisor_id=b.advisor_by_name(advisor) if advisor else None,
                             override_reason="forced" if force else None)
        try:
            result = b.book(req)
        except BookingRefused:
            assert not force
            continue
        if result["overrides"]:
            overridden.add(result["id"])
    with svc.db.read() as s:
        plan = load_plan(s, svc.ctx, day)
        logged = {o.appointment_id for o in s.scalars(select(BookingOverride))}
        ids = [a.id for a in s.scalars(select(Appointment).where(Appointment.id.in_([x.id for x in plan.bookings]))
                                       .order_by(Appointment.id))]
    assert overridden <= logged
    # Replayed in booking order, every booking the rules would refuse is one with a logged override.
    by_id = {x.id: x for x in plan.bookings}
    replay = load_plan_without_bookings(plan)
    for appt_id in ids:
        x = by_id[appt_id]
        broken = replay.violations(x.advisor_id, x.start, x.hours, x.equipment)[0]
        assert bool(broken) == (appt_id in logged), (appt_id, broken)
        replay.bookings.append(x)
    for group in ("repair", "total"):
        clean = load_plan_without_bookings(plan)
        clean.bookings = [x for x in plan.bookings if x.id not in logged]
        assert clean.booked(group) <= max(clean.available(group) - clean.reserved(group), 0) + 1e-6


def load_plan_without_bookings(plan: Any) -> Any:
    from dataclasses import replace

    return replace(plan, bookings=[])


@pytest.fixture
def sqlite_services(sqlite_db: Database) -> Services:
    """The random sequences run on SQLite only (the fixed cases above run on both databases)."""
    svc = make_services(sqlite_db)
    seed.seed(svc.ctx, DEMO_PINS)
    return svc


def test_openapi_documents_the_booking_contract(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    schema = client.get("/api/openapi.json").json()
    assert {"/api/v1/slots", "/api/v1/capacity", "/api/v1/appointments"} <= set(schema["paths"])
    refusal = schema["paths"]["/api/v1/appointments"]["post"]["responses"]["409"]
    assert "override" in json.dumps(refusal)


def test_a_plate_on_two_cars_is_not_booked_by_guess(client: TestClient, services: Services) -> None:
    day = quiet_day(services)
    plate = plates(services)[0]
    other = CustomerService(services.ctx).create(plate=plate, vin="LFMAP22C5B0123456", surname="李", given_name="雷",
                                                 salutation="先生", phone="13911112222")
    r = client.post("/api/v1/appointments", json={"plate": plate, "start": local(day, 9), "hours": 1})
    assert r.status_code == 422 and "More than one vehicle" in r.json()["detail"]
    r = client.post("/api/v1/appointments", json={"vehicle": other["vehicle_id"], "start": local(day, 9), "hours": 1})
    assert r.status_code == 201 and r.json()["vehicle_id"] == other["vehicle_id"]
    r = client.post("/api/v1/appointments", json={"plate": plate, "vehicle": other["vehicle_id"],
                                                  "start": local(day, 9), "hours": 1})
    assert r.status_code == 422 and "once" in r.json()["detail"]
