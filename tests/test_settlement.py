"""The settlement's services on SQLite and PostgreSQL: the bill from the estimate's lines (payer per line, the
discount off the customer's part), split payments that settle it, over-payment refused with what is left, cash
change, a refund that reopens the bill, every payment and refund audited with its actor."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import AuditEntry, RepairOrder
from shopfloor.services.settlement.settlement import SettlementService, balance, is_settled, keep_settled
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.settlement import make_ready, priced_order, ready_bill

pytestmark = ON_BOTH_DATABASES


@pytest.fixture
def settlement(services: Services) -> SettlementService:
    return SettlementService(services.ctx)


def audit(svc: Services, number: str, *actions: str) -> list[tuple[str, str, str | None, str | None]]:
    with svc.db.read() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == number, AuditEntry.action.in_(actions))
                         .order_by(AuditEntry.id))
        return [(r.action, r.actor, r.to_value, r.reason) for r in rows]


def settled_at(svc: Services, number: str) -> object:
    with svc.db.read() as s:
        return s.scalar(select(RepairOrder.settled_at).where(RepairOrder.number == number))


def test_the_bill_is_the_estimates_lines_with_their_payers_and_the_discount_off_the_customers_part(
        services: Services, settlement: SettlementService) -> None:
    number = priced_order(services.ctx, services.checkin, payers={1: "warranty"}, discount="20")
    view = settlement.summary(number)
    assert [(x.kind, x.code, x.payer, x.origin) for x in view.lines] == [
        ("labour", "OIL", "customer", "checkin"), ("part", "04152-YZZA6", "customer", "checkin"),
        ("labour", "BRK", "warranty", "checkin")]
    oil, part, brakes = (x.amount for x in view.lines)
    assert (oil, part) == (Decimal("160.00"), Decimal("68.00"))
    assert (view.labour, view.parts) == (oil + brakes, part)
    assert (view.discount, view.discount_reason) == (Decimal("20.00"), "老客户")
    assert view.total == oil + brakes + part - Decimal(20)
    assert view.to_pay == view.left == Decimal("208.00") and view.paid == Decimal("0.00")
    assert view.payer_totals == {"customer": Decimal("228.00"), "warranty": brakes}
    assert (view.currency, view.settled, view.settled_at, view.payments) == ("CNY", False, None, [])
    assert view.plate and view.customer and view.status == "checked_in"
    with services.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        assert balance(s, services.ctx, ro) == (Decimal("208.00"), Decimal("0.00"))
        assert not is_settled(s, services.ctx, ro)


def test_a_split_payment_by_card_and_wechat_settles_and_more_than_is_left_is_refused(
        services: Services, settlement: SettlementService) -> None:
    number = ready_bill(services.ctx, services.checkin, "OIL")  # 160 labour + 68 filter
    assert settlement.summary(number).to_pay == Decimal("228.00")
    card = settlement.pay(number, "card", "100", actor="孙丽", reference="POS 000123")
    assert (card.kind, card.method, card.amount, card.reference, card.actor) == (
        "payment", "card", Decimal("100.00"), "POS 000123", "孙丽")
    assert settled_at(services, number) is None
    with pytest.raises(Refused) as over:
        settlement.pay(number, "wechat", "128.01", actor="孙丽")
    assert over.value.key == "settlement.error.over_left" and over.value.params["left"] == "¥128.00"
    assert "¥128.00" in over.value.message("zh-CN")
    settlement.pay(number, "wechat", Decimal("128.00"), actor="孙丽", reference="4200001234202612050001")
    view = settlement.summary(number)
    assert (view.paid, view.left, view.settled) == (Decimal("228.00"), Decimal("0.00"), True)
    assert view.settled_at is not None and settled_at(services, number) is not None
    assert [(p.method, p.amount) for p in view.payments] == [("card", Decimal("100.00")),
                                                              ("wechat", Decimal("128.00"))]
    with pytest.raises(Refused) as nothing:
        settlement.pay(number, "cash", "1", actor="孙丽")
    assert nothing.value.key == "settlement.error.nothing_left"
    assert number not in [v.number for v in settlement.open_bills()]
    assert audit(services, number, "payment") == [("payment", "孙丽", "100.00", "POS 000123"),
                                                  ("payment", "孙丽", "128.00", "4200001234202612050001")]


def test_cash_gives_change_and_bad_input_is_refused_with_nothing_saved(
        services: Services, settlement: SettlementService) -> None:
    number = ready_bill(services.ctx, services.checkin, "OIL")
    cash = settlement.pay(number, "cash", "228", actor="孙丽", tendered="300")
    assert (cash.tendered, cash.change) == (Decimal("300.00"), Decimal("72.00"))
    assert settlement.summary(number).payments[0].change == Decimal("72.00")
    other = ready_bill(services.ctx, services.checkin, "OIL")
    for method, amount, extra, key in (
            ("bitcoin", "1", {}, "settlement.error.method_unknown"),
            ("cash", "0", {}, "settlement.error.amount_invalid"),
            ("cash", "-5", {}, "settlement.error.amount_invalid"),
            ("cash", "1.001", {}, "settlement.error.amount_invalid"),
            ("cash", "NaN", {}, "settlement.error.amount_invalid"),
            ("cash", "abc", {}, "settlement.error.amount_invalid"),
            ("cash", "100", {"tendered": "50"}, "settlement.error.tendered_short"),
            ("card", "100", {"tendered": "200"}, "settlement.error.tendered_not_cash"),
            ("card", "100", {"reference": "x" * 101}, "settlement.error.reference_invalid"),
            ("card", "100", {"reference": "a\x00b"}, "settlement.error.reference_invalid")):
        with pytest.raises(Invalid) as bad:
            settlement.pay(other, method, amount, actor="孙丽", **extra)  # type: ignore[arg-type]
        assert bad.value.key == key
    assert settlement.summary(other).payments == []
    with pytest.raises(NotFound):
        settlement.pay("RO20990101-001", "cash", "1", actor="孙丽")


def test_a_refund_reopens_the_bill_and_is_audited_with_its_reason(
        services: Services, settlement: SettlementService) -> None:
    number = ready_bill(services.ctx, services.checkin, "OIL")
    paid = settlement.pay(number, "alipay", "228", actor="孙丽", reference="2026120522001")
    assert settled_at(services, number) is not None
    with pytest.raises(Invalid) as no_reason:
        settlement.refund(number, paid.id, "28", "  ", actor="赵经理")
    assert no_reason.value.key == "settlement.error.reason_needed"
    with pytest.raises(Refused) as too_much:
        settlement.refund(number, paid.id, "228.01", "多收", actor="赵经理")
    assert too_much.value.key == "settlement.error.refund_over"
    back = settlement.refund(number, paid.id, "28", "滤清器未更换", actor="赵经理")
    assert (back.kind, back.method, back.amount, back.refund_of, back.reason) == (
        "refund", "alipay", Decimal("28.00"), paid.id, "滤清器未更换")
    view = settlement.summary(number)
    assert (view.paid, view.left, view.settled, view.settled_at) == (Decimal("200.00"), Decimal("28.00"), False,
                                                                      None)
    assert settled_at(services, number) is None
    assert view.payments[0].refunded == Decimal("28.00")
    assert number in [v.number for v in settlement.open_bills()]
    with pytest.raises(Refused):  # 200 of it is left to give back
        settlement.refund(number, paid.id, "200.01", "再退", actor="赵经理")
    with pytest.raises(NotFound):  # a refund is not refunded
        settlement.refund(number, back.id, "1", "再退", actor="赵经理")
    settlement.pay(number, "cash", "28", actor="孙丽")
    assert settled_at(services, number) is not None
    assert audit(services, number, "payment", "refund") == [
        ("payment", "孙丽", "228.00", "2026120522001"), ("refund", "赵经理", "28.00", "滤清器未更换"),
        ("payment", "孙丽", "28.00", None)]


def test_a_cancelled_order_takes_no_payment_and_warranty_work_leaves_nothing_to_pay(
        services: Services, settlement: SettlementService) -> None:
    number = priced_order(services.ctx, services.checkin, "OIL")
    services.repair_orders.transition(number, "cancelled", actor="张伟", reason="客户取消")
    with pytest.raises(Refused) as cancelled:
        settlement.pay(number, "cash", "10", actor="孙丽")
    assert cancelled.value.key == "settlement.error.cancelled"
    warranty = priced_order(services.ctx, services.checkin, "OIL", payers={0: "warranty"})
    make_ready(services.ctx, warranty)
    view = settlement.summary(warranty)
    assert (view.to_pay, view.left, view.settled) == (Decimal("0.00"), Decimal("0.00"), True)
    assert view.payer_totals == {"warranty": Decimal("228.00")} and view.total == Decimal("228.00")
    with services.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == warranty))
        assert ro is not None and is_settled(s, services.ctx, ro)
    assert settled_at(services, warranty) is None  # no payment set it: a delivery may, in its transaction
    with services.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == warranty))
        assert ro is not None and keep_settled(s, services.ctx, ro, services.ctx.now()) == Decimal("0.00")
    assert settled_at(services, warranty) is not None and settlement.summary(warranty).settled_at is not None
    assert warranty not in [v.number for v in settlement.open_bills()]


def test_the_cashiers_list_puts_ready_cars_first_and_search_finds_by_plate_or_number(
        services: Services, settlement: SettlementService) -> None:
    waiting = priced_order(services.ctx, services.checkin, "OIL")
    settlement.pay(waiting, "card", "50", actor="孙丽")  # a deposit: something is left
    ready = ready_bill(services.ctx, services.checkin, "OIL")
    numbers = [v.number for v in settlement.open_bills()]
    assert ready in numbers and waiting in numbers and numbers.index(ready) < numbers.index(waiting)
    view = settlement.summary(ready)
    assert [v.number for v in settlement.search(view.plate)] == [ready]
    assert ready in [v.number for v in settlement.search(ready[-5:])]
    assert settlement.search("   ") == []
