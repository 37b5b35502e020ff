"""/calls: the customer-service and advisor desk for the day before and the day of — confirmation calls, the parts
pre-pick and its labels, no-shows to call back and rebook, and the 招揽 call lists. Each person sees the tabs
their role may use: the parts clerk only the pre-pick."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.kiosk.calls.confirm import CallsTab
from shopfloor.kiosk.calls.noshows import NoShowsTab
from shopfloor.kiosk.calls.parts import PartsTab
from shopfloor.kiosk.calls.solicit import SolicitationTab
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.session import KioskUser

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.booking import BookingService
    from shopfloor.services.day_prep import DayPrepService
    from shopfloor.services.printing import PrintService
    from shopfloor.services.solicitation import SolicitationService

PATH = "/calls"
# (name, icon, the permission that shows it), in the order of the tabs
TABS = (("calls", "call", Permission.CALLS), ("parts", "inventory_2", Permission.PARTS_PREP),
        ("no_shows", "event_busy", Permission.CALLS), ("solicitation", "campaign", Permission.CALLS))


def tabs_for(user: KioskUser) -> list[str]:
    return [name for name, _, permission in TABS if user.may(permission)]


class CallsPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, store: BoardStore, printers: PrinterChoice, *,
                 day_prep: DayPrepService, booking: BookingService, solicitation: SolicitationService,
                 printing: PrintService) -> None:
        self.frame = frame
        self.clock = clock
        self.store = store
        self.printers = printers
        self.day_prep = day_prep
        self.booking = booking
        self.solicitation = solicitation
        self.printing = printing

    def register(self, path: str) -> None:
        ui.button.default_props("no-caps")
        ui.page(path, title="shopfloor · calls")(self.build)

    def _tab(self, name: str, today: date, t: Translator, user: KioskUser) -> Callable[[], Awaitable[None]]:
        prep = self.day_prep
        if name == "calls":
            return CallsTab(prep, self.booking, self.store, today, t, user).build
        if name == "parts":
            return PartsTab(prep, self.printing, self.printers, today, t, user).build
        if name == "no_shows":
            return NoShowsTab(prep, today, t, user).build
        return SolicitationTab(prep, self.solicitation, today, t, user).build

    async def build(self, lang: str | None = None, tab: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        names = tabs_for(user)  # never empty: whoever may open /calls holds one of the tabs' permissions
        first = tab if tab in names else names[0]
        today = self.clock.today()
        with ui.tabs().classes("w-full text-primary").props("align=left no-caps inline-label") as tabs:
            for name, icon, _ in TABS:
                if name in names:
                    set_attrs(ui.tab(name, t(f"calls.tab.{name}"), icon=icon), data_tab=name)
        tabs.set_value(first)
        built: set[str] = set()
        panels: dict[str, ui.tab_panel] = {}

        async def show(name: str) -> None:
            # each tab loads when first opened: the call lists read every vehicle
            if name in built or name not in names:
                return
            built.add(name)
            with panels[name]:
                await self._tab(name, today, t, user)()

        with ui.tab_panels(tabs, value=first, on_change=lambda e: show(str(e.value))) \
                .classes("w-full").props("keep-alive animated=false"):
            for name in names:
                panels[name] = ui.tab_panel(name).classes("p-0 pt-2 gap-2")
        await show(first)
