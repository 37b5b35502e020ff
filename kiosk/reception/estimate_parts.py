"""A part added to a line of the estimate before the customer signs: a small search over the parts catalogue (number
or name), a quantity, and the part goes on the line at the catalogue's price (EstimateService.add_part, which also
puts it on the parts counter's pick list). A refusal is said in the dialog; nothing is added then."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.reception.estimate_format import money, quantity

if TYPE_CHECKING:
    from shopfloor.kiosk.reception.estimate_page import EstimateDesk
    from shopfloor.services.parts.catalogue import PartInfo
    from shopfloor.services.reception.estimate import EstimateLine

SHOWN = 6  # parts listed for a search: the dialog fits the tablet with its keyboard up
MAX_QUERY = 40


class AddPartDialog:
    def __init__(self, desk: EstimateDesk, line: EstimateLine) -> None:
        self.desk, self.t, self.line = desk, desk.t, line
        self.chosen: PartInfo | None = None
        self.found: list[PartInfo] = []
        self.asked = 0  # the latest search: an earlier one answering late is not drawn

    async def open(self) -> None:
        t = self.t
        with ui.dialog() as self.dialog, ui.card().classes("w-[44rem] gap-3").mark("add-part-dialog"):
            ui.label(t("estimate.part.title", line=self.line.description)).classes("text-xl")
            with ui.row().classes("w-full no-wrap gap-2 items-start"):
                self.query = ui.input(t("estimate.part.search"), on_change=self._search) \
                    .props(f"outlined dense clearable autofocus maxlength={MAX_QUERY} data-testid=part-search") \
                    .classes("grow").mark("part-search")
                self.quantity = ui.input(t("estimate.part.quantity"), value="1") \
                    .props("outlined dense inputmode=decimal data-testid=part-quantity").classes("w-28") \
                    .mark("part-quantity")
            self.results = ui.column().classes("w-full gap-1").style("min-height: 14rem") \
                .props("data-testid=part-results").mark("part-results")
            self.message = ui.label("").classes("text-base text-negative font-medium") \
                .props("data-testid=part-message").mark("part-message")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("estimate.back"), on_click=self.dialog.close).props("flat")
                self.add = ui.button(t("estimate.part.add"), icon="add_shopping_cart", on_click=self._add) \
                    .props("unelevated data-testid=part-add").mark("part-add")
        self._draw_results()
        await self._search()
        await self.dialog

    async def _search(self) -> None:
        self.asked += 1
        asked = self.asked
        text = (self.query.value or "").strip()[:MAX_QUERY]
        found = await io(self.desk.page.catalogue.search, text, SHOWN) if text else []
        if asked != self.asked or self.results.is_deleted:
            return
        self.found = found
        if self.chosen is not None and all(p.number != self.chosen.number for p in found):
            self.chosen = None
        self._draw_results()

    def _draw_results(self) -> None:
        t = self.t
        self.add.set_enabled(self.chosen is not None)
        self.results.clear()
        with self.results:
            if not (self.query.value or "").strip():
                ui.label(t("estimate.part.hint")).classes("text-grey-7 text-base py-2")
                return
            if not self.found:
                ui.label(t("estimate.part.none")).classes("text-grey-7 text-base py-2").mark("part-none")
                return
            for part in self.found:
                chosen = self.chosen is not None and part.number == self.chosen.number
                row = ui.row().classes("w-full items-center no-wrap gap-3 px-3 py-2 rounded cursor-pointer border "
                                       + ("border-primary bg-blue-1" if chosen else "border-gray-200"))
                set_attrs(row, data_testid="part-option", data_part=part.number, data_chosen=chosen)
                row.on("click", lambda _e, p=part: self._choose(p))
                with row:
                    ui.icon("radio_button_checked" if chosen else "radio_button_unchecked",
                            color="primary" if chosen else "grey-6", size="sm")
                    ui.label(part.number).classes("font-mono text-sm text-grey-8 w-36 shrink-0")
                    ui.label(part.name).classes("grow truncate text-base")
                    ui.label(money(part.price)).classes("text-base whitespace-nowrap")
                    ui.label(t("estimate.part.stock", stock=quantity(Decimal(str(part.stock))))) \
                        .classes("text-sm whitespace-nowrap " + ("text-grey-7" if part.stock > 0 else "text-orange-9"))

    def _choose(self, part: PartInfo) -> None:
        self.chosen = part
        self.message.text = ""
        self._draw_results()

    async def _add(self) -> None:
        t, desk, part = self.t, self.desk, self.chosen
        if part is None:
            return
        text = (self.quantity.value or "").strip().replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = Decimal(0)
        if not amount.is_finite() or amount <= 0:
            self.message.text = t("estimate.part.quantity_needed")
            return
        if not frame.allowed(t, desk.user, Permission.RECEPTION):
            return
        self.add.set_enabled(False)
        try:
            await io(desk.reception.estimate.add_part, desk.number, self.line.job_line_id, part.number, amount,
                     actor=desk.user.actor)
        except DomainError as exc:
            self.message.text = exc.message(t.lang)
            self.add.set_enabled(True)
            return
        self.dialog.close()
        desk.say(t("estimate.part.added", part=part.name, quantity=quantity(amount), line=self.line.description),
                 "positive")
        await desk.refresh()
