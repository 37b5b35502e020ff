"""/c/<token>: the customer's own page on their phone (375×812), no login; masked until the plate's last four
characters are proven."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

if TYPE_CHECKING:
    from shopfloor.services.reception.services import ReceptionServices
    from shopfloor.settings import Settings

PATH = "/c"


class CustomerPage:
    def __init__(self, settings: Settings, *, reception: ReceptionServices) -> None:
        self.settings, self.reception = settings, reception

    def register(self, path: str) -> None:
        ui.page(f"{path}/{{token}}", title="shopfloor")(self.build)

    async def build(self, token: str) -> None:
        pass
