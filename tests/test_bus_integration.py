"""Outbox → broker → subscribers and the board store, for real, on a free port: once with the embedded broker
and once with a Mosquitto configured by `shopfloor mosquitto-config` (the `any_demo_broker` fixture)."""

import asyncio
import json

from sqlalchemy import select

from shopfloor.board.feed import BoardFeed
from shopfloor.board.store import BoardStore
from shopfloor.contract import topics
from shopfloor.contract.access import Role
from shopfloor.credentials import Credentials
from shopfloor.domain.models import RepairOrder
from shopfloor.publisher import OutboxPublisher
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.broker_fixtures import RunningBroker
from shopfloor.testing.demo_day import waiting_tags
from shopfloor.testing.plugin import Collector, Services
from shopfloor.testing.polling import eventually, eventually_async

RO_STATE = topics.state_filter("demo", topics.REPAIR_ORDERS)


def _publisher(svc: Services, broker: RunningBroker, creds: Credentials, client_id: str = "server-demo"
               ) -> OutboxPublisher:
    pub = OutboxPublisher(svc.ctx, broker.address, creds.account(Role.SERVER), client_id=client_id)
    pub.print_ack_received.subscribe(svc.printing.handle_ack)
    assert pub.start(wait=10)
    return pub


def test_check_in_yields_retained_state_for_a_fresh_subscriber(services: Services, any_demo_broker: RunningBroker,
                                                                 credentials: Credentials) -> None:
    pub = _publisher(services, any_demo_broker, credentials)
    try:
        tag = waiting_tags(services, latest_first=True)[0]
        number = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["M10"])
                                           ).repair_order["number"]
        topic = topics.state("demo", topics.REPAIR_ORDERS, number)
        assert eventually(lambda: pub.pending() == 0)
        fresh = Collector(any_demo_broker.address, credentials.account(Role.BOARD), [RO_STATE], "fresh-board")
        try:
            assert fresh.wait_for(lambda msgs: any(t == topic and r for t, _, r in msgs))
            state = json.loads(fresh.latest()[topic])
            assert state["number"] == number and state["status"] == "checked_in"
            assert isinstance(state["version"], int) and state["plate"]
        finally:
            fresh.close()
    finally:
        pub.stop()


async def test_board_store_follows_every_move(services: Services, any_demo_broker: RunningBroker,
                                              credentials: Credentials) -> None:
    pub = _publisher(services, any_demo_broker, credentials)
    store = BoardStore()
    feed = BoardFeed(store, address=any_demo_broker.address, account=credentials.account(Role.BOARD), site="demo",
                     role=Role.BOARD, loop=asyncio.get_running_loop())
    feed.start()
    try:
        tag = waiting_tags(services, latest_first=True)[0]
        result = await asyncio.to_thread(services.checkin.check_in, CheckinRequest(tag=tag, actor="张伟"))
        number = result.repair_order["number"]
        assert await eventually_async(
            lambda: (store.get(topics.REPAIR_ORDERS, number) or {}).get("status") == "checked_in")
        appt_id = str(result.repair_order["appointment_id"])
        assert await eventually_async(
            lambda: (store.get(topics.APPOINTMENTS, appt_id) or {}).get("status") == "arrived")
        for target, extra in (("dispatched", {"technician": "陈刚"}), ("in_progress", {}), ("quality_check", {})):
            await asyncio.to_thread(services.repair_orders.transition, number, target, actor="张伟", **extra)
            assert await eventually_async(lambda t=target: store.get(topics.REPAIR_ORDERS, number)["status"] == t,
                                          ignoring=(KeyError, TypeError))  # (no state yet)
        assert store.get(topics.REPAIR_ORDERS, number)["technician"]["name"] == "陈刚"
        # The staff and technicians (the boards' rows) arrive through the republish after connect.
        staff = await asyncio.to_thread(services.auth.advisors)
        assert await eventually_async(lambda: len(store.states(topics.ADVISORS)) == len(staff)
                                      and len(store.states(topics.TECHNICIANS)) == 8)
        assert sum(a["role"] == "advisor" for a in store.states(topics.ADVISORS).values()) == 4
    finally:
        feed.stop()
        pub.stop()


def test_server_killed_mid_stream_loses_no_state_change(services: Services, any_demo_broker: RunningBroker,
                                                        credentials: Credentials) -> None:
    watcher = Collector(any_demo_broker.address, credentials.account(Role.BOARD), [RO_STATE], "watcher")
    assert watcher.connected.wait(5)
    tags = waiting_tags(services, latest_first=True)[:8]
    pub = _publisher(services, any_demo_broker, credentials)
    numbers = []
    for i, tag in enumerate(tags):
        if i == 3:
            pub.kill()  # as a crash would: rows committed from here on wait in the outbox
        numbers.append(services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order["number"])
    for number in numbers[:5]:
        services.repair_orders.transition(number, "dispatched", actor="张伟", technician="陈刚")
    assert pub.pending() > 0
    restarted = _publisher(services, any_demo_broker, credentials, client_id="server-demo-2")
    try:
        assert eventually(lambda: restarted.pending() == 0)
        with services.db.read() as s:
            expected = {ro.number: (ro.status, ro.version) for ro in s.scalars(select(RepairOrder))}
        assert watcher.wait_for(lambda _m: all(
            json.loads(watcher.latest().get(topics.state("demo", topics.REPAIR_ORDERS, n), b"{}") or b"{}"
                       ).get("version") == expected[n][1] for n in numbers))
        latest = watcher.latest()
        for number in numbers:
            state = json.loads(latest[topics.state("demo", topics.REPAIR_ORDERS, number)])
            assert (state["status"], state["version"]) == expected[number]
        # Nothing applied twice: the newest version a consumer saw for each order is the database's.
        seen: dict[str, int] = {}
        for topic, payload, _ in watcher.messages:
            if payload:
                seen[topic] = max(seen.get(topic, 0), json.loads(payload)["version"])
        assert all(seen[topics.state("demo", topics.REPAIR_ORDERS, n)] == expected[n][1] for n in numbers)
    finally:
        restarted.stop()
        watcher.close()


def test_garbled_state_payload_is_logged_and_ignored(caplog, services: Services) -> None:  # type: ignore[no-untyped-def]
    store = BoardStore()
    tag = waiting_tags(services, latest_first=True)[0]
    state = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order
    number = state["number"]
    topic = topics.state("demo", topics.REPAIR_ORDERS, number)
    store.apply(topic, json.dumps(state).encode())
    newer = state["version"] + 1
    store.apply(topic, b"\xff\xfe not json")
    store.apply(topic, json.dumps({"number": number}).encode())
    store.apply(topic, json.dumps({**state, "version": newer, "status": 7}).encode())  # a number where text belongs
    store.apply(topic, json.dumps({**state, "version": newer, "phone": "13800000000"}).encode())  # not in the contract
    assert store.get(topics.REPAIR_ORDERS, number) == state
    assert sum(number in r.getMessage() for r in caplog.records) >= 4
