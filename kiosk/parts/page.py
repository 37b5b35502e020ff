"""/parts: the parts counter (step 7 of the lane), for the parts clerk at a 1280×800 tablet. Three tabs: today's
pick lists (orders with parts to pick, the earliest promise first, and the chosen order's pick list with issue,
short and return, and a scan field: a keyboard-wedge scan of a part number issues it, of a job ticket opens that
order), the back-orders with their ETA and "arrived", and the catalogue with search and CSV import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.domain.workshop import InvalidScan, ro_number_in
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.parts.catalogue import CataloguePane
from shopfloor.kiosk.parts.picking import PickPane
from shopfloor.kiosk.reception.page import STATIC_URL as WEDGE_STATIC_URL

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.parts.services import PartsServices

PATH = "/parts"
REFRESH_SECONDS = 30.0  # the lists change with the workshop (new orders, approved work): read again this often


class PartsPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, *, parts: PartsServices) -> None:
        self.frame = frame
        self.clock = clock
        self.parts = parts

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · parts")(self.build)

    async def build(self, lang: str | None = None, order: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        await Counter(self, t, user).build(order)


class Counter:
    """One clerk's counter in one browser."""

    def __init__(self, page: PartsPage, t: Translator, user: KioskUser) -> None:
        self.page = page
        self.t = t
        self.user = user
        self.picks = PickPane(page.parts.counter, page.clock, t, user.actor)
        self.catalogue = CataloguePane(page.parts, t, user.actor)

    async def build(self, order: str | None) -> None:
        t = self.t
        ui.add_body_html(f'<script src="{WEDGE_STATIC_URL}/wedge_scanner.js"></script>')
        ui.on("tag_scanned", lambda e: self.scanned(str(e.args)))
        with ui.row().classes("w-full items-center no-wrap gap-2"):
            with ui.tabs().classes("text-primary") as tabs:
                self.tab_picks = ui.tab("picks", label=t("parts.tab_picks"), icon="checklist").mark("tab-picks")
                self.tab_back = ui.tab("back", label=t("parts.tab_back_orders"), icon="local_shipping") \
                    .mark("tab-back-orders")
                self.tab_catalogue = ui.tab("catalogue", label=t("parts.tab_catalogue"), icon="inventory_2") \
                    .mark("tab-catalogue")
            ui.space()
            ui.button(t("parts.refresh"), icon="refresh", on_click=self.refresh).props("flat").mark("parts-refresh")
        self.tabs = tabs
        with ui.tab_panels(tabs, value="picks", on_change=self.refresh).classes("w-full bg-transparent") \
                .props("keep-alive=false") as panels:
            with ui.tab_panel("picks").classes("p-0"):
                self.picks.build()
            with ui.tab_panel("back").classes("p-0"):
                self.back_box = ui.column().classes("w-full gap-2").mark("back-orders")
            with ui.tab_panel("catalogue").classes("p-0"):
                self.catalogue.build()
        self.panels = panels
        self.picks.on_changed = self.refresh
        if order:
            await self.picks.open(order.strip().upper())
        await self.refresh()
        ui.timer(REFRESH_SECONDS, self.refresh)

    async def refresh(self) -> None:
        await self.picks.refresh()
        await self.draw_back_orders()
        if self.panels.value == "catalogue":
            await self.catalogue.refresh()

    async def scanned(self, text: str) -> None:
        """A keyboard-wedge scan anywhere on the page: a job ticket opens its order's pick list; anything else is a
        part number, issued from the order open now."""
        try:
            number = ro_number_in(text)
        except InvalidScan:
            number = None
        if number is not None:
            self.panels.value = "picks"
            await self.picks.open(number)
            return
        await self.picks.scan(text)

    async def draw_back_orders(self) -> None:
        t = self.t
        try:
            lines = await io(self.page.parts.counter.back_orders)
        except DomainError as exc:
            ui.notify(exc.message(t.lang), type="negative")
            return
        today = self.page.clock.today()
        self.back_box.clear()
        with self.back_box:
            ui.label(t("parts.back.title")).classes("text-lg font-bold")
            if not lines:
                ui.label(t("parts.back.empty")).classes("text-grey-7 text-lg").mark("back-orders-empty")
                return
            with ui.grid(columns="9rem 7rem 9rem 1fr 4rem 7rem 8rem 7rem").classes(
                    "w-full items-center gap-x-3 gap-y-1"):
                for key in ("col_order", "col_plate"):
                    ui.label(t(f"parts.back.{key}")).classes("text-grey-7 text-sm")
                for key in ("col_number", "col_name", "col_quantity", "col_eta"):
                    ui.label(t(f"parts.list.{key}")).classes("text-grey-7 text-sm")
                ui.label(t("parts.back.col_promised")).classes("text-grey-7 text-sm")
                ui.label("")
                for line in lines:
                    ui.link(line.repair_order).classes("font-mono cursor-pointer").on(
                        "click", lambda _e, n=line.repair_order: self.open_order(n))
                    ui.label(line.plate)
                    ui.label(line.number).classes("font-mono")
                    ui.label(line.name).classes("truncate")
                    ui.label(f"{line.to_issue:g}")
                    late = line.eta is not None and line.eta < today
                    ui.label(line.eta.strftime("%m-%d") if line.eta else "").classes(
                        "text-negative font-bold" if late else "text-orange-9 font-bold")
                    ui.label(self.picks.promise(line.promised_at))
                    ui.button(t("parts.back.arrived"), icon="move_to_inbox",
                              on_click=lambda _e, lid=line.id: self.arrived(lid)).props("unelevated dense") \
                        .classes("bg-positive").mark("arrived", f"arrived-{line.id}")

    async def open_order(self, number: str) -> None:
        self.panels.value = "picks"
        await self.picks.open(number)

    async def arrived(self, line_id: int) -> None:
        try:
            line = await io(self.page.parts.counter.arrived, line_id, actor=self.user.actor)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return
        ui.notify(self.t("parts.back.arrived_done", number=line.number, order=line.repair_order), type="positive",
                  multi_line=True)
        await self.refresh()

