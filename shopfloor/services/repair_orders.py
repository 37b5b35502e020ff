"""Repair orders: reading them, and moving them through the state machine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain import states
from shopfloor.domain.errors import Invalid, NotFound
from shopfloor.domain.models import RepairOrder, RoEvent, Technician
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.services import views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages import triggers as messages
from shopfloor.services.publishing import publish_repair_order, publish_technician


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    technician: str | None
    reason: str | None


def load_ro(session: Session, number: str) -> RepairOrder:
    ro = session.scalar(select(RepairOrder).where(RepairOrder.number == number).options(
        selectinload(RepairOrder.job_lines)))
    if ro is None:
        raise NotFound("error.ro_unknown", number=number)
    return ro


def resolve_technician(session: Session, site: str, technician: int | str | None) -> Technician | None:
    if technician is None or technician == "":
        return None
    # An id, as a number or as decimal digits (not isdigit(): "²" is a digit that int() refuses); anything
    # else is a name. Ids are INTEGER keys: a number beyond one names no one (and would overflow the driver).
    if isinstance(technician, int):
        tech_id: int | None = technician
    else:
        tech_id = int(technician) if technician.isdecimal() and len(technician) <= 10 else None
    if tech_id is not None:
        tech = session.get(Technician, tech_id) if 0 < tech_id < 2**31 else None
    else:
        tech = session.scalar(select(Technician).where(Technician.site_id == site, Technician.name == technician))
    if tech is None or tech.site_id != site or not tech.active:
        raise NotFound("error.technician_unknown", technician=technician)
    return tech


class RepairOrderService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def get(self, number: str) -> dict[str, Any]:
        with self.ctx.db.read() as s:
            return views.repair_order_state(load_ro(s, number), self.ctx.tz).to_dict()

    def open_orders(self) -> list[dict[str, Any]]:
        with self.ctx.db.read() as s:
            rows = s.scalars(select(RepairOrder).where(
                RepairOrder.site_id == self.ctx.site, RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
                .order_by(RepairOrder.opened_at))
            return [views.repair_order_state(ro, self.ctx.tz).to_dict() for ro in rows]

    def history(self, number: str) -> list[HistoryEntry]:
        with self.ctx.db.read() as s:
            ro = load_ro(s, number)
            techs = {t.id: t.name for t in s.scalars(select(Technician).where(Technician.site_id == ro.site_id))}
            return [HistoryEntry(e.at, e.actor, e.kind, e.from_status, e.to_status,
                                 techs.get(e.technician_id) if e.technician_id else None, e.reason)
                    for e in ro.events]

    def technicians(self) -> list[dict[str, Any]]:
        with self.ctx.db.read() as s:
            rows = s.scalars(select(Technician).where(Technician.site_id == self.ctx.site, Technician.active)
                             .order_by(Technician.id))
            return [views.technician_state(t, self.ctx.tz).to_dict() for t in rows]

    def transition(self, number: str, target: str, *, actor: Actor | str, technician: int | str | None = None,
                   reason: str | None = None) -> dict[str, Any]:
        """A move of the state machine; it moves the order's lines with it (services/workshop/moves.py) and is
        refused when they do not allow it."""
        # imported here: the workshop's services use this module's helpers
        from shopfloor.services.settlement.delivery import delivery_guard, on_delivered
        from shopfloor.services.workshop import moves, order_status

        try:
            to = RoStatus(target)
        except ValueError:
            raise Invalid("error.status_unknown", status=target) from None
        reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
        if reason is not None and len(reason) > 200:
            raise Invalid("error.reason_too_long")
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            current = RoStatus(ro.status)
            tech = resolve_technician(s, ro.site_id, technician) if to == RoStatus.DISPATCHED else None
            if to == RoStatus.DELIVERED and current in OPEN_STATUSES:
                delivery_guard(s, self.ctx, ro)  # before the state machine: a refusal says why (unpaid, qc)
            states.check(current, to, technician=tech.id if tech else None, reason=reason)
            # quality check back to work is rework: the next check fails, each line a row of the rework register
            kind, stopped = moves.apply_move(s, self.ctx, ro, current, to, tech, reason, actor)
            s.refresh(ro, ["job_lines", "qc_results"])
            moves.check_follows(ro, to, self.ctx)
            ro.status = to.value
            ro.hold_reason = reason if to == RoStatus.ON_HOLD else None
            ro.technician_id = order_status.lead_technician(ro) or ro.technician_id
            if to in (RoStatus.DELIVERED, RoStatus.CANCELLED):
                ro.closed_at = now
            if to == RoStatus.DELIVERED:
                on_delivered(s, self.ctx, ro, actor)
            if to == RoStatus.CANCELLED:
                messages.order_cancelled(s, self.ctx, ro, actor)
            s.add(RoEvent(repair_order_id=ro.id, at=now, actor=str(actor), kind=kind, from_status=current.value,
                          to_status=to.value, technician_id=tech.id if tech else None, reason=reason))
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, kind, from_value=current.value,
                   to_value=to.value, reason=reason, detail={"technician": tech.name} if tech else None)
            s.flush()
            s.refresh(ro)
            publish_repair_order(s, self.ctx, ro, {
                "kind": kind, "from": current.value, "to": to.value, "actor": str(actor),
                "at": views.iso(now, self.ctx.tz), "reason": reason})
            for technician_now_off in stopped:
                s.refresh(technician_now_off)
                publish_technician(s, self.ctx, technician_now_off)
            return views.repair_order_state(ro, self.ctx.tz).to_dict()


def hours(value: float | Decimal | str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
