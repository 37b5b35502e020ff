"""Cars carried over (滞留车): at closing every open order that is not ready is carried over into the next day with a
reason and the flat-rate hours it still needs; that day's dispatch board loads them first. A row's `day` is the day
the car is carried into, as the figures and the capacity strip count carried-over cars. The reason is read from the
order (parts, approval, sublet on hold; a decision pending: approval; else capacity) and can be given by hand, also
before closing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import RepairOrder
from shopfloor.domain.states import OPEN_STATUSES, HoldReason, RoStatus
from shopfloor.domain.workshop import OPEN_LINE_STATUSES, CarryOverReason, FindingStatus, LineStatus
from shopfloor.domain.workshop_models import AdditionalWork, CarryOver
from shopfloor.services.audit import SYSTEM, Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop.order_status import load_order, require_open
from shopfloor.services.workshop.worked import line_times, worked_per_line

# statuses of an order that is carried over at closing: open, not ready
CARRIED = [s.value for s in OPEN_STATUSES if s != RoStatus.READY]
_HOLD_REASONS = {HoldReason.WAITING_PARTS.value: CarryOverReason.PARTS,
                 HoldReason.WAITING_APPROVAL.value: CarryOverReason.APPROVAL,
                 HoldReason.SUBLET.value: CarryOverReason.SUBLET}


@dataclass(frozen=True)
class CarriedOrder:
    id: int
    day: date
    number: str
    plate: str
    status: str
    reason: str
    remaining_hours: float
    recorded_by: str
    recorded_at: datetime


def remaining_hours(s: Session, ro: RepairOrder, now: datetime) -> Decimal:
    """The flat-rate hours of the order's lines not done yet, less the time already worked on them."""
    live = [line for line in ro.job_lines if LineStatus(line.status) in OPEN_LINE_STATUSES]
    worked = worked_per_line(line_times(s, now, lines=[line.id for line in live]))
    left = sum(max(float(line.hours) - worked.get(line.id, 0.0), 0.0) for line in live)
    return Decimal(str(round(left, 2)))


def reason_of(s: Session, ro: RepairOrder) -> CarryOverReason:
    if ro.status == RoStatus.ON_HOLD and ro.hold_reason in _HOLD_REASONS:
        return _HOLD_REASONS[ro.hold_reason]
    pending = s.scalar(select(AdditionalWork.id).where(AdditionalWork.repair_order_id == ro.id,
                                                       AdditionalWork.status == FindingStatus.PENDING.value).limit(1))
    return CarryOverReason.APPROVAL if pending is not None else CarryOverReason.CAPACITY


def _info(c: CarryOver) -> CarriedOrder:
    ro = c.repair_order
    return CarriedOrder(c.id, c.day, ro.number, ro.vehicle.plate, ro.status, c.reason, float(c.remaining_hours),
                        c.recorded_by, c.recorded_at)


class CarryOverService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def close_day(self, closing: date | None = None, *, actor: Actor | str = SYSTEM) -> list[CarriedOrder]:
        """Carry every order open at the closing of `closing` (default today) and not ready into the next day; an
        order whose reason was already given for that day keeps its row."""
        closing = closing or self.ctx.today()
        _start, end = self.ctx.day_bounds(closing)
        day = closing + timedelta(days=1)
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            done = set(s.scalars(select(CarryOver.repair_order_id).where(CarryOver.site_id == self.ctx.site,
                                                                         CarryOver.day == day)))
            rows = []
            for ro in s.scalars(select(RepairOrder).where(
                    RepairOrder.site_id == self.ctx.site, RepairOrder.status.in_(CARRIED),
                    RepairOrder.opened_at < end).order_by(RepairOrder.id)):
                if ro.id in done:
                    continue
                row = CarryOver(site_id=self.ctx.site, repair_order_id=ro.id, day=day, reason=reason_of(s, ro).value,
                                remaining_hours=remaining_hours(s, ro, now), recorded_by=str(actor)[:80],
                                recorded_at=now)
                s.add(row)
                record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "carried_over", to_value=day.isoformat(),
                       reason=row.reason, detail={"remaining_hours": float(row.remaining_hours)})
                rows.append(row)
            s.flush()
            return [_info(r) for r in rows]

    def set_reason(self, number: str, reason: str, *, actor: Actor | str, day: date | None = None) -> CarriedOrder:
        """Why the order is carried into `day`: by default the last day it was carried into, or tomorrow (the
        reason given before closing, which the closing keeps)."""
        try:
            why = CarryOverReason(reason)
        except ValueError:
            raise Invalid("workshop.error.carry_over_reason", reason=reason[:20]) from None
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro, RoStatus.READY)
            if day is None:
                last = s.scalar(select(func.max(CarryOver.day)).where(CarryOver.repair_order_id == ro.id))
                day = last if last is not None and last >= self.ctx.today() else self.ctx.today() + timedelta(days=1)
            row = s.scalar(select(CarryOver).where(CarryOver.repair_order_id == ro.id, CarryOver.day == day))
            before = row.reason if row is not None else None
            if row is None:
                row = CarryOver(site_id=self.ctx.site, repair_order_id=ro.id, day=day, reason=why.value,
                                remaining_hours=remaining_hours(s, ro, now), recorded_by=str(actor)[:80],
                                recorded_at=now)
                s.add(row)
            else:
                row.reason, row.recorded_by, row.recorded_at = why.value, str(actor)[:80], now
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "carried_over", from_value=before,
                   to_value=day.isoformat(), reason=why.value)
            s.flush()
            return _info(row)

    def carried(self, day: date) -> list[CarriedOrder]:
        """The orders carried into `day` (at the closing of the day before)."""
        with self.ctx.db.read() as s:
            return [_info(c) for c in s.scalars(select(CarryOver).where(
                CarryOver.site_id == self.ctx.site, CarryOver.day == day).order_by(CarryOver.id))]
