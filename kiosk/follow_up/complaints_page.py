"""/complaints: the complaints register (domain.md §5) at a 1280×800 tablet. Anyone who takes complaints down
(advisors, the cashier, the foreman, customer service) registers one here and sees the open ones; who handles them
(customer service, the manager) gives each an owner, acknowledges it, writes the findings and the resolution, with the
acknowledgement and investigation deadlines counting down. Closed complaints can be searched. The list follows the
bus: a complaint registered anywhere appears without a reload."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, ui

from shopfloor.contract import topics
from shopfloor.contract.staff import Permission
from shopfloor.domain.aftersales import ComplaintStatus
from shopfloor.kiosk.calls.common import call, empty_state
from shopfloor.kiosk.follow_up.complaint_card import ComplaintCard
from shopfloor.kiosk.follow_up.register_dialog import RegisterDialog

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.aftercare.complaints import ComplaintView
    from shopfloor.services.aftercare.services import AftercareServices
    from shopfloor.services.auth import AuthService
    from shopfloor.services.customers import CustomerService

PATH = "/complaints"
OPEN, CLOSED = "open", "closed"
TICK_SECONDS = 5.0  # the countdowns show minutes: a few seconds late is never a minute wrong for long
REFRESH_SECONDS = 60.0  # besides the bus: a deadline passing changes no state, only the order of the list


class ComplaintsPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, *, board_store: BoardStore, aftercare: AftercareServices,
                 auth: AuthService, customers: CustomerService) -> None:
        self.frame = frame
        self.clock = clock
        self.store = board_store
        self.aftercare = aftercare
        self.auth = auth
        self.customers = customers

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · complaints")(self.build)

    async def build(self, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        await Register(self, t, user).build()


class Register:
    """One person's complaints desk in one browser."""

    def __init__(self, page: ComplaintsPage, t: Translator, user: KioskUser) -> None:
        self.page = page
        self.t = t
        self.user = user
        self.handles = user.may(Permission.COMPLAINT_HANDLE)
        self.cards: list[ComplaintCard] = []
        self.staff: dict[int, str] = {}
        self._pending = False

    async def build(self) -> None:
        t = self.t
        people = await call(t, self.page.auth.advisors) or []
        self.staff = {p.id: p.name for p in people}
        self.dialog = RegisterDialog(self.page.aftercare.complaints, self.page.customers, t, self.user,
                                     on_done=self.refresh)
        with ui.column().classes("w-full gap-3 px-2").mark("complaints-list"):
            with ui.row().classes("w-full items-center justify-between no-wrap gap-3"):
                self.view = ui.toggle({OPEN: t("complaints.page.tab_open"), CLOSED: t("complaints.page.tab_closed")},
                                      value=OPEN, on_change=self.refresh) \
                    .props("no-caps unelevated toggle-color=primary").classes("text-base").mark("complaints-view")
                self.search = ui.input(placeholder=t("complaints.page.search")) \
                    .props("outlined dense clearable debounce=300").classes("grow max-w-md") \
                    .on_value_change(self.refresh).mark("complaints-search")
                ui.button(t("complaints.page.register"), icon="add_comment", on_click=self.dialog.open) \
                    .props("unelevated size=lg color=negative").mark("complaint-new")
            if not self.handles:
                ui.label(t("complaints.page.register_only")).classes("text-grey-8").mark("register-only")
            self.counts = ui.row().classes("items-center gap-2")
            self.list = ui.column().classes("w-full gap-2").mark("complaints")
        self.home = ui.element("div")  # the cards' dialogs: a redraw of the list must not close one
        await self.refresh()
        self.page.store.changed.subscribe(self._store_changed)  # dropped with the page
        ui.timer(TICK_SECONDS, self._tick)
        ui.timer(REFRESH_SECONDS, self.refresh)

    def _store_changed(self, kind: str, _entity_id: str, _state: dict[str, Any] | None) -> None:
        if kind == topics.COMPLAINTS and not self._pending:
            background_tasks.create(self._refresh_after_burst(), name="complaints-refresh")

    async def _refresh_after_burst(self) -> None:
        self._pending = True
        await asyncio.sleep(0.5)
        self._pending = False
        await self.refresh()

    async def refresh(self) -> None:
        closed = self.view.value == CLOSED
        service = self.page.aftercare.complaints
        rows = await call(self.t, service.by_status, ComplaintStatus.CLOSED.value) if closed \
            else await call(self.t, service.open_list)
        if rows is None:
            return
        query = (self.search.value or "").strip().lower()
        if query:
            rows = [r for r in rows if query in _haystack(r)]
        if closed:
            rows = sorted(rows, key=lambda r: r.closed_at or r.opened_at, reverse=True)
        else:  # important first, then the deadline nearest (or passed longest)
            rows = sorted(rows, key=lambda r: (r.severity != "important", r.next_deadline is None,
                                               r.next_deadline or r.opened_at))
        self._draw(rows, closed)

    def _draw(self, rows: list[ComplaintView], closed: bool) -> None:
        t = self.t
        now = self.page.clock.now()
        self.counts.clear()
        with self.counts:
            if not closed:
                overdue = sum(1 for r in rows if r.next_deadline is not None and r.next_deadline < now)
                ui.badge(t("complaints.page.count_open", count=len(rows)), color="primary") \
                    .classes("text-base px-3 py-1")
                if overdue:
                    ui.badge(t("complaints.page.count_overdue", count=overdue), color="negative") \
                        .classes("text-base px-3 py-1").mark("count-overdue")
        self.list.clear()
        self.cards = []
        with self.list:
            if not rows:
                empty_state("sentiment_satisfied", t("complaints.page.empty_closed" if closed
                                                     else "complaints.page.empty_open"))
            for row in rows:
                self.cards.append(ComplaintCard(row, self.t, self.user, self.page.aftercare.complaints, self.staff,
                                                self.handles, self.page.clock, home=self.home,
                                                on_done=self.refresh))
        self._tick()

    def _tick(self) -> None:
        now = self.page.clock.now()
        for card in self.cards:
            card.tick(now)


def _haystack(row: ComplaintView) -> str:
    """What a search matches: the order, the plate (with and without its dot), the customer, the words, the owner."""
    parts = [str(row.id), row.repair_order or "", row.plate or "", (row.plate or "").replace("·", ""),
             row.customer or "", row.phone or "", row.text, row.owner or "", row.findings, row.resolution]
    return " ".join(parts).lower()
