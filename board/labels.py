"""Every word a board shows, looked up once per language and handed to the browser component as one dict."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from shopfloor.i18n import Translator

# fields the browser fills in itself ("{count} jobs"): translated with the placeholder left in place
_BROWSER_FIELDS = {name: "{" + name + "}" for name in ("count", "hours")}

APPOINTMENT_STATUSES = ("booked", "confirmed", "arrived", "late", "no_show", "cancelled")
RO_STATUSES = ("checked_in", "dispatched", "in_progress", "on_hold", "quality_check", "ready")
HOLD_REASONS = ("waiting_parts", "waiting_approval", "sublet", "technical_help", "other")
SKILLS = ("maintenance", "repair")
LOUNGE_STEPS = ("checked_in", "in_workshop", "quality_check", "ready")

APPOINTMENT_BOARD: Mapping[str, str] = {
    "title": "board.appointments.title",
    "advisor": "board.appointments.advisor",
    "empty": "board.appointments.empty",
    "bay": "board.appointments.bay",
    "count": "board.appointments.count",
    "now": "board.now",
    **{f"status.{s}": f"appointment.{s}" for s in APPOINTMENT_STATUSES},
    # the capacity strip and the week-load bars (locales/<lang>/board_capacity.toml)
    **{f"cap.{name}": f"board.capacity.{name}" for name in (
        "technicians", "legend", "legend_narrow", "free", "over", "off", "totals", "available", "allocated",
        "bookable", "reserved", "carried_over", "walk_in", "week", "closed", "no_data", "no_day")},
    **{f"cap.skill.{s}": f"board.capacity.skill.{s}" for s in SKILLS},
    **{f"cap.class.{s}": f"board.capacity.class.{s}" for s in SKILLS},
    **{f"flag.{f}": f"board.flag.{f}" for f in ("repeat_repair", "complaining_customer", "waiting_customer",
                                                 "road_test")},
    **{f"flag_name.{f}": f"board.flag_name.{f}" for f in ("repeat_repair", "complaining_customer",
                                                           "waiting_customer", "road_test")},
    "hours_short": "board.hours.short",
}

PROGRESS_BOARD: Mapping[str, str] = {
    "title": "board.progress.title",
    "technician": "board.progress.technician",
    "waiting": "board.progress.waiting",
    "promised": "board.progress.promised",
    "overdue": "board.progress.overdue",
    "load": "board.progress.load",
    "empty_row": "board.progress.empty_row",
    **{f"status.{s}": f"status.{s}" for s in RO_STATUSES},
    **{f"hold.{r}": f"hold.{r}" for r in HOLD_REASONS},
    **{f"skill.{s}": f"skill.{s}" for s in SKILLS},
}

LOUNGE: Mapping[str, str] = {
    "title": "board.lounge.title",
    "hint": "board.lounge.hint",
    "expected": "board.lounge.expected",
    "empty": "board.lounge.empty",
    "ready_call": "board.lounge.ready_call",
    "see_advisor": "board.lounge.see_advisor",
    "soon": "board.lounge.soon",
    "step.waiting": "board.lounge.step_waiting",
    "tomorrow": "board.lounge.tomorrow",
    **{f"step.{s}": f"board.step.{s}" for s in LOUNGE_STEPS},
}


SPECS: Mapping[str, Mapping[str, str]] = {
    "appointments": APPOINTMENT_BOARD,
    "progress": PROGRESS_BOARD,
    "lounge": LOUNGE,
}


@cache
def labels(board: str, lang: str) -> dict[str, str]:
    """The label dict for one board in one language; shared by every screen (the browser never mutates it)."""
    t = Translator(lang)
    return {name: t(key, **_BROWSER_FIELDS) for name, key in SPECS[board].items()}
