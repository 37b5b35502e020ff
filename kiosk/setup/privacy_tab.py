"""/setup → Personal data (PIPL): the customers without a visit for [retention] personal_data_years with their last
visit, a customer found by phone or plate when they ask, their data downloaded as JSON (an access request), and
erasure with a reason and a typed confirmation (shopfloor/services/setup/personal_data.py says what goes and what
stays)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.setup.personal_data import MAX_REASON, CustomerMatch, InactiveCustomer, PersonalDataService

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser

T = TypeVar("T")
Refresh = Callable[[], Awaitable[None]]
SHOWN = 300  # rows of the inactive list on the page; the count says how many there are


async def _attempt(t: Translator, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[bool, T | None]:
    """The service call in the thread pool; a refusal shown in the reader's language."""
    try:
        return True, await io(fn, *args, **kwargs)
    except DomainError as exc:
        ui.notify(exc.message(t.lang), type="negative", multi_line=True)
        return False, None


class PrivacyTab:
    key = "privacy"
    icon = "privacy_tip"

    def __init__(self, personal_data: PersonalDataService) -> None:
        self.personal_data = personal_data

    async def build(self, t: Translator, user: KioskUser) -> None:
        if not user.may(Permission.PERSONAL_DATA):
            ui.label(t("privacy.tab.not_allowed")).classes("text-grey-8").mark("privacy-not-allowed")
            return
        years = self.personal_data.years
        with ui.column().classes("w-full gap-1"):
            ui.label(t("setup.tab.privacy")).classes("text-xl font-bold")
            ui.label(t("privacy.tab.intro")).classes("text-grey-8 max-w-4xl")
            with ui.row().classes("items-center gap-2"):
                ui.icon("schedule").classes("text-grey-7")
                ui.label(t("privacy.tab.years", years=years)).classes("font-medium").mark("privacy-years")
                ui.label(t("privacy.tab.years_hint")).classes("text-caption text-grey-7")
        refreshers: list[Refresh] = []

        async def refresh_all() -> None:
            for refresh in refreshers:
                await refresh()

        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(t("privacy.tab.search_title")).classes("text-lg font-medium")
            with ui.row().classes("items-center gap-2 no-wrap"):
                query = ui.input(t("privacy.tab.search")).props("outlined dense clearable maxlength=40") \
                    .classes("w-72").mark("privacy-search")
                find = ui.button(t("privacy.tab.search_button"), icon="search").props("unelevated no-caps") \
                    .mark("privacy-find")
            found = ui.column().classes("w-full gap-0 max-h-[20rem] overflow-auto").mark("privacy-found")

            async def search() -> None:
                text = (query.value or "").strip()
                found.clear()
                if not text:
                    return
                _ok, matches = await _attempt(t, self.personal_data.find, text)
                with found:
                    if not matches:
                        ui.label(t("privacy.tab.search_empty", query=text)).classes("text-grey-7") \
                            .mark("privacy-found-none")
                        return
                    self._header(t)
                    for m in matches:
                        self._row(t, user, m, "found", refresh_all)

            find.on_click(search)
            query.on("keydown.enter", search)
            refreshers.append(search)

        with ui.card().classes("w-full").props("flat bordered"):
            with ui.row().classes("w-full items-baseline gap-3"):
                ui.label(t("privacy.tab.inactive_title", years=years)).classes("text-lg font-medium")
                count = ui.label("").classes("text-grey-7").mark("privacy-inactive-count")
            listing = ui.column().classes("w-full gap-0 max-h-[26rem] overflow-auto").mark("privacy-inactive")

            async def refresh_inactive() -> None:
                _ok, rows = await _attempt(t, self.personal_data.inactive)
                rows = rows or []
                count.set_text(t("privacy.tab.inactive_count", count=len(rows)))
                listing.clear()
                with listing:
                    if not rows:
                        ui.label(t("privacy.tab.inactive_empty", years=years)).classes("text-grey-7")
                        return
                    self._header(t)
                    for r in rows[:SHOWN]:
                        self._row(t, user, r, "inactive", refresh_all)

            refreshers.append(refresh_inactive)
            await refresh_inactive()

    @staticmethod
    def _header(t: Translator) -> None:
        with ui.row().classes("w-full no-wrap gap-2 text-grey-7 text-caption border-b"):
            for label, width in ((t("privacy.tab.col_name"), "w-40"), (t("privacy.tab.col_phone"), "w-32"),
                                 (t("privacy.tab.col_plates"), "w-44"), (t("privacy.tab.col_last_visit"), "w-28"),
                                 ("", "grow")):
                ui.label(label).classes(width)

    def _row(self, t: Translator, user: KioskUser, c: InactiveCustomer | CustomerMatch, where: str,
             refresh: Refresh) -> None:
        erased = isinstance(c, CustomerMatch) and c.erased
        with ui.row().classes("w-full no-wrap items-center gap-2 border-b py-1").mark(f"privacy-{where}-{c.id}"):
            with ui.row().classes("w-40 items-center gap-1 no-wrap"):
                ui.label(c.name).classes("font-medium truncate")
                if erased:
                    ui.badge(t("privacy.tab.erased"), color="grey").mark("privacy-erased")
            ui.label(c.phone).classes("w-32 font-mono")
            ui.label(" ".join(c.plates)).classes("w-44 font-mono truncate")
            ui.label(_day(t, c.last_visit)).classes("w-28")
            with ui.row().classes("grow justify-end gap-1 no-wrap"):
                ui.button(t("privacy.tab.export"), icon="download",
                          on_click=lambda c=c: self._export(t, user, c.id)) \
                    .props("flat dense no-caps").mark(f"privacy-export-{c.id}")
                if not erased:
                    ui.button(t("privacy.tab.erase"), icon="delete_forever",
                              on_click=lambda c=c: self._erase(t, user, c, refresh)) \
                        .props("flat dense no-caps color=negative").mark(f"privacy-erase-{c.id}")

    async def _export(self, t: Translator, user: KioskUser, customer_id: int) -> None:
        ok, doc = await _attempt(t, self.personal_data.export, [customer_id], actor=user.actor)
        if ok and doc is not None:
            data = json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
            ui.download(data, f"personal-data-{customer_id}.json", media_type="application/json")
            ui.notify(t("privacy.tab.exported", count=len(doc["customers"])), type="positive")

    def _erase(self, t: Translator, user: KioskUser, c: InactiveCustomer | CustomerMatch, refresh: Refresh) -> None:
        word = t("privacy.tab.confirm_word")
        with ui.dialog() as dialog, ui.card().classes("w-[34rem]").mark("privacy-erase-form"):
            ui.label(t("privacy.tab.erase_title", name=c.name)).classes("text-lg font-bold")
            ui.label(t("privacy.tab.erase_what")).classes("text-grey-8")
            reason = ui.textarea(t("privacy.tab.reason")).props(f"outlined dense autogrow maxlength={MAX_REASON}") \
                .classes("w-full").mark("privacy-erase-reason")
            typed = ui.input(t("privacy.tab.confirm", word=word)).props("outlined dense").classes("w-64") \
                .mark("privacy-erase-confirm")

            async def go() -> None:
                ok, done = await _attempt(t, self.personal_data.erase, c.id, reason.value or "", actor=user.actor)
                if ok and done is not None:
                    dialog.close()
                    ui.notify(t("privacy.tab.erased_done", vehicles=done.vehicles, orders=done.repair_orders,
                                messages=done.messages, signatures=done.signatures, photos=done.photos),
                              type="positive", multi_line=True)
                    await refresh()

            with ui.row().classes("w-full justify-end"):
                ui.button(t("privacy.tab.cancel"), on_click=dialog.close).props("flat")
                button = ui.button(t("privacy.tab.do_erase"), icon="delete_forever", on_click=go) \
                    .props("unelevated color=negative").mark("privacy-erase-yes")
            # erasing cannot be undone: only once the word is typed, as the dialog asks
            button.disable()
            typed.on_value_change(lambda e: button.set_enabled((e.value or "").strip() == word))
        dialog.open()


def _day(t: Translator, day: date | None) -> str:
    return day.isoformat() if day is not None else t("privacy.tab.never")
