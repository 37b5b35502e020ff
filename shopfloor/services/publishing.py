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
from shopfloor.services.workshop import projection


def ro_number_for_appointment(session: Session, appointment_id: int) -> str | None:
    return session.scalar(select(RepairOrder.number).where(RepairOrder.appointment_id == appointment_id)
                          .order_by(RepairOrder.id.desc()).limit(1))


def publish_repair_order(session: Session, ctx: ServiceContext, ro: RepairOrder,
                         event: dict[str, Any] | None = None) -> None:
    """`event`: the move's fields of a RepairOrderEvent (kind, from, to, actor, at, reason); version and number
    are the order's. The open orders are projected again first: a change to one moves the projected finish of
    others queued on the same technicians, and those go out too."""
    session.flush()
    moved = projection.refresh(session, ctx)
    now = ctx.now()
    for other in moved:
        if other is not ro:
            _put_order(session, ctx, other, now)
    _put_order(session, ctx, ro, now)
    if event is not None:
        outbox.put_event(session, now, ctx.site, topics.REPAIR_ORDERS, ro.number,
                         repair_order_events.validate_python({"version": ro.version, "number": ro.number, **event}))
    # walk-ins and carried-over cars hold today's hours; a dispatch moves them onto a technician
    publish_capacity(session, ctx, ctx.today())


def _put_order(session: Session, ctx: ServiceContext, ro: RepairOrder, now: datetime) -> None:
    ro.version = next_version(ro.version)
    session.flush()
    outbox.put_state(session, now, ctx.site, topics.REPAIR_ORDERS, ro.number, views.repair_order_state(ro, ctx.tz))
    lounge = views.lounge_state(ro, ctx.tz) if RoStatus(ro.status) in OPEN_STATUSES else None
    outbox.put_state(session, now, ctx.site, topics.LOUNGE, ro.number, lounge)


def publish_moved_projections(session: Session, ctx: ServiceContext) -> int:
    """The clock moved on (no change made): publish the open orders whose projected finish or risk it changed."""
    moved = projection.refresh(session, ctx)
    now = ctx.now()
    for ro in moved:
        _put_order(session, ctx, ro, now)
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
    outbox.put_state(session, ctx.now(), ctx.site, topics.TECHNICIANS, tech.id, views.technician_state(tech, ctx.tz))
