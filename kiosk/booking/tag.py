"""The vehicle's QR tag on the booking page: shown at once when a new customer's car gets its tag, and from the vehicle
card at any time. The QR is drawn on the server (nothing of the token goes into markup); the tag prints as a label
on a receipt printer through the print queue, or on paper from the browser (only the tag card is printed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.kiosk.workshop.badges import qr_data_url

if TYPE_CHECKING:
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.printing import PrintJobInfo, PrintService
    from shopfloor.services.tag_labels import TagLabelService

# Printing on paper prints the tag card alone, about the size of a key tag, wherever it sits on the page.
CSS = """
@media print {
  body.printing-tag * { visibility: hidden !important; }
  body.printing-tag .tag-print, body.printing-tag .tag-print * { visibility: visible !important; }
  body.printing-tag .tag-print { position: fixed; left: 0; top: 0; width: 100mm; border: 1px dashed #888;
    padding: 3mm; background: white; }
  body.printing-tag .tag-plate { font-size: 8mm; }
  @page { margin: 10mm; }
}
"""
PRINT_JS = "document.body.classList.add('printing-tag'); window.print(); " \
           "setTimeout(() => document.body.classList.remove('printing-tag'), 500);"


class TagDialog:
    """One per page: built where the page is built, so a redrawn panel does not take an open dialog with it."""

    def __init__(self, tags: TagLabelService, printing: PrintService, printers: PrinterChoice, t: Translator,
                 user: KioskUser) -> None:
        self.tags = tags
        self.printing = printing
        self.printers = printers
        self.t = t
        self.user = user
        self.jobs: set[int] = set()
        ui.add_css(CSS)
        self.host = ui.element("div")
        # the agent's answer about our labels; dropped with the page
        printing.settled.subscribe(self._settled)

    async def open(self, vehicle_id: int, *, new: bool = False) -> None:
        t = self.t
        try:
            facts = await io(self.tags.tag_of, vehicle_id)
        except DomainError as exc:
            ui.notify(exc.message(t.lang), type="negative", multi_line=True)
            return
        qr = qr_data_url(facts["token"])
        self.host.clear()
        with self.host, ui.dialog() as dialog, ui.card().classes("w-[40rem] gap-3").mark("tag-dialog") \
                .props("data-testid=tag-dialog"):
            title = t("booking_page.tag.new_title" if new else "booking_page.tag.title", plate=facts["plate_display"])
            ui.label(title).classes("text-xl font-bold")
            with ui.row().classes("tag-print w-full items-center no-wrap gap-4 rounded border p-2"):
                ui.image(qr).props("no-spinner no-transition fit=contain").classes("shrink-0") \
                    .style("width: 40mm; height: 40mm").mark("tag-qr").props("data-testid=tag-qr")
                with ui.column().classes("gap-1 min-w-0"):
                    ui.label(facts["plate_display"]).classes("text-3xl font-bold whitespace-nowrap tag-plate") \
                        .mark("tag-plate")
                    ui.label(" · ".join(x for x in (facts["customer"], facts["model"]) if x)).classes("text-base")
                    ui.label(facts["token"]).classes("text-xs font-mono text-grey-8 break-all") \
                        .mark("tag-token").props("data-testid=tag-token")
            ui.label(t("booking_page.tag.hint")).classes("text-base text-grey-8")
            if self.printers.printers:
                with ui.row().classes("w-full no-wrap items-center gap-2"):
                    printer = self.printers.select(t, t("kiosk.printer")).classes("grow")
                    ui.button(t("booking_page.tag.print_label"), icon="print",
                              on_click=lambda: self._print(vehicle_id, printer.value)) \
                        .props("unelevated size=lg").mark("tag-print-label").props("data-testid=tag-print-label")
            else:
                ui.label(t("booking_page.tag.no_printer")).classes("text-base text-orange-9")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("booking_page.tag.print_paper"), icon="description",
                          on_click=lambda: ui.run_javascript(PRINT_JS)) \
                    .props("outline").mark("tag-print-paper").props("data-testid=tag-print-paper")
                ui.button(t("booking_page.tag.close"), on_click=dialog.close).props("unelevated") \
                    .mark("tag-close").props("data-testid=tag-close")
        dialog.open()

    async def _print(self, vehicle_id: int, printer: Any) -> None:
        try:
            job = await io(self.tags.print_label, vehicle_id, str(printer), self.user.actor)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return
        self.jobs.add(job.id)
        ui.notify(self.t("booking_page.tag.printing"), type="info")

    def _settled(self, job: PrintJobInfo) -> None:
        if job.id not in self.jobs:
            return
        if job.status == "printed":
            ui.notify(self.t("booking_page.tag.printed"), type="positive")
        else:
            ui.notify(self.t("booking_page.tag.print_problem", status=self.t(f"print.{job.status}")),
                      type="warning", multi_line=True)
