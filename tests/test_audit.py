"""Every change to an appointment or repair order leaves exactly one audit row, written in the change's own
transaction, with the real actor, from, to and why; a refused change leaves none. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from shopfloor.contract import payloads
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.identifiers import with_check_digit
from shopfloor.domain.models import Advisor, AuditEntry, Vehicle
from shopfloor.domain.states import TransitionRefused
from shopfloor.services.audit import Actor, ActorKind, AuditRow, AuditService
from shopfloor.services.booking import BookingRefused, BookingRequest
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.day_prep import DayPrepService
from shopfloor.services.dms_import import DmsImportService, read_header, suggest_mapping
from shopfloor.testing.demo_day import quiet_day, waiting_today
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


def staff(svc: Services, name: str) -> Actor:
    with svc.db.read() as s:
        staff_id = s.scalar(select(Advisor.id).where(Advisor.name == name))
    return Actor(name, ActorKind.STAFF, staff_id)


class Trail:
    """The rows written since the last look."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        with svc.db.read() as s:
            self.last = int(s.scalar(select(func.max(AuditEntry.id))) or 0)

    def new(self) -> list[AuditRow]:
        fresh = [r for r in AuditService(self.svc.ctx).read(limit=100_000) if r.id > self.last]
        self.last = max([self.last, *(r.id for r in fresh)])
        # the customer messages a change queues or withdraws have their own rows (tests/test_message_triggers.py)
        return sorted((r for r in fresh if not r.action.startswith("message_")), key=lambda r: r.id)

    def one(self) -> AuditRow:
        fresh = self.new()
        assert len(fresh) == 1, fresh
        return fresh[0]

    def none(self) -> None:
        assert self.new() == []


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """The site's wall clock (a time without a zone)."""
    return datetime(day.year, day.month, day.day, hour, minute)


def plates(svc: Services) -> list[str]:
    with svc.db.read() as s:
        return list(s.scalars(select(Vehicle.plate).order_by(Vehicle.id)))


def book(svc: Services, plate: str, day: date, hour: int, advisor: str, actor: Actor | str = "李娜",
         **extra: object) -> dict:
    b = svc.booking
    return b.book(BookingRequest(start=at(day, hour), lines=b.lines(hours=1, skill="maintenance"), actor=actor,
                                 plate=plate, advisor_id=b.advisor_by_name(advisor), **extra))  # type: ignore[arg-type]


def test_booking_and_moves(services: Services) -> None:
    b, day, p = services.booking, quiet_day(services), plates(services)
    trail = Trail(services)
    manager = staff(services, "赵经理")
    one = book(services, p[0], day, 9, "A", actor=staff(services, "李娜"))
    row = trail.one()
    assert (row.entity, row.entity_id, row.action) == ("appointment", str(one["id"]), "booked")
    assert (row.actor, row.actor_kind, row.actor_id) == ("李娜", "staff", staff(services, "李娜").staff_id)
    assert row.from_value is None and row.to_value == f"{day.isoformat()} 09:00 张伟" and row.reason is None
    assert row.detail is not None and "rules_broken" not in row.detail

    two = book(services, p[1], day, 10, "B")
    trail.one()
    # refused: advisor A already takes a car at 09:00 (the stagger rule)
    with pytest.raises(BookingRefused):
        book(services, p[2], day, 9, "A")
    trail.none()
    forced = book(services, p[2], day, 9, "A", override_reason="老客户只能九点")
    row = trail.one()
    assert row.action == "booked" and row.reason == "老客户只能九点" and row.entity_id == str(forced["id"])
    assert row.detail and [r["rule"] for r in row.detail["rules_broken"]] == ["stagger"]

    # the manager's plain drag: from and to, time and advisor
    b.move(two["id"], at(day, 11), b.advisor_by_name("C"), actor=manager)
    row = trail.one()
    assert (row.action, row.actor, row.actor_id) == ("moved", "赵经理", manager.staff_id)
    assert row.from_value == f"{day.isoformat()} 10:00 李娜" and row.to_value == f"{day.isoformat()} 11:00 王芳"
    assert row.reason is None and row.detail is None
    with pytest.raises(BookingRefused):
        b.move(two["id"], at(day, 9), b.advisor_by_name("A"), actor=manager)
    with pytest.raises(Invalid):
        b.move(two["id"], at(day, 23), None, actor=manager)
    trail.none()
    b.move(two["id"], at(day, 9), b.advisor_by_name("A"), actor=manager, override_reason="客户要求")
    row = trail.one()
    assert row.action == "moved" and row.reason == "客户要求" and row.to_value == f"{day.isoformat()} 09:00 张伟"
    assert row.detail and row.detail["rules_broken"][0]["rule"] == "stagger"


def test_calls_cancel_and_reschedule(services: Services) -> None:
    b, day, p = services.booking, quiet_day(services), plates(services)
    prep = DayPrepService(services.ctx, services.printing, b)
    cs = staff(services, "孙丽")
    appt = book(services, p[3], day, 14, "A")
    trail = Trail(services)

    b.record_call(appt["id"], "unreachable", actor=cs)
    row = trail.one()
    assert (row.action, row.from_value, row.to_value, row.actor) == ("call", None, "unreachable", "孙丽")
    b.record_call(appt["id"], "confirmed", actor=cs, note="客户说会准时到")
    row = trail.one()
    assert (row.from_value, row.to_value, row.reason) == ("unreachable", "confirmed", "客户说会准时到")
    with pytest.raises(Invalid):
        b.record_call(appt["id"], "maybe", actor=cs)
    trail.none()

    # rescheduled on the call: one row with where it was and where it went
    prep.reschedule(appt["id"], at(day, 15), b.advisor_by_name("B"), actor=cs, note="下午更方便")
    row = trail.one()
    assert (row.action, row.reason) == ("rescheduled", "下午更方便")
    assert row.from_value == f"{day.isoformat()} 14:00 张伟" and row.to_value == f"{day.isoformat()} 15:00 李娜"
    with pytest.raises(Invalid):
        prep.reschedule(appt["id"], at(day, 22), None, actor=cs)
    trail.none()

    b.set_parts(appt["id"], "to_order", eta=day, numbers="04465-02220", actor=staff(services, "钱进"))
    row = trail.one()
    assert (row.action, row.from_value, row.to_value, row.actor) == ("parts", "none", "to_order", "钱进")
    with pytest.raises(Invalid):
        b.set_parts(appt["id"], "lost", actor=cs)
    trail.none()

    b.cancel(appt["id"], actor=cs, reason="客户出差")
    row = trail.one()
    assert (row.action, row.from_value, row.to_value, row.reason) == ("cancelled", "confirmed", "cancelled", "客户出差")
    with pytest.raises(Refused):
        b.cancel(appt["id"], actor=cs, reason="again")
    with pytest.raises(Invalid):
        b.cancel(book(services, p[4], day, 16, "C")["id"], actor=cs, reason=" ")
    trail.new()  # the booking just made
    trail.none()


def test_late_no_show_rebook_and_close_by_the_system_and_staff(services: Services) -> None:
    b, p = services.booking, plates(services)
    prep = DayPrepService(services.ctx, services.printing, b)
    today = services.ctx.today()
    first = book(services, p[5], today, 11, "D", override_reason="t")
    second = book(services, p[6], today, 11, "C", override_reason="t")
    trail = Trail(services)

    services.clock.advance(minutes=30 + services.ctx.settings.site.late_grace_minutes + 1)
    services.appointments.mark_late()
    late = [r for r in trail.new() if r.entity_id in (str(first["id"]), str(second["id"]))]
    assert sorted((r.entity_id, r.action, r.from_value, r.to_value, r.actor, r.actor_kind) for r in late) == sorted(
        (str(a["id"]), "late", "booked", "late", "system", "system") for a in (first, second))
    services.clock.advance(minutes=services.ctx.settings.booking.no_show_after_minutes)
    services.appointments.mark_late()
    gone = [r for r in trail.new() if r.entity_id in (str(first["id"]), str(second["id"]))]
    assert {(r.action, r.from_value, r.to_value, r.actor) for r in gone} == {("no_show", "late", "no_show", "system")}
    assert len(gone) == 2

    tomorrow = quiet_day(services, 1)
    cs = staff(services, "孙丽")
    new = prep.rebook(first["id"], at(tomorrow, 15), b.advisor_by_name("D"), actor=cs, override_reason="rebook")
    row = trail.one()
    assert (row.entity_id, row.action, row.actor) == (str(new["id"]), "rebooked", "孙丽")
    assert row.from_value == f"{today.isoformat()} 11:00 刘洋" and row.to_value == f"{tomorrow.isoformat()} 15:00 刘洋"
    assert row.detail and row.detail["rebook_of"] == first["id"]
    with pytest.raises(Refused):
        prep.rebook(first["id"], at(tomorrow, 16), None, actor=cs)
    trail.none()
    prep.close_no_show(second["id"], actor=cs, reason="车已卖掉")
    row = trail.one()
    assert (row.entity_id, row.action, row.to_value, row.reason) == (str(second["id"]), "no_show_closed",
                                                                     "cancelled", "车已卖掉")
    with pytest.raises(Refused):
        prep.close_no_show(first["id"], actor=cs, reason="rebooked already")
    trail.none()


def test_scan_check_in_workshop_moves_and_tickets(services: Services) -> None:
    appt, tag = waiting_today(services)
    advisor = staff(services, "张伟")
    trail = Trail(services)

    services.checkin.scan(tag, advisor)
    row = trail.one()
    assert (row.entity, row.entity_id, row.action, row.from_value, row.to_value) == (
        "appointment", str(appt.id), "arrived", appt.status, "arrived")
    services.checkin.scan(tag, advisor)  # here already: nothing changes
    trail.none()

    number = services.checkin.check_in(CheckinRequest(tag=tag, actor=advisor)).repair_order["number"]
    row = trail.one()
    assert (row.entity, row.entity_id, row.action, row.to_value, row.actor) == (
        "repair_order", number, "checked_in", "checked_in", "张伟")
    assert row.detail and row.detail["appointment_id"] == appt.id and "appointment_from" not in row.detail
    services.checkin.check_in(CheckinRequest(tag=tag, actor=advisor))  # the open order again
    trail.none()

    with pytest.raises(TransitionRefused):
        services.repair_orders.transition(number, "ready", actor=advisor)
    trail.none()
    services.repair_orders.transition(number, "dispatched", actor=advisor, technician="陈刚")
    row = trail.one()
    assert (row.action, row.from_value, row.to_value) == ("transition", "checked_in", "dispatched")
    assert row.detail == {"technician": "陈刚"}
    services.repair_orders.transition(number, "in_progress", actor="陈刚")
    trail.one()
    services.repair_orders.transition(number, "on_hold", actor="郑强", reason="waiting_parts")
    row = trail.one()
    assert (row.actor, row.from_value, row.to_value, row.reason) == ("郑强", "in_progress", "on_hold",
                                                                     "waiting_parts")

    printing = services.printing
    job = printing.print_ticket(number, "reception", actor=advisor)
    row = trail.one()
    assert (row.action, row.to_value, row.detail) == ("ticket_printed", "reception", {"job_id": job.id})
    printing.handle_ack("reception", payloads.encode(payloads.print_ack(
        job_id=job.id, result="uncertain", detail="dropped", at="2026-11-23T10:40:00+08:00")))
    trail.none()  # the agent's answer is the printer's, not a person's decision
    again = printing.resolve(job.id, "reprint", actor=advisor)
    assert again is not None
    row = trail.one()
    assert (row.entity_id, row.action, row.from_value, row.to_value) == (number, "print_reprinted", "uncertain",
                                                                         "reception")
    assert row.detail and row.detail["new_job_id"] == again.id
    moved = printing.redirect(again.id, "workshop", actor=advisor)
    row = trail.one()
    assert (row.action, row.from_value, row.to_value) == ("print_redirected", "reception", "workshop")
    assert row.detail and (row.detail["job_id"], row.detail["new_job_id"]) == (again.id, moved.id)
    with pytest.raises(Refused):
        printing.redirect(again.id, "parts", actor=advisor)
    with pytest.raises(Invalid):
        printing.resolve(moved.id, "maybe", actor=advisor)
    trail.none()
    printing.handle_ack("workshop", payloads.encode(payloads.print_ack(
        job_id=moved.id, result="uncertain", detail="dropped", at="2026-11-23T10:40:00+08:00")))
    assert printing.resolve(moved.id, "confirm", actor=advisor) is None
    row = trail.one()
    assert (row.action, row.from_value, row.to_value) == ("print_confirmed", "uncertain", "printed")
    printing.print_ticket(number, "reception", actor="api", reprint=True)
    assert trail.one().action == "ticket_reprinted"

    # the manager's card shows the appointment's story and its order's
    story = AuditService(services.ctx).for_appointment(appt.id)
    assert [r.action for r in story] == ["arrived", "checked_in", "message_queued", "transition", "transition",
                                         "transition", "ticket_printed", "print_reprinted", "print_redirected",
                                         "print_confirmed", "ticket_reprinted"]


def test_a_check_in_without_a_scan_names_the_appointment_it_turned_arrived(services: Services) -> None:
    appt, tag = waiting_today(services)
    trail = Trail(services)
    services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟"))
    row = trail.one()
    assert row.action == "checked_in" and row.detail
    assert (row.detail["appointment_id"], row.detail["appointment_from"]) == (appt.id, appt.status)


def test_dms_import_writes_one_row_per_appointment(services: Services) -> None:
    vin_a, vin_b = with_check_digit("LFMAP22C0R0390001"), with_check_digit("LVGBM53K0RG390002")
    day = quiet_day(services)

    def export(hour: str) -> bytes:
        return ("预约单号,客户姓名,手机,车牌号,车架号,车型,预约时间,工时,维修项目,服务顾问\r\n"
                f"AU1,王建国,13801012345,京A8K2M6,{vin_a},卡罗拉,{day.isoformat()} {hour},1.5,40000公里保养,张伟\r\n"
                f"AU2,李秀英,13911023456,京N3C7D1,{vin_b},凯美瑞,{day.isoformat()} 14:00,1.0,更换机油机滤,李娜\r\n"
                ).encode()

    importer = DmsImportService(services.ctx)
    trail = Trail(services)
    data = export("09:00")
    report = importer.import_csv(data, suggest_mapping(read_header(data)), Actor("dms-sync", ActorKind.API))
    assert report.appointments == 2
    rows = trail.new()
    assert sorted((r.action, r.to_value, r.actor, r.actor_kind) for r in rows) == [
        ("imported", f"{day.isoformat()} 09:00 张伟", "dms-sync", "api"),
        ("imported", f"{day.isoformat()} 14:00 李娜", "dms-sync", "api")]
    assert sorted(r.entity_id for r in rows) == sorted(str(i) for i in report.appointment_ids)

    importer.import_csv(data, suggest_mapping(read_header(data)), "dms-sync")  # the same file: nothing changes
    trail.none()
    moved = export("10:30")
    importer.import_csv(moved, suggest_mapping(read_header(moved)), "dms-sync")
    row = trail.one()
    assert (row.action, row.from_value, row.to_value) == (
        "import_updated", f"{day.isoformat()} 09:00 张伟", f"{day.isoformat()} 10:30 张伟")
    assert row.detail and row.detail["changed"] == ["start"] and row.detail["external_ref"] == "AU1"
    dry = export("11:00")
    importer.import_csv(dry, suggest_mapping(read_header(dry)), "dms-sync", dry_run=True)
    trail.none()

