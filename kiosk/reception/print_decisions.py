"""Tickets whose fate is unknown (the transfer broke mid-job) or that failed: a person decides — reprint,
marked REPRINT, or confirm it did print. Nothing prints twice without someone asking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.blocking import io

if TYPE_CHECKING:
    from shopfloor.main import Shopfloor
    from shopfloor.services.printing import PrintJobInfo


class PrintDecisions:
    def __init__(self, system: Shopfloor, t: Translator, actor: str) -> None:
        self.system = system
        self.t = t
        self.actor = actor
        self.container = ui.column().classes("w-full gap-1")

    async def refresh(self) -> None:
        jobs = await io(self.system.printing.needing_decision)
        self.container.clear()
        if not jobs:
            return
        labels = {p.name: p.label or p.name for p in self.system.settings.printers}
        with self.container, ui.card().classes("w-full bg-orange-1").props("flat bordered data-testid=print-decisions"):
            ui.label(self.t("kiosk.decide_title")).classes("text-base font-bold text-orange-10")
            for job in jobs:
                with ui.column().classes("w-full gap-0"):
                    ui.label(f"{job.ro_number or '—'} · {labels.get(job.printer, job.printer)} · "
                             f"{self.t('print.' + job.status)}").classes("text-sm")
                    with ui.row().classes("gap-2"):
                        ui.button(self.t("kiosk.decide_reprint"), icon="print",
                                  on_click=lambda j=job: self._decide(j, "reprint")).props("dense unelevated")
                        if job.status == "uncertain":
                            ui.button(self.t("kiosk.decide_confirm"), icon="check",
                                      on_click=lambda j=job: self._decide(j, "confirm")).props("dense outline")

    async def _decide(self, job: PrintJobInfo, decision: str) -> None:
        try:
            await io(self.system.printing.resolve, job.id, decision, actor=self.actor)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
        await self.refresh()
