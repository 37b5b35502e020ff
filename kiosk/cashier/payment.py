"""Taking a payment at the cashier's desk: the method (WeChat Pay, Alipay, bank card, cash, company account), the
amount pre-filled with what is left (a split payment is several of these), the terminal's reference for anything
but cash, and for cash what was handed over with the change shown big before the cashier confirms. Then the
payments made (when, how, reference, who) with a refund for each, and the settlement list's printouts."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.reception.estimate_format import moment, money

if TYPE_CHECKING:
    from shopfloor.kiosk.cashier.page import Desk
    from shopfloor.services.settlement.settlement import PaymentView, SettlementView

CASH = "cash"
ICONS = {"wechat": "chat", "alipay": "account_balance_wallet", "card": "credit_card", "cash": "payments",
         "account": "business"}
ACCOUNT = "account"
# a payment through a terminal is matched against the terminal's own record at the end of the day by this number
NEEDS_REFERENCE = frozenset({"card", "alipay", "wechat"})
PDF_URL = "/documents/settlement-list/{number}.pdf"  # the staff route of the A4 list (kiosk/cashier/documents_route)


def decimal_in(text: str | None) -> Decimal | None:
    """What a person typed as an amount (¥1,234.50 or 1234.5); None when it is no number."""
    cleaned = (text or "").replace("¥", "").replace(",", "").replace("，", "").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def cleaned(text: str | None) -> str:
    return (text or "").replace("¥", "").replace(",", "").replace("，", "").strip()


class PaymentPane:
    def __init__(self, desk: Desk) -> None:
        self.desk, self.t = desk, desk.t
        # the method stays as the cashier chose it over a payment (a split is often two of the same kind)
        self.method, self.bill = "", ""

    def build(self) -> None:
        self.box = ui.column().classes("w-full gap-3").mark("payment-pane")

    def clear(self) -> None:
        self.box.clear()

    def draw(self, v: SettlementView) -> None:
        self.box.clear()
        with self.box:
            if v.left > 0 and v.status != "cancelled":
                self._take(v)
            self._payments(v)
            self._print(v)

    # -- taking a payment --------------------------------------------------------------------------------------
    def _take(self, v: SettlementView) -> None:
        t = self.t
        with ui.card().classes("w-full gap-2 p-3").props("flat bordered").mark("take-payment"):
            with ui.row().classes("w-full items-baseline justify-between no-wrap"):
                ui.label(t("cashier.take")).classes("text-lg font-bold")
                ui.label(t("cashier.split_hint")).classes("text-xs text-grey-7")
            if self.bill != v.number or self.method not in v.payment_methods:
                self.method = v.payment_methods[0]
            self.bill = v.number
            self.methods: dict[str, ui.button] = {}
            with ui.grid(columns=len(v.payment_methods)).classes("w-full gap-1"):
                for m in v.payment_methods:
                    self.methods[m] = ui.button(t(f"settlement.method.{m}"), icon=ICONS.get(m, "payments"),
                                                on_click=lambda _e, m=m: self.choose(m)) \
                        .props("stack no-caps").classes("text-sm px-1 py-2 leading-tight").mark(f"method-{m}")
            self.amount = ui.input(t("cashier.amount"), value=f"{v.left:.2f}", on_change=self._changed) \
                .props("outlined inputmode=decimal input-class=text-2xl").classes("w-full").mark("pay-amount")
            self.reference = ui.input(t("cashier.reference"), on_change=self.calm) \
                .props("outlined maxlength=100 clearable").classes("w-full").mark("pay-reference")
            self.reference_hint = ui.label(t("cashier.reference_why")).classes("text-xs text-grey-7 -mt-2") \
                .mark("pay-reference-hint")
            with ui.row().classes("w-full items-center no-wrap gap-3") as self.cash_row:
                self.tendered = ui.input(t("cashier.tendered"), on_change=self._changed) \
                    .props("outlined inputmode=decimal input-class=text-2xl").classes("w-44").mark("pay-tendered")
                with ui.column().classes("gap-0"):
                    ui.label(t("cashier.change")).classes("text-sm text-grey-7")
                    self.change = ui.label("—").classes("text-4xl font-bold text-primary").mark("pay-change")
            self.error = ui.label("").classes("text-negative text-base").mark("cashier-error")
            self.error.set_visibility(False)
            self.confirm = ui.button("", icon="payments", on_click=self._pay) \
                .props("unelevated size=lg color=positive").classes("w-full").mark("pay-confirm")
        self._method_changed()

    def choose(self, method: str) -> None:
        self.method = method
        self._method_changed()
        self.calm()

    def _changed(self) -> None:
        self._recount()
        self.calm()

    def calm(self) -> None:
        """A refusal is taken back once anything it was about is changed: it no longer says what is on the form."""
        if hasattr(self, "error") and not self.error.is_deleted:
            self.error.text = ""
            self.error.set_visibility(False)
        self.desk.calm()

    def _method_changed(self) -> None:
        method = self.method
        for name, button in self.methods.items():
            if name == method:
                button.props(remove="outline color").props("unelevated color=primary")
            else:
                button.props(remove="unelevated color").props("outline color=grey-8")
        self.cash_row.set_visibility(method == CASH)
        self.reference.set_visibility(method != CASH)
        self.reference_hint.set_visibility(method in NEEDS_REFERENCE)
        self.reference.label = self.t("cashier.reference_account" if method == ACCOUNT else
                                      "cashier.reference_needed" if method in NEEDS_REFERENCE else "cashier.reference")
        self._recount()

    def _recount(self) -> None:
        """The confirm button names the amount; for cash the change is shown before anything is confirmed."""
        t = self.t
        amount = decimal_in(self.amount.value)
        self.confirm.text = t("cashier.confirm_pay", amount=money(amount) if amount is not None else "—")
        tendered = decimal_in(self.tendered.value)
        if self.method == CASH and amount is not None and tendered is not None and tendered > amount:
            self.confirm.text = t("cashier.confirm_pay_change", amount=money(amount), change=money(tendered - amount))
        if self.method != CASH or amount is None or tendered is None:
            self.change.text = "—"
            self.change.classes(remove="text-negative", add="text-primary")
        elif tendered >= amount:
            self.change.text = money(tendered - amount)
            self.change.classes(remove="text-negative", add="text-primary")
        else:
            self.change.text = t("cashier.change_short", amount=money(amount - tendered))
            self.change.classes(remove="text-primary", add="text-negative")

    def refused(self, text: str) -> None:
        self.error.text = text
        self.error.set_visibility(True)

    async def _pay(self) -> None:
        t, desk = self.t, self.desk
        if not frame.allowed(t, desk.user, Permission.PAYMENT) or desk.view is None:
            return
        amount = cleaned(self.amount.value)
        if not amount:
            self.refused(t("cashier.amount_missing"))
            return
        method = self.method
        tendered = cleaned(self.tendered.value) if method == CASH else ""
        reference = "" if method == CASH else str(self.reference.value or "").strip()
        if method in NEEDS_REFERENCE and not reference:  # the API leaves it optional: the desk does not
            self.refused(t("cashier.reference_missing", method=t(f"settlement.method.{method}")))
            return
        number = desk.view.number
        self.confirm.disable()  # a double tap takes the money once
        try:
            paid = await desk.call(desk.page.settlement.settlement.pay, number, method, amount,
                                   actor=desk.user.actor, reference=reference, tendered=tendered or None)
        finally:
            if not self.confirm.is_deleted:
                self.confirm.enable()
        if paid is None:
            return
        self.calm()
        name = t(f"settlement.method.{paid.method}")
        if paid.change is not None:
            desk.say(t("cashier.taken_change", method=name, amount=money(paid.amount), change=money(paid.change)),
                     "positive")
        else:
            desk.say(t("cashier.taken", method=name, amount=money(paid.amount)), "positive")
        await desk.reload()

    # -- the payments made ---------------------------------------------------------------------------------------
    def _payments(self, v: SettlementView) -> None:
        t = self.t
        may_refund = self.desk.user.may(Permission.REFUND)
        taken_at = {p.id: moment(p.at, self.desk.page.clock) for p in v.payments}
        with ui.card().classes("w-full gap-1 p-3").props("flat bordered").mark("payments"):
            ui.label(t("cashier.payments")).classes("text-lg font-bold")
            if not v.payments:
                ui.label(t("cashier.no_payments")).classes("text-grey-7")
            for p in v.payments:
                refund = p.kind == "refund"
                note = p.reason if refund else p.reference
                if refund and p.refund_of:
                    note = f"{t('cashier.refund_of', time=taken_at.get(p.refund_of, '—'))} · {note}"
                elif p.change is not None:
                    note = f"{t('cashier.tendered_short', amount=money(p.tendered))} · " \
                           f"{t('cashier.change')} {money(p.change)}"
                if not refund and p.refunded:
                    note = " · ".join(x for x in (note, t("cashier.refunded", amount=money(p.refunded))) if x)
                with ui.column().classes("w-full gap-0 border-b border-gray-200 pb-1").mark(f"payment-{p.id}"):
                    with ui.row().classes("w-full items-center no-wrap gap-2"):
                        ui.label(moment(p.at, self.desk.page.clock)).classes("w-24 text-grey-7 whitespace-nowrap")
                        ui.label(t(f"settlement.method.{p.method}")).classes("flex-1 whitespace-nowrap")
                        ui.label(money(-p.amount if refund else p.amount)).classes(
                            "text-right " + ("text-negative" if refund else "font-bold"))
                        ui.label(p.actor).classes("w-16 text-grey-7 text-right truncate")
                        if not refund and may_refund and p.amount > p.refunded:
                            ui.button(t("cashier.refund"), on_click=lambda _e, x=p: self._refund_dialog(x)) \
                                .props("flat dense color=negative no-caps").mark(f"refund-{p.id}")
                    if note:
                        ui.label(note).classes("text-sm text-grey-8 break-all")

    def _refund_dialog(self, p: PaymentView) -> None:
        t, desk = self.t, self.desk
        if not frame.allowed(t, desk.user, Permission.REFUND) or desk.view is None:
            return
        number, left = desk.view.number, desk.view.left
        # nothing typed for the cashier but what was paid over the bill: any other refund opens the bill again
        offered = min(-left, p.amount - p.refunded) if left < 0 else None
        with ui.dialog() as dialog, ui.card().classes("w-[32rem] gap-3").mark("refund-dialog"):
            ui.label(t("cashier.refund_title", time=moment(p.at, desk.page.clock),
                       method=t(f"settlement.method.{p.method}"), amount=money(p.amount))).classes("text-lg font-bold")
            ui.label(t("cashier.refund_hint")).classes("text-sm text-grey-8").mark("refund-hint")
            amount = ui.input(t("cashier.refund_amount"), value=f"{offered:.2f}" if offered else "",
                              on_change=lambda: changed()) \
                .props("outlined inputmode=decimal autofocus").classes("w-full").mark("refund-amount")
            after = ui.label("").classes("text-xl font-bold").mark("refund-after")
            reason = ui.input(t("cashier.refund_reason"), on_change=lambda: changed()) \
                .props("outlined maxlength=200").classes("w-full").mark("refund-reason")
            error = ui.label("").classes("text-negative").mark("refund-error")
            error.set_visibility(False)

            def changed() -> None:
                """What the bill asks once this is given back, shown before it is: a refund reopens a paid bill."""
                error.set_visibility(False)
                back = decimal_in(amount.value)
                after.classes(remove="text-orange-9 text-positive text-negative")
                if back is None or back <= 0:
                    after.text = t("cashier.refund_after", amount="—")
                    after.classes(add="text-grey-7")
                elif left + back > 0:
                    after.text = t("cashier.refund_after", amount=money(left + back))
                    after.classes(remove="text-grey-7", add="text-orange-9")
                elif left + back == 0:
                    after.text = t("cashier.refund_after_settled")
                    after.classes(remove="text-grey-7", add="text-positive")
                else:
                    after.text = t("cashier.refund_after_over", amount=money(-(left + back)))
                    after.classes(remove="text-grey-7", add="text-negative")
            changed()

            async def confirm() -> None:
                if not cleaned(amount.value):
                    error.text = t("cashier.amount_missing")
                    error.set_visibility(True)
                    return
                try:
                    back = await io(desk.page.settlement.settlement.refund, number, p.id, cleaned(amount.value),
                                    str(reason.value or ""), actor=desk.user.actor)
                except DomainError as exc:  # said in the dialog: the amount and reason typed stay
                    error.text = exc.message(t.lang)
                    error.set_visibility(True)
                    return
                dialog.close()
                desk.say(t("cashier.refund_done", amount=money(back.amount),
                           method=t(f"settlement.method.{back.method}")), "positive")
                await desk.reload()

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("cashier.cancel"), on_click=dialog.close).props("flat size=lg")
                ui.button(t("cashier.refund_confirm"), icon="undo", on_click=confirm) \
                    .props("unelevated size=lg color=negative").mark("refund-confirm")
        dialog.on("hide", dialog.delete)
        dialog.open()

    # -- the settlement list ---------------------------------------------------------------------------------------
    def _print(self, v: SettlementView) -> None:
        t, desk = self.t, self.desk
        with ui.card().classes("w-full gap-2 p-3").props("flat bordered").mark("settlement-list"):
            ui.label(t("cashier.print_title")).classes("text-lg font-bold")
            self.printer = desk.page.printers.select(t, t("cashier.printer")).classes("w-full") \
                .mark("cashier-printer")
            with ui.row().classes("w-full no-wrap gap-2"):
                ui.button(t("cashier.print_list"), icon="receipt_long",
                          on_click=lambda: self._print_list(v.number)) \
                    .props("unelevated no-caps").classes("flex-[2]").mark("print-list")
                ui.button(t("cashier.pdf"), icon="picture_as_pdf",
                          on_click=lambda: ui.navigate.to(PDF_URL.format(number=v.number), new_tab=True)) \
                    .props("outline no-caps").classes("flex-1").mark("open-pdf")

    async def _print_list(self, number: str) -> None:
        t, desk = self.t, self.desk
        if not frame.allowed(t, desk.user, Permission.PAYMENT):
            return
        printer = self.printer.value
        desk.page.printers.warn_if_not_ready(t, printer)
        job = await desk.call(desk.page.settlement.documents.print_list, number, printer, actor=desk.user.actor)
        if job is not None:
            desk.say(t("cashier.printed", printer=desk.page.printers.label(job.printer)), "positive")
