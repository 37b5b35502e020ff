"""A burst of changes from many threads at once reaches the bus whole: every repair-order event arrives (none
lost), each car's retained state ends at its version in the database, and today's retained capacity state
equals a full recomputation once the burst is over. On SQLite and PostgreSQL, through the embedded broker;
bench/sustained.py runs the 20,000-move version against the real server."""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlalchemy import select

from shopfloor.broker.embedded import EmbeddedBroker
from shopfloor.contract import payloads, topics
from shopfloor.contract.access import Role
from shopfloor.contract.entity_states import CapacityState
from shopfloor.credentials import Credentials
from shopfloor.domain.models import Appointment, QrTag, RepairOrder
from shopfloor.publisher import OutboxPublisher
from shopfloor.services.capacity import capacity_figures, load_plan
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Collector, Services
from shopfloor.testing.polling import eventually

CARS = 8
MOVES_PER_CAR = 40


pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


def _cars_in_progress(svc: Services) -> list[str]:
    start, end = svc.ctx.day_bounds(svc.ctx.today())
    with svc.db.read() as s:
        tags = list(s.scalars(select(QrTag.token).join(Appointment, Appointment.vehicle_id == QrTag.vehicle_id).where(
            Appointment.status.in_(("booked", "confirmed")), Appointment.start >= start, Appointment.start < end)
            .order_by(Appointment.id)))[:CARS]
    assert len(tags) == CARS
    numbers = []
    for tag in tags:
        number = svc.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["M10"])
                                      ).repair_order["number"]
        svc.repair_orders.transition(number, "dispatched", actor="郑强", technician="陈刚")
        svc.repair_orders.transition(number, "in_progress", actor="陈刚")
        numbers.append(number)
    return numbers


def _retained(broker: EmbeddedBroker, credentials: Credentials, filter_: str, want: set[str]) -> dict[str, bytes]:
    """What a subscriber connecting now gets: the retained message of each topic under the filter, waited for
    until every topic in `want` came (the filter also matches other orders' states, which may come first)."""
    fresh = Collector(broker.address, credentials.account(Role.SERVER), [filter_], "burst-fresh")
    try:
        fresh.wait_for(lambda messages: want <= {topic for topic, _, _ in messages})
        return fresh.latest()
    finally:
        fresh.close()


def test_a_burst_of_moves_from_many_threads_loses_nothing(services: Services, demo_broker: EmbeddedBroker,
                                                         credentials: Credentials) -> None:
    site = services.ctx.site
    numbers = _cars_in_progress(services)
    events = Collector(demo_broker.address, credentials.account(Role.SERVER),
                       [topics.event(site, topics.REPAIR_ORDERS, "+")], "burst-events")
    assert events.connected.wait(10)
    publisher = OutboxPublisher(services.ctx, demo_broker.address, credentials.account(Role.SERVER))
    answers: list[tuple[str, int]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def toggle(number: str) -> None:
        try:
            for i in range(MOVES_PER_CAR):
                target, reason = ("on_hold", "waiting_parts") if i % 2 == 0 else ("in_progress", None)
                state = services.repair_orders.transition(number, target, actor="陈刚", reason=reason)
                with lock:
                    answers.append((number, int(state["version"])))
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            failures.append(exc)

    try:
        assert publisher.start(wait=10)
        workers = [threading.Thread(target=toggle, args=(number,)) for number in numbers]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert not failures, failures
        assert len(answers) == CARS * MOVES_PER_CAR
        assert eventually(lambda: publisher.pending() == 0, 60), f"{publisher.pending()} outbox rows or marks left"

        def received() -> set[tuple[str, int]]:
            return {(event["number"], event["version"])
                    for event in (json.loads(payload) for _, payload, _ in list(events.messages))}

        assert eventually(lambda: set(answers) <= received(), 10), f"lost: {sorted(set(answers) - received())[:5]}"
        with services.db.read() as s:
            current = {number: version for number, version in s.execute(
                select(RepairOrder.number, RepairOrder.version).where(RepairOrder.number.in_(numbers)))}
        states = _retained(demo_broker, credentials, topics.state_filter(site, topics.REPAIR_ORDERS),
                           {topics.state(site, topics.REPAIR_ORDERS, number) for number in numbers})
        for number, version in current.items():  # the last move's version, or a later republish's
            assert version >= max(v for n, v in answers if n == number)
            assert json.loads(states[topics.state(site, topics.REPAIR_ORDERS, number)])["version"] == version

        today = services.ctx.today()
        capacity_topic = topics.state(site, topics.CAPACITY, today.isoformat())
        retained = _retained(demo_broker, credentials, capacity_topic, {capacity_topic})
        capacity = payloads.parse(CapacityState, retained[capacity_topic])
        assert capacity is not None
        with services.db.read() as s:
            expected: dict[str, Any] = capacity_figures(load_plan(s, services.ctx, today)).to_dict()
        got = capacity.to_dict()
        for key in ("version", "schema", "site"):
            got.pop(key)
        assert got == expected
    finally:
        publisher.stop()
        events.close()
