"""/kiosk/walkaround/<number>: the six-position walkaround on the advisor's tablet, in the bay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.services.reception.services import ReceptionServices
    from shopfloor.services.repair_orders import RepairOrderService

PATH = "/kiosk/walkaround"


class WalkaroundPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, *, reception: ReceptionServices,
                 repair_orders: RepairOrderService) -> None:
        self.frame, self.clock, self.reception, self.repair_orders = frame, clock, reception, repair_orders

    def register(self, path: str) -> None:
        ui.page(f"{path}/{{number}}", title="shopfloor · 环车检查")(self.build)

    async def build(self, number: str, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
