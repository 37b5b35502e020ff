"""The parts counter at work: each open order's pick list, issuing by scan or tap, a shortage put on back-order with
an ETA (its job line waits: on hold, waiting parts, the technician's clocking on it ended), the back-order's arrival
(the stock received, the line released, the foreman and the advisor told on the bus), and unused parts returned to
stock. Every change is audited on the order and the order goes on the bus in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from shopfloor.contract import topics
from shopfloor.contract.entity_states import repair_order_events
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import JobLine, RepairOrder
from shopfloor.domain.parts import MAX_PRICE, MAX_QUANTITY, PartsLineStatus, normalize_number
from shopfloor.domain.parts_models import PartsLine
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.domain.workshop import HOLDS, ClockOutcome, LineStatus, PauseReason
from shopfloor.domain.workshop_models import Clocking, ClockingLine
from shopfloor.services import outbox, views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.parts.catalogue import decimal_of, find_part
from shopfloor.services.publishing import publish_technician
from shopfloor.services.workshop.clocking import end_clocking
from shopfloor.services.workshop.order_status import follow_lines, load_order, publish, require_open

WANTED = (PartsLineStatus.TO_PICK.value, PartsLineStatus.BACK_ORDER.value)
ZERO = Decimal(0)


@dataclass(frozen=True)
class PartsLineInfo:
    id: int
    repair_order: str
    plate: str
    promised_at: datetime | None
    job_line_id: int
    job_line: str
    number: str
    name: str
    quantity: float
    unit_price: float
    issued: float
    returned: float
    status: str
    eta: date | None
    stock: float | None  # on hand now; None for a part not in the catalogue
    back_ordered_at: datetime | None
    arrived_at: datetime | None

    @property
    def to_issue(self) -> float:
        return max(self.quantity - self.issued, 0.0)

    @property
    def returnable(self) -> float:
        return max(self.issued - self.returned, 0.0)


@dataclass(frozen=True)
class PickListSummary:
    """An open order with parts to pick or on back-order: a row of the counter's list."""

    number: str
    plate: str
    vehicle_model: str
    status: str
    promised_at: datetime | None
    technician: str | None
    to_pick: int
    back_order: int
    eta: date | None  # the latest back-order's


@dataclass(frozen=True)
class PickList:
    number: str
    plate: str
    vehicle_model: str
    customer: str
    advisor: str
    status: str
    promised_at: datetime | None
    job_lines: list[tuple[int, str]]  # (id, description) of the live lines: where a part may be added
    lines: list[PartsLineInfo]


def _info(p: PartsLine, ro: RepairOrder) -> PartsLineInfo:
    return PartsLineInfo(p.id, ro.number, ro.vehicle.plate, ro.promised_at, p.job_line_id, p.job_line.description,
                         p.number, p.name, float(p.quantity), float(p.unit_price), float(p.issued),
                         float(p.returned), p.status, p.eta, float(p.part.stock) if p.part is not None else None,
                         p.back_ordered_at, p.arrived_at)


def new_line(s: Session, ctx: ServiceContext, line: JobLine, number: str, name: str, quantity: Decimal,
             unit_price: Decimal | None, actor: Actor | str) -> PartsLine:
    """A parts line on `line` (to pick). A number of the catalogue takes its name and price unless given; another
    (additional work may name a part the catalogue lacks) is kept as given, issued without stock."""
    try:
        code = normalize_number(number) if number else ""
    except Invalid:
        code = number.strip()[:40]
    part = find_part(s, ctx.site, code) if code else None
    price = unit_price if unit_price is not None else part.price if part is not None else ZERO
    p = PartsLine(repair_order_id=line.repair_order_id, job_line_id=line.id, part_id=part.id if part else None,
                  number=code, name=(name.strip() or (part.name if part else code))[:80], quantity=quantity,
                  unit_price=price, issued=ZERO, returned=ZERO, status=PartsLineStatus.TO_PICK.value,
                  created_by=str(actor)[:80], created_at=ctx.now())
    s.add(p)
    s.flush()
    return p


def parts_for_finding(s: Session, ctx: ServiceContext, line: JobLine, parts: Sequence[Mapping[str, Any]],
                      actor: Actor | str) -> int:
    """Approved additional work: the parts the finding named become parts lines of its new job line."""
    made = 0
    for item in parts:
        number, name = str(item.get("number") or ""), str(item.get("name") or "")
        if not (number or name):
            continue
        price = item.get("unit_price")
        new_line(s, ctx, line, number, name, Decimal(str(item.get("quantity") or 1)).quantize(Decimal("0.01")),
                 None if price is None else Decimal(str(price)).quantize(Decimal("0.01")), actor)
        made += 1
    return made


def _hold(s: Session, ctx: ServiceContext, ro: RepairOrder, line: JobLine, actor: Actor | str) -> list[Any]:
    """The job line waits for parts: whoever is clocked on it stops (paused, waiting parts) and the line pauses with
    that reason, unless it is done or already held for something else. The technicians whose clocking ended."""
    ended = []
    for c in s.scalars(select(Clocking).join(ClockingLine, ClockingLine.clocking_id == Clocking.id).where(
            Clocking.repair_order_id == ro.id, Clocking.ended_at.is_(None), ClockingLine.job_line_id == line.id)):
        end_clocking(s, ctx, c, ctx.now(), ClockOutcome.PAUSED, PauseReason.WAITING_PARTS, actor)
        ended.append(c.technician)
    s.refresh(line)
    held_else = line.status == LineStatus.PAUSED and line.pause_reason in HOLDS and \
        line.pause_reason != PauseReason.WAITING_PARTS
    if line.status in (LineStatus.WAITING, LineStatus.DISPATCHED, LineStatus.IN_PROGRESS, LineStatus.PAUSED) \
            and not held_else:
        line.status, line.pause_reason = LineStatus.PAUSED.value, PauseReason.WAITING_PARTS.value
    return ended


def _release(s: Session, ro: RepairOrder) -> None:
    """Every line of the order paused for parts that no longer waits for any goes back to where it was: started
    work stays paused for its technician to take up again, work not started is dispatched or waiting again."""
    s.flush()
    for line in ro.job_lines:
        if line.status != LineStatus.PAUSED or line.pause_reason != PauseReason.WAITING_PARTS:
            continue
        if any(p.status == PartsLineStatus.BACK_ORDER for p in s.scalars(
                select(PartsLine).where(PartsLine.job_line_id == line.id))):
            continue
        started = s.scalar(select(exists().where(ClockingLine.job_line_id == line.id)))
        if started:
            line.pause_reason = None
        else:
            line.status, line.pause_reason = (LineStatus.DISPATCHED.value if line.assignments
                                              else LineStatus.WAITING.value), None


class CounterService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- reading -------------------------------------------------------------------------------------------
    def pick_lists(self) -> list[PickListSummary]:
        """Open orders with parts to pick or on back-order, the earliest promise first (orders without one last)."""
        with self.ctx.db.read() as s:
            ros = list(s.scalars(select(RepairOrder).where(
                RepairOrder.site_id == self.ctx.site, RepairOrder.status.in_([x.value for x in OPEN_STATUSES]),
                exists().where(PartsLine.repair_order_id == RepairOrder.id, PartsLine.status.in_(WANTED))).options(
                selectinload(RepairOrder.job_lines))))
            out = []
            for ro in ros:
                parts = [p for line in ro.job_lines for p in line.parts]
                etas = [p.eta for p in parts if p.status == PartsLineStatus.BACK_ORDER and p.eta]
                out.append(PickListSummary(
                    ro.number, ro.vehicle.plate, ro.vehicle.model, ro.status, ro.promised_at,
                    ro.technician.name if ro.technician else None,
                    sum(p.status == PartsLineStatus.TO_PICK for p in parts),
                    sum(p.status == PartsLineStatus.BACK_ORDER for p in parts), max(etas) if etas else None))
            far = datetime.max.replace(tzinfo=self.ctx.tz)
            return sorted(out, key=lambda x: (x.promised_at or far, x.number))

    def pick_list(self, number: str) -> PickList:
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            if ro.site_id != self.ctx.site:
                raise NotFound("error.ro_unknown", number=number)
            live = [line for line in ro.job_lines if line.status != LineStatus.CANCELLED]
            return PickList(ro.number, ro.vehicle.plate, ro.vehicle.model, ro.vehicle.customer.addressed,
                            ro.advisor.name, ro.status, ro.promised_at,
                            [(line.id, line.description) for line in live],
                            [_info(p, ro) for line in ro.job_lines for p in line.parts])

    def back_orders(self) -> list[PartsLineInfo]:
        """Every part on back-order, the earliest ETA first."""
        with self.ctx.db.read() as s:
            rows = s.execute(select(PartsLine, RepairOrder).join(
                RepairOrder, RepairOrder.id == PartsLine.repair_order_id).where(
                RepairOrder.site_id == self.ctx.site, PartsLine.status == PartsLineStatus.BACK_ORDER.value)
                .order_by(PartsLine.eta, RepairOrder.promised_at, PartsLine.id))
            return [_info(p, ro) for p, ro in rows]

    # -- changing ------------------------------------------------------------------------------------------
    def add(self, number: str, job_line_id: int, part_number: str, quantity: object, *, actor: Actor | str,
            unit_price: object | None = None) -> PartsLineInfo:
        """A catalogue part on a job line of an open order: on its pick list."""
        amount = decimal_of(quantity, "parts.error.quantity_invalid", most=MAX_QUANTITY)
        if amount <= 0:
            raise Invalid("parts.error.quantity_invalid", value=str(quantity)[:20])
        price = None if unit_price is None else decimal_of(unit_price, "parts.error.price_invalid", most=MAX_PRICE)
        code = normalize_number(part_number)
        with self.ctx.db.write() as s:
            ro = self._order(s, number)
            require_open(ro)
            line = next((x for x in ro.job_lines if x.id == job_line_id and x.status != LineStatus.CANCELLED), None)
            if line is None:
                raise NotFound("workshop.error.line_unknown", number=ro.number, lines=str(job_line_id))
            if find_part(s, self.ctx.site, code) is None:
                raise NotFound("parts.error.part_unknown", number=code)
            p = new_line(s, self.ctx, line, code, "", amount, price, actor)
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "parts_added", to_value=f"{code} ×{amount}",
                   detail={"parts_line": p.id, "job_line": line.id, "name": p.name})
            publish(s, self.ctx, ro, None)
            return _info(p, ro)

    def issue(self, line_id: int, *, actor: Actor | str, quantity: object | None = None) -> PartsLineInfo:
        """Hand the part over (all that is still to issue, or `quantity` of it), out of the stock on hand. Refused
        when the stock is short: the counter puts the line on back-order instead."""
        with self.ctx.db.write() as s:
            p, ro = self._line(s, line_id)
            require_open(ro)
            if p.status != PartsLineStatus.TO_PICK:
                raise Refused("parts.error.not_to_pick", number=p.number, status=p.status)
            left = p.quantity - p.issued
            amount = left if quantity is None else decimal_of(quantity, "parts.error.quantity_invalid",
                                                                most=MAX_QUANTITY)
            if not ZERO < amount <= left:
                raise Invalid("parts.error.issue_too_many", number=p.number, left=f"{left:g}")
            if p.part is not None:
                if p.part.stock < amount:
                    raise Refused("parts.error.short", number=p.number, stock=f"{p.part.stock:g}",
                                  wanted=f"{amount:g}")
                p.part.stock -= amount
            p.issued += amount
            if p.issued >= p.quantity:
                p.status = PartsLineStatus.ISSUED.value
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "parts_issued", to_value=f"{p.number} ×{amount}",
                   detail={"parts_line": p.id, "job_line": p.job_line_id, "issued": float(p.issued),
                           "quantity": float(p.quantity)})
            publish(s, self.ctx, ro, None)
            return _info(p, ro)

    def scan(self, number: str, code: str, *, actor: Actor | str) -> PartsLineInfo:
        """A part number scanned (or typed) at an order's pick list: its first line still to pick is issued."""
        wanted = normalize_number(code)
        with self.ctx.db.read() as s:
            ro = self._order(s, number)
            line_id = s.scalar(select(PartsLine.id).where(
                PartsLine.repair_order_id == ro.id, PartsLine.number == wanted,
                PartsLine.status == PartsLineStatus.TO_PICK.value).order_by(PartsLine.id).limit(1))
        if line_id is None:
            raise NotFound("parts.error.not_on_list", part=wanted, number=number)
        return self.issue(line_id, actor=actor)

    def back_order(self, line_id: int, eta: date, *, actor: Actor | str) -> PartsLineInfo:
        """The stock is short: what is still to issue is ordered, due on `eta`; the job line waits for it."""
        if eta < self.ctx.today():
            raise Invalid("parts.error.eta_past", eta=eta.isoformat())
        with self.ctx.db.write() as s:
            p, ro = self._line(s, line_id)
            require_open(ro)
            if p.status != PartsLineStatus.TO_PICK:
                raise Refused("parts.error.not_to_pick", number=p.number, status=p.status)
            p.status, p.eta, p.back_ordered_at = PartsLineStatus.BACK_ORDER.value, eta, self.ctx.now()
            p.arrived_at = None
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "parts_back_order",
                   to_value=f"{p.number} ×{p.quantity - p.issued:g}", reason=eta.isoformat(),
                   detail={"parts_line": p.id, "job_line": p.job_line_id, "eta": eta.isoformat()})
            ended = _hold(s, self.ctx, ro, p.job_line, actor)
            self._publish(s, ro, p, "parts_back_order", actor, follow_lines(s, self.ctx, ro, actor))
            for tech in ended:
                s.refresh(tech)
                publish_technician(s, self.ctx, tech)
            return _info(p, ro)

    def arrived(self, line_id: int, *, actor: Actor | str) -> PartsLineInfo:
        """The back-order came in: the stock is received, the part is on the pick list again, and its job line is
        released when it waits for nothing else."""
        with self.ctx.db.write() as s:
            p, ro = self._line(s, line_id)
            if p.status != PartsLineStatus.BACK_ORDER:
                raise Refused("parts.error.not_back_order", number=p.number, status=p.status)
            received = p.quantity - p.issued
            if p.part is not None:
                p.part.stock += received
            p.status, p.eta, p.arrived_at = PartsLineStatus.TO_PICK.value, None, self.ctx.now()
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "parts_arrived",
                   to_value=f"{p.number} ×{received:g}", detail={"parts_line": p.id, "job_line": p.job_line_id})
            event = None
            if _is_open(ro):
                _release(s, ro)
                event = follow_lines(s, self.ctx, ro, actor)
            self._publish(s, ro, p, "parts_arrived", actor, event)
            return _info(p, ro)

    def give_back(self, line_id: int, quantity: object, *, actor: Actor | str) -> PartsLineInfo:
        """Unused parts brought back to the counter: back in stock."""
        amount = decimal_of(quantity, "parts.error.quantity_invalid", most=MAX_QUANTITY)
        with self.ctx.db.write() as s:
            p, ro = self._line(s, line_id)
            left = p.issued - p.returned
            if not ZERO < amount <= left:
                raise Invalid("parts.error.return_too_many", number=p.number, left=f"{left:g}")
            p.returned += amount
            if p.part is not None:
                p.part.stock += amount
            if p.returned >= p.issued and p.status == PartsLineStatus.ISSUED:
                p.status = PartsLineStatus.RETURNED.value
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "parts_returned",
                   to_value=f"{p.number} ×{amount:g}",
                   detail={"parts_line": p.id, "job_line": p.job_line_id, "returned": float(p.returned)})
            publish(s, self.ctx, ro, None)
            return _info(p, ro)

    # -- helpers -------------------------------------------------------------------------------------------
    def _order(self, s: Session, number: str) -> RepairOrder:
        ro = load_order(s, number)
        if ro.site_id != self.ctx.site:
            raise NotFound("error.ro_unknown", number=number)
        return ro

    def _line(self, s: Session, line_id: int) -> tuple[PartsLine, RepairOrder]:
        p = s.get(PartsLine, line_id) if 0 < line_id < 2**31 else None
        ro = s.get(RepairOrder, p.repair_order_id) if p is not None else None
        if p is None or ro is None or ro.site_id != self.ctx.site:
            raise NotFound("parts.error.line_unknown", line=line_id)
        return p, load_order(s, ro.number)

    def _publish(self, s: Session, ro: RepairOrder, p: PartsLine, kind: str, actor: Actor | str,
                 move: dict[str, Any] | None) -> None:
        """The order's state (and its move, if the hold began or ended), then what happened to the part."""
        publish(s, self.ctx, ro, move)
        now = self.ctx.now()
        outbox.put_event(s, now, self.ctx.site, topics.REPAIR_ORDERS, ro.number, repair_order_events.validate_python({
            "version": ro.version, "number": ro.number, "kind": kind, "job_line": p.job_line_id, "part": p.number,
            "name": p.name, "eta": p.eta.isoformat() if p.eta else None, "actor": str(actor), "at": views.at(now,
                                                                                                   self.ctx.tz)}))


def _is_open(ro: RepairOrder) -> bool:
    return ro.status in {x.value for x in OPEN_STATUSES}
