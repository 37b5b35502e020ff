"""/setup → Bays and equipment: each bay's code and kind (lift for general work, or the equipment the labour
catalogue's operations name: alignment, paint…), a kind renamed on every bay at once, a bay taken out of use (no
longer offered to bookings; refused while bookings from today on hold it) or back in use. CSV out and in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.kiosk.setup.people_widgets import Refresh, attempt, columns, csv_buttons
from shopfloor.kiosk.setup.setup_list import (
    LiveList,
    edit_button,
    form_buttons,
    importer,
    list_header,
    list_row,
    state_badge,
)
from shopfloor.services.setup.bays import BayAdmin, BayView

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser


def kind_name(t: Translator, kind: str) -> str:
    """The kind in the reader's language where booking names it (booking.bay_kind.*), else as written."""
    named = t(f"booking.bay_kind.{kind}")
    if named.startswith("booking.bay_kind.") or named.lower() == kind:
        return kind
    return f"{named} ({kind})"  # the stored word too: the CSV and the labour catalogue use it


class BaysTab:
    key = "bays"
    icon = "garage"

    def __init__(self, bays: BayAdmin) -> None:
        self.bays = bays

    async def build(self, t: Translator, user: KioskUser) -> None:
        shown = LiveList(t, self.bays.listing)
        refresh = shown.refresh
        with list_header(t, "setup_people.bays.title", "setup_people.bays.intro"):
            ui.button(t("setup_people.bays.add"), icon="add", on_click=lambda: self._form(t, user, None, refresh)) \
                .props("unelevated no-caps").mark("bay-add")
            ui.button(t("setup_people.bays.rename_kind"), icon="drive_file_rename_outline",
                      on_click=lambda: self._rename(t, user, refresh)).props("flat dense no-caps") \
                .mark("bay-rename-kind")
            csv_buttons(t, "bay-csv", "bays.csv", self.bays.export_csv,
                        importer(t, self.bays.import_csv, user.actor, refresh))
        shown.place("bay-list", lambda views: self._table(t, user, views, refresh))
        await refresh()

    def _table(self, t: Translator, user: KioskUser, views: list[BayView], refresh: Refresh) -> None:
        if not views:
            ui.label(t("setup_people.bays.none")).classes("text-grey-7")
            return
        columns([(t("setup_people.bays.code"), "w-24"), (t("setup_people.bays.kind"), "w-56"),
                 (t("setup_people.state"), "w-28"), ("", "grow")])
        for v in views:
            with list_row(f"bay-row-{v.id}", v.active):
                ui.label(v.code).classes("w-24 font-mono font-medium").mark("bay-code")
                ui.label(kind_name(t, v.kind)).classes("w-56")
                with ui.row().classes("w-28"):
                    state_badge(v.active, t("setup_people.bays.in_use"), t("setup_people.bays.out_of_use"))
                with ui.row().classes("grow justify-end gap-0 no-wrap"):
                    edit_button(t, lambda v=v: self._form(t, user, v, refresh), f"bay-edit-{v.id}")

                    async def toggle(v: BayView = v) -> None:
                        ok, _ = await attempt(t, self.bays.edit, v.id, user.actor, active=not v.active)
                        if ok:
                            await refresh()

                    ui.button(t("setup_people.bays.take_out") if v.active else t("setup_people.bays.put_back"),
                              icon="block" if v.active else "check_circle", on_click=toggle) \
                        .props("flat dense no-caps" + (" color=negative" if v.active else "")) \
                        .mark(f"bay-toggle-{v.id}")

    async def _kinds(self, t: Translator) -> list[str]:
        _ok, kinds = await attempt(t, self.bays.kinds)
        return kinds or []

    async def _form(self, t: Translator, user: KioskUser, v: BayView | None, refresh: Refresh) -> None:
        kinds = await self._kinds(t)
        with ui.dialog() as dialog, ui.card().classes("w-[28rem]").mark("bay-form"):
            ui.label(t("setup_people.bays.add") if v is None else t("setup_people.bays.edit_title")) \
                .classes("text-lg font-bold")
            code = ui.input(t("setup_people.bays.code"), value=v.code if v else "") \
                .props("outlined dense maxlength=16").classes("w-40").mark("bay-form-code")
            kind = ui.select({k: kind_name(t, k) for k in kinds}, value=v.kind if v else "lift", with_input=True,
                             new_value_mode="add-unique", label=t("setup_people.bays.kind")) \
                .props("outlined dense").classes("w-full").mark("bay-form-kind")
            ui.label(t("setup_people.bays.kind_hint")).classes("text-caption text-grey-7")

            async def save() -> None:
                if v is None:
                    ok, _ = await attempt(t, self.bays.add, code.value or "", str(kind.value or ""), user.actor)
                else:
                    ok, _ = await attempt(t, self.bays.edit, v.id, user.actor, code=code.value or "",
                                          kind=str(kind.value or ""))
                if ok:
                    dialog.close()
                    ui.notify(t("setup_people.saved"), type="positive")
                    await refresh()

            form_buttons(t, dialog, save, "bay-form-save")
        dialog.open()

    async def _rename(self, t: Translator, user: KioskUser, refresh: Refresh) -> None:
        _ok, views = await attempt(t, self.bays.listing)
        held = sorted({v.kind for v in views or []})
        with ui.dialog() as dialog, ui.card().classes("w-[28rem]").mark("bay-rename-form"):
            ui.label(t("setup_people.bays.rename_kind")).classes("text-lg font-bold")
            old = ui.select({k: kind_name(t, k) for k in held}, label=t("setup_people.bays.old_kind")) \
                .props("outlined dense").classes("w-full").mark("bay-rename-old")
            new = ui.input(t("setup_people.bays.new_kind")).props("outlined dense maxlength=20").classes("w-full") \
                .mark("bay-rename-new")
            ui.label(t("setup_people.bays.kind_hint")).classes("text-caption text-grey-7")

            async def save() -> None:
                ok, count = await attempt(t, self.bays.rename_kind, str(old.value or ""), new.value or "",
                                          user.actor)
                if ok:
                    dialog.close()
                    ui.notify(t("setup_people.bays.renamed", count=count or 0), type="positive")
                    await refresh()

            form_buttons(t, dialog, save, "bay-rename-save")
        dialog.open()
