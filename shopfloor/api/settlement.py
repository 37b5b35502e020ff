"""/repair-orders/{number}/settlement, /payments, /refunds and /settlements/open (issue 12, 验车结算): the bill
from the estimate's lines with their payers, what the customer pays and what is left, the payments the cashier
took (split, cash change, the terminal's reference) and the refunds with their reason. Amounts are decimal
strings with two decimals ("320.00"): money is never a float here."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, Detail, unprocessable
from shopfloor.api.fields import MAX_ID, RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services import views
from shopfloor.services.settlement.settlement import PaymentView, SettlementView

router = APIRouter(route_class=GuardedRoute, tags=["settlement and payments"])
Money = Annotated[str, Field(description="yuan as a decimal string with two decimals", examples=["320.00"])]
AMOUNT_REFUSED = "an amount of 0 or less or with more than two decimals, a method the site does not take"


class SettlementLineOut(Shape):
    kind: str = Field(description="labour | part")
    description: str
    code: str | None = Field(description="the labour operation's code, the part's number")
    quantity: Money = Field(description="labour: flat-rate hours; part: the quantity")
    unit_price: Money = Field(description="labour: the rate per hour for the line's skill")
    amount: Money
    payer: str = Field(description="customer | warranty | insurance | internal")
    job_line: int = Field(description="the job line it prices")
    origin: str = Field(description="checkin | additional (approved additional work)")


class PaymentOut(Shape):
    id: int
    kind: str = Field(description="payment | refund")
    method: str = Field(description="cash | card | alipay | wechat | account")
    amount: Money = Field(description="what counts against the bill (a refund's: given back)")
    tendered: Money | None = Field(description="cash handed over")
    change: Money | None = Field(description="tendered − amount")
    reference: str = Field(description="the terminal's voucher or transaction number")
    reason: str = Field(description="a refund's reason")
    refund_of: int | None = Field(description="the payment a refund gives back")
    refunded: Money = Field(description="a payment's: how much of it was given back")
    actor: str
    at: str = Field(description="ISO 8601 in the site's zone")


class SettlementOut(Shape):
    number: str
    status: str = Field(description="the order's status")
    plate: str
    customer: str
    lines: list[SettlementLineOut]
    labour: Money = Field(description="every labour line, whoever pays it")
    parts: Money = Field(description="every part line, whoever pays it")
    discount: Money = Field(description="off the customer's part")
    discount_reason: str
    total: Money = Field(description="labour + parts − discount")
    to_pay: Money = Field(description="what the customer pays: their lines − discount")
    paid: Money = Field(description="payments − refunds")
    left: Money = Field(description="to_pay − paid; negative when more was paid than the bill now asks")
    currency: str = Field(examples=["CNY"])
    payer_totals: dict[str, Money] = Field(description="each payer's lines (the customer's before the discount)")
    payments: list[PaymentOut] = Field(description="payments and refunds, the first first")
    settled: bool = Field(description="nothing left to pay (a payment on account counts)")
    settled_at: str | None
    estimate_version: int | None = Field(description="the last signed version of the estimate")


class PaymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Text = Field(min_length=1, max_length=20, description="cash | card | alipay | wechat | account "
                                                                  "(those in the site's [settlement] payment_methods)")
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2,
                            description="yuan: a number or a decimal string; at most what is left to pay")
    reference: Text = Field(default="", max_length=100, description="the terminal's voucher / transaction number")
    tendered: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2,
                                     description="cash only: what was handed over (≥ amount); the change is the rest")


class RefundBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment: int = Field(ge=1, le=MAX_ID, description="the payment's id")
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2,
                            description="at most what of that payment is not refunded yet")
    reason: Text = Field(min_length=1, max_length=200)


class PaymentResult(Shape):
    payment: PaymentOut
    settlement: SettlementOut = Field(description="the bill after it")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def payment_of(p: PaymentView, api: Services) -> PaymentOut:
    return PaymentOut(id=p.id, kind=p.kind, method=p.method, amount=_money(p.amount),
                      tendered=None if p.tendered is None else _money(p.tendered),
                      change=None if p.change is None else _money(p.change), reference=p.reference,
                      reason=p.reason, refund_of=p.refund_of, refunded=_money(p.refunded), actor=p.actor,
                      at=views.at(p.at, api.ctx.tz))


def settlement_of(v: SettlementView, api: Services) -> SettlementOut:
    return SettlementOut(
        number=v.number, status=v.status, plate=v.plate, customer=v.customer,
        lines=[SettlementLineOut(kind=x.kind, description=x.description, code=x.code, quantity=_money(x.quantity),
                                 unit_price=_money(x.unit_price), amount=_money(x.amount), payer=x.payer,
                                 job_line=x.job_line_id, origin=x.origin) for x in v.lines],
        labour=_money(v.labour), parts=_money(v.parts), discount=_money(v.discount),
        discount_reason=v.discount_reason, total=_money(v.total), to_pay=_money(v.to_pay), paid=_money(v.paid),
        left=_money(v.left), currency=v.currency, payer_totals={k: _money(x) for k, x in v.payer_totals.items()},
        payments=[payment_of(p, api) for p in v.payments], settled=v.settled,
        settled_at=views.iso(v.settled_at, api.ctx.tz), estimate_version=v.estimate_version)


@router.get("/repair-orders/{number}/settlement", summary="The bill: lines with their payers, discount, what the "
            "customer pays, what is paid and left", dependencies=[allowed(Permission.SETTLEMENT_READ)],
            responses=unprocessable())
def get_settlement(api: Services, number: RoNumber) -> SettlementOut:
    return settlement_of(api.settlement.settlement.summary(number), api)


@router.post("/repair-orders/{number}/payments", summary="Record what the customer paid (split payments are several "
             "of these)", status_code=201, responses=BODY_ERRORS | unprocessable(AMOUNT_REFUSED) | {
                 409: {"model": Detail, "description": "more than is left to pay (the detail says what is left), or "
                                                       "the order is cancelled"}})
def post_payment(api: Services, caller: Annotated[Caller, allowed(Permission.PAYMENT)], number: RoNumber,
                 body: PaymentBody) -> PaymentResult:
    svc = api.settlement.settlement
    paid = svc.pay(number, body.method, body.amount, actor=caller.actor, reference=body.reference,
                   tendered=body.tendered)
    return PaymentResult(payment=payment_of(paid, api), settlement=settlement_of(svc.summary(number), api))


@router.post("/repair-orders/{number}/refunds", summary="Give back part or all of one payment, with a reason",
             status_code=201, responses=BODY_ERRORS | unprocessable("a reason that is blank") | {
                 404: {"model": Detail, "description": "unknown order, or no such payment on it"},
                 409: {"model": Detail, "description": "more than can still be refunded of that payment"}})
def post_refund(api: Services, caller: Annotated[Caller, allowed(Permission.REFUND)], number: RoNumber,
                body: RefundBody) -> PaymentResult:
    svc = api.settlement.settlement
    back = svc.refund(number, body.payment, body.amount, body.reason, actor=caller.actor)
    return PaymentResult(payment=payment_of(back, api), settlement=settlement_of(svc.summary(number), api))


@router.get("/settlements/open", summary="The cashier's list: ready cars not yet settled first, then orders with "
            "something left to pay", dependencies=[allowed(Permission.SETTLEMENT_READ)])
def get_open_settlements(api: Services) -> list[SettlementOut]:
    return [settlement_of(v, api) for v in api.settlement.settlement.open_bills()]
