"""What a printer account can do to the server through acks: nothing but settle its own printer's pending jobs.

An ack for another printer's job, an unknown one, or with a job id no job can have is logged and dropped
without a write transaction; and acks are handled off the outbox publisher's thread, so however slow or many
they are, the boards' state changes go out. (On main before this, 30 acks with a huge job id held a check-in's
state for 58.6 s: each raised OverflowError inside the publisher's loop, which then slept 1 s and waited 1 s more
for a wake-up.)
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select

from shopfloor.contract import payloads, topics
from shopfloor.contract.access import Role
from shopfloor.credentials import Credentials
from shopfloor.domain.models import Appointment, OutboxMessage, PrintJob, QrTag
from shopfloor.mqtt import MqttLink
from shopfloor.publisher import OutboxPublisher
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.printing import PrintJobInfo
from shopfloor.testing.broker_fixtures import RunningBroker
from shopfloor.testing.plugin import Collector, Services
from shopfloor.testing.polling import eventually

SITE = "demo"
AT = "2026-11-23T10:40:00+08:00"
log = logging.getLogger(__name__)


def _ack(job_id: int, result: str = "printed") -> bytes:
    return payloads.encode(payloads.print_ack(job_id=job_id, result=result, at=AT))


def _slip(services: Services, printer: str) -> PrintJobInfo:
    with services.db.write() as s:
        return services.printing.add_job(s, printer, "confirmation", b"slip\n", actor="test")


@pytest.fixture
def writes(services: Services) -> Iterator[list[str]]:
    """Every write transaction begun on the services' database, as it happens."""
    begun: list[str] = []

    def on_begin(_conn: object) -> None:
        begun.append(threading.current_thread().name)

    event.listen(services.db.write_engine, "begin", on_begin)
    yield begun
    event.remove(services.db.write_engine, "begin", on_begin)


def _bogus_acks(reception_job: int) -> list[bytes]:
    """Acks the workshop printer's account could send on its own topic, none of them for a job of its own."""
    huge = b'{"schema":1,"job_id":' + b"9" * 3000 + b',"result":"printed","detail":"","at":"' + AT.encode() + b'"}'
    return [
        _ack(reception_job),                 # another printer's job
        _ack(reception_job, "uncertain"),
        _ack(999_999),                       # no such job
        _ack(10**30), _ack(2**63), _ack(2**31), huge,  # ids no job can have (SQLite raised OverflowError)
        _ack(0), _ack(-1),
        payloads.encode({"schema": 1, "job_id": reception_job, "result": "printed", "detail": "x" * 10_000, "at": AT}),
        b"{garbled", b"[1]", b"",
    ]


def test_acks_not_for_a_pending_job_of_that_printer_change_nothing_and_write_nothing(
        services: Services, writes: list[str]) -> None:
    job = _slip(services, "reception")
    with services.db.read() as s:
        outbox_before = s.scalar(select(func.count()).select_from(OutboxMessage))
    writes.clear()

    started = time.perf_counter()
    for raw in _bogus_acks(job.id):
        assert services.printing.handle_ack("workshop", raw) is False
    assert services.printing.handle_ack("nope", _ack(job.id)) is False  # not a printer of this site
    elapsed = time.perf_counter() - started
    log.info("%d bogus acks dropped in %.1f ms", len(_bogus_acks(job.id)) + 1, elapsed * 1000)

    assert writes == []
    with services.db.read() as s:
        assert s.get(PrintJob, job.id).status == "pending"
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == outbox_before

    assert services.printing.handle_ack("reception", _ack(job.id)) is True  # its own printer's ack settles it
    assert len(writes) == 1
    assert services.printing.handle_ack("reception", _ack(job.id, "uncertain")) is False  # the first one decided
    with services.db.read() as s:
        assert s.get(PrintJob, job.id).status == "printed"
    assert len(writes) == 1


def _waiting_tag(services: Services) -> str:
    start, end = services.ctx.day_bounds(services.ctx.today())
    with services.db.read() as s:
        return s.scalars(select(QrTag.token).join(Appointment, Appointment.vehicle_id == QrTag.vehicle_id).where(
            Appointment.status.in_(("booked", "confirmed")), Appointment.start >= start, Appointment.start < end)
            .order_by(Appointment.start.desc())).first() or ""


def test_bogus_acks_on_the_bus_do_not_hold_up_a_check_in(services: Services, any_demo_broker: RunningBroker,
                                                         credentials: Credentials, writes: list[str]) -> None:
    # Acks are handled on their own thread; here that thread is held (as by an ack waiting for the database's
    # write lock behind an import) while the workshop printer's account sends 30 bogus acks: the check-in's
    # state must still reach a board, before any of those acks is handled.
    publisher = OutboxPublisher(services.ctx, any_demo_broker.address, credentials.account(Role.SERVER))
    held, release = threading.Event(), threading.Event()

    def hold(_printer: str, _raw: bytes) -> None:
        held.set()
        release.wait(30)

    publisher.print_ack_received.subscribe(hold)
    publisher.print_ack_received.subscribe(services.printing.handle_ack)
    board = Collector(any_demo_broker.address, credentials.account(Role.BOARD),
                      [topics.state_filter(SITE, topics.REPAIR_ORDERS)], "acks-board")
    workshop = MqttLink(address=any_demo_broker.address, account=credentials.printer_account("workshop"),
                        site=SITE, role=Role.PRINTER, client_id="printer-workshop",
                        status_topic=topics.printer_status(SITE, "workshop"))
    reception_job = _slip(services, "reception")
    try:
        assert publisher.start(wait=10) and workshop.start(wait=10)
        assert eventually(lambda: publisher.resync_count >= 1, 15)
        bogus = (_bogus_acks(reception_job.id) * 3)[:30]
        sent = [workshop.publish(topics.print_ack(SITE, "workshop"), raw, retain=False) for raw in bogus]
        for info in sent:
            info.wait_for_publish(10)
        assert held.wait(10)  # the first bogus ack is being handled, and the ack thread is stuck on it

        started = time.perf_counter()
        number = services.checkin.check_in(CheckinRequest(tag=_waiting_tag(services), actor="张伟")
                                           ).repair_order["number"]
        topic = topics.state(SITE, topics.REPAIR_ORDERS, number)
        assert board.wait_for(lambda msgs: any(t == topic for t, _, _ in msgs), timeout=15), \
            "the check-in's state did not reach the board while acks were being handled"
        log.info("check-in state at the board %.0f ms after the check-in began, 30 bogus acks queued",
                 (time.perf_counter() - started) * 1000)
        assert json.loads(board.latest()[topic])["status"] == "checked_in"
        assert publisher.acks_handled == 0  # all 30 still waiting: the state did not wait for them

        writes.clear()
        release.set()
        assert eventually(lambda: publisher.acks_handled == 30, 15)
        assert not [name for name in writes if name == "outbox-acks"]  # no ack wrote
        with services.db.read() as s:
            assert s.get(PrintJob, reception_job.id).status == "pending"
    finally:
        release.set()
        workshop.stop()
        board.close()
        publisher.stop()
