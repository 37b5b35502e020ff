"""The chosen car on the delivery desk: its completion check, telling the customer, the walk with the next service,
delivering, the sheet, and the manager's reopen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.kiosk.reception.estimate_format import moment
from shopfloor.services.settlement.delivery import CONDITIONAL, CONFIRMED, WALK

if TYPE_CHECKING:
    from shopfloor.kiosk.delivery.page import Desk
    from shopfloor.services.settlement.delivery import CompletionView


class OrderPane:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.t = desk.t
        self.ticks: dict[str, ui.checkbox] = {}
        self.walk: dict[str, ui.checkbox] = {}

    def build(self) -> None:
        self.box = ui.column().classes("w-full gap-2").mark("delivery-order")
        with self.box:
            ui.label(self.t("delivery.page.pick")).classes("text-grey-7 text-lg mt-8")

    def refused(self, text: str) -> None:
        if not self.box.is_deleted and hasattr(self, "error") and not self.error.is_deleted:
            self.error.text = text
            self.error.set_visibility(True)

    def draw(self, v: CompletionView) -> None:
        from shopfloor.kiosk.delivery.page import status_badge

        t, clock = self.t, self.desk.page.clock
        self.box.clear()
        self.ticks, self.walk = {}, {}
        with self.box:
            with ui.row().classes("w-full items-baseline gap-3 no-wrap"):
                ui.label(v.plate).classes("text-2xl font-bold")
                status_badge(t, v.status)
                ui.label(f"{v.number} · {v.customer}").classes("text-grey-7 truncate")
                ui.label(t("delivery.page.settled") if v.settled else t("delivery.page.unpaid")).classes(
                    "ml-auto font-bold " + ("text-positive" if v.settled else "text-orange-9")).mark("settled-state")
            self.error = ui.label("").classes("w-full p-2 rounded bg-red-1 text-negative font-bold") \
                .mark("delivery-refused")
            self.error.set_visibility(False)
            with ui.row().classes("w-full gap-3 no-wrap items-start"):
                with ui.card().classes("flex-1 gap-1").props("flat bordered"):
                    self._completion(v)
                with ui.card().classes("flex-1 gap-1").props("flat bordered"):
                    if v.status == "delivered":
                        self._delivered(v, clock)
                    else:
                        self._walk(v)

    # -- the completion check ----------------------------------------------------------------------------------------
    def _completion(self, v: CompletionView) -> None:
        t, clock = self.t, self.desk.page.clock
        ui.label(t("delivery.page.completion")).classes("text-lg font-bold")
        open_ = v.status != "delivered"
        if open_:
            self.wash = ui.switch(t("delivery.page.wash_ordered"), value=bool(v.wash_ordered)).mark("wash-ordered")
        for item in v.items:
            box = ui.checkbox(t(f"delivery.item.{item.key}"), value=item.checked).mark(f"item-{item.key}")
            if item.locked or not open_:
                box.disable()
            else:
                self.ticks[item.key] = box
        if v.checked_at:
            ui.label(f"{v.checked_by} · {moment(v.checked_at, clock)}").classes("text-xs text-grey-7")
        if open_:
            with ui.row().classes("gap-2"):
                ui.button(t("delivery.page.save_check"), icon="checklist", on_click=self.save_check) \
                    .props("outline").mark("save-check")
                notify = ui.button(t("delivery.page.notify"), icon="sms", on_click=self.notify).mark("notify")
                # told once per order (a second tap sent nothing, and said nothing either): greyed once told
                if not v.passed or v.status != "ready" or v.customer_notified_at:
                    notify.disable()
        ui.label(t("delivery.page.notified", time=moment(v.customer_notified_at, clock)) if v.customer_notified_at
                 else t("delivery.page.not_notified")).classes("text-sm text-grey-8").mark("notified-state")

    async def save_check(self) -> None:
        d = self.desk
        assert d.view is not None
        items = {key: bool(box.value) for key, box in self.ticks.items() if key in CONDITIONAL + CONFIRMED}
        done = await d.call(d.delivery.check_completion, d.view.number, items, actor=d.user.actor,
                            wash_ordered=bool(self.wash.value))
        if done is not None:
            d.say(self.t("delivery.page.saved"), "positive")
        await d.reload()

    async def notify(self) -> None:
        d = self.desk
        assert d.view is not None
        told = await d.call(d.delivery.notify_ready, d.view.number, actor=d.user.actor)
        if told is not None and told.customer_notified_at:
            d.say(self.t("delivery.page.notified", time=moment(told.customer_notified_at, d.page.clock)), "positive")
        await d.reload()

    # -- the walk and the delivery -----------------------------------------------------------------------------------
    def _next_service(self, v: CompletionView) -> None:
        ns = v.next_service
        if ns is None:
            return
        t = self.t
        text = (t("delivery.page.next_service", date=ns.on.isoformat(), km=f"{ns.km:,}") if ns.km is not None
                else t("delivery.page.next_service_no_km", date=ns.on.isoformat()))
        ui.label(text).classes("text-xl font-bold text-primary").mark("next-service")
        ui.label(ns.explain(t.lang)).classes("text-xs text-grey-7").mark("next-service-basis")

    def _walk(self, v: CompletionView) -> None:
        t = self.t
        ui.label(t("delivery.page.walk")).classes("text-lg font-bold")
        for key in WALK:
            self.walk[key] = ui.checkbox(t(f"delivery.walk.{key}")).mark(f"walk-{key}")
        self._next_service(v)
        with ui.row().classes("w-full items-center gap-2 mt-2"):
            self.printer = self.desk.page.printers.select(t, t("delivery.page.printer")).classes("w-56")
            ui.button(t("delivery.page.deliver"), icon="key", on_click=self.deliver).props("color=positive") \
                .classes("text-lg").mark("deliver")

    async def deliver(self) -> None:
        d = self.desk
        assert d.view is not None
        walk = {key: bool(box.value) for key, box in self.walk.items()}
        printer = str(self.printer.value) if self.printer.value else None
        done = await d.call(d.delivery.deliver, d.view.number, walk, actor=d.user.actor, printer=printer)
        if done is not None and printer:
            d.say(self.t("delivery.page.printed", printer=d.page.printers.label(printer)), "positive")
        if done is not None:
            await d.reload()

    def _delivered(self, v: CompletionView, clock: object) -> None:
        t = self.t
        ui.label(t("delivery.page.delivered", time=moment(v.delivered_at, self.desk.page.clock),
                   by=v.delivered_by or "—")).classes("text-lg font-bold").mark("delivered-state")
        self._next_service(v)
        with ui.row().classes("w-full items-center gap-2 mt-2"):
            self.printer = self.desk.page.printers.select(t, t("delivery.page.printer")).classes("w-56")
            ui.button(t("delivery.page.print_sheet"), icon="print", on_click=self.print_sheet).props("outline") \
                .mark("print-sheet")
        if self.desk.may_reopen():
            ui.button(t("delivery.page.reopen"), icon="undo", on_click=self.ask_reopen).props("color=negative flat") \
                .mark("reopen")

    async def print_sheet(self) -> None:
        d = self.desk
        assert d.view is not None
        printer = str(self.printer.value)
        job = await d.call(d.delivery.print_sheet, d.view.number, printer, actor=d.user.actor)
        if job is not None:
            d.say(self.t("delivery.page.printed", printer=d.page.printers.label(printer)), "positive")

    def ask_reopen(self) -> None:
        t, d = self.t, self.desk
        with d.host, ui.dialog() as dialog, ui.card().classes("w-[480px]").mark("reopen-dialog"):
            ui.label(t("delivery.page.reopen_title")).classes("text-lg font-bold")
            reason = ui.input(t("delivery.page.reopen_reason")).props("outlined maxlength=200") \
                .classes("w-full").mark("reopen-reason")

            async def confirm() -> None:
                assert d.view is not None
                done = await d.call(d.delivery.reopen, d.view.number, str(reason.value or ""), actor=d.user.actor)
                if done is not None:
                    dialog.close()
                    d.say(t("delivery.page.reopen_done"), "positive")
                    await d.reload()

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("delivery.page.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("delivery.page.reopen"), on_click=confirm).props("color=negative") \
                    .mark("reopen-confirm")
        dialog.open()
