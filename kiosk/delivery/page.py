"""/delivery: the advisor's completion check (完工检查), telling the customer, the delivery walk and its sheet, on a
1280×800 tablet.

Left, the cars in the quality check or ready, each with its completion check, whether the customer was told and
whether the bill is settled; below them the cars delivered in the last RECENT_DAYS days (a sheet to reprint, a
delivery to reopen). Right, the chosen car (/delivery/<number> or ?order=): the check list (the lines and
the final inspection are the system's, locked), "tell the customer", the walk with the customer with the next
service's date, mileage and how it was reckoned, "deliver" (a refusal said in words: to the cashier, or the final
inspection), then the sheet on a printer. A manager sees "reopen" on a delivered car, with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.delivery.order_pane import OrderPane
from shopfloor.kiosk.reception.estimate_format import moment
from shopfloor.services.settlement.delivery import RECENT_DAYS, DeliveryRefused

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.customer_messages.services import MessageServices
    from shopfloor.services.repair_orders import RepairOrderService
    from shopfloor.services.settlement.delivery import CompletionView, DeliveredCar
    from shopfloor.services.settlement.services import SettlementServices

PATH = "/delivery"
REFRESH_SECONDS = 30.0  # cars pass their final inspection in the workshop: the list is read again this often
Notice = Literal["positive", "negative", "warning", "info"]
STATUS_COLOURS = {"quality_check": "purple", "ready": "positive", "delivered": "grey-7"}


class DeliveryPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, *, printers: PrinterChoice,
                 settlement: SettlementServices, repair_orders: RepairOrderService,
                 messages: MessageServices | None = None) -> None:
        self.frame, self.clock, self.printers = frame, clock, printers
        self.settlement, self.repair_orders, self.messages = settlement, repair_orders, messages

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · 交车")(self.build)
        ui.page(path + "/{number}", title="shopfloor · 交车")(self.build_order)

    async def build_order(self, number: str, lang: str | None = None) -> None:
        await self.build(lang, number)

    async def build(self, lang: str | None = None, order: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        await Desk(self, t, user).build(order)


def status_badge(t: Translator, status: str) -> None:
    ui.badge(t(f"delivery.page.status_{status}") if status in STATUS_COLOURS else status,
             color=STATUS_COLOURS.get(status, "grey")).classes("text-sm")


class Desk:
    """One advisor's delivery desk in one browser."""

    def __init__(self, page: DeliveryPage, t: Translator, user: KioskUser) -> None:
        self.page, self.t, self.user = page, t, user
        self.view: CompletionView | None = None

    @property
    def delivery(self) -> Any:
        return self.page.settlement.delivery

    async def build(self, order: str | None) -> None:
        t = self.t
        self.host = ui.element("div").classes("hidden")  # notices outlive the buttons that raised them
        with ui.row().classes("w-full no-wrap items-start gap-3").mark("delivery-desk"):
            with ui.column().classes("w-[300px] shrink-0 gap-2"):
                with ui.row().classes("w-full items-center justify-between no-wrap"):
                    ui.label(t("delivery.page.list")).classes("text-base font-bold text-grey-8")
                    ui.button(icon="refresh", on_click=self.refresh_list).props("flat round") \
                        .mark("delivery-refresh")
                # one scroll for both lists: the cars to deliver first, then those delivered lately (a manager
                # looks there for a car to reopen, an advisor for a sheet to reprint)
                with ui.column().classes("w-full gap-2 max-h-[680px] overflow-y-auto pr-1 no-wrap"):
                    self.list_box = ui.column().classes("w-full gap-2").mark("delivery-list")
                    ui.label(t("delivery.page.recent", days=RECENT_DAYS)).classes(
                        "text-base font-bold text-grey-8 mt-3")
                    self.recent_box = ui.column().classes("w-full gap-1").mark("delivery-recent")
            with ui.column().classes("flex-1 min-w-0 gap-2"):
                self.pane = OrderPane(self)
                self.pane.build()
        await self.refresh_list()
        if order:
            await self.open(order.strip().upper()[:40])
        ui.timer(REFRESH_SECONDS, self.refresh_list)

    async def refresh_list(self) -> None:
        try:
            views = await io(self.delivery.desk)
            recent = await io(self.delivery.delivered_recently)
        except DomainError as exc:
            self.say(exc.message(self.t.lang), "negative")
            return
        if self.list_box.is_deleted:
            return
        self.list_box.clear()
        with self.list_box:
            if not views:
                ui.label(self.t("delivery.page.none")).classes("text-grey-7").mark("delivery-empty")
            for v in views:
                self._card(v)
        self.recent_box.clear()
        with self.recent_box:
            if not recent:
                ui.label(self.t("delivery.page.recent_none")).classes("text-grey-7 text-sm")
            for car in recent:
                self._delivered_card(car)

    def _delivered_card(self, car: DeliveredCar) -> None:
        chosen = self.view is not None and self.view.number == car.number
        card = ui.card().classes("w-full gap-0 px-2 py-1 cursor-pointer " + ("bg-blue-1" if chosen else "")) \
            .props("flat bordered").mark(f"delivered-{car.number}")
        card.on("click", lambda _e, n=car.number: self.open(n))
        with card:
            with ui.row().classes("w-full items-baseline justify-between no-wrap gap-1"):
                ui.label(car.plate).classes("font-bold whitespace-nowrap")
                ui.label(moment(car.delivered_at, self.page.clock)).classes("text-xs text-grey-7 whitespace-nowrap")
            ui.label(f"{car.number} · {car.customer} · {car.delivered_by}").classes("text-xs text-grey-7 truncate")

    def _card(self, v: CompletionView) -> None:
        t = self.t
        chosen = self.view is not None and self.view.number == v.number
        card = ui.card().classes("w-full gap-1 p-2 cursor-pointer " + ("bg-blue-1" if chosen else "")) \
            .props("flat bordered").mark(f"delivery-{v.number}")
        card.on("click", lambda _e, n=v.number: self.open(n))
        with card:
            with ui.row().classes("w-full items-baseline justify-between no-wrap gap-1"):
                ui.label(v.plate).classes("text-lg font-bold whitespace-nowrap")
                status_badge(t, v.status)
            ui.label(f"{v.number} · {v.customer}").classes("text-xs text-grey-7 truncate")
            with ui.row().classes("gap-1"):
                self.chip(t("delivery.page.completion_passed") if v.passed else t("delivery.page.completion_open"),
                          v.passed)
                self.chip(t("delivery.page.notified", time="") if v.customer_notified_at
                          else t("delivery.page.not_notified"), v.customer_notified_at is not None)
                self.chip(t("delivery.page.settled") if v.settled else t("delivery.page.unpaid"), v.settled)

    @staticmethod
    def chip(text: str, good: bool) -> None:
        ui.label(text.strip()).classes("text-xs px-2 rounded " + (
            "bg-green-1 text-positive" if good else "bg-orange-1 text-orange-9"))

    async def open(self, number: str) -> None:
        try:
            view = await io(self.delivery.completion, number)
        except DomainError as exc:
            self.say(exc.message(self.t.lang), "negative")
            return
        if self.list_box.is_deleted:
            return
        self.view = view
        self.pane.draw(view)
        await self.refresh_list()

    async def reload(self) -> None:
        if self.view is not None:
            await self.open(self.view.number)

    def say(self, text: str, kind: Notice = "info") -> None:
        with self.host:
            ui.notify(text, type=kind, multi_line=True, position="top",
                      timeout=8000 if kind in ("negative", "warning") else 5000)

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A service call for the advisor: a refusal said in words (a delivery's by its reason), None returned."""
        try:
            return await io(fn, *args, **kwargs)
        except DeliveryRefused as refused:
            self.say(self.t(f"delivery.page.refused_{refused.reason}"), "negative")
            self.pane.refused(self.t(f"delivery.page.refused_{refused.reason}"))
        except DomainError as exc:
            self.say(exc.message(self.t.lang), "negative")
        return None

    def may_reopen(self) -> bool:
        return self.user.may(Permission.DELIVERY_REOPEN)
