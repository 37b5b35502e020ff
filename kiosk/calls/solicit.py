"""招揽 (domain.md §1 step 1, §2): the call lists by kind with their counts, each downloadable as CSV for Excel;
every entry bookable in one step — its suggested work at a proposed time on the chosen day (an active
appointment)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from nicegui import ui

from shopfloor.i18n import Translator
from shopfloor.kiosk.calls.common import (
    CallTab,
    DayPicker,
    call,
    empty_state,
    hours_text,
    short_when,
    who_to_call,
)
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.services.day_prep import DayPrepService
from shopfloor.services.solicitation import KINDS, SolicitationService

# entries drawn at a time: a store's lists run to thousands (every car due for maintenance in the next month), and
# the cards are built on the event loop the boards' updates go through (50 of them held it for up to 0.5 s)
PAGE = 25
CONNECT_SECONDS = 30
KIND_ICONS = {"first_service": "new_releases", "maintenance_due": "build_circle", "insurance_renewal": "shield",
              "annual_inspection": "fact_check", "warranty_expiring": "verified_user", "lapsed_6": "hourglass_bottom",
              "lapsed_12": "hourglass_empty", "parts_arrived": "inventory_2"}


class SolicitationTab(CallTab):
    def __init__(self, prep: DayPrepService, solicitation: SolicitationService, today: date, t: Translator,
                 user: KioskUser) -> None:
        super().__init__(prep, today, t, user)
        self.lists_service = solicitation
        self.kind = KINDS[0]
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.shown = 0
        self.more: ui.button | None = None

    async def build(self) -> None:
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            self.kinds = ui.list().props("bordered separator").classes("w-64 shrink-0 rounded").mark("kinds")
            with ui.column().classes("grow min-w-0 gap-2"):
                with ui.row().classes("w-full items-center justify-between no-wrap"):
                    with ui.row().classes("items-center gap-3 no-wrap"):
                        self.title = ui.label("").classes("text-xl font-bold whitespace-nowrap")
                        ui.button(self.t("calls.sol.download"), icon="download", on_click=self._download) \
                            .props("outline").mark("download-csv")
                    DayPicker(self.t, self.day, self.today, self._day_changed, earliest=self.today,
                              label=self.t("calls.sol.book_on"), marker="book-day")
                self.list = ui.column().classes("w-full gap-2").mark("entry-list")
        # /calls?tab=solicitation builds this tab with the page: the page goes out first, the lists follow (reading
        # every car of a big store must not run into NiceGUI's 3 s limit for building a page)
        try:
            await ui.context.client.connected(timeout=CONNECT_SECONDS)
        except TimeoutError:
            return  # the browser went away
        await self.refresh()

    async def refresh(self) -> None:
        lists = await call(self.t, self.lists_service.lists, self.today, self.t.lang)
        if lists is None:
            return
        self.lists = lists
        self._render_kinds()
        self._render_entries()

    def _render_kinds(self) -> None:
        self.kinds.clear()
        with self.kinds:
            for kind in KINDS:
                entries = self.lists.get(kind, [])
                open_count = sum(1 for e in entries if not e["booked"])
                item = set_attrs(ui.item(on_click=lambda k=kind: self._choose(k)).props("clickable"), data_kind=kind)
                if kind == self.kind:
                    item.classes("bg-blue-1 text-primary")
                with item:
                    with ui.item_section().props("avatar"):
                        ui.icon(KIND_ICONS.get(kind, "list"))
                    with ui.item_section():
                        ui.item_label(self.t(f"solicitation.kind.{kind}"))
                    with ui.item_section().props("side"):
                        set_attrs(ui.badge(str(open_count), color="primary" if open_count else "grey"),
                                  data_count=open_count) \
                            .tooltip(self.t("calls.sol.count", open=open_count, total=len(entries)))

    def _choose(self, kind: str) -> None:
        self.kind = kind
        self._render_kinds()
        self._render_entries()

    def _render_entries(self) -> None:
        t = self.t
        entries = self.lists.get(self.kind, [])
        open_count = sum(1 for e in entries if not e["booked"])
        count = t("calls.sol.count", open=open_count, total=len(entries))
        self.title.text = f"{t(f'solicitation.kind.{self.kind}')} · {count}"
        self.list.clear()
        self.shown, self.more = 0, None
        if not entries:
            with self.list:
                empty_state(KIND_ICONS.get(self.kind, "list"), t("calls.sol.empty"))
        self._next_page()

    def _next_page(self) -> None:
        """The next PAGE entries of the list, and a button for the ones after them."""
        entries = self.lists.get(self.kind, [])
        if self.more is not None:
            self.more.delete()
            self.more = None
        with self.list:
            for entry in entries[self.shown:self.shown + PAGE]:
                self._entry(entry)
            self.shown = min(self.shown + PAGE, len(entries))
            if self.shown < len(entries):
                self.more = ui.button(self.t("calls.sol.more", shown=self.shown, total=len(entries)),
                                      icon="expand_more", on_click=self._next_page).props("flat no-caps") \
                    .classes("self-center").mark("more-entries")

    def _entry(self, entry: dict[str, Any]) -> None:
        card = set_attrs(ui.card().classes("w-full py-2 px-3" + (" bg-grey-2" if entry["booked"] else ""))
                         .props("flat bordered"),
                         data_vehicle=entry["vehicle_id"], data_plate=entry["plate"],
                         data_booked=str(entry["booked"]).lower())
        self._offer_slots(card, lambda: self._info(entry), not entry["booked"],
                          lambda day: self._slots(entry, day), lambda slot: self._book(entry, slot))

    def _info(self, entry: dict[str, Any]) -> ui.column:
        """The entry's text; returns the column its buttons go into."""
        t = self.t
        with ui.column().classes("gap-0 w-24 shrink-0"):
            ui.label(t("calls.sol.due")).classes("text-xs text-grey-7")
            overdue = entry["due"] < self.today.isoformat()
            ui.label(entry["due"][5:] if entry["due"][:4] == str(self.today.year) else entry["due"]) \
                .classes("text-lg font-bold" + (" text-negative" if overdue else ""))
        who_to_call(t, entry["plate_display"], f"{entry['customer']} · {entry['model']}", entry["preferred_channel"],
                    entry["phone"], narrow=True)
        with ui.column().classes("gap-0 grow min-w-0"):
            ui.label(entry["detail"]).classes("text-sm")
            work = entry.get("suggested_work")
            if work:
                ui.label(t("calls.sol.work", work=work["description"], hours=hours_text(t, work["hours"]))) \
                    .classes("text-sm text-grey-8")
        with ui.column().classes("gap-1 items-end shrink-0") as actions:
            if entry["booked"]:
                ui.badge(t("calls.sol.booked", day=str(entry.get("booked_on") or "")[5:]) if entry.get("booked_on")
                         else t("calls.sol.in_workshop"), color="positive").classes("text-base px-3 py-1")
        return actions

    async def _slots(self, entry: dict[str, Any], day: date) -> list[dict[str, Any]] | None:
        return await call(self.t, self.prep.entry_slots, entry, day)

    async def _book(self, entry: dict[str, Any], slot: dict[str, Any]) -> bool:
        booked = await call(self.t, self.prep.book_entry, entry, datetime.fromisoformat(slot["start"]),
                            slot["advisor"]["id"], actor=self.user.actor)
        if booked is None:
            return False
        ui.notify(self.t("calls.sol.new_booking", plate=entry["plate_display"],
                         when=short_when(booked["start"], self.today)), type="positive")
        await self.refresh()
        return True

    def _download(self) -> None:
        entries = self.lists.get(self.kind, [])
        data = SolicitationService.to_csv(entries, self.t.lang)
        ui.download(data, f"{self.kind}-{self.today.isoformat()}.csv", "text/csv")
