"""Parts pre-pick (domain.md §2: parts picked and labelled with plate + date the day before): the day's list, a
label per appointment on the parts printer (or another), each printer's status as its agent reports it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.i18n import Translator
from shopfloor.kiosk.calls.common import CallTab, DayPicker, call, flag_chips, parts_badge, short_when
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.printer_choice import COLOURS, PrinterChoice
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.services.day_prep import DayPrepService, day_text

if TYPE_CHECKING:
    from shopfloor.services.printing import PrintJobInfo, PrintService

LABEL_COLOURS = {"pending": "orange-9", "printed": "positive", "uncertain": "negative", "failed": "negative",
                 "superseded": "grey", "moved": "grey"}


class PartsTab(CallTab):
    def __init__(self, prep: DayPrepService, printing: PrintService, printers: PrinterChoice, today: date,
                 t: Translator, user: KioskUser) -> None:
        super().__init__(prep, today, t, user)
        self.printing = printing
        self.printers = printers
        self.rows: list[dict[str, Any]] = []
        self.default_printer = prep.parts_printer()

    async def build(self) -> None:
        t = self.t
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            DayPicker(t, self.day, self.today, self._day_changed, earliest=self.today, marker="pick-day")
            self.printer_badges = ui.row().classes("items-center gap-2 no-wrap").mark("printer-status")
        with ui.row().classes("w-full items-center gap-3 no-wrap"):
            self.all_printer = ui.select(self.printers.options(t), value=self.default_printer,
                                         label=t("calls.pick.printer"), on_change=self._warn_if_not_ready) \
                .props("outlined").classes("w-72")
            self.print_all = ui.button(t("calls.pick.print_all", count=0), icon="print", on_click=self._print_all) \
                .props("unelevated size=lg").mark("print-all")
            self.summary = ui.label("").classes("text-grey-8")
        self.list = ui.column().classes("w-full gap-2").mark("pick-list").props("data-testid=pick-list")
        self._render_printers()
        ui.timer(5.0, self._render_printers)
        # Subscribed inside the page: NiceGUI drops the subscription when this client goes away.
        self.printing.settled.subscribe(self._print_settled)
        await self.refresh()

    async def _print_settled(self, job: PrintJobInfo) -> None:
        """An agent printed (or failed) a label: show it, once a burst of acknowledgements is over."""
        if job.ro_number is None:
            await self._refresh_after_burst()

    async def _day_changed(self, day: date) -> None:
        await super()._day_changed(day)
        await self.refresh()

    def _render_printers(self) -> None:
        self.printer_badges.clear()
        with self.printer_badges:
            ui.label(self.t("calls.pick.printers")).classes("text-grey-8")
            for p in self.printers.printers:
                status = self.printers.status(p.name)
                badge = ui.badge(f"{p.label or p.name} · {self.t('printer_status.' + status)}",
                                 color=COLOURS.get(status, "grey")).classes("text-sm px-2 py-1")
                set_attrs(badge, data_printer=p.name, data_printer_status=status)

    def _warn_if_not_ready(self, e: Any) -> None:
        self.printers.warn_if_not_ready(self.t, e.value)

    async def refresh(self) -> None:
        rows = await call(self.t, self.prep.pre_pick, self.day)
        if rows is None:
            return
        self.rows = rows
        self.print_all.text = self.t("calls.pick.print_all", count=len(rows))
        self.print_all.set_enabled(bool(rows))
        late = sum(1 for r in rows if r["late_parts"])
        unlabelled = sum(1 for r in rows if r["label"] is None)
        self.summary.text = self.t("calls.pick.summary", unlabelled=unlabelled, late=late)
        self._draw(rows, "inventory_2", self.t("calls.pick.empty", day=day_text(self.t.lang, self.day)))

    def _row(self, row: dict[str, Any]) -> None:
        t = self.t
        card = set_attrs(ui.card().classes("w-full py-2 px-3").props("flat bordered"),
                         data_appointment=row["id"], data_plate=row["plate"])
        if row["late_parts"]:
            card.classes("bg-orange-1")
        with card, ui.row().classes("w-full items-center no-wrap gap-3"):
            ui.label(row["time"]).classes("text-2xl font-bold w-16 shrink-0")
            with ui.column().classes("gap-0 w-44 shrink-0"):
                ui.label(row["plate_display"]).classes("text-xl font-bold whitespace-nowrap")
                ui.label(f"{row['customer']} · {row['advisor']['name']}").classes("text-grey-8 whitespace-nowrap")
            with ui.column().classes("gap-1 grow min-w-0"):
                with ui.row().classes("items-center gap-1"):
                    if row["part_numbers"]:
                        for number in row["part_numbers"]:
                            ui.label(number).classes("font-mono text-base bg-grey-2 rounded px-2")
                    else:
                        ui.label(t("calls.pick.no_numbers")).classes("text-orange-9")
                with ui.row().classes("items-center gap-1"):
                    ui.label(row["work"]).classes("text-grey-8 truncate pr-1")
                    parts_badge(t, row["parts"])
                    flag_chips(t, [f for f in row["flags"] if f in ("late_parts", "waiting_customer")])
            with ui.column().classes("gap-1 items-end shrink-0"):
                label = row["label"]
                if label is None:
                    ui.label(t("calls.pick.no_label")).classes("text-sm text-grey-7").props('data-label-status=""')
                else:
                    badge = ui.badge(t("calls.pick.label_status", status=t(f"print.{label['status']}"),
                                       when=short_when(label["at"], self.today)),
                                     color=LABEL_COLOURS.get(label["status"], "grey")).classes("text-sm")
                    set_attrs(badge, data_label_status=label["status"])
                with ui.row().classes("items-center gap-1 no-wrap"):
                    select = ui.select(self.printers.options(t), value=self.default_printer,
                                       on_change=self._warn_if_not_ready).props("outlined dense options-dense") \
                        .classes("w-56")
                    ui.button(t("calls.pick.print"), icon="label",
                              on_click=lambda r=row, s=select: self._print_one(r, s.value)) \
                        .props("outline").mark("print-one")

    async def _print_one(self, row: dict[str, Any], printer: str) -> None:
        jobs = await call(self.t, self.prep.print_pick_labels, appointment_ids=[row["id"]], printer=printer,
                          actor=self.user.actor)
        self._sent(jobs, printer)
        await self.refresh()

    async def _print_all(self) -> None:
        printer = self.all_printer.value
        # the day's list as it is now (a card cancelled since this screen loaded gets no label)
        jobs = await call(self.t, self.prep.print_pick_labels, day=self.day, printer=printer, actor=self.user.actor)
        self._sent(jobs, printer)
        await self.refresh()

    def _sent(self, jobs: list[PrintJobInfo] | None, printer: str) -> None:
        if not jobs:
            return
        ui.notify(self.t("calls.pick.sent", count=len(jobs), printer=self.printers.label(printer)), type="positive")
