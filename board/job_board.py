"""The job progress control board (服务进程控制看板, Toyota's Job Control Board) as one browser component shared by
the workshop wall (/board/progress, read-only) and the foreman's desk (/workshop/dispatch, where a job is dragged or
tapped onto a technician): technicians as rows over the hours of the day, each dispatched job as a planned bar with
the clocked time as an actual bar over it, the now line, breaks and leave greyed, the queue waiting for dispatch on
the side. Everything it draws comes from the retained states on the bus (RepairOrderLine.planned / clocked_today,
TechnicianState.today); this module turns them into the small dicts static/job_board.js draws."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shopfloor.board.cards import Card, State, in_the_lane, parse_time
from shopfloor.board.components import BoardView
from shopfloor.i18n import Translator, catalogue
from shopfloor.settings import Settings

FLAGS = ("carried_over", "waiting_customer", "repeat_repair", "complaint")
RO_STATUSES = ("checked_in", "dispatched", "in_progress", "on_hold", "quality_check", "ready")
HOLD_REASONS = ("waiting_parts", "waiting_approval", "sublet", "technical_help", "other")
RISKS = ("at_risk", "late")
PARTS_SHOWN = ("back_order", "to_pick")  # a job line's parts status worth a chip on its card, first wins
BROWSER_FILLED = ("selected", "efficiency_capped")
LABELS = (
    "title", "technician", "queue", "queue_empty", "promised", "projected", "hours", "now", "sold", "worked",
    "attended", "productivity", "efficiency", "productivity_formula", "efficiency_formula", "planned", "actual",
    "break", "leave", "off", "assumed", "summary", "propose", "tap_hint", "selected", "clocked_on", "lines_waiting",
    "line_done", "in_work", "current_job", "efficiency_capped",
)


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def _span_ms(value: object, tz: ZoneInfo) -> int | None:
    return _ms(parse_time(value, tz))


def _num(value: object) -> float:
    return round(float(value), 2) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _ratio(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def order_card(entity_id: str, state: State, tz: ZoneInfo) -> Card:
    """A repair order as the board draws it: its queue card and its bars on the technicians' rows."""
    promised = parse_time(state.get("promised_at"), tz)
    flags = state.get("flags") or {}
    lines = []
    for line in state.get("job_lines") or []:
        if line.get("status") == "cancelled":
            continue
        lines.append({
            "id": line.get("id"),
            "d": str(line.get("description") or ""),
            "h": _num(line.get("hours")),
            "skill": str(line.get("skill") or ""),
            "status": str(line.get("status") or "waiting"),
            "techs": [str(t.get("id")) for t in line.get("technicians") or []],
            "planned": [[str(p["technician"]), _span_ms(p["start"], tz), _span_ms(p["end"], tz)]
                        for p in line.get("planned") or []],
            "clocked": [[str(c["technician"]), _span_ms(c["start"], tz), _span_ms(c.get("end"), tz),
                         int(c.get("clocking") or 0), c.get("assumed") is True]
                        for c in line.get("clocked_today") or []],
        })
    return {
        "key": entity_id,
        "number": str(state.get("number") or entity_id),
        "status": str(state.get("status") or ""),
        "hold": str(state.get("hold_reason") or ""),
        "plate": str(state.get("plate") or ""),
        "model": str(state.get("vehicle_model") or ""),
        "work": str(state.get("work") or ""),
        "hours": _num(state.get("total_hours")),
        "advisor_code": str((state.get("advisor") or {}).get("code", "")),
        "risk": str(state.get("risk") or "on_time"),
        "promised": f"{promised:%H:%M}" if promised else "",
        "promised_date": promised.date().isoformat() if promised else "",
        "promised_ms": _ms(promised),
        "projected_ms": _span_ms(state.get("projected_ready_at"), tz),
        "flags": [f for f in FLAGS if flags.get(f) is True],
        "lines": lines,
        **_parts(state),
    }


def _parts(state: State) -> dict[str, str]:
    """The order's parts as its card says them: on back-order (with the latest ETA) before still to pick; nothing
    once every part is issued (RepairOrderLine.parts_status, parts_eta: the parts counter's)."""
    live = [line for line in state.get("job_lines") or [] if line.get("status") != "cancelled"]
    statuses = {line.get("parts_status") for line in live}
    status = next((s for s in PARTS_SHOWN if s in statuses), "")
    etas = sorted(str(line.get("parts_eta")) for line in live
                  if line.get("parts_status") == "back_order" and line.get("parts_eta"))
    return {"parts": status, "parts_eta": etas[-1][5:] if status == "back_order" and etas else ""}


def technician_row(entity_id: str, state: State, tz: ZoneInfo) -> Card:
    """A technician's row: today's shift as rostered and the figures as of `as_ms` (the browser adds the time
    since for a technician clocked on)."""
    today = state.get("today") or {}
    figures = today.get("figures") or {}
    shift = today.get("shift")

    def spans(key: str) -> list[list[int | None]]:
        return [[_span_ms(s["start"], tz), _span_ms(s["end"], tz)] for s in today.get(key) or []]

    return {
        "id": entity_id,
        "name": str(state.get("name") or ""),
        "skill": str(state.get("skill") or ""),
        "active": state.get("active", True) is not False,
        "current": str(state.get("current_job") or ""),
        "since_ms": _span_ms(state.get("clocked_on_at"), tz),
        "day": str(today.get("day") or ""),
        "as_ms": _span_ms(today.get("as_of"), tz),
        "shift": [_span_ms(shift["start"], tz), _span_ms(shift["end"], tz)] if shift else None,
        "working": spans("working"),
        "breaks": spans("breaks"),
        "leave": spans("leave"),
        "f": {"sold": _num(figures.get("sold_hours")), "worked": _num(figures.get("worked_hours")),
              "attended": _num(figures.get("attended_hours")), "finished": _num(figures.get("finished_hours")),
              "fworked": _num(figures.get("finished_worked_hours")),
              # the server's own quotient: finished_worked_hours is rounded, a few minutes' work rounds to 0
              "efficiency": _ratio(figures.get("efficiency"))},
    }


def shown(card: Card) -> bool:
    return in_the_lane(card)


def labels(t: Translator) -> dict[str, str]:
    # "selected" keeps its {number}: the browser fills it in
    out = {key: t(f"jobboard.{key}") for key in LABELS if key not in BROWSER_FILLED}
    out |= {key: catalogue(t.lang).get(f"jobboard.{key}") or key for key in BROWSER_FILLED}
    out |= {f"status.{s}": t(f"status.{s}") for s in RO_STATUSES}
    out |= {f"hold.{r}": t(f"hold.{r}") for r in HOLD_REASONS}
    out |= {f"flag.{f}": t(f"jobboard.flag.{f}") for f in FLAGS}
    out |= {f"flag_short.{f}": t(f"jobboard.flag_short.{f}") for f in FLAGS}
    out |= {f"risk.{r}": t(f"jobboard.risk.{r}") for r in RISKS}
    out |= {f"parts.{p}": t(f"parts.status.{p}") for p in PARTS_SHOWN}
    out |= {f"skill.{s}": t(f"skill.{s}") for s in ("maintenance", "repair")}
    out |= {f"skill_short.{s}": t(f"jobboard.skill_short.{s}") for s in ("maintenance", "repair")}
    return out


def hours_config(settings: Settings, editable: bool) -> dict[str, Any]:
    """The hours the board spans (the site's opening hours, whole hours) and whether it takes drops and taps."""
    site = settings.site
    return {"start_min": site.opening.hour * 60,
            "end_min": site.closing.hour * 60 + (60 if site.closing.minute else 0),
            "editable": editable}


class JobBoardView(BoardView, component="static/job_board.js", dependencies=["static/job_board_style.js"]):
    """Cards are repair orders (order_card), rows technicians (technician_row). Editable, it emits `assign`
    ({number, technician}), `propose` ({number}) and `confirm` ({clocking})."""
