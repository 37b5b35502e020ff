"""/cashier: the cashier's desk (收银结算, step 10 of the lane) on a 1280×800 tablet at the counter.

Left, the bills waiting — ready cars first (their customer is at the counter), then orders with something still
to pay — and a search by plate or RO number; a keyboard-wedge scan of the job ticket's QR opens that order
anywhere on the page. Middle, the bill: lines with who pays each, the discount, what the customer pays, and what
is left. Right, taking a payment (split, cash change, the terminal's reference), the payments made with their
refunds, and the settlement list on the printer or as an A4 PDF."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.workshop import InvalidScan, ro_number_in
from shopfloor.kiosk.cashier.bill import BillPane, status_badge
from shopfloor.kiosk.cashier.payment import PaymentPane
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.reception.estimate_format import moment, money
from shopfloor.kiosk.reception.page import STATIC_URL as WEDGE_STATIC_URL

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.repair_orders import RepairOrderService
    from shopfloor.services.settlement.services import SettlementServices
    from shopfloor.services.settlement.settlement import SettlementView

PATH = "/cashier"
REFRESH_SECONDS = 30.0  # cars become ready in the workshop: the list is read again this often
Notice = Literal["positive", "negative", "warning", "info"]


class CashierPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, *, printers: PrinterChoice,
                 settlement: SettlementServices, repair_orders: RepairOrderService) -> None:
        self.frame, self.clock, self.printers = frame, clock, printers
        self.settlement, self.repair_orders = settlement, repair_orders

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · 收银结算")(self.build)

    async def build(self, lang: str | None = None, order: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        await Desk(self, t, user).build(order)


class Desk:
    """One cashier's desk in one browser."""

    def __init__(self, page: CashierPage, t: Translator, user: KioskUser) -> None:
        self.page, self.t, self.user = page, t, user
        self.view: SettlementView | None = None
        self.query = ""
        self.searches = 0  # a search's answer is drawn only if no later one was asked meanwhile
        self.refusals: list[ui.notification] = []  # taken away when the cashier changes what they were about

    async def build(self, order: str | None) -> None:
        t = self.t
        ui.add_body_html(f'<script src="{WEDGE_STATIC_URL}/wedge_scanner.js"></script>')
        ui.on("tag_scanned", lambda e: self.scanned(str(e.args)))
        # notices are raised in this element's slot: the button that asked may be redrawn away meanwhile
        self.host = ui.element("div").classes("hidden")
        with ui.row().classes("w-full no-wrap items-start gap-3").mark("cashier-desk"):
            with ui.column().classes("w-[260px] shrink-0 gap-2"):
                with ui.row().classes("w-full no-wrap items-center gap-1"):
                    self.search = ui.input(t("cashier.search"), on_change=self._search_changed) \
                        .props("outlined dense clearable").classes("flex-1").mark("cashier-search")
                    ui.button(icon="refresh", on_click=self.refresh_list).props("flat round") \
                        .tooltip(t("cashier.refresh")).mark("cashier-refresh")
                ui.label(t("cashier.search_hint")).classes("text-xs text-grey-6 -mt-1")
                self.list_title = ui.label(t("cashier.waiting")).classes("text-base font-bold text-grey-8")
                self.list_box = ui.column().classes("w-full gap-2 max-h-[620px] overflow-y-auto pr-1") \
                    .mark("bills")
            with ui.column().classes("flex-1 min-w-0 gap-2"):
                self.bill = BillPane(t, self.page.clock)
                self.bill.build()
            with ui.column().classes("w-[400px] shrink-0 gap-2"):
                self.payment = PaymentPane(self)
                self.payment.build()
        self.bill.empty()
        await self.refresh_list()
        if order:
            await self.open(order.strip().upper()[:40])
        ui.timer(REFRESH_SECONDS, self.refresh_list)

    # -- the list ----------------------------------------------------------------------------------------------------
    async def _search_changed(self) -> None:
        self.query = str(self.search.value or "").strip()
        await self.refresh_list()

    async def refresh_list(self) -> None:
        self.searches += 1
        asked, query = self.searches, self.query
        svc = self.page.settlement.settlement
        try:
            bills = await io(svc.search, query) if query else await io(svc.open_bills)
        except DomainError as exc:
            self.say(exc.message(self.t.lang), "negative")
            return
        if asked != self.searches or self.list_box.is_deleted:
            return
        self.draw_list(bills, query)

    def draw_list(self, bills: list[SettlementView], query: str) -> None:
        t = self.t
        self.list_title.text = t("cashier.found") if query else t("cashier.waiting")
        self.list_box.clear()
        with self.list_box:
            if not bills:
                ui.label(t("cashier.none_found", text=query) if query else t("cashier.none_waiting")) \
                    .classes("text-grey-7").mark("bills-empty")
            for v in bills:
                self._bill_card(v)

    def _bill_card(self, v: SettlementView) -> None:
        t = self.t
        chosen = self.view is not None and self.view.number == v.number
        card = ui.card().classes("w-full gap-0 p-2 cursor-pointer " + (
            "bg-blue-1 border-primary" if chosen else "")).props("flat bordered").mark(f"bill-{v.number}")
        card.on("click", lambda _e, n=v.number: self.open(n))
        with card:
            with ui.row().classes("w-full items-baseline justify-between no-wrap gap-1"):
                ui.label(display_plate(v.plate)).classes("text-lg font-bold whitespace-nowrap")
                status_badge(t, v.status)
            ui.label(f"{v.number} · {v.customer}").classes("text-xs text-grey-7 truncate")
            with ui.row().classes("w-full items-baseline justify-between no-wrap gap-1"):
                ui.label(t("cashier.ready_since", time=moment(v.ready_at, self.page.clock)) if v.ready_at
                         else "").classes("text-xs text-grey-7")
                if v.left > 0:
                    ui.label(t("cashier.left_short", amount=money(v.left))).classes("font-bold text-orange-9")
                else:
                    ui.label(t("cashier.settled_short")).classes("font-bold text-positive")

    # -- the bill ----------------------------------------------------------------------------------------------------
    async def scanned(self, text: str) -> None:
        """A keyboard-wedge scan anywhere on the page: the job ticket's QR (or a typed number) opens its bill."""
        try:
            number = ro_number_in(text)
        except InvalidScan:
            self.say(self.t("cashier.scan_unknown", scan=text.strip()[:60]), "warning")
            return
        await self.open(number)

    async def open(self, number: str) -> None:
        try:
            view = await io(self.page.settlement.settlement.summary, number)
        except DomainError as exc:
            self.say(exc.message(self.t.lang), "negative")
            return
        if self.list_box.is_deleted:
            return
        self.view = view
        self.draw()
        await self.refresh_list()

    async def reload(self) -> None:
        """The open bill read again (after a payment or refund, or a refusal: the stored state is what shows)."""
        if self.view is None:
            return
        try:
            self.view = await io(self.page.settlement.settlement.summary, self.view.number)
        except DomainError as exc:
            self.say(exc.message(self.t.lang), "negative")
            return
        if self.list_box.is_deleted:
            return
        self.draw()
        await self.refresh_list()

    def draw(self) -> None:
        assert self.view is not None
        self.bill.draw(self.view)
        self.payment.draw(self.view)

    # -- saying things ------------------------------------------------------------------------------------------------
    def say(self, text: str, kind: Notice = "info") -> None:
        with self.host:
            if kind == "negative":
                self.refusals.append(ui.notification(text, type=kind, multi_line=True, position="top", timeout=8.0))
            else:
                ui.notify(text, type=kind, multi_line=True, position="top",
                          timeout=8000 if kind == "warning" else 5000)

    def calm(self) -> None:
        """The refusals still on screen dismissed (the form changed, or the next payment went through)."""
        for notice in self.refusals:
            if not notice.is_deleted:
                notice.dismiss()
        self.refusals.clear()

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A service call made for the cashier: a refusal is said (in the payment pane too, so it stays in view)
        and None returned; the bill is read again, the figures typed are kept."""
        try:
            return await io(fn, *args, **kwargs)
        except DomainError as exc:
            message = exc.message(self.t.lang)
            self.say(message, "negative")
            if not self.payment.box.is_deleted and hasattr(self.payment, "error") \
                    and not self.payment.error.is_deleted:
                self.payment.refused(message)
            return None
