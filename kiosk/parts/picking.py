"""The pick lists tab of /parts: the orders with parts to pick (earliest promise first) on the left, the chosen
order's pick list on the right: each part with issue, short (back-order with an ETA) and return, a scan field
(a keyboard-wedge scanner types the part number and Enter), and a part added to a job line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.services.audit import Actor
    from shopfloor.services.parts.counter import CounterService, PartsLineInfo, PickList

# the colour of each parts status, on the chips and the order cards (our own words only: never a value's text)
STATUS_CLASSES = {"to_pick": "bg-blue-7 text-white", "back_order": "bg-orange-8 text-white",
                  "issued": "bg-positive text-white", "returned": "bg-grey-6 text-white"}
# an order's status as the advisor sees it, in the card's corner
ORDER_STATUS_CLASSES = {"on_hold": "text-orange-9", "in_progress": "text-primary"}


def status_chip(t: Translator, status: str) -> ui.badge:
    return ui.badge(t(f"parts.status.{status}")).classes(STATUS_CLASSES.get(status, "bg-grey-5") + " text-sm px-2")


class PickPane:
    def __init__(self, counter: CounterService, clock: SiteClock, t: Translator, actor: Actor) -> None:
        self.counter = counter
        self.clock = clock
        self.t = t
        self.actor = actor
        self.current: str | None = None
        self.shown: PickList | None = None
        self.on_changed: Callable[[], Awaitable[None]] | None = None

    def build(self) -> None:
        with ui.row().classes("w-full no-wrap gap-3 items-start"):
            with ui.column().classes("w-[330px] shrink-0 gap-2"):
                ui.label(self.t("parts.picks.title")).classes("text-base font-bold")
                self.list_box = ui.scroll_area().classes("w-full h-[590px]").mark("parts-pick-lists")
            self.detail_box = ui.card().classes("grow min-w-0 h-[630px] overflow-auto").mark("parts-pick-list")
        # dialogs live outside the lists: a refresh (the timer, another clerk's change) does not close the one in use
        self.dialog_host = ui.element("div")
        with self.detail_box:
            ui.label(self.t("parts.picks.choose")).classes("text-grey-7 text-lg")

    def promise(self, moment: datetime | None) -> str:
        if moment is None:
            return self.t("parts.picks.no_promise")
        local = moment.astimezone(self.clock.tz)
        return f"{local:%H:%M}" if local.date() == self.clock.today() else f"{local:%m-%d %H:%M}"

    # -- the list of orders ------------------------------------------------------------------------------------
    async def refresh(self) -> None:
        try:
            orders = await io(self.counter.pick_lists)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        t = self.t
        self.list_box.clear()
        with self.list_box:
            if not orders:
                ui.label(t("parts.picks.empty")).classes("text-grey-7 text-lg").mark("pick-lists-empty")
            for o in orders:
                chosen = o.number == self.current
                card = ui.card().classes("w-full p-2 gap-1 cursor-pointer " +
                                         ("bg-blue-1 border-2 border-primary" if chosen else "")).mark("pick-order")
                card.on("click", lambda _e, n=o.number: self.open(n))
                with card:
                    with ui.row().classes("w-full items-center no-wrap gap-2"):
                        ui.label(o.number).classes("font-mono font-bold")
                        ui.space()
                        ui.label(t(f"status.{o.status}")).classes(
                            "text-sm " + ORDER_STATUS_CLASSES.get(o.status, "text-grey-8"))
                    with ui.row().classes("w-full items-center no-wrap gap-2"):
                        ui.label(o.plate).classes("font-bold")
                        ui.label(o.vehicle_model).classes("text-grey-8 truncate")
                        ui.space()
                        ui.label(t("parts.picks.promised", time=self.promise(o.promised_at))).classes("text-sm")
                    with ui.row().classes("w-full items-center gap-2"):
                        if o.to_pick:
                            ui.badge(t("parts.picks.to_pick", count=o.to_pick)).classes(STATUS_CLASSES["to_pick"])
                        if o.back_order:
                            ui.badge(t("parts.picks.back_order", count=o.back_order)).classes(
                                STATUS_CLASSES["back_order"])
                        if o.eta:
                            ui.label(t("parts.picks.eta", eta=f"{o.eta:%m-%d}")).classes("text-sm text-orange-9")
                        if o.technician:
                            ui.space()
                            ui.label(t("parts.picks.technician", name=o.technician)).classes("text-sm text-grey-8")
        if self.current is not None:
            await self.open(self.current, quiet=True)

    # -- one order's pick list ---------------------------------------------------------------------------------
    async def open(self, number: str, *, quiet: bool = False) -> None:
        try:
            pick = await io(self.counter.pick_list, number)
        except DomainError as exc:
            if not quiet:
                ui.notify(exc.message(self.t.lang), type="negative")
            return
        first = self.current != pick.number
        self.current, self.shown = pick.number, pick
        self._draw(pick)
        if first and not quiet:
            await self.refresh()

    def _draw(self, pick: PickList) -> None:
        t = self.t
        self.detail_box.clear()
        with self.detail_box:
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                ui.label(t("parts.list.title", number=pick.number)).classes("text-xl font-bold").mark("pick-title")
                ui.label(pick.plate).classes("text-xl font-bold")
                ui.label(pick.vehicle_model).classes("text-grey-8")
                ui.space()
                ui.label(t("parts.picks.promised", time=self.promise(pick.promised_at)))
            ui.label(t("parts.list.customer", customer=pick.customer, advisor=pick.advisor)).classes("text-grey-8")
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                self.scan_field = ui.input(t("parts.list.scan_label")).props("outlined dense clearable autofocus") \
                    .classes("grow").mark("part-scan")
                self.scan_field.on("keydown.enter", self._typed)
                ui.button(t("parts.list.add"), icon="add", on_click=self._add_dialog).props("outline") \
                    .mark("part-add")
            ui.label(t("parts.list.scan_hint")).classes("text-grey-7 text-sm")
            if not pick.lines:
                ui.label(t("parts.list.no_lines")).classes("text-grey-7 text-lg pt-4")
                return
            with ui.grid(columns="8.5rem minmax(0,1fr) 3rem 3.5rem 4.5rem 6rem 4.5rem 11rem").classes(
                    "w-full items-center gap-x-2 gap-y-2 pt-2"):
                for key in ("col_number", "col_name", "col_quantity", "col_issued", "col_returned", "col_status",
                            "col_stock", "col_actions"):
                    ui.label(t(f"parts.list.{key}")).classes("text-grey-7 text-sm")
                for line in pick.lines:
                    self._row(line)

    def _row(self, line: PartsLineInfo) -> None:
        t = self.t
        ui.label(line.number or "—").classes("font-mono")
        with ui.column().classes("gap-0 min-w-0 overflow-hidden"):
            ui.label(line.name).classes("w-full font-bold truncate")
            ui.label(line.job_line).classes("w-full text-xs text-grey-7 truncate")
        ui.label(f"{line.quantity:g}")
        ui.label(f"{line.issued:g}")
        ui.label(f"{line.returned:g}" if line.returned else "")
        with ui.column().classes("gap-0"):
            status_chip(t, line.status).mark("parts-status")
            if line.eta:
                ui.label(t("parts.picks.eta", eta=f"{line.eta:%m-%d}")).classes("text-xs text-orange-9")
        short = line.stock is not None and line.stock < line.to_issue
        ui.label(t("parts.list.not_catalogued") if line.stock is None else f"{line.stock:g}").classes(
            "text-negative font-bold" if short else "text-xs text-grey-7" if line.stock is None else "")
        with ui.row().classes("gap-1 no-wrap"):
            if line.status == "to_pick":
                ui.button(t("parts.list.issue"), on_click=lambda _e, x=line: self._issue(x)) \
                    .props("unelevated dense").classes("px-2").mark("issue")
                ui.button(t("parts.list.short"), on_click=lambda _e, x=line: self._short_dialog(x)) \
                    .props("outline dense color=orange-9").classes("px-2").mark("short")
            if line.returnable > 0:
                ui.button(t("parts.list.give_back"), on_click=lambda _e, x=line: self._return_dialog(x)) \
                    .props("outline dense color=grey-8").classes("px-2").mark("give-back")

    # -- actions -------------------------------------------------------------------------------------------------
    async def _done(self, message: str) -> None:
        ui.notify(message, type="positive", multi_line=True)
        if self.on_changed is not None:
            await self.on_changed()

    def _refused(self, exc: DomainError) -> None:
        ui.notify(exc.message(self.t.lang), type="negative", multi_line=True, position="center", classes="text-lg")

    async def _typed(self) -> None:
        text = str(self.scan_field.value or "").strip()
        self.scan_field.value = ""
        if text:
            await self.scan(text)

    async def scan(self, code: str) -> None:
        if self.current is None:
            ui.notify(self.t("parts.picks.choose"), type="warning")
            return
        try:
            line = await io(self.counter.scan, self.current, code, actor=self.actor)
        except DomainError as exc:
            self._refused(exc)
            return
        await self._done(self.t("parts.list.issued_done", number=line.number, name=line.name,
                                quantity=f"{line.issued:g}"))

    async def _issue(self, line: PartsLineInfo) -> None:
        try:
            done = await io(self.counter.issue, line.id, actor=self.actor)
        except DomainError as exc:
            self._refused(exc)
            return
        await self._done(self.t("parts.list.issued_done", number=done.number, name=done.name,
                                quantity=f"{line.to_issue:g}"))

    def _dialog(self) -> ui.dialog:
        self.dialog_host.clear()
        with self.dialog_host:
            return ui.dialog().props("persistent")

    def _short_dialog(self, line: PartsLineInfo) -> None:
        t = self.t
        tomorrow: date = self.clock.today() + timedelta(days=1)
        with self._dialog() as dialog, ui.card().classes("w-[520px] gap-3").mark("short-dialog"):
            ui.label(t("parts.list.short_title", number=line.number, name=line.name)).classes("text-lg font-bold")
            ui.label(t("parts.list.short_hint")).classes("text-grey-8")
            eta = ui.input(t("parts.list.eta"), value=tomorrow.isoformat()).props("type=date outlined") \
                .classes("w-full").mark("short-eta")

            async def confirm() -> None:
                try:
                    when = date.fromisoformat(str(eta.value))
                    done = await io(self.counter.back_order, line.id, when, actor=self.actor)
                except ValueError:
                    ui.notify(t("parts.error.eta_past", eta=str(eta.value)), type="negative")
                    return
                except DomainError as exc:
                    self._refused(exc)
                    return
                dialog.close()
                await self._done(t("parts.list.back_ordered", number=done.number, eta=f"{when:%m-%d}"))

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("parts.list.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("parts.list.confirm"), on_click=confirm).props("unelevated color=orange-9") \
                    .mark("short-confirm")
        dialog.open()

    def _return_dialog(self, line: PartsLineInfo) -> None:
        t = self.t
        with self._dialog() as dialog, ui.card().classes("w-[420px] gap-3").mark("return-dialog"):
            ui.label(t("parts.list.return_title", number=line.number, name=line.name)).classes("text-lg font-bold")
            amount = ui.number(t("parts.list.quantity"), value=line.returnable, min=0.01, max=line.returnable,
                               step=1).props("outlined").classes("w-full").mark("return-quantity")

            async def confirm() -> None:
                try:
                    done = await io(self.counter.give_back, line.id, amount.value or 0, actor=self.actor)
                except DomainError as exc:
                    self._refused(exc)
                    return
                dialog.close()
                await self._done(t("parts.list.returned_done", number=done.number, quantity=f"{amount.value:g}"))

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("parts.list.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("parts.list.confirm"), on_click=confirm).props("unelevated").mark("return-confirm")
        dialog.open()

    def _add_dialog(self) -> None:
        pick = self.shown
        if pick is None or not pick.job_lines:
            return
        t = self.t
        with self._dialog() as dialog, ui.card().classes("w-[520px] gap-3").mark("add-dialog"):
            ui.label(t("parts.list.add_title", number=pick.number)).classes("text-lg font-bold")
            job = ui.select(dict(pick.job_lines), value=pick.job_lines[0][0], label=t("parts.list.job_line")) \
                .props("outlined").classes("w-full")
            number = ui.input(t("parts.list.part_number")).props("outlined").classes("w-full").mark("add-number")
            amount = ui.number(t("parts.list.quantity"), value=1, min=0.01, step=1).props("outlined") \
                .classes("w-full")

            async def confirm() -> None:
                try:
                    done = await io(self.counter.add, pick.number, int(job.value), str(number.value or ""),
                                    amount.value or 0, actor=self.actor)
                except DomainError as exc:
                    self._refused(exc)
                    return
                dialog.close()
                await self._done(t("parts.list.added", number=done.number, name=done.name))

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("parts.list.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("parts.list.confirm"), on_click=confirm).props("unelevated").mark("add-confirm")
        dialog.open()
