"""Tickets whose fate is unknown (the transfer broke mid-job) or that failed: a person decides — reprint,
marked REPRINT, or confirm it did print. Nothing prints twice without someone asking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser

if TYPE_CHECKING:
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.printing import PrintJobInfo, PrintService


class PrintDecisions:
    def __init__(self, printing: PrintService, printers: PrinterChoice, t: Translator, user: KioskUser) -> None:
        self.printing = printing
        self.printers = printers
        self.t = t
        self.user = user
        self.container = ui.column().classes("w-full gap-1")

    async def refresh(self) -> None:
        jobs = await io(self.printing.needing_decision)
        self.container.clear()
        if not jobs:
            return
        may_decide = self.user.may(Permission.TICKET_PRINT)
        with self.container, ui.card().classes("w-full bg-orange-1").props("flat bordered data-testid=print-decisions"):
            ui.label(self.t("kiosk.decide_title")).classes("text-base font-bold text-orange-10")
            if not may_decide:
                ui.label(self.t("access.printing", roles=frame.roles_with(self.t, Permission.TICKET_PRINT))) \
                    .classes("text-sm text-grey-8")
            for job in jobs:
                with ui.column().classes("w-full gap-0"):
                    ui.label(f"{job.ro_number or '—'} · {self.printers.label(job.printer)} · "
                             f"{self.t('print.' + job.status)}").classes("text-sm")
                    if not may_decide:
                        continue
                    with ui.row().classes("gap-2"):
                        ui.button(self.t("kiosk.decide_reprint"), icon="print",
                                  on_click=lambda j=job: self._decide(j, "reprint")).props("dense unelevated")
                        if job.status == "uncertain":
                            ui.button(self.t("kiosk.decide_confirm"), icon="check",
                                      on_click=lambda j=job: self._decide(j, "confirm")).props("dense outline")

    async def _decide(self, job: PrintJobInfo, decision: str) -> None:
        if not frame.allowed(self.t, self.user, Permission.TICKET_PRINT):
            return
        try:
            await io(self.printing.resolve, job.id, decision, actor=self.user.actor)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
        await self.refresh()
