"""/cashier in NiceGUI's simulated browser: the cashier (林静) finds a ready car's bill on the list, by its plate
and by scanning its job ticket, takes a split payment (bank card with the terminal's voucher, then WeChat Pay for
the rest), sees the change for cash before confirming, refunds part of a payment with a reason (refused without
one), sees an over-payment refused with what is left, and prints the settlement list."""

from __future__ import annotations

from decimal import Decimal

from nicegui import ui
from nicegui.testing import User

from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.testing.settlement import ready_bill
from shopfloor.testing.simulated_browser import scan, sees, sign_in, staff_member, until

ZH = Translator("zh-CN")
CASHIER = "林静"


def element(user: User, marker: str) -> ui.element:
    return next(iter(user.find(marker=marker).elements))


async def open_desk(user: User, system: Shopfloor) -> str:
    number = ready_bill(system.ctx, system.checkin, "OIL")  # 160 labour + 68 filter: ¥228.00
    await sign_in(user, staff_member(system, CASHIER))
    await user.open("/cashier")
    await until(lambda: sees(user, marker="cashier-desk"), timeout=20)
    await until(lambda: sees(user, marker=f"bill-{number}"), timeout=20)  # a ready car: on the list
    return number


async def gone(user: User, marker: str, text: str) -> bool:
    return not await sees(user, marker=marker, content=text)


def pay(user: User, method: str, amount: str | None = None, **fields: str) -> None:
    user.find(marker=f"method-{method}").click()
    if amount is not None:
        user.find(marker="pay-amount").clear().type(amount)
    for marker, text in fields.items():
        user.find(marker=f"pay-{marker}").clear().type(text)


async def test_a_split_payment_by_card_and_wechat_settles_the_bill(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = await open_desk(user, system)
    settlement = system.settlement.settlement
    user.find(marker=f"bill-{number}").click()
    await until(lambda: sees(user, marker="bill-left", content="¥228.00"), timeout=20)
    assert await sees(user, content=ZH("settlement.payer.customer"))
    amount = element(user, "pay-amount")
    assert isinstance(amount, ui.input) and amount.value == "228.00"  # pre-filled with what is left
    assert await sees(user, marker="bill-unsigned", content=ZH("cashier.estimate_unsigned"))  # money still taken
    pay(user, "card", "100")
    user.find(marker="pay-confirm").click()  # no voucher: refused on the desk, the terminal could not be matched
    missing = ZH("cashier.reference_missing", method=ZH("settlement.method.card"))
    await until(lambda: sees(user, marker="cashier-error", content=missing), timeout=20)
    assert settlement.summary(number).payments == []
    user.find(marker="pay-reference").type("POS 000123")  # the refusal goes once the form changes
    await until(lambda: gone(user, "cashier-error", missing), timeout=20)
    user.find(marker="pay-confirm").click()

    async def card_taken() -> bool:
        return settlement.summary(number).paid == Decimal("100.00")
    await until(card_taken, timeout=20)
    await until(lambda: sees(user, marker="bill-left", content="¥128.00"), timeout=20)
    await until(lambda: sees(user, content="POS 000123"), timeout=20)  # on the payments made
    card = element(user, "method-card")  # still the method chosen, the reference emptied for the next slip
    assert "color=primary" in " ".join(f"{k}={v}" for k, v in card.props.items())
    reference = element(user, "pay-reference")
    assert isinstance(reference, ui.input) and not reference.value
    pay(user, "wechat", reference="4200001234")  # the amount left to pay is already filled in
    user.find(marker="pay-confirm").click()

    async def settled() -> bool:
        return settlement.summary(number).settled
    await until(settled, timeout=20)
    view = settlement.summary(number)
    assert [(p.method, p.amount, p.reference, p.actor) for p in view.payments] == [
        ("card", Decimal("100.00"), "POS 000123", CASHIER), ("wechat", Decimal("128.00"), "4200001234", CASHIER)]
    await until(lambda: sees(user, marker="bill-left", content=ZH("cashier.settled_short")), timeout=20)


async def test_cash_shows_the_change_and_a_refund_needs_a_reason(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = await open_desk(user, system)
    settlement = system.settlement.settlement
    scan(user, f"https://shop.example/ro/{number}")  # the job ticket's QR opens the bill
    await until(lambda: sees(user, marker="bill-left", content="¥228.00"), timeout=20)
    pay(user, "cash", tendered="300")
    await until(lambda: sees(user, marker="pay-change", content="¥72.00"), timeout=20)  # before confirming
    assert settlement.summary(number).payments == []
    user.find(marker="pay-confirm").click()

    async def paid() -> bool:
        return settlement.summary(number).settled
    await until(paid, timeout=20)
    cash = settlement.summary(number).payments[0]
    assert (cash.tendered, cash.change) == (Decimal("300.00"), Decimal("72.00"))

    await until(lambda: sees(user, marker=f"refund-{cash.id}"), timeout=20)
    user.find(marker=f"refund-{cash.id}").click()
    await until(lambda: sees(user, marker="refund-dialog"), timeout=20)
    typed = element(user, "refund-amount")
    assert isinstance(typed, ui.input) and typed.value == ""  # nothing over-paid: nothing offered back
    assert await sees(user, marker="refund-hint", content=ZH("cashier.refund_hint"))
    user.find(marker="refund-amount").type("28")
    await until(lambda: sees(user, marker="refund-after", content=ZH("cashier.refund_after", amount="¥28.00")),
                timeout=20)  # the bill opens again: said before the refund is confirmed
    user.find(marker="refund-confirm").click()  # no reason: refused in the dialog, nothing refunded
    await until(lambda: sees(user, marker="refund-error", content=ZH("settlement.error.reason_needed")), timeout=20)
    assert len(settlement.summary(number).payments) == 1
    user.find(marker="refund-reason").type("滤清器未更换")
    user.find(marker="refund-confirm").click()

    async def refunded() -> bool:
        return settlement.summary(number).left == Decimal("28.00")
    await until(refunded, timeout=20)
    refund = settlement.summary(number).payments[-1]
    assert (refund.kind, refund.reason, refund.actor, refund.refund_of) == ("refund", "滤清器未更换", CASHIER, cash.id)
    await until(lambda: sees(user, marker="bill-left", content="¥28.00"), timeout=20)


async def test_search_by_plate_and_an_over_payment_is_refused_with_what_is_left(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = await open_desk(user, system)
    plate = system.settlement.settlement.summary(number).plate
    user.find(marker="cashier-search").type(plate)
    await until(lambda: sees(user, content=ZH("cashier.found")), timeout=20)
    await until(lambda: sees(user, marker=f"bill-{number}"), timeout=20)
    user.find(marker=f"bill-{number}").click()
    await until(lambda: sees(user, marker="bill-left", content="¥228.00"), timeout=20)
    pay(user, "alipay", "500", reference="2026120522001")
    user.find(marker="pay-confirm").click()
    refusal = ZH("settlement.error.over_left", number=number, amount="¥500.00", left="¥228.00")
    await until(lambda: sees(user, marker="cashier-error", content=refusal), timeout=20)
    assert system.settlement.settlement.summary(number).payments == []
    user.find(marker="pay-amount").clear().type("200")  # corrected: the refusal no longer stands
    await until(lambda: gone(user, "cashier-error", refusal), timeout=20)
    user.find(marker="pay-confirm").click()

    async def taken() -> bool:
        return system.settlement.settlement.summary(number).paid == Decimal("200.00")
    await until(taken, timeout=20)
    await until(lambda: sees(user, marker="bill-left", content="¥28.00"), timeout=20)
    assert await gone(user, "cashier-error", refusal)
    user.find(marker="print-list").click()  # the settlement list on the reception printer

    async def printed() -> bool:
        return any(job.kind == "settlement_list" for job in system.printing.jobs_for(number))
    await until(printed, timeout=20)
    scan(user, "not a ticket")
    said = ZH("cashier.scan_unknown", scan="not a ticket")

    async def told() -> bool:
        return bool(user.notify.contains(said))
    await until(told, timeout=20)
