"""The settlement (验车结算): the bill from the signed estimate and the approved additional work, and the payments
and refunds the cashier records against it.

The bill is the order's priced lines as they are now (reception.estimate.priced_lines: labour and parts of every
live job line, each to its payer); the discount comes off the customer's part, as the estimate takes it. What the
customer pays is their lines less the discount; warranty, insurance and internal lines are in the total, not in
it. shopfloor is no payment gateway: a payment records what the cashier took (the terminal's voucher number as
its reference), a refund gives part or all of one payment back. `RepairOrder.settled_at` follows the balance in
the same transaction: set when nothing is left, cleared when a refund reopens the bill."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.aftersales import PaymentKind, PaymentMethod
from shopfloor.domain.aftersales_models import Payment
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import JobLine, RepairOrder, Vehicle
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.text import has_control_characters
from shopfloor.domain.walkaround import DocumentKind, Payer
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.reception import signed_documents as docs
from shopfloor.services.reception.estimate import CURRENCY, money, priced_lines
from shopfloor.services.workshop.order_status import load_order

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)
MAX_REFERENCE = 100
MAX_REASON = 200
# a delivered order still owing money stays on the cashier's list this long (orders delivered before payments
# were recorded would otherwise fill it for ever)
DELIVERED_OWING_DAYS = 30
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class SettlementLine:
    kind: str  # labour | part
    description: str
    code: str | None  # the labour operation's code, the part's number
    quantity: Decimal  # hours for labour
    unit_price: Decimal
    amount: Decimal
    payer: str  # shopfloor.domain.walkaround.Payer
    job_line_id: int
    origin: str  # checkin | additional (approved additional work)


@dataclass(frozen=True)
class PaymentView:
    id: int
    kind: str  # payment | refund
    method: str
    amount: Decimal
    tendered: Decimal | None  # cash handed over
    change: Decimal | None
    reference: str
    reason: str  # a refund's
    refund_of: int | None
    actor: str
    at: datetime
    refunded: Decimal = ZERO  # a payment's: how much of it has been given back


@dataclass(frozen=True)
class SettlementView:
    number: str
    status: str
    lines: list[SettlementLine]
    labour: Decimal
    parts: Decimal
    discount: Decimal
    discount_reason: str
    total: Decimal  # every line, whoever pays it, less the discount
    to_pay: Decimal  # the customer's lines less the discount
    paid: Decimal  # payments less refunds
    left: Decimal  # to_pay - paid (negative: paid more than the bill now asks)
    payer_totals: dict[str, Decimal]  # every payer's lines (the customer's before the discount)
    payments: list[PaymentView]
    settled: bool
    settled_at: datetime | None
    currency: str
    estimate_version: int | None  # the last signed version of the estimate
    plate: str = ""
    customer: str = ""
    vehicle_model: str = ""
    ready_at: datetime | None = None  # when the car became ready (the customer may be at the counter)
    promised_at: datetime | None = None
    payment_methods: list[str] = field(default_factory=list)


def _lines(ro: RepairOrder, ctx: ServiceContext) -> list[SettlementLine]:
    origin = {line.id: line.origin for line in ro.job_lines}
    return [SettlementLine(kind=x["kind"], description=x["description"], code=x.get("code"),
                           quantity=Decimal(x["quantity"]), unit_price=Decimal(x["unit_price"]),
                           amount=Decimal(x["amount"]), payer=x["payer"], job_line_id=int(x["job_line_id"]),
                           origin=origin.get(int(x["job_line_id"]), "checkin"))
            for x in priced_lines(ro, ctx)]


def _total(lines: list[SettlementLine], **match: str) -> Decimal:
    return money(sum((x.amount for x in lines if all(getattr(x, k) == v for k, v in match.items())), ZERO))


def _payments(s: Session, ro: RepairOrder) -> list[Payment]:
    return list(s.scalars(select(Payment).where(Payment.repair_order_id == ro.id).order_by(Payment.at, Payment.id)))


def _bill(ro: RepairOrder, ctx: ServiceContext) -> tuple[list[SettlementLine], Decimal, Decimal]:
    """(lines, discount, to_pay): the discount capped at the customer's lines, as the estimate caps it."""
    lines = _lines(ro, ctx)
    subtotal = _total(lines, payer=Payer.CUSTOMER.value)
    discount = min(money(ro.discount or ZERO), subtotal)
    return lines, discount, money(subtotal - discount)


def _paid(payments: list[Payment]) -> Decimal:
    return money(sum((p.amount if p.kind == PaymentKind.PAYMENT else -p.amount for p in payments), ZERO))


def balance(s: Session, ctx: ServiceContext, ro: RepairOrder) -> tuple[Decimal, Decimal]:
    """(to_pay, paid) now."""
    return _bill(ro, ctx)[2], _paid(_payments(s, ro))


def is_settled(s: Session, ctx: ServiceContext, ro: RepairOrder) -> bool:
    """Nothing left for the customer to pay (a payment "on account" counts: the company is invoiced)."""
    to_pay, paid = balance(s, ctx, ro)
    return to_pay - paid <= 0


def _refunded(payments: list[Payment]) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for p in payments:
        if p.kind == PaymentKind.REFUND and p.refund_of_id is not None:
            out[p.refund_of_id] = out.get(p.refund_of_id, ZERO) + p.amount
    return out


def _payment_view(p: Payment, refunded: Decimal = ZERO) -> PaymentView:
    return PaymentView(id=p.id, kind=p.kind, method=p.method, amount=money(p.amount),
                       tendered=None if p.tendered is None else money(p.tendered),
                       change=None if p.change is None else money(p.change), reference=p.reference or "",
                       reason=p.reason or "", refund_of=p.refund_of_id, actor=p.actor, at=p.at,
                       refunded=money(refunded))


def _view(s: Session, ctx: ServiceContext, ro: RepairOrder) -> SettlementView:
    lines, discount, to_pay = _bill(ro, ctx)
    rows = _payments(s, ro)
    paid = _paid(rows)
    refunded = _refunded(rows)
    labour, parts = _total(lines, kind="labour"), _total(lines, kind="part")
    payers = {p.value: _total(lines, payer=p.value) for p in Payer}
    signed = docs.last_signed(s, ro, DocumentKind.ESTIMATE.value)
    customer = ro.vehicle.customer
    left = money(to_pay - paid)
    return SettlementView(
        number=ro.number, status=ro.status, lines=lines, labour=labour, parts=parts, discount=discount,
        discount_reason=ro.discount_reason if discount else "", total=money(labour + parts - discount),
        to_pay=to_pay, paid=paid, left=left, payer_totals={k: v for k, v in payers.items() if v},
        payments=[_payment_view(p, refunded.get(p.id, ZERO)) for p in rows], settled=left <= 0,
        settled_at=ro.settled_at if left <= 0 else None, currency=CURRENCY,
        estimate_version=signed.version if signed else None, plate=ro.vehicle.plate,
        customer=f"{customer.surname}{customer.given_name}", vehicle_model=ro.vehicle.model or "",
        ready_at=ro.projected_ready_at if ro.status == RoStatus.READY else None, promised_at=ro.promised_at,
        payment_methods=list(ctx.settings.settlement.payment_methods))


def _amount(value: Decimal | str | float | int, key: str = "settlement.error.amount_invalid") -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Invalid(key, amount=str(value)[:40]) from None
    if not amount.is_finite() or not ZERO < amount <= MAX_AMOUNT or amount != amount.quantize(CENT):
        raise Invalid(key, amount=str(value)[:40])
    return money(amount)


def _text(value: str, limit: int, key: str) -> str:
    text = (value or "").strip()
    if len(text) > limit or has_control_characters(text):
        raise Invalid(key, limit=limit)
    return text


def keep_settled(s: Session, ctx: ServiceContext, ro: RepairOrder, now: datetime) -> Decimal:
    """settled_at true to the balance, in the caller's transaction; what is left. Payments and refunds call it;
    so may any change that moves the bill itself (a line approved after a deposit, a delivery of an order with
    nothing for the customer to pay, whose settled_at no payment ever set)."""
    s.flush()
    to_pay, paid = balance(s, ctx, ro)
    left = money(to_pay - paid)
    if left <= 0 and ro.settled_at is None:
        ro.settled_at = now
    elif left > 0:
        ro.settled_at = None
    return left


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


class SettlementService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def summary(self, number: str) -> SettlementView:
        with self.ctx.db.read() as s:
            return _view(s, self.ctx, load_order(s, number))

    def pay(self, number: str, method: str, amount: Decimal | str | float | int, *, actor: Actor | str,
            reference: str = "", tendered: Decimal | str | float | int | None = None) -> PaymentView:
        """Record what the customer paid. Refused when it is more than is left to pay (the message names what
        is left) or the order is cancelled."""
        methods = self.ctx.settings.settlement.payment_methods
        if method not in methods:
            raise Invalid("settlement.error.method_unknown", method=str(method)[:20],
                          methods=", ".join(methods))
        value = _amount(amount)
        given = None
        if tendered is not None:
            if method != PaymentMethod.CASH:
                raise Invalid("settlement.error.tendered_not_cash")
            given = _amount(tendered, "settlement.error.tendered_invalid")
            if given < value:
                raise Invalid("settlement.error.tendered_short", tendered=_yuan(given), amount=_yuan(value))
        ref = _text(reference, MAX_REFERENCE, "settlement.error.reference_invalid")
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            if ro.status == RoStatus.CANCELLED:
                raise Refused("settlement.error.cancelled", number=number)
            to_pay, paid = balance(s, self.ctx, ro)
            left = money(to_pay - paid)
            if value > left:
                if left <= 0:
                    raise Refused("settlement.error.nothing_left", number=number)
                raise Refused("settlement.error.over_left", number=number, amount=_yuan(value), left=_yuan(left))
            now = self.ctx.now()
            row = Payment(site_id=self.ctx.site, repair_order_id=ro.id, kind=PaymentKind.PAYMENT.value,
                          method=method, amount=value, tendered=given, reference=ref, reason="", actor=str(actor),
                          at=now)
            s.add(row)
            after = keep_settled(s, self.ctx, ro, now)
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, number, "payment", to_value=str(value),
                   reason=ref or None, detail={"method": method, "amount": str(value), "tendered": given,
                                               "change": row.change, "left": str(after)})
            return _payment_view(row)

    def refund(self, number: str, payment_id: int, amount: Decimal | str | float | int, reason: str, *,
               actor: Actor | str) -> PaymentView:
        """Give back part or all of one payment, by its method, with a reason (the API and the desk check the
        refund permission)."""
        value = _amount(amount)
        why = _text(reason, MAX_REASON, "settlement.error.reason_invalid")
        if not why:
            raise Invalid("settlement.error.reason_needed")
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            rows = _payments(s, ro)
            paid = next((p for p in rows if p.id == payment_id and p.kind == PaymentKind.PAYMENT), None)
            if paid is None:
                raise NotFound("settlement.error.payment_unknown", payment=payment_id, number=number)
            refundable = money(paid.amount - _refunded(rows).get(paid.id, ZERO))
            if value > refundable:
                raise Refused("settlement.error.refund_over", payment=payment_id, amount=_yuan(value),
                              left=_yuan(refundable))
            now = self.ctx.now()
            row = Payment(site_id=self.ctx.site, repair_order_id=ro.id, kind=PaymentKind.REFUND.value,
                          method=paid.method, amount=value, tendered=None, reference="", reason=why,
                          refund_of_id=paid.id, actor=str(actor), at=now)
            s.add(row)
            after = keep_settled(s, self.ctx, ro, now)
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, number, "refund", to_value=str(value), reason=why,
                   detail={"method": paid.method, "payment": paid.id, "amount": str(value), "left": str(after)})
            return _payment_view(row)

    def open_bills(self) -> list[SettlementView]:
        """The cashier's list: ready cars not yet settled first (the customer is at the counter, the car ready
        the longest first), then other orders with something left to pay — delivered in the last
        DELIVERED_OWING_DAYS days, or open with a part already paid."""
        since = self.ctx.now() - timedelta(days=DELIVERED_OWING_DAYS)
        has_payment = exists().where(Payment.repair_order_id == RepairOrder.id)
        open_values = [x.value for x in OPEN_STATUSES if x != RoStatus.READY]
        with self.ctx.db.read() as s:
            rows = s.scalars(self._orders().where(
                RepairOrder.settled_at.is_(None),
                or_(RepairOrder.status == RoStatus.READY.value,
                    and_(RepairOrder.status == RoStatus.DELIVERED.value, RepairOrder.closed_at >= since),
                    and_(RepairOrder.status.in_(open_values), has_payment))))
            views = [_view(s, self.ctx, ro) for ro in rows]
        ready = sorted((v for v in views if v.status == RoStatus.READY and not v.settled),
                       key=lambda v: (v.ready_at is None, v.ready_at or since, v.number))
        others = [v for v in views if v.status != RoStatus.READY and v.left > 0]
        return ready + sorted(others, key=lambda v: v.number)

    def search(self, text: str) -> list[SettlementView]:
        """Orders whose number or plate holds `text` (not cancelled), the newest first: the cashier looks up a
        bill that is not on the list (a settled one to reprint, a refund)."""
        needle = text.strip().upper().replace(" ", "").replace("·", "")
        if not needle or len(needle) > 40:
            return []
        pattern = f"%{needle.replace('%', '').replace('_', '')}%"
        with self.ctx.db.read() as s:
            rows = s.scalars(self._orders().join(Vehicle, Vehicle.id == RepairOrder.vehicle_id).where(
                RepairOrder.status != RoStatus.CANCELLED.value,
                or_(RepairOrder.number.like(pattern), Vehicle.plate.like(pattern)))
                .order_by(RepairOrder.opened_at.desc()).limit(SEARCH_LIMIT))
            return [_view(s, self.ctx, ro) for ro in rows]

    def _orders(self) -> Select[RepairOrder]:
        return select(RepairOrder).where(RepairOrder.site_id == self.ctx.site).options(
            selectinload(RepairOrder.job_lines).selectinload(JobLine.parts),
            selectinload(RepairOrder.vehicle).selectinload(Vehicle.customer))
