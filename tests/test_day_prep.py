"""The day before and the day of (shopfloor/services/day_prep.py, /calls): confirmation calls and their message
texts, outcomes and rescheduling, the parts pre-pick list and its labels on the parts printer, no-shows called
back and rebooked, call-list entries booked in one step. Services on SQLite and PostgreSQL; the page in Chromium."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shopfloor.contract import payloads, topics
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import Appointment, Customer, OutboxMessage, PrintJob, Vehicle, VehicleItem
from shopfloor.printer.inspect import parse, text_lines
from shopfloor.services.booking import BookingRequest
from shopfloor.services.day_prep import PICK_LABEL, DayPrepService, call_counts, part_numbers
from shopfloor.services.solicitation import SolicitationService
from shopfloor.testing.chromium_pages import first_advisor, sign_in
from shopfloor.testing.plugin import ON_BOTH_DATABASES, DemoServer, Services

TODAY = date(2026, 11, 23)  # DEMO_NOW, 10:30 in Beijing
TOMORROW = TODAY + timedelta(days=1)


pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


@pytest.fixture
def prep(services: Services) -> DayPrepService:
    return DayPrepService(services.ctx, services.printing, services.booking)


def spare_vehicles(svc: Services) -> list[Vehicle]:
    """Demo cars without an appointment today."""
    with svc.db.read() as s:
        busy = set(s.scalars(select(Appointment.vehicle_id)))
        return [v for v in s.scalars(select(Vehicle).order_by(Vehicle.id)) if v.id not in busy]


def book(svc: Services, vehicle: Vehicle, day: date, hhmm: str, codes: list[str] | None = None,
         **extra: Any) -> dict[str, Any]:
    hour, minute = map(int, hhmm.split(":"))
    return svc.booking.book(BookingRequest(
        start=datetime(day.year, day.month, day.day, hour, minute), lines=svc.booking.lines(codes=codes or ["M10"]),
        actor="李娜", vehicle_id=vehicle.id, override_reason="test setup", **extra))


def set_channel(svc: Services, vehicle: Vehicle, channel: str) -> None:
    with svc.db.write() as s:
        customer = s.get(Customer, vehicle.customer_id)
        assert customer is not None
        customer.preferred_channel = channel


def mine(rows: list[dict[str, Any]], *appts: dict[str, Any]) -> list[dict[str, Any]]:
    ids = [a["id"] for a in appts]
    return [r for r in rows if r["id"] in ids]


# -- confirmation calls ------------------------------------------------------------------------------------------


def test_call_list_has_who_what_and_the_message_in_the_preferred_channel(services: Services,
                                                                         prep: DayPrepService) -> None:
    v1, v2 = spare_vehicles(services)[:2]
    set_channel(services, v2, "wechat")
    late = book(services, v2, TOMORROW, "10:00", ["BRK"], parts_status="to_order", parts_eta=TOMORROW + timedelta(3),
                waiting_customer=True)
    early = book(services, v1, TOMORROW, "09:00", ["M10"], parts_status="in_stock", parts_numbers="90915-YZZD1")
    rows = mine(prep.call_list(TOMORROW), early, late)
    assert [r["id"] for r in rows] == [early["id"], late["id"]]  # by time
    first, second = rows
    with services.db.read() as s:
        customer = s.get(Customer, v1.customer_id)
        assert customer is not None
        phone, addressed = customer.phone, customer.addressed
    assert first["time"] == "09:00" and first["plate"] == v1.plate and first["phone"] == phone
    assert first["customer"] == addressed and first["advisor"]["name"] == early["advisor"]["name"]
    assert first["work"] == "10000公里保养" and first["hours"] == pytest.approx(1.2)
    assert first["parts"] == {"status": "in_stock", "eta": None, "numbers": "90915-YZZD1"}
    assert first["flags"] == [] and first["call_outcome"] is None
    # the site's SMS template, filled in (config/demo.toml)
    assert first["channel"] == "sms"
    assert first["message"].startswith("【星辰丰田4S店 · 朝阳】")
    for part in (addressed, display_plate(v1.plate), "11月24日 09:00", "10000公里保养", "010-6588 8888",
                 first["advisor"]["name"]):
        assert part in first["message"]
    # WeChat for the other customer; parts ordered but due after the day: the caller should say so
    assert second["channel"] == "wechat" and "预约了11月24日 10:00的更换前刹车片" in second["message"]
    assert second["flags"] == ["waiting_customer", "parts_missing"]
    # the other channels on demand
    texts = prep.messages(early["id"])
    assert set(texts) == {"sms", "wechat", "phone", "letter"}
    assert texts["sms"] == first["message"]
    assert prep.message(early["id"], "letter")["text"] == texts["letter"]
    assert display_plate(v1.plate) in texts["letter"] and "尊敬的" in texts["letter"]


def test_call_list_of_today_leaves_out_cars_already_here(services: Services, prep: DayPrepService) -> None:
    rows = prep.call_list(TODAY)
    today = services.appointments.list_day(TODAY)
    assert {r["id"] for r in rows} == {a["id"] for a in today if a["status"] in ("booked", "confirmed", "late")}
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)


def test_outcomes_are_recorded_and_counted(services: Services, prep: DayPrepService) -> None:
    v1, v2, v3, v4 = spare_vehicles(services)[:4]
    a1, a2, a3, a4 = (book(services, v, TOMORROW, hhmm) for v, hhmm in
                      ((v1, "09:00"), (v2, "09:30"), (v3, "10:00"), (v4, "10:30")))
    services.booking.record_call(a1["id"], "confirmed", actor="王芳")
    services.booking.record_call(a2["id"], "unreachable", actor="王芳")
    services.booking.record_call(a3["id"], "cancelled", actor="王芳", note="车卖了")
    rows = {r["id"]: r for r in mine(prep.call_list(TOMORROW), a1, a2, a3, a4)}
    assert rows[a1["id"]]["call_outcome"] == "confirmed" and rows[a1["id"]]["status"] == "confirmed"
    assert rows[a1["id"]]["called_by"] == "王芳" and rows[a1["id"]]["called_at"].startswith("2026-11-23T10:30")
    assert rows[a2["id"]]["call_outcome"] == "unreachable"
    # cancelled on the call: still shown, so the caller sees what was done
    assert rows[a3["id"]]["status"] == "cancelled" and rows[a3["id"]]["call_outcome"] == "cancelled"
    assert rows[a4["id"]]["call_outcome"] is None
    counts = call_counts(rows.values())
    assert counts == {"total": 4, "to_call": 2, "confirmed": 1, "rescheduled": 0, "cancelled": 1, "unreachable": 1}


def test_reschedule_moves_the_card_and_records_the_call(services: Services, prep: DayPrepService) -> None:
    vehicle = spare_vehicles(services)[0]
    appt = book(services, vehicle, TOMORROW, "09:00", ["M20"])
    later = TOMORROW + timedelta(days=1)
    slots = prep.slots_for(appt["id"], later)
    assert slots and all(s["start"].startswith(later.isoformat()) for s in slots)
    # a refused move records nothing
    with pytest.raises(Invalid):
        prep.reschedule(appt["id"], datetime(later.year, later.month, later.day, 22, 0), None, actor="王芳")
    assert services.booking.get(appt["id"])["call_outcome"] is None
    moved = prep.reschedule(appt["id"], datetime.fromisoformat(slots[0]["start"]), slots[0]["advisor"]["id"],
                            actor="王芳")
    assert moved["start"] == datetime.fromisoformat(slots[0]["start"]).isoformat(timespec="seconds")
    assert moved["call_outcome"] == "rescheduled"
    assert not mine(prep.call_list(TOMORROW), appt)
    [row] = mine(prep.call_list(later), appt)
    assert row["call_outcome"] == "rescheduled" and row["called_by"] == "王芳"


# -- parts pre-pick ----------------------------------------------------------------------------------------------


def pick_day(services: Services) -> dict[str, dict[str, Any]]:
    v = spare_vehicles(services)[:6]
    out = {
        "arrived": book(services, v[0], TOMORROW, "11:00", parts_status="arrived", parts_numbers="04465-33450"),
        "stock": book(services, v[1], TOMORROW, "09:00", parts_status="in_stock",
                      parts_numbers="90915-YZZD1, 04152-YZZA6"),
        "due": book(services, v[2], TOMORROW, "10:00", parts_status="to_order", parts_eta=TOMORROW,
                    parts_numbers="48510-09R40"),
        "after": book(services, v[3], TOMORROW, "09:30", parts_status="to_order", parts_eta=TOMORROW + timedelta(2),
                      parts_numbers="11111-22222"),
        "none": book(services, v[4], TOMORROW, "10:30"),
        "cancelled": book(services, v[5], TOMORROW, "12:00", parts_status="in_stock", parts_numbers="33333-44444"),
    }
    services.booking.cancel(out["cancelled"]["id"], actor="李娜", reason="客户改主意")
    return out


def test_pre_pick_lists_parts_to_pick_by_time(services: Services, prep: DayPrepService) -> None:
    appts = pick_day(services)
    rows = mine(prep.pre_pick(TOMORROW), *appts.values())
    assert [r["id"] for r in rows] == [appts[k]["id"] for k in ("stock", "due", "arrived")]
    stock, due, arrived = rows
    assert stock["part_numbers"] == ["90915-YZZD1", "04152-YZZA6"] and not stock["late_parts"]
    assert stock["date"] == TOMORROW.isoformat() and stock["time"] == "09:00"
    assert stock["advisor"]["name"] == appts["stock"]["advisor"]["name"] and stock["label"] is None
    assert due["late_parts"] and "late_parts" in due["flags"] and due["part_numbers"] == ["48510-09R40"]
    assert arrived["parts"]["status"] == "arrived" and not arrived["late_parts"]
    assert part_numbers("A-1；B-2、C-3 / D-4\nE-5") == ["A-1", "B-2", "C-3", "D-4", "E-5"]


def test_pick_label_shows_plate_date_and_part_numbers_on_58_mm(services: Services, prep: DayPrepService) -> None:
    appts = pick_day(services)
    appt = appts["stock"]
    data = prep.pick_label_bytes(appt["id"])
    lines = text_lines(data, "gb18030")
    text = "\n".join(lines)
    assert display_plate(appt["plate"]) in lines
    assert "11-24 09:00" in lines
    assert "预约 11月24日 星期二 09:00" in lines
    assert "90915-YZZD1" in lines and "04152-YZZA6" in lines
    assert appt["advisor"]["name"] in text and "预拣配件" in text
    parsed = parse(data, "gb18030")
    assert parsed.cut and parsed.chinese_mode
    assert all(line.cells <= 32 for line in parsed.lines), [(line.text, line.cells) for line in parsed.lines]
    plate_line = next(line for line in parsed.lines if line.text == display_plate(appt["plate"]))
    assert plate_line.height == 2 and plate_line.bold  # read from across the parts counter
    due = text_lines(prep.pick_label_bytes(appts["due"]["id"]), "gb18030")
    assert any("配件在途" in line for line in due)


def test_pick_labels_are_pending_jobs_retained_on_the_parts_printer(services: Services,
                                                                    prep: DayPrepService) -> None:
    appts = pick_day(services)
    expected = [r["id"] for r in prep.pre_pick(TOMORROW)]
    jobs = prep.print_pick_labels(day=TOMORROW, actor="王芳")
    assert len(jobs) == len(expected) >= 3
    assert all(j.printer == "parts" and j.status == "pending" and j.ro_number is None for j in jobs)
    with services.db.read() as s:
        stored = {j.id: j for j in s.scalars(select(PrintJob).where(PrintJob.id.in_([j.id for j in jobs])))}
        outbox = {m.topic: m for m in s.scalars(select(OutboxMessage))}
        assert [stored[j.id].meta["appointment_id"] for j in jobs] == expected
        for job in jobs:
            row = stored[job.id]
            assert row.kind == PICK_LABEL and row.repair_order_id is None and row.requested_by == "王芳"
            message = outbox[topics.print_job("demo", "parts", job.id)]
            assert message.retain
            payload = json.loads(message.payload)
            assert payload["kind"] == PICK_LABEL and payload["ro_number"] is None
            assert payloads.parse(payloads.PrintJob, message.payload).content() == row.data
        [stock_job] = [j for j in jobs if stored[j.id].meta["appointment_id"] == appts["stock"]["id"]]
        label = stored[stock_job.id].data
    assert display_plate(appts["stock"]["plate"]) in text_lines(label, "gb18030")
    shown = {r["id"]: r["label"] for r in prep.pre_pick(TOMORROW)}
    assert shown[appts["stock"]["id"]]["status"] == "pending"
    # the agent's acknowledgement settles the label like a ticket
    services.printing.handle_ack("parts", payloads.encode(payloads.print_ack(
        job_id=stock_job.id, result="printed", at="2026-11-23T10:40:00+08:00")))
    assert {r["id"]: r["label"] for r in prep.pre_pick(TOMORROW)}[appts["stock"]["id"]]["status"] == "printed"


def test_a_failed_or_waiting_pick_label_can_be_reprinted_or_sent_elsewhere(services: Services,
                                                                           prep: DayPrepService) -> None:
    appts = pick_day(services)
    first, second = prep.print_pick_labels(appointment_ids=[appts["stock"]["id"], appts["arrived"]["id"]],
                                           actor="王芳")
    services.printing.handle_ack("parts", payloads.encode(payloads.print_ack(
        job_id=first.id, result="failed", at="2026-11-23T10:40:00+08:00")))
    assert first.id in [j.id for j in services.printing.needing_decision()]
    again = services.printing.resolve(first.id, "reprint", actor="王芳")
    assert again is not None and again.printer == "parts" and again.status == "pending"
    moved = services.printing.redirect(second.id, "reception", actor="王芳")
    assert moved.printer == "reception"
    with services.db.read() as s:
        rows = {j.id: j for j in s.scalars(select(PrintJob))}
    assert rows[again.id].kind == PICK_LABEL and rows[again.id].data == rows[first.id].data
    assert rows[moved.id].kind == PICK_LABEL and rows[moved.id].meta["appointment_id"] == appts["arrived"]["id"]
    assert rows[second.id].status == "moved"


def test_no_label_without_a_day_or_appointments_or_for_a_cancelled_one(services: Services,
                                                                        prep: DayPrepService) -> None:
    with pytest.raises(Invalid):
        prep.print_pick_labels(actor="王芳")
    appts = pick_day(services)
    with pytest.raises(Refused):
        prep.print_pick_labels(appointment_ids=[appts["stock"]["id"], appts["cancelled"]["id"]], actor="王芳")
    with services.db.read() as s:
        assert s.scalar(select(PrintJob.id).where(PrintJob.kind == PICK_LABEL)) is None


# -- no-shows ----------------------------------------------------------------------------------------------------


def make_no_shows(services: Services, count: int) -> list[dict[str, Any]]:
    """Booked later today, then the clock passes the no-show cut-off."""
    appts = [book(services, v, TODAY, f"{11 + i}:00") for i, v in enumerate(spare_vehicles(services)[:count])]
    services.clock.advance(hours=count + 1)
    services.appointments.mark_late()
    return appts


def test_a_no_show_rebooked_points_at_its_new_booking(services: Services, prep: DayPrepService) -> None:
    [appt] = make_no_shows(services, 1)
    [row] = mine(prep.no_shows(), appt)
    assert row["status"] == "no_show" and not row["done"] and row["phone"] and row["preferred_channel"] == "sms"
    slots = prep.slots_for(appt["id"], TOMORROW, 3)
    assert slots
    new = prep.rebook(appt["id"], datetime.fromisoformat(slots[0]["start"]), slots[0]["advisor"]["id"],
                      actor="王芳")
    assert new["source"] == "rebook" and new["work"] == appt["work"] and new["vehicle_id"] == appt["vehicle_id"]
    assert [line["code"] for line in new["job_lines"]] == ["M10"]
    assert services.booking.get(appt["id"])["rebooked_as"] == new["id"]
    [row] = mine(prep.no_shows(), appt)
    assert row["done"] and row["rebooked"]["id"] == new["id"]
    assert datetime.fromisoformat(row["rebooked"]["start"]) == datetime.fromisoformat(new["start"])
    assert not mine(services.appointments.no_shows(TODAY, TODAY), appt)
    with pytest.raises(Refused):
        prep.rebook(appt["id"], datetime.fromisoformat(slots[1]["start"]), None, actor="王芳")


def test_a_no_show_no_longer_wanted_leaves_the_list_as_a_no_show(services: Services, prep: DayPrepService) -> None:
    first, second = make_no_shows(services, 2)
    with pytest.raises(Invalid):
        prep.close_no_show(first["id"], actor="王芳", reason=" ")
    prep.close_no_show(first["id"], actor="王芳", reason="已在别家保养")
    rows = mine(prep.no_shows(), first, second)
    assert [r["id"] for r in rows] == [second["id"], first["id"]]  # the open one first
    assert rows[1]["done"] and rows[1]["closed_reason"] == "已在别家保养"
    assert services.booking.get(first["id"])["status"] == "no_show"  # the figures still count it
    coming = book(services, spare_vehicles(services)[0], TOMORROW, "09:00")
    with pytest.raises(Refused):
        prep.close_no_show(coming["id"], actor="王芳", reason="x")


# -- call lists: booked in one step ------------------------------------------------------------------------------


def test_a_call_list_entry_is_booked_as_an_active_appointment(services: Services, prep: DayPrepService) -> None:
    vehicle = spare_vehicles(services)[0]
    with services.db.write() as s:
        v = s.get(Vehicle, vehicle.id)
        assert v is not None
        v.insurance_expires_on = TODAY + timedelta(days=10)
    solicitation = SolicitationService(services.ctx)
    [entry] = [e for e in solicitation.lists(TODAY)["insurance_renewal"] if e["vehicle_id"] == vehicle.id]
    assert not entry["booked"] and entry["suggested_work"] is None
    [slot, *_] = prep.entry_slots(entry, TOMORROW)
    booked = prep.book_entry(entry, datetime.fromisoformat(slot["start"]), slot["advisor"]["id"], actor="王芳")
    assert booked["source"] == "active" and booked["work"] == "续保到店检查"
    [entry] = [e for e in solicitation.lists(TODAY)["insurance_renewal"] if e["vehicle_id"] == vehicle.id]
    assert entry["booked"] and entry["booked_on"] == TOMORROW.isoformat()


def test_suggested_work_and_arrived_parts_go_on_the_booking(services: Services, prep: DayPrepService) -> None:
    v1, v2 = spare_vehicles(services)[:2]
    maintenance = {"kind": "maintenance_due", "vehicle_id": v1.id, "item_id": None,
                   "suggested_work": {"code": "M20", "description": "20000公里保养", "hours": 1.8,
                                      "skill": "maintenance"}}
    [slot, *_] = prep.entry_slots(maintenance, TOMORROW)
    booked = prep.book_entry(maintenance, datetime.fromisoformat(slot["start"]), None, actor="王芳")
    assert [line["code"] for line in booked["job_lines"]] == ["M20"] and booked["hours"] == pytest.approx(1.8)
    with services.db.write() as s:
        item = VehicleItem(vehicle_id=v2.id, kind="parts_order", description="左后视镜", part_numbers="87940-02A10",
                           created_on=TODAY - timedelta(days=9), arrived_on=TODAY)
        s.add(item)
        s.flush()
        item_id = item.id
    parts = {"kind": "parts_arrived", "vehicle_id": v2.id, "item_id": item_id, "suggested_work": None}
    assert prep.entry_lines(parts)[0].skill == "repair"
    [slot, *_] = prep.entry_slots(parts, TOMORROW)
    booked = prep.book_entry(parts, datetime.fromisoformat(slot["start"]), None, actor="王芳")
    assert booked["parts"] == {"status": "arrived", "eta": None, "numbers": "87940-02A10"}
    [row] = mine(prep.pre_pick(TOMORROW), booked)
    assert row["part_numbers"] == ["87940-02A10"]


# -- the page in Chromium ----------------------------------------------------------------------------------------





def _book_tomorrow(server: DemoServer) -> dict[str, Any]:
    """A fresh appointment tomorrow for a demo car, at the first time the workshop proposes."""
    tomorrow = (date.fromisoformat(server.api("/api/v1/capacity")["day"]) + timedelta(days=1)).isoformat()
    taken = {a["plate"] for a in server.api(f"/api/v1/appointments?day={tomorrow}")}
    plate = next(a["plate"] for a in server.api("/api/v1/appointments") if a["plate"] not in taken)
    slots = server.api(f"/api/v1/slots?day={tomorrow}&operations=OIL&limit=1")
    status, appt = server.call("POST", "/api/v1/appointments", {
        "plate": plate, "start": slots[0]["start"], "job_lines": ["OIL"], "actor": "test"})
    assert status == 201, appt
    return dict(appt)


@pytest.mark.browser
def test_calls_page_records_a_confirmed_call(demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    appt = _book_tomorrow(demo_server)
    name = first_advisor(demo_server)
    sign_in(driver, demo_server, name, "/calls?lang=en")
    wait = WebDriverWait(driver, 15)
    row = f'[data-appointment="{appt["id"]}"]'
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f'{row}[data-outcome=""]')))
    button = driver.find_element(By.CSS_SELECTOR, f'{row} [data-outcome-button="confirmed"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    wait.until(ec.element_to_be_clickable(button)).click()
    card = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f'{row}[data-outcome="confirmed"]')))
    assert name in card.text  # who called, shown on the row
    assert demo_server.api(f"/api/v1/appointments/{appt['id']}")["call_outcome"] == "confirmed"
