"""/calls: the customer-service and advisor desk for the day before and the day of — confirmation calls, the parts
pre-pick and its labels, no-shows to call back and rebook, and the 招揽 call lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.kiosk.calls.confirm import CallsTab
from shopfloor.kiosk.calls.noshows import NoShowsTab
from shopfloor.kiosk.calls.parts import PartsTab
from shopfloor.kiosk.calls.solicit import SolicitationTab
from shopfloor.kiosk.common import frame
from shopfloor.services.day_prep import DayPrepService

if TYPE_CHECKING:
    from shopfloor.main import Shopfloor

TABS = (("calls", "call"), ("parts", "inventory_2"), ("no_shows", "event_busy"), ("solicitation", "campaign"))


class CallsPage:
    def __init__(self, system: Shopfloor) -> None:
        self.system = system
        self.prep = DayPrepService(system.ctx, system.printing, system.booking)

    def register(self, path: str) -> None:
        ui.button.default_props("no-caps")
        ui.page(path, title="shopfloor · calls")(self.build)

    async def build(self, lang: str | None = None, tab: str | None = None) -> None:
        staff = await frame.staff_page(self.system, lang, "/calls")
        if staff is None:
            return
        t, user = staff
        names = [name for name, _ in TABS]
        first = tab if tab in names else names[0]
        with ui.tabs().classes("w-full text-primary").props("align=left no-caps inline-label") as tabs:
            for name, icon in TABS:
                ui.tab(name, t(f"calls.tab.{name}"), icon=icon).props(f'data-tab="{name}"')
        tabs.set_value(first)
        built: set[str] = set()
        panels: dict[str, ui.tab_panel] = {}
        makers: dict[str, Callable[[], Awaitable[None]]] = {
            "calls": lambda: CallsTab(self.system, self.prep, t, user).build(),
            "parts": lambda: PartsTab(self.system, self.prep, t, user).build(),
            "no_shows": lambda: NoShowsTab(self.system, self.prep, t, user).build(),
            "solicitation": lambda: SolicitationTab(self.system, self.prep, t, user).build(),
        }

        async def show(name: str) -> None:
            # each tab loads when first opened: the call lists read every vehicle
            if name in built:
                return
            built.add(name)
            with panels[name]:
                await makers[name]()

        with ui.tab_panels(tabs, value=first, on_change=lambda e: show(str(e.value))) \
                .classes("w-full").props("keep-alive animated=false"):
            for name in names:
                panels[name] = ui.tab_panel(name).classes("p-0 pt-2 gap-2")
        await show(first)
