"""docs/asyncapi.yaml is true: its payload schemas are the models', and every message the server, the boards'
connections and a printer agent really publish (a demo day: snapshot, check-ins, every kind of move, bookings,
a printed ticket and its ack, clients coming and going) is on a documented channel, retained as documented,
with a payload the document's schema accepts."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import paho.mqtt.client as paho
import pytest
import yaml
from sqlalchemy import select

from shopfloor.contract import asyncapi
from shopfloor.contract.access import Role
from shopfloor.credentials import Credentials
from shopfloor.domain.models import Appointment, QrTag, Technician, Vehicle
from shopfloor.mqtt import MqttLink
from shopfloor.printer.agent import PrinterAgent
from shopfloor.printer.journal import PrintJournal
from shopfloor.printer.transports import FileTransport
from shopfloor.publisher import OutboxPublisher
from shopfloor.services.aftercare.complaints import ComplaintService
from shopfloor.services.booking import BookingRequest
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.testing.broker_fixtures import RunningBroker
from shopfloor.testing.delivery import settle
from shopfloor.testing.plugin import Services
from shopfloor.testing.polling import eventually
from shopfloor.testing.workshop import pass_checks

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


# -- the document and the models ---------------------------------------------------------------------------

def test_payload_schemas_are_generated_from_the_models() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    assert asyncapi.render(text) == text, "docs/asyncapi.yaml is stale: run python -m shopfloor.contract.asyncapi"


def test_every_message_is_a_model_and_every_model_a_message(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    assert set(messages) == set(asyncapi.PAYLOADS)
    for name, message in messages.items():
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
    used = {operation["message"]["$ref"].rsplit("/", 1)[1]
            for channel in document["channels"].values() for operation in _operations(channel)}
    assert used == set(messages), "a message no channel carries"


# -- what is really published ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Published:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    will: bool  # a last will: the broker publishes it when the connection dies


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[Published]:
    """Every publish and every last will of every paho client in this process, as handed to paho."""
    seen: list[Published] = []
    lock = threading.Lock()
    publish, will_set = paho.Client.publish, paho.Client.will_set

    def _bytes(payload: Any) -> bytes:
        return payload.encode() if isinstance(payload, str) else bytes(payload or b"")

    def recording_publish(self: paho.Client, topic: str, payload: Any = None, qos: int = 0, retain: bool = False,
                          properties: Any = None) -> paho.MQTTMessageInfo:
        with lock:
            seen.append(Published(topic, _bytes(payload), qos, retain, will=False))
        return publish(self, topic, payload, qos, retain, properties)

    def recording_will_set(self: paho.Client, topic: str, payload: Any = None, qos: int = 0, retain: bool = False,
                           properties: Any = None) -> None:
        with lock:
            seen.append(Published(topic, _bytes(payload), qos, retain, will=True))
        will_set(self, topic, payload, qos, retain, properties)

    monkeypatch.setattr(paho.Client, "publish", recording_publish)
    monkeypatch.setattr(paho.Client, "will_set", recording_will_set)
    return seen


def test_everything_published_on_a_demo_day_follows_the_document(
        services: Services, demo_broker: RunningBroker, credentials: Credentials, tmp_path: Path,
        published: list[Published], document: dict[str, Any]) -> None:
    with _running(services, demo_broker, credentials, tmp_path) as agent:
        _a_demo_day(services, agent)
    channels = [_Channel(address, spec, document) for address, spec in document["channels"].items()]
    problems: list[str] = []
    used: set[str] = set()
    for message in published:
        matching = [channel for channel in channels if channel.matches(message.topic)]
        if len(matching) != 1:
            problems.append(f"{message.topic}: {len(matching)} channels match")
            continue
        channel = matching[0]
        used.add(channel.address)
        problems += [f"{message.topic}: {problem}" for problem in channel.check(message)]
    assert not problems, "\n".join(problems[:20])
    assert used == {channel.address for channel in channels}, "channels the day never used: the test misses them"


class _Channel:
    """One channel of the document: its address as a pattern, its parameters' and its payload's schemas."""

    def __init__(self, address: str, spec: dict[str, Any], document: dict[str, Any]) -> None:
        self.address = address
        [operation] = _operations(spec)
        self.binding = operation["bindings"]["mqtt"]
        self.deletable = spec.get("x-deleted-by-empty-payload", False)
        self.pattern = re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(address)) + "$")
        components = document["components"]
        self.parameters = {name: _validator(_resolve(param, document)["schema"], components)
                           for name, param in spec["parameters"].items()}
        message = _resolve(operation["message"], document)
        self.payload = _validator(message["payload"], components)

    def matches(self, topic: str) -> bool:
        return self.pattern.match(topic) is not None

    def check(self, message: Published) -> Iterator[str]:
        found = self.pattern.match(message.topic)
        assert found is not None
        for name, value in found.groupdict().items():
            as_json: Any = int(value) if value.isdigit() else value
            yield from (f"parameter {name}={value!r}: {e.message}" for e in self.parameters[name].iter_errors(as_json))
        if (message.qos, message.retain) != (self.binding["qos"], self.binding["retain"]):
            yield f"qos {message.qos}, retain {message.retain}; documented {self.binding}"
        if not message.payload:
            if not self.deletable:
                yield "empty payload on a channel that is not x-deleted-by-empty-payload"
            return
        try:
            payload = json.loads(message.payload)
        except ValueError as exc:
            yield f"not JSON: {exc}"
            return
        yield from (f"{e.instance_path}: {e.message}" for e in self.payload.iter_errors(payload))


def _operations(channel: dict[str, Any]) -> list[dict[str, Any]]:
    return [channel[op] for op in ("publish", "subscribe") if op in channel]


def _resolve(node: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in node:
        return node
    found: Any = document
    for part in node["$ref"].removeprefix("#/").split("/"):
        found = found[part]
    return found


def _validator(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """AsyncAPI 2.6 schemas are JSON Schema draft 7; `#/components/...` resolves inside the root given here."""
    return jsonschema_rs.Draft7Validator({**schema, "components": components}, validate_formats=True)


@contextlib.contextmanager
def _running(svc: Services, broker: RunningBroker, creds: Credentials, tmp_path: Path) -> Iterator[PrinterAgent]:
    """The server's publisher, a wall board's and a lounge screen's connections and the reception printer's
    agent, all connected; stopped cleanly (each says offline) once the day is done and the outbox is empty."""
    pub = OutboxPublisher(svc.ctx, broker.address, creds.account(Role.SERVER))
    pub.print_ack_received.subscribe(svc.printing.handle_ack)
    board = MqttLink(address=broker.address, account=creds.account(Role.BOARD), site="demo", role=Role.BOARD,
                     client_id="board-wall-1")
    lounge = MqttLink(address=broker.address, account=creds.account(Role.LOUNGE), site="demo", role=Role.LOUNGE,
                      client_id="lounge-1")
    agent = PrinterAgent("demo", "reception", FileTransport(tmp_path / "spool"), PrintJournal(tmp_path / "journal"),
                         broker.address, creds.printer_account("reception"))
    try:
        assert pub.start(wait=10) and board.start(wait=10) and lounge.start(wait=10) and agent.start(wait=10)
        assert eventually(lambda: pub.resync_count >= 1, 15)  # the current state of everything went out
        yield agent
        assert eventually(lambda: pub.pending() == 0, 15)
    finally:
        agent.stop()
        lounge.stop()
        board.stop()
        pub.stop()


def _a_demo_day(svc: Services, agent: PrinterAgent) -> None:
    start, end = svc.ctx.day_bounds(svc.ctx.today())
    with svc.db.read() as s:
        tags = list(s.scalars(select(QrTag.token).join(Appointment, Appointment.vehicle_id == QrTag.vehicle_id).where(
            Appointment.status.in_(("booked", "confirmed")), Appointment.start >= start, Appointment.start < end)))
        plates = list(s.scalars(select(Vehicle.plate).order_by(Vehicle.id)))
    orders = svc.repair_orders
    # a car through every step, on hold for the customer's approval and sent back once by quality check
    number = svc.checkin.check_in(CheckinRequest(tag=tags[0], actor="张伟", operation_codes=["M10"])
                                  ).repair_order["number"]
    for target, extra in [("dispatched", {"technician": "陈刚"}), ("in_progress", {}),
                          ("on_hold", {"reason": "waiting_approval"}), ("in_progress", {}), ("quality_check", {}),
                          ("in_progress", {}), ("quality_check", {}), ("ready", {}), ("delivered", {})]:
        svc.clock.advance(minutes=5)
        if target == "ready":
            pass_checks(svc.ctx, number)  # ready comes from the quality checks
        else:
            if target == "delivered":
                settle(svc.ctx, number)  # delivered needs the bill settled
            orders.transition(number, target, actor="张伟", **extra)
    cancelled = svc.checkin.check_in(CheckinRequest(tag=tags[1], actor="李娜")).repair_order["number"]
    orders.transition(cancelled, "cancelled", actor="李娜")
    # the workshop: dispatched, clocked on by badge and ticket, additional work approved, a new promise, finished
    work = WorkshopServices.on(svc.ctx)
    third = svc.checkin.check_in(CheckinRequest(tag=tags[2], actor="张伟", operation_codes=["BRK"])
                                 ).repair_order["number"]
    work.dispatch.dispatch(third, "杨帆", actor="郑强", override="the customer waits")
    with svc.db.read() as s:
        badge = s.scalar(select(Technician.badge).where(Technician.name == "杨帆"))
    assert badge is not None
    clocking, _ = work.clocking.clock_on(badge, f"https://shop.example/ro/{third}", actor="杨帆")
    finding = work.additional_work.report(third, technician="杨帆", description="更换刹车油", hours=0.5, actor="杨帆")
    work.additional_work.decide(finding.id, "approved", "phone", actor="张伟")
    work.promises.promise(third, svc.ctx.now() + timedelta(hours=4), "additional work", actor="张伟")
    svc.clock.advance(minutes=40)
    work.clocking.stop(clocking.id, "paused", reason="waiting_parts", actor="杨帆")
    # its job ticket printed by the agent, acknowledged, taken off the printer's topic
    job = svc.printing.print_ticket(number, "reception", actor="张伟")
    assert eventually(lambda: [j.status for j in svc.printing.jobs_for(number) if j.id == job.id] == ["printed"], 15)
    assert agent.wait_idle(10)
    # a booking moved, confirmed by phone, waiting for parts, then cancelled
    booking = svc.booking
    day = svc.ctx.today() + timedelta(days=2)
    appt = booking.book(BookingRequest(start=datetime.fromisoformat(f"{day.isoformat()}T11:00:00+08:00"),
                                       lines=booking.lines(codes=["M10"]), actor="张伟", plate=plates[8],
                                       override_reason="customer's only time"))
    booking.move(appt["id"], datetime.fromisoformat(f"{day.isoformat()}T11:30:00+08:00"), None, actor="赵经理",
                 override_reason="customer's only time")
    booking.record_call(appt["id"], "confirmed", actor="孙丽")
    booking.set_parts(appt["id"], "to_order", eta=day, numbers="04152-YZZA1")
    booking.cancel(appt["id"], actor="孙丽", reason="客户出差")
    # the delivered car's customer complains: important (the manager's screens escalate it), then acknowledged
    complaints = ComplaintService(svc.ctx)
    complaint = complaints.register(actor="孙丽", problem_class="workmanship", severity="important",
                                    important_because="safety", text="刹车异响", repair_order=number)
    complaints.acknowledge(complaint.id, actor="赵经理")
    # the day goes on: late and no-show marks; then midnight: yesterday's capacity leaves the bus
    svc.clock.advance(minutes=90)
    svc.appointments.mark_late()
    svc.booking.roll_over(svc.ctx.today() - timedelta(days=1))
