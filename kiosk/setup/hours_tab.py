"""/setup → Opening hours: [site] opening and closing, the working week, the shift a technician without shift rows
works, the booking grid and the walk-in reserve. Saved into the site configuration and used at once (booking,
capacity, the boards' hours)."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.errors import DomainError, Invalid
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.setup.catalogue_common import refused

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.setup.site_config import SiteConfigService

SLOTS = (10, 15, 20, 30)


def parse_time(text: str, what: str) -> time:
    try:
        return time.fromisoformat(text.strip()[:5])
    except ValueError:
        raise Invalid("setup_catalogue.hours.error.time", field=what, value=text[:10]) from None


class HoursTab:
    key = "hours"
    icon = "schedule"

    def __init__(self, config: SiteConfigService) -> None:
        self.config = config

    async def build(self, t: Translator, user: KioskUser) -> None:
        s = self.config.settings
        ui.label(t("setup_catalogue.hours.intro")).classes("text-grey-8 max-w-3xl")
        with ui.card().classes("w-full max-w-4xl gap-3"):
            ui.label(t("setup_catalogue.hours.site")).classes("text-subtitle1 font-bold")
            with ui.row().classes("gap-4"):
                opening = ui.input(t("setup_catalogue.hours.opening"), value=f"{s.site.opening:%H:%M}") \
                    .props("outlined dense type=time").classes("w-40").mark("hours-opening")
                closing = ui.input(t("setup_catalogue.hours.closing"), value=f"{s.site.closing:%H:%M}") \
                    .props("outlined dense type=time").classes("w-40").mark("hours-closing")
            ui.label(t("setup_catalogue.hours.workdays")).classes("text-grey-8")
            with ui.row().classes("gap-1"):
                days = {d: ui.checkbox(t(f"setup_catalogue.hours.day.{d}"), value=d in s.booking.workdays)
                        .mark(f"hours-day-{d}") for d in range(1, 8)}
            ui.separator()
            ui.label(t("setup_catalogue.hours.shift")).classes("text-subtitle1 font-bold")
            with ui.row().classes("gap-4"):
                shift_start = ui.input(t("setup_catalogue.hours.shift_start"),
                                       value=f"{s.booking.shift_start:%H:%M}").props("outlined dense type=time") \
                    .classes("w-40").mark("hours-shift-start")
                shift_end = ui.input(t("setup_catalogue.hours.shift_end"), value=f"{s.booking.shift_end:%H:%M}") \
                    .props("outlined dense type=time").classes("w-40").mark("hours-shift-end")
                break_minutes = ui.number(t("setup_catalogue.hours.break_minutes"), value=s.booking.break_minutes,
                                          min=0, max=240, step=5).props("outlined dense").classes("w-40") \
                    .mark("hours-break")
            ui.separator()
            ui.label(t("setup_catalogue.hours.booking")).classes("text-subtitle1 font-bold")
            with ui.row().classes("gap-4 items-start"):
                slot = ui.select({m: t("setup_catalogue.hours.minutes", minutes=m) for m in SLOTS},
                                 value=s.booking.slot_minutes, label=t("setup_catalogue.hours.slot_minutes")) \
                    .props("outlined dense").classes("w-40").mark("hours-slot")
                reserve = ui.number(t("setup_catalogue.hours.reserve"), value=round(s.booking.walk_in_reserve * 100),
                                    min=0, max=90, step=5, suffix="%").props("outlined dense").classes("w-48") \
                    .mark("hours-reserve")
                ui.label(t("setup_catalogue.hours.reserve_hint")).classes("text-grey-7 text-sm max-w-md")

            async def save() -> None:
                try:
                    chosen = [d for d, box in days.items() if box.value]  # none: SiteConfigService says so
                    await io(self.config.set_hours, opening=parse_time(opening.value or "", "opening"),
                             closing=parse_time(closing.value or "", "closing"), workdays=chosen,
                             shift_start=parse_time(shift_start.value or "", "shift_start"),
                             shift_end=parse_time(shift_end.value or "", "shift_end"),
                             break_minutes=int(break_minutes.value or 0), slot_minutes=int(slot.value or 15),
                             walk_in_reserve=float(reserve.value or 0) / 100, actor=user.actor)
                except DomainError as exc:
                    refused(t, exc)
                    return
                ui.notify(t("setup_catalogue.saved_live"), type="positive")

            with ui.row().classes("w-full justify-end"):
                ui.button(t("setup_catalogue.save"), icon="save", on_click=save).props("unelevated") \
                    .mark("hours-save")
