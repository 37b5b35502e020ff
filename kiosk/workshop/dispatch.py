"""/workshop/dispatch: the foreman's job progress board (服务进程控制看板): technicians × the hours of the day."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

if TYPE_CHECKING:
    from shopfloor.kiosk.common.frame import StaffFrame

PATH = "/workshop/dispatch"


class DispatchPage:
    def __init__(self, frame: StaffFrame) -> None:
        self.frame = frame

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · dispatch")(self.build)

    async def build(self, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, _ = signed_in
        ui.label(t("nav.dispatch")).classes("text-2xl font-bold")
