"""/kiosk/estimate/<number>: the estimate the customer signs on the tablet, its versions, the handover record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.printing import PrintService
    from shopfloor.services.reception.services import ReceptionServices
    from shopfloor.services.repair_orders import RepairOrderService

PATH = "/kiosk/estimate"


class EstimatePage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, printers: PrinterChoice, *, reception: ReceptionServices,
                 repair_orders: RepairOrderService, printing: PrintService) -> None:
        self.frame, self.clock, self.printers = frame, clock, printers
        self.reception, self.repair_orders, self.printing = reception, repair_orders, printing

    def register(self, path: str) -> None:
        ui.page(f"{path}/{{number}}", title="shopfloor · 估价单")(self.build)

    async def build(self, number: str, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
