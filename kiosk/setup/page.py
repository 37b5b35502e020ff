"""/setup (manager, desk browser or tablet 1280×800): one tab per list of the site's setup, the tabs in the order a
new site fills them in. Each tab is its own class (kiosk/setup/*_tab.py) built by the composition root with the
services it uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

if TYPE_CHECKING:
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.setup.tab import SetupTab

PATH = "/setup"


class SetupPage:
    def __init__(self, frame: StaffFrame, tabs: list[SetupTab]) -> None:
        self.frame = frame
        self.tabs = tabs

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · setup")(self.build)

    async def build(self, lang: str | None = None, tab: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        if not self.tabs:
            return
        keys = [tab_.key for tab_ in self.tabs]
        chosen = tab if tab in keys else keys[0]
        with ui.row().classes("w-full no-wrap items-start gap-0"):
            with ui.tabs(value=chosen).props("vertical dense no-caps active-color=primary indicator-color=primary") \
                    .classes("w-48 shrink-0").mark("setup-tabs") as tabs:
                for tab_ in self.tabs:
                    ui.tab(tab_.key, label=t(f"setup.tab.{tab_.key}"), icon=tab_.icon).mark(f"setup-tab-{tab_.key}")
            with ui.tab_panels(tabs, value=chosen).props("animated=false").classes("grow min-w-0"):
                for tab_ in self.tabs:
                    with ui.tab_panel(tab_.key).classes("p-2").mark(f"setup-panel-{tab_.key}"):
                        await tab_.build(t, user)
