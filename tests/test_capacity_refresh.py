"""The capacity states are coalesced (services/capacity.py publish_capacity marks the day, the refresher writes
its state) and still exact: after any sequence of bookings, moves, cancellations, check-ins, walk-ins and
repair-order moves, with refresh rounds cut anywhere in between (computed before a change, stored after it),
every day's last capacity state in the outbox equals a full recomputation, a changed day has one, versions
only grow, and no mark is left. On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import time
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shopfloor.capacity_refresher import CapacityRefresher
from shopfloor.contract import payloads, topics
from shopfloor.contract.entity_states import CapacityState
from shopfloor.domain.errors import DomainError
from shopfloor.domain.models import (
    Appointment,
    CapacityChange,
    OutboxMessage,
    QrTag,
    RepairOrder,
    Technician,
    Vehicle,
)
from shopfloor.domain.states import OPEN_STATUSES, RoStatus, next_moves
from shopfloor.services.booking import BookingRequest
from shopfloor.services.capacity import (
    MarkedDays,
    capacity_figures,
    compute_marked,
    count_marked,
    load_plan,
    refresh_marked,
    store_marked,
)
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.plugin import Services

DAYS = 7

book = st.tuples(st.just("book"), st.integers(0, DAYS - 1), st.integers(8, 17), st.sampled_from([0, 15, 30, 45]),
                 st.sampled_from(["maintenance", "repair"]), st.sampled_from([0.5, 1.0, 2.5]), st.integers(0, 10**6))
move = st.tuples(st.just("move"), st.integers(0, 10**6), st.integers(0, DAYS - 1), st.integers(8, 17))
cancel = st.tuples(st.just("cancel"), st.integers(0, 10**6))
check_in = st.tuples(st.just("check_in"), st.integers(0, 10**6))
walk_in = st.tuples(st.just("walk_in"), st.integers(0, 10**6))
ro_move = st.tuples(st.just("ro_move"), st.integers(0, 10**6), st.integers(0, 10**6))
compute = st.just(("compute",))
store = st.just(("store",))
operations = st.lists(st.one_of(book, move, cancel, check_in, walk_in, ro_move, ro_move, compute, store),
                      max_size=14)


@pytest.fixture
def services(db_services: Services) -> Services:
    """The demo site with the capacity of the days its seeding booked already written (no mark left)."""
    refresh_marked(db_services.ctx)
    return db_services


def _pick(items: list[Any], index: int) -> Any:
    return items[index % len(items)] if items else None


class Scenario:
    """Runs the operations against the services; remembers which days a change touched."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.today = svc.ctx.today()
        self.touched: set[date] = set()  # days a change that went through touched
        self._touching: set[date] = set()
        self.computed: MarkedDays | None = None

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.svc.ctx.tz)

    def active_appointments(self) -> list[Appointment]:
        start, _ = self.svc.ctx.day_bounds(self.today)
        with self.svc.db.read() as s:
            return list(s.scalars(select(Appointment).where(Appointment.start >= start,
                                                            Appointment.status.in_(("booked", "confirmed", "late")))
                                  .order_by(Appointment.id)))

    def run(self, op: tuple[Any, ...]) -> None:
        self._touching = set()
        with contextlib.suppress(DomainError):  # refused or invalid: rolled back, nothing changed
            getattr(self, op[0])(*op[1:])
            self.touched |= self._touching

    def book(self, offset: int, hour: int, minute: int, skill: str, hours: float, plate_index: int) -> None:
        b = self.svc.booking
        with self.svc.db.read() as s:
            plate = _pick(list(s.scalars(select(Vehicle.plate).order_by(Vehicle.id))), plate_index)
        day = self.today + timedelta(days=offset)
        self._touching.add(day)
        b.book(BookingRequest(start=self.local(day, hour, minute), lines=b.lines(hours=hours, skill=skill),
                              actor="测试", plate=plate, override_reason="property test"))

    def move(self, index: int, offset: int, hour: int) -> None:
        appt = _pick(self.active_appointments(), index)
        if appt is None:
            return
        day = self.today + timedelta(days=offset)
        self._touching |= {appt.start.astimezone(self.svc.ctx.tz).date(), day}
        self.svc.booking.move(appt.id, self.local(day, hour), None, actor="测试", override_reason="property test")

    def cancel(self, index: int) -> None:
        appt = _pick(self.active_appointments(), index)
        if appt is None:
            return
        self._touching.add(appt.start.astimezone(self.svc.ctx.tz).date())
        self.svc.booking.cancel(appt.id, actor="测试", reason="property test")

    def check_in(self, index: int) -> None:
        _, end = self.svc.ctx.day_bounds(self.today)
        today = [a for a in self.active_appointments() if a.start < end]
        appt = _pick(today, index)
        if appt is None:
            return
        with self.svc.db.read() as s:
            tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id == appt.vehicle_id, QrTag.revoked_at.is_(None)))
        if tag is not None:
            self._arrive(tag)

    def walk_in(self, index: int) -> None:
        with self.svc.db.read() as s:
            tag = _pick(list(s.scalars(select(QrTag.token).where(QrTag.revoked_at.is_(None))
                                       .order_by(QrTag.token))), index)
        if tag is not None:
            self._arrive(tag)

    def _arrive(self, tag: str) -> None:
        """A scan at reception: a new order, or the car's open one again (nothing changes)."""
        if self.svc.checkin.check_in(CheckinRequest(tag=tag, actor="测试", operation_codes=["M10"])).created:
            self._touching.add(self.today)

    def ro_move(self, index: int, choice: int) -> None:
        with self.svc.db.read() as s:
            orders = list(s.execute(select(RepairOrder.number, RepairOrder.status).where(
                RepairOrder.status.in_([x.value for x in OPEN_STATUSES])).order_by(RepairOrder.id)))
            technicians = list(s.scalars(select(Technician.id).where(Technician.skill == "repair")))
        order = _pick(orders, index)
        if order is None:
            return
        target = _pick(next_moves(RoStatus(order.status)), choice)
        self._touching.add(self.today)
        self.svc.repair_orders.transition(order.number, target.value, actor="测试",
                                          technician=_pick(technicians, choice),
                                          reason="waiting_parts" if target == RoStatus.ON_HOLD else None)

    def compute(self) -> None:
        """A refresh round begins: the marked days computed now, stored by a later `store`."""
        self.computed = compute_marked(self.svc.ctx)

    def store(self) -> None:
        if self.computed is not None:
            store_marked(self.svc.ctx, self.computed)
            self.computed = None


def _states(svc: Services, after: int, day: date) -> list[CapacityState]:
    """The day's capacity states in the outbox, oldest first, of the rows numbered above `after`."""
    with svc.db.read() as s:
        rows = s.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.id > after, OutboxMessage.topic == topics.state(svc.ctx.site, topics.CAPACITY,
                                                                          day.isoformat()))
            .order_by(OutboxMessage.id))
        return [state for payload in rows if (state := payloads.parse(CapacityState, payload)) is not None]


def _recomputed(svc: Services, day: date) -> dict[str, Any]:
    with svc.db.read() as s:
        return capacity_figures(load_plan(s, svc.ctx, day)).to_dict()


def _last_id(svc: Services) -> int:
    with svc.db.read() as s:
        return s.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_every_changed_day_ends_with_the_state_a_full_recomputation_gives(services: Services,
                                                                         ops: list[tuple[Any, ...]]) -> None:
    start = _last_id(services)
    scenario = Scenario(services)
    for op in ops:
        scenario.run(op)
    scenario.store()  # a round computed before the last changes ends now
    refresh_marked(services.ctx)
    assert count_marked(services.ctx) == 0
    for day in (scenario.today + timedelta(days=i) for i in range(DAYS)):
        states = _states(services, 0, day)
        if day in scenario.touched:
            assert _states(services, start, day), f"no capacity state for {day} after it changed"
        if not states:
            continue  # never booked, never changed: nothing on the bus
        versions = [state.version for state in _states(services, start, day)]
        assert versions == sorted(set(versions)), f"versions of {day} do not only grow: {versions}"
        last = states[-1].to_dict()
        assert (last.pop("schema"), last.pop("site")) == (payloads.SCHEMA, services.ctx.site)
        last.pop("version")
        assert last == _recomputed(services, day), f"{day}: the last state is not a full recomputation"


def test_a_change_made_while_a_round_computes_is_written_by_the_next_round(services: Services) -> None:
    scenario = Scenario(services)
    day = scenario.today + timedelta(days=2)
    scenario.book(2, 9, 0, "maintenance", 1.0, 3)
    computed = compute_marked(services.ctx)
    scenario.book(2, 10, 0, "repair", 2.5, 4)  # after the round read the day
    store_marked(services.ctx, computed)
    assert count_marked(services.ctx) == 1  # the second booking's mark survived the round
    start = _last_id(services)
    assert refresh_marked(services.ctx) == [day]
    assert _states(services, start, day)[-1].to_dict()["appointments"] == _recomputed(services, day)["appointments"]


def test_a_change_marks_its_day_and_writes_no_state_itself(services: Services) -> None:
    scenario = Scenario(services)
    start = _last_id(services)
    scenario.book(3, 11, 0, "maintenance", 1.0, 5)
    day = scenario.today + timedelta(days=3)
    assert _states(services, start, day) == []
    with services.db.read() as s:
        assert list(s.scalars(select(CapacityChange.day))) == [day]


def test_days_gone_by_are_not_written(services: Services) -> None:
    """A mark from before midnight is dropped: the day left the boards (roll_over deletes its state)."""
    scenario = Scenario(services)
    scenario.book(0, 16, 0, "maintenance", 1.0, 6)
    computed = compute_marked(services.ctx)
    services.clock.advance(hours=24)
    start = _last_id(services)
    assert store_marked(services.ctx, computed) == []
    assert _states(services, start, scenario.today) == [] and count_marked(services.ctx) == 0


def test_marks_left_by_a_stopped_server_are_written_when_the_refresher_starts(services: Services) -> None:
    scenario = Scenario(services)
    scenario.book(1, 14, 0, "repair", 1.0, 7)
    day = scenario.today + timedelta(days=1)
    start = _last_id(services)
    refresher = CapacityRefresher(services.ctx)
    refresher.start()
    try:
        deadline = time.monotonic() + 10
        while count_marked(services.ctx) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count_marked(services.ctx) == 0
        assert _states(services, start, day)[-1].to_dict()["appointments"] == _recomputed(services, day)[
            "appointments"]
    finally:
        refresher.stop()


def test_many_changes_in_a_moment_make_one_state(services: Services) -> None:
    """Coalesced: a round covers every change marked since the last one."""
    scenario = Scenario(services)
    start = _last_id(services)
    for hour in range(8, 14):
        scenario.book(4, hour, 0, "maintenance", 0.5, hour)
    day = scenario.today + timedelta(days=4)
    assert refresh_marked(services.ctx) == [day]
    assert len(_states(services, start, day)) == 1
