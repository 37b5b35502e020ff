"""/setup → Bays and equipment: each bay's code and kind (lift for general work, or the equipment the labour
catalogue's operations name: alignment, paint…), a kind renamed on every bay at once, a bay taken out of use (no
longer offered to bookings; refused while bookings from today on hold it) or back in use. CSV out and in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.kiosk.setup.people_widgets import Refresh, attempt, columns, csv_buttons, heading
from shopfloor.services.setup.bays import BayAdmin, BayView

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.setup.csv_io import CsvImport


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
        with ui.row().classes("w-full items-start justify-between no-wrap"):
            with ui.column().classes("gap-1 grow min-w-0"):
                heading(t, "setup_people.bays.title", "setup_people.bays.intro")
            with ui.row().classes("items-center gap-1 no-wrap shrink-0"):
                ui.button(t("setup_people.bays.add"), icon="add", on_click=lambda: self._form(t, user, None, refresh)) \
                    .props("unelevated no-caps").mark("bay-add")
                ui.button(t("setup_people.bays.rename_kind"), icon="drive_file_rename_outline",
                          on_click=lambda: self._rename(t, user, refresh)).props("flat dense no-caps") \
                    .mark("bay-rename-kind")

                async def run_import(data: bytes) -> CsvImport | None:
                    ok, report = await attempt(t, self.bays.import_csv, data, user.actor)
                    await refresh()
                    return report if ok else None

                csv_buttons(t, "bay-csv", "bays.csv", self.bays.export_csv, run_import)
        listing = ui.column().classes("w-full gap-0").mark("bay-list").props("data-testid=bay-list")

        async def refresh() -> None:
            _ok, views = await attempt(t, self.bays.listing)
            listing.clear()
            with listing:
                self._table(t, user, views or [], refresh)

        await refresh()

    def _table(self, t: Translator, user: KioskUser, views: list[BayView], refresh: Refresh) -> None:
        if not views:
            ui.label(t("setup_people.bays.none")).classes("text-grey-7")
            return
        columns([(t("setup_people.bays.code"), "w-24"), (t("setup_people.bays.kind"), "w-56"),
                 (t("setup_people.state"), "w-28"), ("", "grow")])
        for v in views:
            with ui.row().classes("w-full no-wrap items-center gap-2 border-b py-1" +
                                  ("" if v.active else " text-grey-6")).mark(f"bay-row-{v.id}"):
                ui.label(v.code).classes("w-24 font-mono font-medium").mark("bay-code")
                ui.label(kind_name(t, v.kind)).classes("w-56")
                with ui.row().classes("w-28"):
                    ui.badge(t("setup_people.bays.in_use") if v.active else t("setup_people.bays.out_of_use"),
                             color="positive" if v.active else "grey")
                with ui.row().classes("grow justify-end gap-0 no-wrap"):
                    ui.button(icon="edit", on_click=lambda v=v: self._form(t, user, v, refresh)) \
                        .props("flat dense").tooltip(t("setup_people.edit")).mark(f"bay-edit-{v.id}")

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

            with ui.row().classes("w-full justify-end"):
                ui.button(t("setup_people.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("setup_people.save"), on_click=save).props("unelevated").mark("bay-form-save")
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

            with ui.row().classes("w-full justify-end"):
                ui.button(t("setup_people.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("setup_people.save"), on_click=save).props("unelevated").mark("bay-rename-save")
        dialog.open()
