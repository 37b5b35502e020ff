"""/cashier: the cashier's settlement desk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame

PATH = "/cashier"


class CashierPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, **services: object) -> None:
        self.frame = frame
        self.clock = clock
        self.services = services

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · cashier")(self.build)

    async def build(self, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, _user = signed_in
        ui.label(t("nav.cashier")).classes("text-h5").mark("cashier-desk")
