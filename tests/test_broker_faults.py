"""The broker dies (Mosquitto: kill -9) and comes back on the same port while check-ins and moves go on.

Every state change must reach the board that stayed up throughout (it ends with each repair order's and
appointment's latest version equal to the database's), a board that connects afterwards must see the same,
and the boards' sweep after a reconnect must not drop what the server republishes.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import or_, select

from shopfloor.board import feed as feed_mod
from shopfloor.board.feed import BoardFeed
from shopfloor.board.store import BoardStore
from shopfloor.contract import topics
from shopfloor.contract.access import Role
from shopfloor.credentials import Credentials
from shopfloor.domain.models import Appointment, OutboxMessage, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.publisher import OutboxPublisher
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.broker_fixtures import MosquittoBroker, RunningBroker
from shopfloor.testing.demo_day import waiting_tags
from shopfloor.testing.plugin import Services
from shopfloor.testing.polling import eventually_async
from shopfloor.testing.workshop import pass_checks

SITE = "demo"
MOVES: list[tuple[str, dict[str, str]]] = [
    ("dispatched", {"technician": "陈刚"}), ("in_progress", {}), ("quality_check", {}), ("ready", {})]
PACE = 0.045  # seconds between two state changes: the ~95 changes outlast the outage and the reconnect
BEFORE_KILL = 0.5  # seconds of changes before the broker dies
OUTAGE = 1.5  # seconds the broker stays dead
SETTLE = 2.5  # the boards' resync sweep, shortened from 10 s so that it runs within the test
CONVERGE = 15.0  # upper bound for the boards to match the database


@dataclass
class Workload:
    """Check-ins and moves in a thread, interleaved: a new car, then one move of the oldest open order."""

    services: Services
    tags: list[str]
    changes: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: {"check-in": 0, "move": 0})
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        try:
            todo: list[tuple[str, int]] = []  # (repair order number, index of its next move)
            tags = list(self.tags)
            while tags or todo:
                if tags and (self.changes % 2 == 0 or not todo):
                    tag = tags.pop(0)
                    result = self.services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟"))
                    todo.append((result.repair_order["number"], 0))
                    self.kinds["check-in"] += 1
                else:
                    number, step = todo.pop(0)
                    target, extra = MOVES[step]
                    if target == "ready":  # ready comes from the quality checks
                        pass_checks(self.services.ctx, number, "张伟")
                    else:
                        self.services.repair_orders.transition(number, target, actor="张伟", **extra)
                    if step + 1 < len(MOVES):
                        todo.append((number, step + 1))
                    self.kinds["move"] += 1
                self.changes += 1
                time.sleep(PACE)
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()


def _database(svc: Services) -> dict[tuple[str, str], int]:
    """(kind, id) -> version of every repair order and appointment the boards should hold (the snapshot's scope)."""
    ctx = svc.ctx
    day_start, day_end = ctx.day_bounds(ctx.today())
    with svc.db.read() as s:
        ros = s.scalars(select(RepairOrder).where(RepairOrder.site_id == SITE, or_(
            RepairOrder.status.in_([x.value for x in OPEN_STATUSES]), RepairOrder.closed_at >= day_start)))
        state = {(topics.REPAIR_ORDERS, ro.number): ro.version for ro in ros}
        appts = s.scalars(select(Appointment).where(Appointment.site_id == SITE, Appointment.start >= day_start,
                                                    Appointment.start < day_end + timedelta(days=1)))
        state.update({(topics.APPOINTMENTS, str(a.id)): a.version for a in appts})
    return state


def _board(store: BoardStore) -> dict[tuple[str, str], int]:
    return {(kind, entity_id): int(state["version"]) for kind, entity_id, state in store
            if kind in (topics.REPAIR_ORDERS, topics.APPOINTMENTS)}


def _produced_ro_versions(svc: Services) -> set[tuple[str, int]]:
    """Every repair-order version the server ever put in the outbox."""
    with svc.db.read() as s:
        rows = s.execute(select(OutboxMessage.topic, OutboxMessage.payload).where(
            OutboxMessage.topic.like(f"shopfloor/v1/{SITE}/{topics.REPAIR_ORDERS}/%/state")))
        return {(topic.split("/")[4], json.loads(payload)["version"]) for topic, payload in rows if payload}


async def test_broker_killed_and_restarted_while_cars_check_in(services: Services, any_demo_broker: RunningBroker,
                                                               credentials: Credentials,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed_mod, "RESYNC_SETTLE_SECONDS", SETTLE)
    loop = asyncio.get_running_loop()
    broker = any_demo_broker
    pub = OutboxPublisher(services.ctx, broker.address, credentials.account(Role.SERVER), client_id="server-demo")
    pub.print_ack_received.subscribe(services.printing.handle_ack)
    store = BoardStore(site=SITE)
    seen: set[tuple[str, int]] = set()
    store.changed.subscribe(lambda kind, eid, state: seen.add((eid, state["version"]))
                    if kind == topics.REPAIR_ORDERS and state else None)
    sweeps: list[tuple[float, int]] = []  # (when, how many entities the sweep dropped)
    end_resync = store.end_resync

    def counted_end_resync() -> int:
        dropped = end_resync()
        sweeps.append((time.monotonic(), dropped))
        return dropped

    store.end_resync = counted_end_resync  # type: ignore[method-assign]
    feed = BoardFeed(store, address=broker.address, account=credentials.account(Role.BOARD), site=SITE,
                     role=Role.BOARD, loop=loop)
    assert await asyncio.to_thread(pub.start, 10)
    assert await asyncio.to_thread(feed.start, 10)
    assert await eventually_async(lambda: _board(store) == _database(services), 10), "boards did not start in step"

    work = Workload(services, waiting_tags(services))
    worker = threading.Thread(target=work.run, name="workload", daemon=True)
    started = time.monotonic()
    worker.start()
    fresh: BoardFeed | None = None
    try:
        await asyncio.sleep(BEFORE_KILL)
        killed_at, changes_before = time.monotonic(), work.changes
        await asyncio.to_thread(broker.kill)
        if isinstance(broker, MosquittoBroker):
            assert broker.returncode == -9
        await asyncio.sleep(OUTAGE)
        changes_during = work.changes - changes_before
        await asyncio.to_thread(broker.restart)
        restarted_at = time.monotonic()
        at_restart = _database(services)  # everything changed before and during the outage
        assert await eventually_async(lambda: pub.link.connected.is_set() and feed.connected, 10), \
            "clients did not return"
        back_at, changes_back = time.monotonic(), work.changes
        assert await eventually_async(
            lambda: all(_board(store).get(key, 0) >= version for key, version in at_restart.items()),
            CONVERGE), "the board never caught up with the changes made during the outage"
        caught_up_at = time.monotonic()

        assert await asyncio.to_thread(work.done.wait, 30), "workload did not finish"
        assert work.error is None, repr(work.error)
        last_change_at = time.monotonic()
        assert await eventually_async(lambda: pub.pending() == 0 and _board(store) == _database(services), CONVERGE), (
            f"board never matched the database; differs at "
            f"{sorted(set(_board(store).items()) ^ set(_database(services).items()))[:6]}")
        converged_at = time.monotonic()

        # the sweep after the reconnect has run (shortened to SETTLE s) and dropped nothing the server republished
        assert await eventually_async(lambda: any(when > back_at for when, _ in sweeps), SETTLE + 5), \
            "no sweep after reconnect"
        assert all(dropped == 0 for when, dropped in sweeps if when > back_at)
        assert _board(store) == _database(services)

        database = _database(services)
        for (kind, entity_id), version in database.items():
            if kind == topics.REPAIR_ORDERS:
                state = store.get(kind, entity_id)
                assert state is not None and state["version"] == version
        assert pub.resync_count >= 2  # the republish after the first connect and after the restart

        # a board that connects only now sees what the database holds
        feed.stop()
        fresh_store = BoardStore(site=SITE)
        fresh = BoardFeed(fresh_store, address=broker.address, account=credentials.account(Role.BOARD), site=SITE,
                          role=Role.BOARD, loop=loop)
        assert await asyncio.to_thread(fresh.start, 10)
        assert await eventually_async(lambda: _board(fresh_store) == database, 10), \
            "a fresh board differs from the database"

        produced = _produced_ro_versions(services)
        print(f"\n[{broker.kind}] {work.changes} state changes ({work.kinds['check-in']} check-ins, "
              f"{work.kinds['move']} moves; {changes_during} while the broker was down, "
              f"{work.changes - changes_back} after the clients were back); "
              f"broker down {restarted_at - killed_at:.2f} s, clients back {back_at - killed_at:.2f} s after the "
              f"kill; the board held every change made up to the restart {caught_up_at - restarted_at:.2f} s after "
              f"it ({caught_up_at - back_at:.2f} s after the clients were back), and matched the database "
              f"{converged_at - last_change_at:.2f} s after the last change; the live board saw "
              f"{len(seen & produced)} of {len(produced)} repair-order versions; run {converged_at - started:.1f} s")
        assert changes_during > 0, "no state change happened while the broker was down"
        assert work.changes > changes_back, "no state change happened after the clients were back"
    finally:
        work.done.wait(30)
        if fresh is not None:
            fresh.stop()
        feed.stop()
        pub.stop()
