"""The last tab: the job ticket and the estimate slip on the reception printer, the A4 repair order as a PDF, and
the customer's own page as a QR code to scan on the dealership's Wi-Fi (drawn on the server: the link's token never
goes into markup)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.reception.estimate_format import short_digest
from shopfloor.kiosk.workshop.badges import qr_data_url

if TYPE_CHECKING:
    from shopfloor.kiosk.reception.estimate_page import EstimateDesk, Loaded

KINDS = ("ticket", "estimate", "confirmation", "pick_label", "tag_label")  # PrintJobInfo.kind, named for people
PDF_URL = "/documents/repair-order/{number}.pdf"  # the staff route of the A4 repair order (kiosk documents page)


class OutputTab:
    def __init__(self, desk: EstimateDesk) -> None:
        self.desk, self.t = desk, desk.t
        self.qr: str | None = None

    def build(self) -> None:
        t = self.t
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            with ui.column().classes("w-[58%] gap-3"):
                with ui.card().classes("w-full gap-3").props("flat bordered").mark("output-print"):
                    ui.label(t("estimate.output.print_title")).classes("text-lg font-bold")
                    if self.desk.user.may(Permission.TICKET_PRINT):
                        self.printer = self.desk.page.printers.select(t, t("estimate.output.printer"))
                        self.printer.mark("output-printer")
                        with ui.row().classes("w-full gap-3"):
                            ui.button(t("estimate.output.ticket"), icon="receipt_long", on_click=self._ticket) \
                                .props("unelevated size=lg data-testid=print-ticket").mark("print-ticket")
                            ui.button(t("estimate.output.slip"), icon="request_quote", on_click=self._slip) \
                                .props("unelevated size=lg data-testid=print-estimate").mark("print-estimate")
                    else:
                        ui.label(t("access.printing", roles=frame.roles_with(t, Permission.TICKET_PRINT))) \
                            .classes("text-grey-7")
                    self.jobs = ui.column().classes("w-full gap-0").mark("output-jobs")
                with ui.card().classes("w-full gap-2").props("flat bordered").mark("output-pdf"):
                    ui.label(t("estimate.output.pdf_title")).classes("text-lg font-bold")
                    self.pdf_note = ui.label("").classes("text-base text-grey-8")
                    ui.button(t("estimate.output.pdf"), icon="picture_as_pdf", on_click=self._pdf) \
                        .props("outline size=lg data-testid=open-pdf").mark("open-pdf")
            with ui.card().classes("w-[42%] items-center gap-2").props("flat bordered").mark("output-qr"):
                ui.label(t("estimate.output.qr_title")).classes("text-lg font-bold")
                self.qr_image = ui.image("").props("no-spinner no-transition fit=contain") \
                    .classes("w-64 h-64") \
                    .props("data-testid=customer-qr").mark("customer-qr")
                ui.label(t("estimate.output.qr_hint")).classes("text-base text-center text-grey-9") \
                    .style("text-wrap: balance")

    def draw(self, data: Loaded) -> None:
        t, est = self.t, data.estimate
        if data.link and self.qr is None:
            self.qr = qr_data_url(data.link)
        if self.qr is not None:
            self.qr_image.set_source(self.qr)
        self.pdf_note.text = t("estimate.output.pdf_signed", version=est.version, digest=short_digest(est.digest)) \
            if est.signed else t("estimate.output.pdf_unsigned", version=est.version)
        self.draw_jobs(data)

    def draw_jobs(self, data: Loaded) -> None:
        t = self.t
        self.jobs.clear()
        with self.jobs:
            for job in data.jobs[-4:]:
                paper = t(f"estimate.output.kind.{job.kind}") if job.kind in KINDS else job.kind
                text = f"#{job.id} {self.desk.when(job.created_at)} {paper} · " \
                       f"{self.desk.page.printers.label(job.printer)} · {t('print.' + job.status)}"
                label = ui.label(text + (" · REPRINT" if job.reprint else "")).classes(
                    "text-sm " + ("text-grey-8" if job.status in ("pending", "printed") else "text-negative"))
                set_attrs(label, data_testid="print-job", data_job=job.id, data_status=job.status)
                label.mark(f"print-job-{job.id}")

    async def _ticket(self) -> None:
        t, desk = self.t, self.desk
        if not frame.allowed(t, desk.user, Permission.TICKET_PRINT):
            return
        desk.page.printers.warn_if_not_ready(t, self.printer.value)
        # a ticket was printed at check-in: this one is marked REPRINT, as the kiosk's reprint is
        job = await desk.call(desk.page.printing.print_ticket, desk.number, self.printer.value,
                              actor=desk.user.actor, reprint=None)
        if job is not None:
            desk.say(t("estimate.output.ticket_sent", printer=desk.page.printers.label(job.printer)), "positive")
            await desk.refresh()

    async def _slip(self) -> None:
        t, desk = self.t, self.desk
        if not frame.allowed(t, desk.user, Permission.TICKET_PRINT):
            return
        desk.page.printers.warn_if_not_ready(t, self.printer.value)
        job = await desk.call(desk.page.printing.print_estimate, desk.number, self.printer.value,
                              actor=desk.user.actor)
        if job is not None:
            desk.say(t("estimate.output.slip_sent", printer=desk.page.printers.label(job.printer)), "positive")
            await desk.refresh()

    def _pdf(self) -> None:
        ui.navigate.to(PDF_URL.format(number=self.desk.number), new_tab=True)
