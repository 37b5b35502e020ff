"""/setup → Technicians: name, skill class, in use or not, weekly shift (empty: the site's default shift), and the
badge: reissued when one is lost (the old QR stops clocking anyone on) and printed on /workshop/badges. CSV out
and in. A change reaches the job progress board and booking's capacity at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.capacity import SKILLS
from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.setup.people_widgets import Refresh, attempt, columns, confirm, csv_buttons
from shopfloor.kiosk.setup.setup_list import (
    LiveList,
    edit_button,
    form_buttons,
    importer,
    list_header,
    list_row,
    state_badge,
)
from shopfloor.services.setup.people_common import format_weekdays
from shopfloor.services.setup.technicians import TechnicianAdmin, TechnicianView, shift_from_text
from shopfloor.services.site_setup import WeeklyShift

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser

BADGES = "/workshop/badges"


def shift_text(t: Translator, shift: WeeklyShift | None) -> str:
    if shift is None:
        return t("setup_people.technicians.default_shift")
    return t("setup_people.technicians.shift", start=f"{shift.start:%H:%M}", end=f"{shift.end:%H:%M}",
             minutes=shift.break_minutes, days=format_weekdays(shift.weekdays))


class TechniciansTab:
    key = "technicians"
    icon = "engineering"

    def __init__(self, technicians: TechnicianAdmin) -> None:
        self.technicians = technicians

    async def build(self, t: Translator, user: KioskUser) -> None:
        shown = LiveList(t, self.technicians.listing)
        refresh = shown.refresh
        with list_header(t, "setup_people.technicians.title", "setup_people.technicians.intro"):
            ui.button(t("setup_people.technicians.add"), icon="person_add",
                      on_click=lambda: self._form(t, user, None, refresh)).props("unelevated no-caps") \
                .mark("tech-add").props("data-testid=tech-add")
            ui.button(t("setup_people.technicians.print_all"), icon="print",
                      on_click=lambda: ui.navigate.to(BADGES, new_tab=True)).props("flat dense no-caps") \
                .mark("tech-print-all")
            csv_buttons(t, "tech-csv", "technicians.csv", self.technicians.export_csv,
                        importer(t, self.technicians.import_csv, user.actor, refresh))
        shown.place("tech-list", lambda views: self._table(t, user, views, refresh))
        await refresh()

    def _table(self, t: Translator, user: KioskUser, views: list[TechnicianView], refresh: Refresh) -> None:
        columns([(t("setup_people.name"), "w-36"), (t("setup_people.technicians.skill"), "w-28"),
                 (t("setup_people.technicians.weekly_shift"), "w-72"), (t("setup_people.state"), "w-20"),
                 ("", "grow")])
        for v in views:
            with list_row(f"tech-row-{v.id}", v.active):
                ui.label(v.name).classes("w-36 font-medium").mark("tech-name")
                ui.label(t(f"skill.{v.skill}")).classes("w-28")
                ui.label(shift_text(t, v.shift)).classes("w-72")
                with ui.row().classes("w-20"):
                    state_badge(v.active, t("setup_people.active"), t("setup_people.inactive"))
                with ui.row().classes("grow justify-end gap-0 no-wrap"):
                    edit_button(t, lambda v=v: self._form(t, user, v, refresh), f"tech-edit-{v.id}")
                    ui.button(t("setup_people.technicians.reissue"), icon="qr_code",
                              on_click=lambda v=v: self._reissue(t, user, v)).props("flat dense no-caps") \
                        .mark(f"tech-reissue-{v.id}")
                    if v.active:
                        ui.button(icon="print", on_click=lambda v=v: ui.navigate.to(
                            f"{BADGES}?technician={v.id}", new_tab=True)).props("flat dense") \
                            .tooltip(t("setup_people.technicians.print")).mark(f"tech-print-{v.id}")

    def _form(self, t: Translator, user: KioskUser, v: TechnicianView | None, refresh: Refresh) -> None:
        shift = v.shift if v is not None else None
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]").mark("tech-form"):
            ui.label(t("setup_people.technicians.add") if v is None else t("setup_people.technicians.edit_title")) \
                .classes("text-lg font-bold")
            with ui.row().classes("w-full gap-2 no-wrap items-center"):
                name = ui.input(t("setup_people.name"), value=v.name if v else "") \
                    .props("outlined dense maxlength=60 data-testid=tech-form-name").classes("grow") \
                    .mark("tech-form-name")
                skill = ui.select({s: t(f"skill.{s}") for s in SKILLS}, value=v.skill if v else SKILLS[0],
                                  label=t("setup_people.technicians.skill")).props("outlined dense") \
                    .classes("w-40").mark("tech-form-skill")
                active = ui.switch(t("setup_people.active"), value=v.active if v else True).mark("tech-form-active")
            ui.label(t("setup_people.technicians.shift_hint")).classes("text-caption text-grey-7")
            with ui.row().classes("w-full gap-2 no-wrap"):
                start = ui.input(t("setup_people.technicians.start"), value=f"{shift.start:%H:%M}" if shift else "",
                                 placeholder="08:30").props("outlined dense maxlength=5").classes("w-24") \
                    .mark("tech-form-start")
                end = ui.input(t("setup_people.technicians.end"), value=f"{shift.end:%H:%M}" if shift else "",
                               placeholder="17:30").props("outlined dense maxlength=5").classes("w-24") \
                    .mark("tech-form-end")
                pause = ui.input(t("setup_people.technicians.break_minutes"),
                                 value=str(shift.break_minutes) if shift else "", placeholder="60") \
                    .props("outlined dense maxlength=3").classes("w-28").mark("tech-form-break")
                days = ui.input(t("setup_people.technicians.weekdays"),
                                value=format_weekdays(shift.weekdays) if shift else "", placeholder="1-5") \
                    .props("outlined dense maxlength=20").classes("w-32").mark("tech-form-days")

            async def save() -> None:
                try:
                    new_shift = shift_from_text(start.value or "", end.value or "", pause.value or "",
                                                days.value or "")
                except DomainError as exc:
                    ui.notify(exc.message(t.lang), type="negative", multi_line=True)
                    return
                if v is None:
                    ok, _ = await attempt(t, self.technicians.add, name.value or "", str(skill.value), user.actor,
                                          new_shift, active=bool(active.value))
                else:
                    ok, _ = await attempt(t, self.technicians.edit, v.id, user.actor, name=name.value or "",
                                          skill=str(skill.value), active=bool(active.value), shift=new_shift)
                if ok:
                    dialog.close()
                    ui.notify(t("setup_people.saved"), type="positive")
                    await refresh()

            form_buttons(t, dialog, save, "tech-form-save", testid=True)
        dialog.open()

    def _reissue(self, t: Translator, user: KioskUser, v: TechnicianView) -> None:
        async def reissue() -> None:
            ok, _ = await attempt(t, self.technicians.reissue_badge, v.id, user.actor)
            if ok:
                ui.notify(t("setup_people.technicians.reissued", name=v.name), type="positive")
                ui.navigate.to(f"{BADGES}?technician={v.id}", new_tab=True)

        confirm(t, t("setup_people.technicians.reissue_confirm", name=v.name), t("setup_people.technicians.reissue"),
                reissue, "tech-reissue-confirm")
