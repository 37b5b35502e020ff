"""Promised times: every promise kept (the first is written when the order opens, see workshop_models), a new one
with its reason and whether the customer was told; the order's risk follows the last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from shopfloor.domain.errors import Invalid
from shopfloor.domain.states import RoStatus
from shopfloor.domain.workshop_models import Promise
from shopfloor.services import views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages import triggers as messages
from shopfloor.services.workshop.order_status import load_order, publish, require_open

MAX_REASON = 200
MAX_PROMISE_DAYS = 366  # as check-in's


@dataclass(frozen=True)
class PromiseInfo:
    promised_at: datetime
    kind: str  # checkin, new
    reason: str
    customer_told: bool
    recorded_by: str
    recorded_at: datetime


def promise_info(p: Promise) -> PromiseInfo:
    return PromiseInfo(p.promised_at, p.kind, p.reason, p.customer_told, p.recorded_by, p.recorded_at)


class PromiseService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def promise(self, number: str, promised_at: datetime, reason: str, *, actor: Actor | str,
                customer_told: bool = True) -> dict[str, Any]:
        """A new promised time for an open order that is not ready yet."""
        reason = reason.strip()
        if not reason:
            raise Invalid("workshop.error.promise_needs_reason")
        if len(reason) > MAX_REASON:
            raise Invalid("error.reason_too_long")
        if promised_at.tzinfo is None:
            raise Invalid("error.promised_naive")
        now = self.ctx.now()
        if promised_at < now - timedelta(minutes=1):
            raise Invalid("error.promised_past")
        if promised_at > now + timedelta(days=MAX_PROMISE_DAYS):
            raise Invalid("error.promised_far", days=MAX_PROMISE_DAYS)
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro, RoStatus.READY)
            before = ro.promised_at
            ro.promised_at = promised_at
            given = Promise(repair_order_id=ro.id, promised_at=promised_at, kind="new", reason=reason,
                            customer_told=customer_told, recorded_by=str(actor)[:80], recorded_at=now)
            s.add(given)
            s.flush()
            messages.promise_given(s, self.ctx, ro, given.id, promised_at, actor, told=customer_told)
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "promise",
                   from_value=views.iso(before, self.ctx.tz), to_value=views.at(promised_at, self.ctx.tz),
                   reason=reason, detail={"customer_told": customer_told})
            return publish(s, self.ctx, ro, None)

    def promises(self, number: str) -> list[PromiseInfo]:
        """Every promise of the order, the first first."""
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            return [promise_info(p) for p in s.scalars(select(Promise).where(Promise.repair_order_id == ro.id)
                                                       .order_by(Promise.recorded_at, Promise.id))]
