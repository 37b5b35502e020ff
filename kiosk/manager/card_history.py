"""A card's audit trail as the manager reads it: when, who, what, from → to, why, in the page's language.

The audit stores values as data (a status code, "2026-11-24 10:00 张伟", a printer's name); what each value
means depends on the action, so the action decides how its values are named here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, tzinfo

from nicegui import ui

from shopfloor.i18n import Translator
from shopfloor.services.audit import AuditRow

# the catalogue that names each action's from/to values ("" keeps the value as stored)
APPOINTMENT_STATUS = ("arrived", "cancelled", "late", "no_show")
CALL = ("call", "no_show_closed")
REPAIR_ORDER_STATUS = ("checked_in", "transition", "rework")
PRINT_STATUS = ("print_confirmed",)
_SLOT = re.compile(r"^(\d{4})-(\d\d-\d\d \d\d:\d\d)(.*)$")


@dataclass(frozen=True)
class HistoryLine:
    when: str
    who: str
    what: str
    change: str  # "from → to", "→ to", or ""
    why: str


def _value(t: Translator, action: str, value: str | None, year: int) -> str:
    if value is None:
        return ""
    if action in APPOINTMENT_STATUS:
        return t(f"appointment.{value}")
    if action in CALL:
        return t(f"manager.details.call_outcome.{value}")
    if action == "parts":
        return t(f"manager.details.parts_status.{value}")
    if action in REPAIR_ORDER_STATUS:
        return t(f"status.{value}")
    if action in PRINT_STATUS or (action == "print_reprinted" and value in ("uncertain", "failed")):
        return t(f"print.{value}")
    slot = _SLOT.match(value)
    if slot and int(slot.group(1)) == year:  # this year's dates without the year: "11-24 10:00 张伟"
        return slot.group(2) + slot.group(3)
    return value


def _why(t: Translator, row: AuditRow) -> str:
    parts = []
    if row.reason:
        on_hold = row.action == "transition" and row.to_value == "on_hold"
        parts.append(t(f"hold.{row.reason}") if on_hold else row.reason)
    broken = (row.detail or {}).get("rules_broken") or []
    if broken:
        rules = [t(f"manager.details.rule.{b.get('rule')}") for b in broken if isinstance(b, dict)]
        parts.append(t("audit.rules_broken", rules=t("audit.list_separator").join(rules)))
    technician = (row.detail or {}).get("technician")
    if technician:
        parts.append(t("audit.technician", name=technician))
    return " · ".join(parts)


def history_lines(t: Translator, rows: list[AuditRow], tz: tzinfo, today: date) -> list[HistoryLine]:
    out = []
    for row in rows:
        moment = row.at.astimezone(tz)
        when = f"{moment:%H:%M}" if moment.date() == today else f"{moment:%m-%d %H:%M}"
        who = t("audit.system") if row.actor_kind == "system" else row.actor
        before = _value(t, row.action, row.from_value, today.year)
        after = _value(t, row.action, row.to_value, today.year)
        change = f"{before} → {after}" if before and after else f"→ {after}" if after else before
        out.append(HistoryLine(when, who, t(f"audit.action.{row.action}"), change, _why(t, row)))
    return out


def history_section(t: Translator, lines: list[HistoryLine]) -> None:
    """The trail under the card's details, oldest first."""
    ui.label(t("audit.title")).classes("text-grey-7 pt-1")
    if not lines:
        ui.label(t("audit.empty")).classes("text-sm text-grey-6").props("data-testid=card-history-empty")
        return
    with ui.grid(columns="auto auto auto minmax(0,1fr)").classes("w-full gap-x-3 gap-y-0.5 text-sm") \
            .props("data-testid=card-history"):
        for line in lines:
            ui.label(line.when).classes("text-grey-7 whitespace-nowrap")
            ui.label(line.who).classes("whitespace-nowrap")
            ui.label(line.what).classes("font-medium whitespace-nowrap")
            with ui.column().classes("gap-0 min-w-0"):
                if line.change:
                    ui.label(line.change)
                if line.why:
                    ui.label(line.why).classes("text-orange-10 italic")

