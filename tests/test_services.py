"""The services on a seeded demo site: check-in, moves, history, outbox, login, lateness, printing."""

import hashlib
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shopfloor.contract import payloads, topics
from shopfloor.domain.errors import Invalid, LoginRefused, NotFound, Refused
from shopfloor.domain.models import Appointment, OutboxMessage, PrintJob, QrTag, RepairOrder, Vehicle
from shopfloor.domain.states import TransitionRefused
from shopfloor.printer.inspect import text_lines
from shopfloor.services import outbox
from shopfloor.services.audit import AuditService, Entity
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.delivery import settle
from shopfloor.testing.demo_day import waiting_today
from shopfloor.testing.plugin import DEMO_PINS, ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import pass_checks

pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


def outbox_topics(svc: Services) -> list[str]:
    with svc.db.read() as s:
        return [m.topic for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_scan_marks_the_appointment_arrived_and_publishes_it(services: Services) -> None:
    appt, tag = waiting_today(services)
    before = len(outbox_topics(services))
    result = services.checkin.scan(tag, actor="张伟")
    assert result.appointment is not None and result.appointment["status"] == "arrived"
    assert result.open_ro is None
    topics_written = outbox_topics(services)[before:]
    assert topics_written == [topics.state("demo", topics.APPOINTMENTS, appt.id)]


def test_check_in_creates_one_order_and_a_repeated_scan_returns_it(services: Services) -> None:
    _, tag = waiting_today(services)
    req = CheckinRequest(tag=tag, actor="张伟", complaint="刹车时有异响", mileage_km=45678, fuel_eighths=4,
                         operation_codes=["M20", "BRK"])
    first = services.checkin.check_in(req)
    assert first.created
    ro = first.repair_order
    assert ro["status"] == "checked_in" and ro["total_hours"] == pytest.approx(3.3)
    assert [line["code"] for line in ro["job_lines"]] == ["M20", "BRK"]
    again = services.checkin.check_in(CheckinRequest(tag=tag, actor="李娜"))
    assert not again.created and again.repair_order["number"] == ro["number"]
    assert services.checkin.scan(tag, actor="李娜").open_ro == ro["number"]
    with services.db.read() as s:
        assert s.scalar(select(func.count()).select_from(RepairOrder).where(RepairOrder.number == ro["number"])) == 1


def test_state_and_outbox_commit_together(services: Services) -> None:
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order["number"]
    written = outbox_topics(services)
    assert topics.state("demo", topics.REPAIR_ORDERS, number) in written
    assert topics.state("demo", topics.LOUNGE, number) in written
    assert topics.event("demo", topics.REPAIR_ORDERS, number) in written
    # A refused move writes nothing, neither state nor outbox.
    before = len(written)
    with pytest.raises(TransitionRefused):
        services.repair_orders.transition(number, "ready", actor="张伟")
    assert len(outbox_topics(services)) == before
    assert services.repair_orders.get(number)["status"] == "checked_in"


def test_lounge_payload_has_no_personal_data(services: Services) -> None:
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order["number"]
    with services.db.read() as s:
        msg = s.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == topics.state("demo", topics.LOUNGE, number))).one()
        vehicle = s.scalars(select(Vehicle).join(QrTag).where(QrTag.token == tag)).one()
        full_name, plate, phone = vehicle.customer.full_name, vehicle.plate, vehicle.customer.phone
    lounge = json.loads(msg.payload)
    text = msg.payload.decode()
    assert plate not in text and phone not in text and vehicle.vin not in text
    assert full_name not in text or vehicle.customer.given_name == ""
    assert lounge["plate_masked"].endswith(plate[-2:]) and "*" in lounge["plate_masked"]
    assert set(lounge) == {"schema", "version", "site", "number", "plate_masked", "customer_masked", "status",
                           "promised_at", "needs_customer", "projected_ready_at", "work_started"}


def test_full_journey_records_who_and_when(services: Services) -> None:
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["BRK"])
                                       ).repair_order["number"]
    ro = services.repair_orders
    with pytest.raises(Refused, match="not qualified"):
        ro.transition(number, "dispatched", actor="张伟", technician="周杰")  # maintenance-only technician
    steps = [("dispatched", {"technician": "陈刚"}), ("in_progress", {}),
             ("on_hold", {"reason": "waiting_parts"}), ("in_progress", {}), ("quality_check", {}),
             ("in_progress", {}), ("quality_check", {}), ("ready", {}), ("delivered", {})]
    versions = []
    for target, extra in steps:
        services.clock.advance(minutes=5)
        # ready comes from the quality checks, not from a move
        if target == "delivered":
            settle(services.ctx, number)  # delivered needs the bill settled
        state = pass_checks(services.ctx, number, "张伟") if target == "ready" else ro.transition(
            number, target, actor="张伟", **extra)
        assert state["status"] == target
        versions.append(state["version"])
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    history = ro.history(number)
    assert [h.to_status for h in history] == ["checked_in"] + [t for t, _ in steps]
    assert all(h.actor == "张伟" for h in history)
    assert history[1].technician == "陈刚"
    assert history[3].reason == "waiting_parts"
    assert history[-1].at > history[0].at
    # Delivered: the lounge entry is deleted (empty retained payload).
    with services.db.read() as s:
        last = s.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == topics.state("demo", topics.LOUNGE, number)).order_by(OutboxMessage.id.desc())
                        ).first()
        assert last is not None and last.payload == b""
    with pytest.raises(TransitionRefused):
        ro.transition(number, "cancelled", actor="张伟")


@pytest.mark.parametrize(("tag", "error"), [("nonsense", Invalid), ("SFT-" + "A" * 24, NotFound)])
def test_bad_tags_are_refused_clearly(services: Services, tag: str, error: type) -> None:
    with pytest.raises(error) as exc:
        services.checkin.scan(tag, actor="张伟")
    assert exc.value.message("en")
    assert exc.value.message("zh-CN") != exc.value.message("en")


def test_bad_checkin_input_changes_nothing(services: Services) -> None:
    _, tag = waiting_today(services)
    with services.db.read() as s:
        before = s.scalar(select(func.count()).select_from(RepairOrder))
    for req in (CheckinRequest(tag=tag, actor="x", fuel_eighths=9),
                CheckinRequest(tag=tag, actor="x", mileage_km=-1),
                CheckinRequest(tag=tag, actor="x", operation_codes=["NOPE"]),
                CheckinRequest(tag=tag, actor="x", promised_at=services.clock.now() - timedelta(hours=1))):
        with pytest.raises(Invalid):
            services.checkin.check_in(req)
    with services.db.read() as s:
        assert s.scalar(select(func.count()).select_from(RepairOrder)) == before


def test_unknown_order_and_state(services: Services) -> None:
    with pytest.raises(NotFound):
        services.repair_orders.transition("RO19990101-001", "dispatched", actor="x", technician="陈刚")
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="x")).repair_order["number"]
    with pytest.raises(Invalid):
        services.repair_orders.transition(number, "teleported", actor="x")


def test_wrong_pins_make_the_account_wait_except_at_a_known_device(services: Services) -> None:
    advisor = services.auth.advisors()[0]
    assert services.auth.login(advisor.id, DEMO_PINS[advisor.name]).name == advisor.name
    for left in (4, 3, 2, 1):
        with pytest.raises(LoginRefused) as exc:
            services.auth.login(advisor.id, "9999", source="lounge-1")
        assert exc.value.key == "error.wrong_pin" and exc.value.params["left"] == left
    with pytest.raises(LoginRefused) as exc:
        services.auth.login(advisor.id, "9999", source="lounge-2")
    assert exc.value.key == "error.locked_out" and "until" not in exc.value.params  # never says how long
    with pytest.raises(LoginRefused):  # even the right PIN, from a device this person never used
        services.auth.login(advisor.id, DEMO_PINS[advisor.name], source="lounge-3")
    # at their own tablet the right person is not kept out by a stranger's guesses
    assert services.auth.login(advisor.id, DEMO_PINS[advisor.name], source="tablet", known_device=True).id == \
        advisor.id


def test_the_wait_grows_with_every_further_failure(services: Services) -> None:
    advisor = services.auth.advisors()[0]
    for _ in range(5):
        with pytest.raises(LoginRefused):
            services.auth.login(advisor.id, "9999", source=f"s{_}")
    services.clock.advance(minutes=6)  # the first wait (5 minutes) is over
    with pytest.raises(LoginRefused) as exc:
        services.auth.login(advisor.id, "9999", source="s6")
    assert exc.value.key == "error.locked_out"
    services.clock.advance(minutes=6)  # the second wait is 10 minutes
    with pytest.raises(LoginRefused) as exc:
        services.auth.login(advisor.id, DEMO_PINS[advisor.name], source="s7")
    assert exc.value.key == "error.locked_out"
    services.clock.advance(minutes=5)
    assert services.auth.login(advisor.id, DEMO_PINS[advisor.name], source="s7").id == advisor.id
    # a right PIN resets the count: the next wrong one is one of five again
    with pytest.raises(LoginRefused) as exc:
        services.auth.login(advisor.id, "9999", source="s8")
    assert exc.value.params["left"] == 4


def test_one_source_guessing_across_accounts_is_slowed_not_the_staff(services: Services) -> None:
    # The review's attack: 35 wrong PINs from one browser over every account. The guesser waits after ten;
    # the accounts are not locked for their owners, nor for a right PIN from another device.
    staff = services.auth.advisors()
    refused = 0
    for i in range(35):
        with pytest.raises(LoginRefused) as exc:
            services.auth.login(staff[i % len(staff)].id, "0001", source="10.0.9.9")
        refused += exc.value.key == "error.locked_out"
    assert refused == 35 - 9
    with pytest.raises(LoginRefused):  # the guessing source waits, even with a right PIN
        services.auth.login(staff[0].id, DEMO_PINS[staff[0].name], source="10.0.9.9")
    for person in staff:
        assert services.auth.login(person.id, DEMO_PINS[person.name], source="10.0.1.5").id == person.id
    rows = AuditService(services.ctx).read(Entity.STAFF)
    assert sum(r.action == "sign_in_failed" for r in rows) == 10  # the rest never reached a PIN check
    assert any(r.action == "source_waits" and r.detail == {"source": "10.0.9.9"} for r in rows)


def test_pins_are_stored_with_argon2_and_old_hashes_are_upgraded(services: Services) -> None:
    from sqlalchemy import select

    from shopfloor.domain.models import Advisor
    from shopfloor.services.pins import PinFormatError, hash_pin

    advisor = services.auth.advisors()[0]
    pin = DEMO_PINS[advisor.name]
    salt = "00112233445566aa"
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), 60_000).hex()
    with services.ctx.db.write() as s:
        stored = {a.name: a.pin_hash for a in s.scalars(select(Advisor))}
        assert all(h.startswith("$argon2id$") for h in stored.values()) and pin not in str(stored)
        s.get(Advisor, advisor.id).pin_hash = f"pbkdf2$60000${salt}${digest}"  # type: ignore[union-attr]
    assert services.auth.login(advisor.id, pin).id == advisor.id
    with services.ctx.db.read() as s:
        assert s.get(Advisor, advisor.id).pin_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    for bad in ("123", "123456789", "12a4", "１２３４"):
        with pytest.raises(PinFormatError):
            hash_pin(bad)


def test_late_is_marked_by_the_server_clock(services: Services) -> None:
    appt, _ = waiting_today(services)
    services.clock.set(appt.start + timedelta(minutes=9))
    services.appointments.mark_late()
    with services.db.read() as s:
        assert s.get(Appointment, appt.id).status in ("booked", "confirmed")
    services.clock.set(appt.start + timedelta(minutes=11))
    assert services.appointments.mark_late() >= 1
    with services.db.read() as s:
        assert s.get(Appointment, appt.id).status == "late"
    assert services.appointments.mark_late() == 0  # nothing twice


def test_print_job_is_retained_until_acknowledged(services: Services) -> None:
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["M10"])
                                       ).repair_order["number"]
    job = services.printing.print_ticket(number, "reception", actor="张伟")
    job_topic = topics.print_job("demo", "reception", job.id)
    with services.db.read() as s:
        msg = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == job_topic)).one()
        assert msg.retain
        lines = text_lines(payloads.parse(payloads.PrintJob, msg.payload).content(), "gb18030")
    assert any(number in line for line in lines)
    ack = payloads.encode(payloads.print_ack(job_id=job.id, result="printed", at="2026-11-23T10:40:00+08:00"))
    services.printing.handle_ack("reception", ack)
    services.printing.handle_ack("reception", b"{garbled")  # logged, ignored
    with services.db.read() as s:
        assert s.get(PrintJob, job.id).status == "printed"
        cleared = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == job_topic)
                            .order_by(OutboxMessage.id.desc())).first()
        assert cleared is not None and cleared.payload == b"" and cleared.retain
    reprint = services.printing.print_ticket(number, "workshop", actor="张伟", reprint=True)
    with services.db.read() as s:
        data = s.get(PrintJob, reprint.id).data
    assert any("REPRINT" in line for line in text_lines(data, "gbk"))


def test_uncertain_job_waits_for_a_person(services: Services) -> None:
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order["number"]
    job = services.printing.print_ticket(number, "reception", actor="张伟")
    services.printing.handle_ack("reception", payloads.encode(
        payloads.print_ack(job_id=job.id, result="uncertain", detail="connection dropped",
                           at="2026-11-23T10:40:00+08:00")))
    assert [j.id for j in services.printing.needing_decision()] == [job.id]
    again = services.printing.resolve(job.id, "reprint", actor="王芳")
    assert again is not None and again.reprint
    assert services.printing.needing_decision() == []


def test_pending_outbox_rows_come_out_in_order(services: Services) -> None:
    with services.db.read() as s:
        rows = outbox.pending(s, 1000)
    assert [r.id for r in rows] == sorted(r.id for r in rows)


def test_default_promise_stays_inside_opening_hours(services: Services) -> None:
    from datetime import datetime

    tz = services.ctx.tz
    services.clock.set(datetime(2026, 11, 23, 10, 5, tzinfo=tz))
    # 10:05 + 1.2 h + 30 min, up to the next quarter hour
    assert services.checkin.default_promise(1.2).strftime("%d %H:%M") == "23 12:00"
    services.clock.set(datetime(2026, 11, 23, 19, 0, tzinfo=tz))  # 2 h of work, 1 h before closing
    assert services.checkin.default_promise(1.5).strftime("%d %H:%M") == "24 09:00"
    services.clock.set(datetime(2026, 11, 23, 22, 0, tzinfo=tz))  # after closing
    assert services.checkin.default_promise(0.5).strftime("%d %H:%M") == "24 09:00"


def _at_once(calls: list) -> list:
    """Run the calls in threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # the test looks at what each call raised
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_check_ins_get_distinct_numbers(services: Services) -> None:
    with services.db.read() as s:
        open_vehicles = select(RepairOrder.vehicle_id).where(RepairOrder.closed_at.is_(None))
        tags = list(s.scalars(select(QrTag.token).where(QrTag.vehicle_id.not_in(open_vehicles))
                              .order_by(QrTag.token).limit(10)))
    results = _at_once([lambda t=t: services.checkin.check_in(CheckinRequest(tag=t, actor="x")) for t in tags])
    assert not [r for r in results if isinstance(r, Exception)]
    numbers = [r.repair_order["number"] for r in results]
    assert len(set(numbers)) == len(tags)


def test_concurrent_check_ins_of_one_car_open_one_order(services: Services) -> None:
    _, tag = waiting_today(services)
    results = _at_once([lambda: services.checkin.check_in(CheckinRequest(tag=tag, actor="x")) for _ in range(6)])
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.created for r in results) == 1
    assert len({r.repair_order["number"] for r in results}) == 1


def test_concurrent_conflicting_moves_one_wins(services: Services) -> None:
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="x")).repair_order["number"]
    services.repair_orders.transition(number, "dispatched", actor="x", technician="陈刚")
    services.repair_orders.transition(number, "in_progress", actor="x")
    moves = [("on_hold", "waiting_parts"), ("quality_check", None)] * 3
    results = _at_once([lambda m=m: services.repair_orders.transition(number, m[0], actor="x", reason=m[1])
                        for m in moves])
    assert sum(isinstance(r, dict) for r in results) == 1
    assert all(isinstance(r, dict | TransitionRefused) for r in results)
    history = services.repair_orders.history(number)
    assert [h.to_status for h in history][:3] == ["checked_in", "dispatched", "in_progress"] and len(history) == 4
