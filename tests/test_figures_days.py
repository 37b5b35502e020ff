"""The figures of closed days kept per day (services/figures_days.py) equal the figures computed from the orders,
over the seeded demo period, and stay equal after any change that touches a closed day; on SQLite and PostgreSQL.

The demo seed fills the 14 days before today (2026-11-23) with appointments, repair orders and their history, today
and the days ahead."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from shopfloor.domain.models import (
    Appointment,
    FiguresDay,
    JobLine,
    Leave,
    RepairOrder,
    RoEvent,
    Shift,
    Technician,
)
from shopfloor.services import figures_days
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.context import ServiceContext
from shopfloor.services.figures import MAX_DAYS, FiguresService
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


@pytest.fixture
def figures(services: Services) -> FiguresService:
    return FiguresService(services.ctx)


def cached_days(services: Services) -> set[date]:
    with services.db.read() as s:
        return set(s.scalars(select(FiguresDay.day).where(FiguresDay.site_id == services.ctx.site)))


def period(services: Services) -> tuple[date, date]:
    """The seeded history, today and the rest of this week."""
    today = services.ctx.today()
    return today - timedelta(days=15), today + timedelta(days=6 - today.weekday())


def same_as_computed(services: Services, figures: FiguresService) -> dict[str, Any]:
    """The report read from the cache equals the one computed from the orders; returns it."""
    first, last = period(services)
    figures.report(first, last)  # fills what is missing
    closed = {first + timedelta(days=i) for i in range((services.ctx.today() - first).days)}
    assert cached_days(services) >= closed
    cached = figures.report(first, last)
    assert cached == figures.report(first, last, cached=False)
    return cached


def day_of(report: dict[str, Any], day: date) -> dict[str, Any]:
    return next(d for d in report["days"] if d["key"] == day.isoformat())


def order_of(services: Services, day: date, **where: Any) -> RepairOrder:
    start, end = services.ctx.day_bounds(day)
    with services.db.read() as s:
        q = select(RepairOrder).where(RepairOrder.opened_at >= start, RepairOrder.opened_at < end,
                                      RepairOrder.status != "cancelled")
        for name, value in where.items():
            q = q.where(getattr(RepairOrder, name) == value)
        found = s.scalars(q.order_by(RepairOrder.id)).first()
    assert found is not None
    return found


def test_the_seeded_period_from_the_cache_equals_the_computed_one(services: Services,
                                                                  figures: FiguresService) -> None:
    report = same_as_computed(services, figures)
    busy = [d for d in report["days"] if d["key"] < services.ctx.today().isoformat() and d["repair_orders"]]
    assert len(busy) >= 10  # the comparison covered days with orders, levelling and carried-over cars
    assert any(d["carried_over"]["cars"] for d in report["days"] if d["carried_over"])
    assert report["total"]["levelling"]["peak"] is not None
    # nothing of today or later is kept: it changes all day
    assert max(cached_days(services)) < services.ctx.today()


def test_a_change_to_a_closed_day_drops_that_day_only(services: Services, figures: FiguresService) -> None:
    before = same_as_computed(services, figures)
    day = services.ctx.today() - timedelta(days=3)
    ro = order_of(services, day)
    with services.db.write() as s:
        s.add(JobLine(repair_order_id=ro.id, position=9, description="加做：更换雨刮", hours=Decimal("0.4"),
                      skill="maintenance"))
    assert day not in cached_days(services)
    assert len(cached_days(services)) == 14  # the other closed days of the period stay
    after = same_as_computed(services, figures)
    assert day_of(after, day)["hours"]["maintenance"] == pytest.approx(
        day_of(before, day)["hours"]["maintenance"] + 0.4)


@pytest.mark.parametrize("change", ["cancel_order", "appointment_arrived", "leave", "back_dated_hold"])
def test_every_kind_of_change_to_a_closed_day_shows(services: Services, figures: FiguresService,
                                                    change: str) -> None:
    before = same_as_computed(services, figures)
    ctx = services.ctx
    day = ctx.today() - timedelta(days=4)
    with services.db.write() as s:
        if change == "cancel_order":
            order = s.get(RepairOrder, order_of(services, day).id)
            assert order is not None
            order.status = "cancelled"
        elif change == "appointment_arrived":
            start, end = ctx.day_bounds(day)
            appt = s.scalars(select(Appointment).where(Appointment.start >= start, Appointment.start < end,
                                                       Appointment.status.in_(("no_show", "cancelled")))).first()
            assert appt is not None
            appt.status, appt.arrived_at = "arrived", appt.start
        elif change == "leave":
            tech = s.scalars(select(Technician).order_by(Technician.id)).first()
            assert tech is not None
            s.add(Leave(technician_id=tech.id, day=day, hours=None, reason="补登病假"))
        else:
            # an order that stood overnight: recorded afterwards as on hold for parts from the evening before
            order = s.get(RepairOrder, order_of(services, day - timedelta(days=1)).id)
            assert order is not None
            s.add(RoEvent(repair_order_id=order.id, at=datetime.combine(day - timedelta(days=1), time(19, 0),
                                                                        tzinfo=ctx.tz),
                          actor="补录", kind="transition", from_status="in_progress", to_status="on_hold",
                          reason="waiting_parts"))
            order.closed_at = None
            order.status = "on_hold"
    assert day not in cached_days(services)
    after = same_as_computed(services, figures)
    assert day_of(after, day) != day_of(before, day)


def test_technicians_and_shifts_touch_every_day(services: Services, figures: FiguresService) -> None:
    same_as_computed(services, figures)
    with services.db.write() as s:
        s.add(Technician(site_id=services.ctx.site, name="新技师", skill="repair"))
    assert cached_days(services) == set()
    same_as_computed(services, figures)
    with services.db.write() as s:
        shift = s.scalars(select(Shift).order_by(Shift.id)).first()
        assert shift is not None
        shift.break_minutes += 30
    assert cached_days(services) == set()
    same_as_computed(services, figures)


def test_a_day_computed_before_a_change_committed_is_not_kept(services: Services) -> None:
    """The report reads the epoch before it computes; a change to a closed day that commits meanwhile bumps it,
    and the computed days are not kept (they may miss the change)."""
    ctx = services.ctx
    day = ctx.today() - timedelta(days=2)
    with services.db.read() as s:
        seen = figures_days.epoch(s, ctx.site)
    ro = order_of(services, day)
    with services.db.write() as s:
        order = s.get(RepairOrder, ro.id)
        assert order is not None
        order.status = "cancelled"
    row = FiguresDay(site_id=ctx.site, day=day, basis=figures_days.basis(ctx), repair_orders=0, by_appointment=0,
                     appointments=0, arrived=0, no_show=0, cancelled=0, pending=0, hours_maintenance=0.0,
                     hours_repair=0.0, sold=0.0, available=0.0, levels={}, profile={}, carried={},
                     computed_at=ctx.now())
    assert not figures_days.store(ctx, seen, [row])
    assert day not in cached_days(services)
    with services.db.read() as s:
        assert figures_days.epoch(s, ctx.site) > seen


def test_today_and_later_changes_keep_the_cache(services: Services, figures: FiguresService) -> None:
    """The day's own traffic (a check-in, its moves) touches no closed day: nothing dropped, no epoch bump."""
    same_as_computed(services, figures)
    with services.db.read() as s:
        seen = figures_days.epoch(s, services.ctx.site)
    waiting = next(a for a in services.appointments.list_day(services.ctx.today())
                   if a["status"] in ("booked", "confirmed", "late") and a.get("tag"))
    number = services.checkin.check_in(CheckinRequest(tag=waiting["tag"], actor="张伟")).repair_order["number"]
    services.repair_orders.transition(number, "dispatched", actor="郑强",
                                      technician=services.repair_orders.technicians()[0]["id"])
    with services.db.read() as s:
        assert figures_days.epoch(s, services.ctx.site) == seen
    assert len(cached_days(services)) == 15


def test_another_basis_is_computed_again(services: Services, figures: FiguresService) -> None:
    same_as_computed(services, figures)
    booking = services.ctx.settings.booking.model_copy(update={"shift_end": time(18, 30)})
    other = ServiceContext(services.db, services.ctx.settings.model_copy(update={"booking": booking}),
                           services.clock)
    assert figures_days.basis(other) != figures_days.basis(services.ctx)
    first, last = period(services)
    assert FiguresService(other).report(first, last) == FiguresService(other).report(first, last, cached=False)
    with services.db.read() as s:
        bases = set(s.scalars(select(FiguresDay.basis).distinct()))
        assert bases == {figures_days.basis(other)}
        assert s.scalar(select(func.count()).select_from(FiguresDay)) == 15


def test_fill_keeps_every_closed_day_with_history(services: Services, figures: FiguresService) -> None:
    today = services.ctx.today()
    with services.db.read() as s:  # the demo's history reaches back to its lapsed cars' last visits
        oldest = s.scalar(select(func.min(RepairOrder.opened_at)))
    assert oldest is not None
    first = max(oldest.astimezone(services.ctx.tz).date(), today - timedelta(days=MAX_DAYS))
    kept = figures.fill(chunk=30)
    closed = {first + timedelta(days=i) for i in range((today - first).days)}
    assert kept == len(closed) and cached_days(services) == closed
    assert figures.fill() == 0  # nothing left to do
    first, last = today - timedelta(days=14), today - timedelta(days=1)
    assert figures.report(first, last) == figures.report(first, last, cached=False)
