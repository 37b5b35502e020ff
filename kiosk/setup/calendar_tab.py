"""/setup → Shifts, leave, holidays: each technician's weekly shift and break (changed here or on the technicians'
tab), their leave from today on (a day, some hours or the whole day, why), and the days the workshop is closed.
Leave and holidays go out and in as CSV. Booking and the boards see a change at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.setup.people_widgets import Refresh, attempt, columns, csv_buttons, heading
from shopfloor.kiosk.setup.setup_list import form_buttons, importer, remove_button
from shopfloor.kiosk.setup.technicians_tab import shift_text
from shopfloor.services.setup.calendar import CalendarAdmin, HolidayView, LeaveView
from shopfloor.services.setup.people_common import format_weekdays, parse_day, parse_hours
from shopfloor.services.setup.technicians import TechnicianAdmin, TechnicianView, shift_from_text

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser


@contextmanager
def panel_head(t: Translator, title_key: str, add_key: str, on_add: Callable[[], Any], add_mark: str
               ) -> Iterator[None]:
    """A panel's title and its add button; what is built inside follows the button (the CSV buttons)."""
    ui.label(t(title_key)).classes("text-lg font-bold")
    with ui.row().classes("items-center gap-1 no-wrap"):
        ui.button(t(add_key), icon="add", on_click=on_add).props("unelevated dense no-caps").mark(add_mark)
        yield


class CalendarTab:
    key = "calendar"
    icon = "event"

    def __init__(self, calendar: CalendarAdmin, technicians: TechnicianAdmin, clock: SiteClock) -> None:
        self.calendar = calendar
        self.technicians = technicians
        self.clock = clock

    async def build(self, t: Translator, user: KioskUser) -> None:
        heading(t, "setup_people.calendar.title", "setup_people.calendar.intro")
        shifts = ui.column().classes("w-full gap-0").mark("shift-list").props("data-testid=shift-list")
        with ui.row().classes("w-full no-wrap items-start gap-6 pt-2"):
            with ui.column().classes("w-3/5 gap-1"):
                leave_head = ui.column().classes("w-full gap-0")
                leave = ui.column().classes("w-full gap-0").mark("leave-list")
            with ui.column().classes("w-2/5 gap-1"):
                holiday_head = ui.column().classes("w-full gap-0")
                holidays = ui.column().classes("w-full gap-0").mark("holiday-list")

        async def refresh() -> None:
            _ok, techs = await attempt(t, self.technicians.listing)
            _ok, rows = await attempt(t, self.calendar.leave)
            _ok, days = await attempt(t, self.calendar.holidays)
            shifts.clear()
            with shifts:
                self._shifts(t, user, [v for v in techs or [] if v.active], refresh)
            leave.clear()
            with leave:
                self._leave(t, user, rows or [], refresh)
            holidays.clear()
            with holidays:
                self._holidays(t, user, days or [], refresh)

        async def open_leave_form() -> None:
            _ok, techs = await attempt(t, self.technicians.listing)  # as they are now: one added since is offered
            self._leave_form(t, user, techs or [], refresh)

        with leave_head, panel_head(t, "setup_people.calendar.leave", "setup_people.calendar.add_leave",
                                    open_leave_form, "leave-add"):
            csv_buttons(t, "leave-csv", "leave.csv", self.calendar.export_leave_csv,
                        importer(t, self.calendar.import_leave_csv, user.actor, refresh))
        with holiday_head, panel_head(t, "setup_people.calendar.holidays", "setup_people.calendar.add_holiday",
                                      lambda: self._holiday_form(t, user, refresh), "holiday-add"):
            csv_buttons(t, "holiday-csv", "holidays.csv", self.calendar.export_holidays_csv,
                        importer(t, self.calendar.import_holidays_csv, user.actor, refresh))
        await refresh()

    # -- shifts ---------------------------------------------------------------------------------------------
    def _shifts(self, t: Translator, user: KioskUser, techs: list[TechnicianView], refresh: Refresh) -> None:
        ui.label(t("setup_people.calendar.shifts")).classes("text-lg font-bold pt-2")
        with ui.grid(columns=2).classes("w-full gap-x-6 gap-y-0"):
            for v in techs:
                with ui.row().classes("items-center no-wrap gap-1 border-b").mark(f"shift-row-{v.id}"):
                    ui.label(v.name).classes("w-24 font-medium ellipsis")
                    ui.label(shift_text(t, v.shift)).classes("grow text-sm whitespace-nowrap")
                    ui.button(icon="edit", on_click=lambda v=v: self._shift_form(t, user, v, refresh)) \
                        .props("flat dense size=sm").tooltip(t("setup_people.edit")).mark(f"shift-edit-{v.id}")

    def _shift_form(self, t: Translator, user: KioskUser, v: TechnicianView, refresh: Refresh) -> None:
        shift = v.shift
        with ui.dialog() as dialog, ui.card().classes("w-[30rem]").mark("shift-form"):
            ui.label(t("setup_people.calendar.shift_of", name=v.name)).classes("text-lg font-bold")
            ui.label(t("setup_people.technicians.shift_hint")).classes("text-caption text-grey-7")
            with ui.row().classes("w-full gap-2 no-wrap"):
                start = ui.input(t("setup_people.technicians.start"), value=f"{shift.start:%H:%M}" if shift else "",
                                 placeholder="08:30").props("outlined dense maxlength=5").classes("w-24")
                end = ui.input(t("setup_people.technicians.end"), value=f"{shift.end:%H:%M}" if shift else "",
                               placeholder="17:30").props("outlined dense maxlength=5").classes("w-24")
                pause = ui.input(t("setup_people.technicians.break_minutes"),
                                 value=str(shift.break_minutes) if shift else "").props("outlined dense maxlength=3") \
                    .classes("w-28")
                days = ui.input(t("setup_people.technicians.weekdays"),
                                value=format_weekdays(shift.weekdays) if shift else "", placeholder="1-5") \
                    .props("outlined dense maxlength=20").classes("w-28")

            async def save() -> None:
                try:
                    new = shift_from_text(start.value or "", end.value or "", pause.value or "", days.value or "")
                except DomainError as exc:
                    ui.notify(exc.message(t.lang), type="negative", multi_line=True)
                    return
                ok, _ = await attempt(t, self.technicians.set_shift, v.id, new, user.actor)
                if ok:
                    dialog.close()
                    await refresh()

            form_buttons(t, dialog, save, "shift-form-save")
        dialog.open()

    # -- leave ----------------------------------------------------------------------------------------------
    def _leave(self, t: Translator, user: KioskUser, rows: list[LeaveView], refresh: Refresh) -> None:
        if not rows:
            ui.label(t("setup_people.calendar.no_leave")).classes("text-grey-7")
            return
        columns([(t("setup_people.calendar.day"), "w-28"), (t("setup_people.calendar.technician"), "w-24"),
                 (t("setup_people.calendar.hours"), "w-20"), (t("setup_people.calendar.reason"), "grow"),
                 ("", "w-8")])
        for v in rows:
            with ui.row().classes("w-full no-wrap items-center gap-2 border-b").mark(f"leave-row-{v.id}"):
                ui.label(v.day.isoformat()).classes("w-28 font-mono")
                ui.label(v.technician).classes("w-24")
                ui.label(t("setup_people.calendar.whole_day") if v.hours is None else
                         t("setup_people.calendar.some_hours", hours=f"{v.hours.normalize():f}")).classes("w-20")
                ui.label(v.reason).classes("grow ellipsis")
                remove_button(t, t("setup_people.calendar.remove_leave", name=v.technician, day=v.day.isoformat()),
                              partial(self.calendar.remove_leave, v.id, user.actor), refresh,
                              "leave-remove-confirm", f"leave-remove-{v.id}").classes("w-8")

    def _leave_form(self, t: Translator, user: KioskUser, techs: list[TechnicianView], refresh: Refresh) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[30rem]").mark("leave-form"):
            ui.label(t("setup_people.calendar.add_leave")).classes("text-lg font-bold")
            who = ui.select({v.id: v.name for v in techs if v.active}, label=t("setup_people.calendar.technician")) \
                .props("outlined dense").classes("w-full").mark("leave-form-technician")
            with ui.row().classes("w-full gap-2 no-wrap items-center"):
                day = ui.input(t("setup_people.calendar.day"), value=self._today().isoformat()) \
                    .props("outlined dense type=date").classes("w-44").mark("leave-form-day")
                whole = ui.switch(t("setup_people.calendar.whole_day"), value=True).mark("leave-form-whole")
                hours = ui.input(t("setup_people.calendar.hours"), placeholder="4") \
                    .props("outlined dense maxlength=5").classes("w-24").mark("leave-form-hours")
                hours.bind_visibility_from(whole, "value", backward=lambda w: not w)
            reason = ui.input(t("setup_people.calendar.reason")).props("outlined dense maxlength=80") \
                .classes("w-full").mark("leave-form-reason")

            async def save() -> None:
                if who.value is None:
                    ui.notify(t("setup_people.calendar.pick_technician"), type="warning")
                    return
                try:
                    when: date = parse_day("day", day.value or "")
                    amount: Decimal | None = None if whole.value else parse_hours("hours", hours.value or "")
                    if not whole.value and amount is None:
                        raise DomainError("setup_people.error.people.hours", value="")
                except DomainError as exc:
                    ui.notify(exc.message(t.lang), type="negative")
                    return
                ok, _ = await attempt(t, self.calendar.add_leave, int(who.value), when, amount, reason.value or "",
                                      user.actor)
                if ok:
                    dialog.close()
                    ui.notify(t("setup_people.saved"), type="positive")
                    await refresh()

            form_buttons(t, dialog, save, "leave-form-save")
        dialog.open()

    # -- holidays -------------------------------------------------------------------------------------------
    def _holidays(self, t: Translator, user: KioskUser, rows: list[HolidayView], refresh: Refresh) -> None:
        if not rows:
            ui.label(t("setup_people.calendar.no_holidays")).classes("text-grey-7")
            return
        for v in rows:
            with ui.row().classes("w-full no-wrap items-center gap-2 border-b").mark(f"holiday-row-{v.id}"):
                ui.label(v.day.isoformat()).classes("w-28 font-mono")
                ui.label(v.name).classes("grow ellipsis")
                remove_button(t, t("setup_people.calendar.remove_holiday", day=v.day.isoformat()),
                              partial(self.calendar.remove_holiday, v.id, user.actor), refresh,
                              "holiday-remove-confirm", f"holiday-remove-{v.id}")

    def _holiday_form(self, t: Translator, user: KioskUser, refresh: Refresh) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[26rem]").mark("holiday-form"):
            ui.label(t("setup_people.calendar.add_holiday")).classes("text-lg font-bold")
            day = ui.input(t("setup_people.calendar.day"), value=self._today().isoformat()) \
                .props("outlined dense type=date").classes("w-44").mark("holiday-form-day")
            name = ui.input(t("setup_people.calendar.holiday_name")).props("outlined dense maxlength=80") \
                .classes("w-full").mark("holiday-form-name")

            async def save() -> None:
                try:
                    when = parse_day("day", day.value or "")
                except DomainError as exc:
                    ui.notify(exc.message(t.lang), type="negative")
                    return
                ok, _ = await attempt(t, self.calendar.add_holiday, when, name.value or "", user.actor)
                if ok:
                    dialog.close()
                    ui.notify(t("setup_people.saved"), type="positive")
                    await refresh()

            form_buttons(t, dialog, save, "holiday-form-save")
        dialog.open()

    def _today(self) -> date:
        return self.clock.now().astimezone(self.clock.tz).date()
