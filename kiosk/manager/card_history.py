"""A card's audit trail as the manager reads it: when, who, what, from → to, why, in the page's language.

The audit stores values as data (a status code, "2026-11-24 10:00 张伟", a printer's name); what each value
means depends on the action, so the action decides how its values are named here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from nicegui import ui

from shopfloor.i18n import FALLBACK, Translator, catalogue
from shopfloor.kiosk.reception.estimate_format import money
from shopfloor.services.audit import AuditRow

# the catalogue that names each action's from/to values ("" keeps the value as stored)
APPOINTMENT_STATUS = ("arrived", "cancelled", "late", "no_show")
CALL = ("call", "no_show_closed")
REPAIR_ORDER_STATUS = ("checked_in", "transition", "rework")
PRINT_STATUS = ("print_confirmed",)
PRINTED = ("ticket_printed", "ticket_reprinted", "estimate_printed", "estimate_reprinted", "print_redirected")
YES_NO = ("keep_replaced_parts", "customer_leaves_car")
VERSION = ("estimate_version", "estimate_signed", "handover_version", "handover_signed")
HIDDEN = ("photo_added",)  # the value is a row id: nothing a person reads
_SLOT = re.compile(r"^(\d{4})-(\d\d-\d\d \d\d:\d\d)(.*)$")


@dataclass(frozen=True)
class HistoryLine:
    when: str
    who: str
    what: str
    change: str  # "from → to", "→ to", or ""
    why: str


def _known(t: Translator, key: str, value: str) -> str:
    """The catalogue's word when it has one, else the value as stored (a code added after this page was written)."""
    return t(key) if key in catalogue(t.lang) or key in catalogue(FALLBACK) else value


def _moment(value: str, year: int) -> str | None:
    """An ISO moment ("2026-11-24T15:15:00+08:00", in the site's zone) as the page writes times."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return f"{at:%m-%d %H:%M}" if at.year == year else f"{at:%Y-%m-%d %H:%M}"


def _value(t: Translator, action: str, value: str | None, year: int,
           printers: Mapping[str, str] | None = None) -> str:
    if value is None or action in HIDDEN:
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
    if action in PRINTED or action == "print_reprinted":
        return (printers or {}).get(value) or value
    if action == "job_line_payer":
        return _known(t, f"estimate.payer.{value}", value)
    if action == "followup_channel":
        return _known(t, f"estimate.channel.{value}", value)
    if action in YES_NO and value in ("True", "False"):
        return t(f"audit.value.{value.lower()}")
    if action == "additional_work_decision":
        return _known(t, f"audit.value.finding.{value}", value)
    if action == "qc":
        return _known(t, f"audit.value.qc.{value}", value) if value in ("passed", "failed") else \
            _known(t, f"workshop.stage.{value}", value)
    if action == "clock_off" and value in ("finished", "paused"):
        return t(f"audit.value.clock.{value}")
    if action in VERSION:
        return t("audit.value.version", version=value)
    if action == "estimate_discount":
        return money(value)
    if action == "promise":
        return _moment(value, year) or value
    slot = _SLOT.match(value)
    if slot and int(slot.group(1)) == year:  # this year's dates without the year: "11-24 10:00 张伟"
        return slot.group(2) + slot.group(3)
    return value


def _item(t: Translator, key: str) -> str:
    return _known(t, f"walkaround.item.{key}", key.replace("_", " "))


def _status(t: Translator, status: object) -> str:
    return t(f"audit.value.item.{status}") if status in ("green", "yellow", "red") else "—"


def _walkaround(t: Translator, row: AuditRow) -> str | None:
    """What a walkaround save changed, in words; None for a row written before saves named their changes."""
    detail = row.detail or {}
    if "changed" not in detail:
        return None
    sep, parts = t("audit.list_separator"), []
    if detail.get("first"):
        parts.append(t("audit.walkaround.first", marks=detail.get("marks", 0), red=len(detail.get("red") or []),
                       yellow=len(detail.get("yellow") or [])))
    else:
        changed = detail.get("changed") or []
        if "fuel_eighths" in changed and detail.get("fuel_eighths") is not None:
            parts.append(t("audit.walkaround.fuel", eighths=detail["fuel_eighths"]))
        for key in ("protection_kit", "valuables_taken", "explained"):
            if key in changed:
                parts.append(t(f"audit.walkaround.{key}_{'yes' if detail.get(key) else 'no'}"))
        items = detail.get("items_changed") or {}
        if isinstance(items, dict) and items:
            parts.append(sep.join(f"{_item(t, key)} {_status(t, pair[0])} → {_status(t, pair[1])}"
                                  for key, pair in items.items() if isinstance(pair, list) and len(pair) == 2))
        if detail.get("marks_added"):
            parts.append(t("audit.walkaround.marks_added", count=detail["marks_added"]))
        if detail.get("marks_removed"):
            parts.append(t("audit.walkaround.marks_removed", count=detail["marks_removed"]))
    if row.to_value is not None:  # only a save that changed the odometer carries from/to
        parts.insert(0, t("audit.walkaround.mileage", before=row.from_value or "—", after=row.to_value))
    return " · ".join(p for p in parts if p)


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
    method = (row.detail or {}).get("method") if row.action == "additional_work_decision" else None
    if isinstance(method, str):
        parts.append(_known(t, f"workshop.method.{method}", method))
    return " · ".join(parts)


def history_lines(t: Translator, rows: list[AuditRow], tz: tzinfo, today: date,
                  printers: Mapping[str, str] | None = None) -> list[HistoryLine]:
    """`printers`: the configured printers' labels by name (a print row stores the printer's name)."""
    out = []
    for row in rows:
        moment = row.at.astimezone(tz)
        when = f"{moment:%H:%M}" if moment.date() == today else f"{moment:%m-%d %H:%M}"
        who = t("audit.system") if row.actor_kind == "system" else row.actor
        change = _walkaround(t, row) if row.action == "walkaround_recorded" else None
        if change is None:
            before = _value(t, row.action, row.from_value, today.year, printers)
            after = _value(t, row.action, row.to_value, today.year, printers)
            change = f"{before} → {after}" if before and after else f"→ {after}" if after else before
        out.append(HistoryLine(when, who, _known(t, f"audit.action.{row.action}", row.action.replace("_", " ")),
                               change, _why(t, row)))
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

