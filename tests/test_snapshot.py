"""What the publisher republishes after a (re)connect (services/snapshot.py), read by indexes instead of every
repair order: the same orders (in the workshop, or closed today) and each card's order number as
publishing.ro_number_for_appointment gives it; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import select

from shopfloor.contract import topics
from shopfloor.domain.models import Appointment, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.services.publishing import ro_number_for_appointment
from shopfloor.services.snapshot import SnapshotService
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


def test_republish_covers_open_orders_orders_closed_today_and_each_cards_order(services: Services) -> None:
    ctx = services.ctx
    day_start, day_end = ctx.day_bounds(ctx.today())
    with services.db.write() as s:  # one car went home this morning
        gone = s.scalars(select(RepairOrder).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
                         .order_by(RepairOrder.id)).first()
        assert gone is not None
        gone.status, gone.closed_at = "delivered", ctx.now()
    messages = SnapshotService(ctx).messages()
    with services.db.read() as s:
        orders = list(s.scalars(select(RepairOrder)))
        expected = {ro.number for ro in orders if ro.status in {x.value for x in OPEN_STATUSES}
                    or (ro.closed_at is not None and ro.closed_at >= day_start)}
        assert any(ro.closed_at is not None and ro.closed_at < day_start for ro in orders)  # earlier ones stay out
        cards = {a.id: ro_number_for_appointment(s, a.id) for a in s.scalars(select(Appointment).where(
            Appointment.start >= day_start, Appointment.start < day_end))}
    def states_of(kind: str) -> dict[str, bytes]:
        prefix = f"{topics.ROOT}/{ctx.site}/{kind}/"
        return {t[len(prefix):-len("/state")]: p for t, p, _ in messages
                if t.startswith(prefix) and t.endswith("/state")}

    assert set(states_of(topics.REPAIR_ORDERS)) == expected and gone.number in expected
    states = {int(k): json.loads(p) for k, p in states_of(topics.APPOINTMENTS).items()}
    assert set(cards) <= set(states)
    assert {i: states[i]["ro_number"] for i in cards} == cards
    assert any(cards.values())
