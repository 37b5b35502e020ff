"""The completion check (完工检查), telling the customer the car is ready, the delivery walk with the customer and
the delivery sheet with the next-service reminder; a mistaken delivery reopened by the manager.

Delivered is guarded wherever it is asked for (RepairOrderService.transition calls delivery_guard and
on_delivered): unpaid first, then the final inspection, so that a refusal always names one reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from shopfloor.domain import states
from shopfloor.domain.aftersales import DeliveryRefusal, MessageTemplate
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import RepairOrder, RoEvent
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.workshop import LineStatus
from shopfloor.i18n import t
from shopfloor.services import views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_repair_order
from shopfloor.services.repair_orders import RepairOrderService, load_ro
from shopfloor.services.settlement.next_service import NextService, explain, had_maintenance, next_service
from shopfloor.services.workshop.order_status import checks_complete

if TYPE_CHECKING:  # the printing service is heavy to import: RepairOrderService.transition imports this module
    from shopfloor.services.printing import PrintJobInfo, PrintService
    from shopfloor.services.settlement.settlement import SettlementService

# The advisor's completion check: what the system knows (locked: the lines, the final inspection), what applies
# to this order only (the wash ordered, the replaced parts the customer keeps) and what the advisor confirms by
# looking (seed 003/004: the protective covers fitted at reception taken off; the order checked against the work
# and its costs, 核单). The inspector's own list (services/workshop/inspection.py) is not asked again.
COMPUTED = ("lines_done", "final_inspection")
CONDITIONAL = ("washed", "parts_bagged")
CONFIRMED = ("covers_removed", "order_checked")
COMPLETION_ITEMS = COMPUTED + CONDITIONAL + CONFIRMED
# The delivery walk with the customer (domain.md §4 Delivery, seed 004), in its order.
WALK = ("walk_car", "explain_work", "explain_costs", "advise_use", "next_service", "to_payment", "see_off")
MAX_REASON = 200
# the desk's "delivered recently": today and the days before it, where a manager finds a car to reopen
RECENT_DAYS = 3
RECENT_LIMIT = 200


class DeliveryRefused(Refused):
    """Delivered refused: `reason` is DeliveryRefusal's value, the API's 409 says it beside the sentence."""

    def __init__(self, reason: DeliveryRefusal, key: str, /, **params: object) -> None:
        super().__init__(key, **params)
        self.reason = reason.value


class WalkIncomplete(Invalid):
    """Items of the walk not done: named in the reader's language (the advisor's on the desk, English in the API),
    not as the keys the walk stores."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("delivery.error.walk_incomplete", items=", ".join(missing))
        self.missing = missing

    def message(self, lang: str = "en") -> str:
        names = t(lang, "delivery.error.walk_join").join(t(lang, f"delivery.walk.{key}") for key in self.missing)
        return t(lang, self.key, items=names)


@dataclass(frozen=True)
class DeliveredCar:
    """A car delivered in the last RECENT_DAYS days, as the desk lists it."""

    number: str
    plate: str
    customer: str
    delivered_at: datetime
    delivered_by: str


@dataclass(frozen=True)
class CompletionItem:
    key: str
    checked: bool
    locked: bool  # computed by the system: the advisor cannot tick it


@dataclass(frozen=True)
class CompletionView:
    number: str
    plate: str
    customer: str
    status: str
    items: list[CompletionItem]
    passed: bool  # every item applying is true now
    checked_at: datetime | None
    checked_by: str | None
    wash_ordered: bool | None
    keep_replaced_parts: bool | None
    customer_notified_at: datetime | None
    settled: bool
    delivered_at: datetime | None
    delivered_by: str | None
    delivery_walk: dict[str, Any] | None
    next_service: NextService | None  # as stored at delivery, or as it would be delivered today

    def to_dict(self, tz: Any) -> dict[str, Any]:
        ns = self.next_service
        return {
            "number": self.number, "plate": self.plate, "status": self.status,
            "items": [{"key": i.key, "checked": i.checked, "locked": i.locked} for i in self.items],
            "passed": self.passed, "checked_at": views.iso(self.checked_at, tz) if self.checked_at else None,
            "checked_by": self.checked_by, "wash_ordered": self.wash_ordered,
            "keep_replaced_parts": self.keep_replaced_parts,
            "customer_notified_at": views.iso(self.customer_notified_at, tz) if self.customer_notified_at else None,
            "settled": self.settled, "delivered_at": views.iso(self.delivered_at, tz) if self.delivered_at else None,
            "delivered_by": self.delivered_by, "delivery_walk": self.delivery_walk,
            "next_service": None if ns is None else {"on": ns.on.isoformat(), "km": ns.km, "basis": ns.basis},
        }


def _settled(s: Session, ctx: ServiceContext, ro: RepairOrder) -> bool:
    from shopfloor.services.settlement.settlement import is_settled  # helper A's; imported late (it imports us)

    return is_settled(s, ctx, ro)


def inspected(ro: RepairOrder, ctx: ServiceContext) -> bool:
    """Ready with the last configured check passed in the current round (a move to ready passes those left)."""
    return ro.status == RoStatus.READY.value and checks_complete(ro, ctx)


def delivery_guard(s: Session, ctx: ServiceContext, ro: RepairOrder) -> None:
    """Refuse delivered with the first reason: unpaid, then the final inspection."""
    if not _settled(s, ctx, ro):
        raise DeliveryRefused(DeliveryRefusal.UNPAID, "delivery.error.unpaid", number=ro.number)
    s.refresh(ro, ["qc_results"])
    if not inspected(ro, ctx):
        raise DeliveryRefused(DeliveryRefusal.QC, "delivery.error.qc", number=ro.number, status=ro.status)


def stored_next_service(s: Session, ctx: ServiceContext, ro: RepairOrder) -> NextService:
    """The next service as the delivery stored it, with its reasoning when reckoning again still gives it (the
    reasoning of the day is in the audit's next_service_set)."""
    assert ro.next_service_on is not None
    again = next_service(s, ctx, ro)
    if (again.on, again.km) == (ro.next_service_on, ro.next_service_km):
        return again
    keys = ("delivery.basis.stored",)
    return NextService(ro.next_service_on, ro.next_service_km, explain(ctx.settings.site.language, keys, {}), keys, {})


def reminder_time(ctx: ServiceContext, ns: NextService) -> datetime:
    """When the next-service reminder goes out: [delivery] reminder_days_before at [messages] reminder_at, in the
    site's time; never before now."""
    day = ns.on - timedelta(days=ctx.settings.delivery.reminder_days_before)
    at: time = ctx.settings.messages.reminder_at
    when = datetime.combine(day, at, tzinfo=ctx.tz)
    return max(when, ctx.now())


def ready_amount(s: Session, ctx: ServiceContext, ro: RepairOrder) -> str:
    """What the READY message says the customer pays, in the site's language: the bill; what is left of it when
    part was paid already (with what was paid); nothing left once paid in full."""
    from shopfloor.services.settlement.settlement import balance  # helper A's; imported late (it imports us)

    to_pay, paid = balance(s, ctx, ro)
    lang, left = ctx.settings.site.language, to_pay - paid
    if paid <= 0:
        return yuan(to_pay)
    if left > 0:
        return t(lang, "delivery.amount.left", left=yuan(left), paid=yuan(paid))
    return t(lang, "delivery.amount.paid", left=yuan(Decimal("0.00")), paid=yuan(paid))  # (or more: a refund due)


def yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def on_delivered(s: Session, ctx: ServiceContext, ro: RepairOrder, actor: Actor | str) -> None:
    """Everything a delivery does besides the move, whichever route delivered: the next service on the order,
    the car's last maintenance when this was one, the reminder message queued, the 3-day call scheduled, and
    settled_at stamped when no payment ever did (nothing for the customer to pay: warranty only)."""
    from shopfloor.services.aftercare.follow_ups import schedule_after_delivery
    from shopfloor.services.customer_messages.enqueue import queue_message
    from shopfloor.services.settlement.settlement import keep_settled

    keep_settled(s, ctx, ro, ro.closed_at or ctx.now())  # the move's moment: the transition set closed_at
    ns = next_service(s, ctx, ro)
    ro.next_service_on, ro.next_service_km = ns.on, ns.km
    ro.delivered_by = ro.delivered_by or str(actor)[:80]
    vehicle = ro.vehicle
    if had_maintenance(s, ctx, ro) and ro.mileage_km is not None:
        vehicle.last_service_on, vehicle.last_service_km = ctx.today(), ro.mileage_km
    record(s, ctx, actor, Entity.REPAIR_ORDER, ro.number, "next_service_set", to_value=ns.on.isoformat(),
           detail={"km": ns.km, "basis": ns.basis})
    queue_message(s, ctx, template=MessageTemplate.NEXT_SERVICE, customer=vehicle.customer,
                  dedup_key=f"next_service:{ro.number}", actor=actor, repair_order=ro,
                  send_after=reminder_time(ctx, ns),
                  fields={"next_service_date": ns.on.isoformat(),
                          "next_service_km": f"{ns.km:,}" if ns.km is not None else "",
                          "date": ns.on.isoformat()})
    schedule_after_delivery(s, ctx, ro, actor)


class DeliveryService:
    def __init__(self, ctx: ServiceContext, settlement: SettlementService, printing: PrintService) -> None:
        self.ctx = ctx
        self.settlement = settlement
        self.printing = printing
        self.repair_orders = RepairOrderService(ctx)

    # -- the completion check -----------------------------------------------------------------------------------
    def _items(self, s: Session, ro: RepairOrder) -> list[CompletionItem]:
        s.refresh(ro, ["qc_results"])
        stored = ro.completion or {}
        live = [line for line in ro.job_lines if line.status != LineStatus.CANCELLED]
        items = [CompletionItem("lines_done", bool(live) and all(line.status == LineStatus.DONE for line in live),
                                True),
                 CompletionItem("final_inspection", inspected(ro, self.ctx) or ro.status == RoStatus.DELIVERED, True)]
        if ro.wash_ordered:
            items.append(CompletionItem("washed", stored.get("washed") is True, False))
        if ro.keep_replaced_parts:
            items.append(CompletionItem("parts_bagged", stored.get("parts_bagged") is True, False))
        items += [CompletionItem(key, stored.get(key) is True, False) for key in CONFIRMED]
        return items

    def _view(self, s: Session, ro: RepairOrder) -> CompletionView:
        items = self._items(s, ro)
        delivered = ro.status == RoStatus.DELIVERED
        if delivered and ro.next_service_on is not None:
            ns: NextService | None = stored_next_service(s, self.ctx, ro)
        elif ro.status in (RoStatus.READY, RoStatus.QUALITY_CHECK):
            ns = next_service(s, self.ctx, ro)
        else:
            ns = None
        return CompletionView(
            ro.number, display_plate(ro.vehicle.plate), ro.vehicle.customer.addressed, ro.status, items,
            all(i.checked for i in items), ro.completion_checked_at, ro.completion_checked_by, ro.wash_ordered,
            ro.keep_replaced_parts, ro.customer_notified_at, _settled(s, self.ctx, ro),
            ro.closed_at if delivered else None, ro.delivered_by, ro.delivery_walk, ns)

    def completion(self, number: str) -> CompletionView:
        with self.ctx.db.read() as s:
            return self._view(s, load_ro(s, number))

    def desk(self) -> list[CompletionView]:
        """The delivery desk's list: the cars in the quality check or ready, by promised time."""
        from sqlalchemy import select

        with self.ctx.db.read() as s:
            orders = s.scalars(select(RepairOrder).where(
                RepairOrder.site_id == self.ctx.site,
                RepairOrder.status.in_((RoStatus.QUALITY_CHECK.value, RoStatus.READY.value)))
                .order_by(RepairOrder.promised_at, RepairOrder.id))
            return [self._view(s, ro) for ro in orders]

    def delivered_recently(self) -> list[DeliveredCar]:
        """The cars delivered today and the RECENT_DAYS - 1 days before, the latest first: a reprint of the sheet,
        the manager's reopen."""
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        from shopfloor.domain.models import Vehicle

        since = datetime.combine(self.ctx.today() - timedelta(days=RECENT_DAYS - 1), time.min, tzinfo=self.ctx.tz)
        with self.ctx.db.read() as s:
            orders = s.scalars(select(RepairOrder).where(
                RepairOrder.site_id == self.ctx.site, RepairOrder.status == RoStatus.DELIVERED.value,
                RepairOrder.closed_at >= since)
                .options(selectinload(RepairOrder.vehicle).selectinload(Vehicle.customer))
                .order_by(RepairOrder.closed_at.desc(), RepairOrder.id.desc()).limit(RECENT_LIMIT))
            return [DeliveredCar(ro.number, display_plate(ro.vehicle.plate), ro.vehicle.customer.addressed,
                                 ro.closed_at, ro.delivered_by or "") for ro in orders if ro.closed_at is not None]

    def check_completion(self, number: str, items: dict[str, bool], *, actor: Actor | str,
                         wash_ordered: bool | None = None) -> CompletionView:
        """The advisor's ticks (computed items are not theirs to tick), stored with who and when, audited."""
        unknown = set(items) - set(CONDITIONAL + CONFIRMED)
        if unknown:
            raise Invalid("delivery.error.item_unknown", item=sorted(unknown)[0][:30])
        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            if RoStatus(ro.status) not in OPEN_STATUSES:
                raise Refused("delivery.error.closed", number=ro.number, status=ro.status)
            if wash_ordered is not None:
                ro.wash_ordered = wash_ordered
            before = dict(ro.completion or {})
            after = before | {key: bool(value) for key, value in items.items()}
            ro.completion = after
            ro.completion_checked_at, ro.completion_checked_by = self.ctx.now(), str(actor)[:80]
            view = self._view(s, ro)
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "completion_checked",
                   to_value="passed" if view.passed else "open",
                   detail={"items": {i.key: i.checked for i in view.items}, "wash_ordered": ro.wash_ordered})
            return self._view(s, ro)

    def notify_ready(self, number: str, *, actor: Actor | str) -> CompletionView:
        """Tell the customer the car is ready (the READY message, once per order): only once the check passed."""
        from shopfloor.services.customer_messages.enqueue import queue_message
        from shopfloor.services.customer_messages.triggers import when

        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            view = self._view(s, ro)
            missing = [i.key for i in view.items if not i.checked]
            if ro.status != RoStatus.READY or missing:
                raise Refused("delivery.error.check_first", number=ro.number)
            # every field a READY text may use (the customer, plate, site, advisor and link come with the order);
            # time and date: since when the car is ready
            ready_at = ro.projected_ready_at or self.ctx.now()
            queue_message(s, self.ctx, template=MessageTemplate.READY, customer=ro.vehicle.customer,
                          dedup_key=f"ready:{ro.number}", actor=actor, repair_order=ro,
                          fields={"work": views.work_summary(ro), "amount": ready_amount(s, self.ctx, ro),
                                  **when(self.ctx, ready_at)})
            ro.customer_notified_at = self.ctx.now()
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "customer_notified", to_value="ready")
            return self._view(s, ro)

    # -- delivery --------------------------------------------------------------------------------------------------
    def deliver(self, number: str, walk: dict[str, bool], *, actor: Actor | str,
                printer: str | None = None) -> dict[str, Any]:
        """The walk with the customer, then delivered through the state machine (the guard and on_delivered run
        there), then the sheet when a printer is named. Every item of the walk is needed."""
        unknown = set(walk) - set(WALK)
        if unknown:
            raise Invalid("delivery.error.walk_unknown", item=sorted(unknown)[0][:30])
        if printer is not None:
            self.printing.profile(printer)  # an unknown printer refused before anything is done
        with self.ctx.db.read() as s:
            ro = load_ro(s, number)
            if ro.status == RoStatus.DELIVERED:
                raise Refused("delivery.error.delivered", number=ro.number)
            delivery_guard(s, self.ctx, ro)  # the reason first, before the walk is asked for
        missing = [key for key in WALK if not walk.get(key)]
        if missing:
            raise WalkIncomplete(missing)
        state = self.repair_orders.transition(number, RoStatus.DELIVERED.value, actor=actor)
        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            ro.delivery_walk = {key: True for key in WALK}
            ro.delivered_by = str(actor)[:80]
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "delivery_walked", detail={"walk": list(WALK)})
            if printer is not None:
                self._print(s, ro, printer, actor)
        return state

    def reopen(self, number: str, reason: str, *, actor: Actor | str) -> dict[str, Any]:
        """A mistaken delivery back to ready (the manager's, with a reason): the 3-day call and the reminder are
        cancelled, the move written as an event and audited."""
        from shopfloor.services.aftercare.follow_ups import cancel_for_order
        from shopfloor.services.customer_messages.enqueue import cancel_message

        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise Invalid("delivery.error.reopen_needs_reason")
        if len(reason) > MAX_REASON:
            raise Invalid("error.reason_too_long")
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            current = RoStatus(ro.status)
            states.check_reopen(current)
            ro.status, ro.closed_at = RoStatus.READY.value, None
            ro.delivered_by, ro.delivery_walk = None, None
            ro.next_service_on, ro.next_service_km = None, None
            cancel_for_order(s, self.ctx, ro, actor)
            cancel_message(s, self.ctx, f"next_service:{ro.number}", actor=actor)
            s.add(RoEvent(repair_order_id=ro.id, at=now, actor=str(actor), kind="reopen", from_status=current.value,
                          to_status=RoStatus.READY.value, reason=reason))
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "delivery_reopened", from_value=current.value,
                   to_value=RoStatus.READY.value, reason=reason)
            s.flush()
            s.refresh(ro)
            # on the bus a move like any other (the contract's event kinds); the history keeps it as a reopen
            publish_repair_order(s, self.ctx, ro, {
                "kind": "transition", "from": current.value, "to": RoStatus.READY.value, "actor": str(actor),
                "at": views.iso(now, self.ctx.tz), "reason": reason})
            return views.repair_order_state(ro, self.ctx.tz).to_dict()

    def next_service(self, number: str) -> NextService:
        """As stored at delivery; before it, as it would be if the car left today."""
        with self.ctx.db.read() as s:
            ro = load_ro(s, number)
            if ro.status == RoStatus.DELIVERED and ro.next_service_on is not None:
                return stored_next_service(s, self.ctx, ro)
            return next_service(s, self.ctx, ro)

    # -- the delivery sheet ----------------------------------------------------------------------------------------
    def print_sheet(self, number: str, printer: str, *, actor: Actor | str) -> PrintJobInfo:
        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            if ro.status != RoStatus.DELIVERED:
                raise Refused("delivery.error.not_delivered", number=ro.number)
            return self._print(s, ro, printer, actor)

    def _print(self, s: Session, ro: RepairOrder, printer: str, actor: Actor | str) -> PrintJobInfo:
        from shopfloor.services.printing import DELIVERY_SHEET
        from shopfloor.services.settlement.sheet import sheet_document

        document = sheet_document(s, self.ctx, ro)
        return self.printing.print_order_document(s, ro, printer, DELIVERY_SHEET, document, actor=actor,
                                                  version=ro.closed_at.isoformat() if ro.closed_at else None)
