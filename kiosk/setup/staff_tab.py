"""/setup → Staff and PINs: who signs in, their board code and roles; add someone (their one-time PIN shown once,
big), change them, take them off or back on (never the last active manager), reset a forgotten PIN; CSV out and
in (each person added gets a one-time PIN, listed once in the import's report)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.contract.staff import StaffRole
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.frame import role_names
from shopfloor.kiosk.setup.people_widgets import (
    Refresh,
    attempt,
    columns,
    confirm,
    csv_buttons,
    import_report,
    one_time_pin,
)
from shopfloor.kiosk.setup.setup_list import LiveList, edit_button, form_buttons, list_header, list_row, state_badge
from shopfloor.services.setup.csv_io import CsvImport
from shopfloor.services.setup.staff import StaffAdmin, StaffView

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser


class StaffTab:
    key = "staff"
    icon = "badge"

    def __init__(self, staff: StaffAdmin) -> None:
        self.staff = staff

    async def build(self, t: Translator, user: KioskUser) -> None:
        actor = user.actor
        shown = LiveList(t, self.staff.listing)
        refresh = shown.refresh
        with list_header(t, "setup_people.staff.title", "setup_people.staff.intro"):
            ui.button(t("setup_people.staff.add"), icon="person_add",
                      on_click=lambda: self._form(t, user, None, refresh)) \
                .props("unelevated no-caps data-testid=staff-add").mark("staff-add")

            async def run_import(data: bytes) -> CsvImport | None:
                ok, result = await attempt(t, self.staff.import_csv, data, actor)
                if not ok or result is None:
                    return None
                report, pins = result
                await refresh()
                import_report(t, report, "staff-csv", pins)
                return None  # shown here, with the PINs

            csv_buttons(t, "staff-csv", "staff.csv", self.staff.export_csv, run_import)
        shown.place("staff-list", lambda views: self._table(t, user, views, refresh))
        await refresh()

    def _table(self, t: Translator, user: KioskUser, views: list[StaffView], refresh: Refresh) -> None:
        columns([(t("setup_people.name"), "w-36"), (t("setup_people.staff.code"), "w-16"),
                 (t("setup_people.staff.roles"), "w-64"), (t("setup_people.state"), "w-48"), ("", "grow")])
        for v in views:
            with list_row(f"staff-row-{v.id}", v.active):
                ui.label(v.name).classes("w-36 font-medium").mark("staff-name")
                ui.label(v.code).classes("w-16 font-mono")
                ui.label(role_names(t, [StaffRole(r) for r in v.roles])).classes("w-64")
                with ui.row().classes("w-48 gap-1"):
                    state_badge(v.active, t("setup_people.active"), t("setup_people.inactive"))
                    if v.must_change_pin:
                        ui.badge(t("setup_people.staff.must_change"), color="warning")
                    if v.locked:
                        ui.badge(t("setup_people.staff.locked"), color="negative")
                with ui.row().classes("grow justify-end gap-0 no-wrap"):
                    edit_button(t, lambda v=v: self._form(t, user, v, refresh), f"staff-edit-{v.id}")
                    set_attrs(ui.button(t("setup_people.staff.reset_pin"), icon="pin",
                                        on_click=lambda v=v: self._reset(t, user, v, refresh))
                              .props("flat dense no-caps").mark(f"staff-reset-{v.id}"),
                              data_testid=f"staff-reset-{v.id}")
                    if v.active:
                        ui.button(t("setup_people.deactivate"), icon="person_off",
                                  on_click=lambda v=v: self._active(t, user, v, False, refresh)) \
                            .props("flat dense no-caps color=negative").mark(f"staff-deactivate-{v.id}")
                    else:
                        ui.button(t("setup_people.reactivate"), icon="person",
                                  on_click=lambda v=v: self._active(t, user, v, True, refresh)) \
                            .props("flat dense no-caps").mark(f"staff-reactivate-{v.id}")

    def _form(self, t: Translator, user: KioskUser, v: StaffView | None, refresh: Refresh) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[32rem]").mark("staff-form"):
            ui.label(t("setup_people.staff.add") if v is None else t("setup_people.staff.edit_title")) \
                .classes("text-lg font-bold")
            name = ui.input(t("setup_people.name"), value=v.name if v else "") \
                .props("outlined dense maxlength=60 data-testid=staff-form-name").classes("w-full") \
                .mark("staff-form-name")
            code = ui.input(t("setup_people.staff.code"), value=v.code if v else "") \
                .props("outlined dense maxlength=8 data-testid=staff-form-code").classes("w-32") \
                .mark("staff-form-code")
            ui.label(t("setup_people.staff.roles")).classes("text-caption text-grey-7")
            boxes: dict[str, ui.checkbox] = {}
            with ui.grid(columns=2).classes("gap-0"):
                for r in StaffRole:
                    boxes[r.value] = set_attrs(
                        ui.checkbox(t(f"role.{r.value}"), value=bool(v and r.value in v.roles))
                        .mark(f"staff-form-role-{r.value}"), data_testid=f"staff-form-role-{r.value}")

            async def save() -> None:
                roles = [k for k, box in boxes.items() if box.value]
                if v is None:
                    ok, added = await attempt(t, self.staff.add, name.value or "", code.value or "", roles,
                                              user.actor)
                    if not ok or added is None:
                        return
                    dialog.close()
                    await refresh()
                    one_time_pin(t, added[0].name, added[1])
                    return
                ok, _ = await attempt(t, self.staff.edit, v.id, user.actor, name=name.value or "",
                                      code=code.value or "", roles=roles)
                if ok:
                    dialog.close()
                    ui.notify(t("setup_people.saved"), type="positive")
                    await refresh()

            form_buttons(t, dialog, save, "staff-form-save", testid=True)
        dialog.open()

    def _reset(self, t: Translator, user: KioskUser, v: StaffView, refresh: Refresh) -> None:
        async def reset() -> None:
            ok, pin = await attempt(t, self.staff.reset_pin, v.id, user.actor)
            if ok and pin is not None:
                await refresh()
                one_time_pin(t, v.name, pin)

        confirm(t, t("setup_people.staff.reset_confirm", name=v.name), t("setup_people.staff.reset_pin"), reset,
                "staff-reset-confirm")

    def _active(self, t: Translator, user: KioskUser, v: StaffView, active: bool, refresh: Refresh) -> None:
        async def change() -> None:
            ok, _ = await attempt(t, self.staff.set_active, v.id, active, user.actor)
            if ok:
                await refresh()

        if active:
            ui.timer(0, change, once=True)
            return
        confirm(t, t("setup_people.staff.deactivate_confirm", name=v.name), t("setup_people.deactivate"), change,
                "staff-deactivate-confirm")
