"""Bump an entity's version and put its new state in the outbox, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.contract import topics
from shopfloor.contract.entity_states import repair_order_events
from shopfloor.domain.models import Advisor, Appointment, RepairOrder, Technician
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.versions import next_version
from shopfloor.services import outbox, views
from shopfloor.services.capacity import publish_capacity
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop import productivity, projection, timeline


def ro_number_for_appointment(session: Session, appointment_id: int) -> str | None:
    return session.scalar(select(RepairOrder.number).where(RepairOrder.appointment_id == appointment_id)
                          .order_by(RepairOrder.id.desc()).limit(1))


def publish_repair_order(session: Session, ctx: ServiceContext, ro: RepairOrder,
                         event: dict[str, Any] | None = None) -> None:
    """`event`: the move's fields of a RepairOrderEvent (kind, from, to, actor, at, reason); version and number
    are the order's. The open orders are projected again first: a change to one moves the projected finish of
    others queued on the same technicians, and those go out too."""
    session.flush()
    site = projection.load(session, ctx)
    moved = projection.refresh(session, ctx, site)
    now = ctx.now()
    # the job progress board's bars of every order that goes out (one projection for them all)
    bars = timeline.for_orders(session, ctx, [*moved, ro] if ro not in moved else moved, site)
    for other in moved:
        if other is not ro:
            _put_order(session, ctx, other, now, bars)
    _put_order(session, ctx, ro, now, bars)
    if event is not None:
        outbox.put_event(session, now, ctx.site, topics.REPAIR_ORDERS, ro.number,
                         repair_order_events.validate_python({"version": ro.version, "number": ro.number, **event}))
    # walk-ins and carried-over cars hold today's hours; a dispatch moves them onto a technician
    publish_capacity(session, ctx, ctx.today())


def _put_order(session: Session, ctx: ServiceContext, ro: RepairOrder, now: datetime,
               bars: timeline.Timelines | None = None) -> None:
    ro.version = next_version(ro.version)
    session.flush()
    state = views.repair_order_state(ro, ctx.tz, bars)
    outbox.put_state(session, now, ctx.site, topics.REPAIR_ORDERS, ro.number, state)
    lounge = views.lounge_state(ro, ctx.tz) if RoStatus(ro.status) in OPEN_STATUSES else None
    outbox.put_state(session, now, ctx.site, topics.LOUNGE, ro.number, lounge)


def publish_orders(session: Session, ctx: ServiceContext, orders: list[RepairOrder]) -> None:
    """Put these orders out again as they are (a new day: the carried-over cars' flag, today's bars), on one
    projection."""
    if not orders:
        return
    site = projection.load(session, ctx)
    bars = timeline.for_orders(session, ctx, orders, site)
    now = ctx.now()
    for ro in orders:
        _put_order(session, ctx, ro, now, bars)


def publish_moved_projections(session: Session, ctx: ServiceContext) -> int:
    """The clock moved on (no change made): publish the open orders whose projected finish or risk it changed."""
    site = projection.load(session, ctx)
    moved = projection.refresh(session, ctx, site)
    now = ctx.now()
    bars = timeline.for_orders(session, ctx, moved, site) if moved else None
    for ro in moved:
        _put_order(session, ctx, ro, now, bars)
    return len(moved)


def publish_appointment(session: Session, ctx: ServiceContext, appt: Appointment) -> None:
    appt.version = next_version(appt.version)
    session.flush()
    state = views.appointment_state(appt, ctx.tz, ro_number_for_appointment(session, appt.id))
    outbox.put_state(session, ctx.now(), ctx.site, topics.APPOINTMENTS, appt.id, state)


def publish_advisor(session: Session, ctx: ServiceContext, advisor: Advisor) -> None:
    advisor.version = next_version(advisor.version)
    session.flush()
    outbox.put_state(session, ctx.now(), ctx.site, topics.ADVISORS, advisor.id, views.advisor_state(advisor))


def publish_technician(session: Session, ctx: ServiceContext, tech: Technician) -> None:
    tech.version = next_version(tech.version)
    session.flush()
    day = productivity.technician_days(session, ctx, [tech.id])[tech.id]
    outbox.put_state(session, ctx.now(), ctx.site, topics.TECHNICIANS, tech.id,
                     views.technician_state(tech, ctx.tz, day))
