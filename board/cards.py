"""Turn retained state payloads into the small dicts the browser components draw (one per card or row).

Only what a board shows leaves the server, times already in the site's zone. Projections are shared by every
screen through a CardCache, so 20 screens showing the same 200 cards hold one copy of each card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shopfloor.domain.states import RoStatus

log = logging.getLogger(__name__)

Card = dict[str, Any]
State = dict[str, Any]
# a projection may return None: this state is known but not drawn (e.g. a manager on the advisors' topic)
Projection = Callable[[str, State, ZoneInfo], Card | None]

# repair orders that have left the lane: no board shows them
CLOSED = frozenset({RoStatus.DELIVERED.value, RoStatus.CANCELLED.value})


def in_the_lane(card: Card) -> bool:
    """A repair order's (or lounge) card not delivered or cancelled yet: the boards show only those."""
    return card["status"] not in CLOSED

# the lounge's four steps: what a waiting customer cares about, not the workshop's detail (a hold is
# still "in the workshop" to them)
LOUNGE_STEPS = ("checked_in", "in_workshop", "quality_check", "ready")
_LOUNGE_STEP_OF = {
    RoStatus.CHECKED_IN.value: 0,
    RoStatus.DISPATCHED.value: 1,
    RoStatus.IN_PROGRESS.value: 1,
    RoStatus.ON_HOLD.value: 1,
    RoStatus.QUALITY_CHECK.value: 2,
    RoStatus.READY.value: 3,
}


def parse_time(value: object, tz: ZoneInfo) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(tz)


def _text(state: State, key: str) -> str:
    value = state.get(key)
    return "" if value is None else str(value)


def _moment_fields(prefix: str, moment: datetime | None) -> Card:
    """hh:mm, the date (for "tomorrow 10:00") and epoch ms (for "overdue", judged by the browser's clock)."""
    if moment is None:
        return {prefix: "", f"{prefix}_date": "", f"{prefix}_ms": None}
    return {prefix: f"{moment:%H:%M}", f"{prefix}_date": moment.date().isoformat(),
            f"{prefix}_ms": int(moment.timestamp() * 1000)}


def appointment_card(entity_id: str, state: State, tz: ZoneInfo) -> Card:
    start = parse_time(state["start"], tz)
    if start is None:
        raise ValueError("no start time")
    advisor = state.get("advisor") or {}
    return {
        "key": entity_id,
        "status": _text(state, "status") or "booked",
        "date": start.date().isoformat(),
        "start": start.hour * 60 + start.minute,
        "time": f"{start:%H:%M}",
        "plate": _text(state, "plate"),
        "customer": _text(state, "customer"),
        "work": _text(state, "work"),
        "bay": _text(state, "bay"),
        "hours": _card_hours(state.get("hours")),
        # the flags set at booking that the reception must see coming (domain.md §2, day before)
        "flags": [f for f in APPOINTMENT_FLAGS if (state.get("flags") or {}).get(f)],
        "advisor": {"id": str(advisor.get("id", "")), "name": str(advisor.get("name", "")),
                    "code": str(advisor.get("code", ""))},
    }


APPOINTMENT_FLAGS = ("repeat_repair", "complaining_customer", "waiting_customer", "road_test")


def _card_hours(value: object) -> float:
    try:
        return round(float(value), 2) if value is not None else 0.0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def repair_order_card(entity_id: str, state: State, tz: ZoneInfo) -> Card:
    tech = state.get("technician") or {}
    advisor = state.get("advisor") or {}
    return {
        "key": entity_id,
        "number": _text(state, "number"),
        "status": _text(state, "status"),
        "hold": _text(state, "hold_reason"),
        "plate": _text(state, "plate"),
        "work": _text(state, "work"),
        "hours": float(state.get("total_hours") or 0),
        "advisor_code": str(advisor.get("code", "")),
        "tech": str(tech["id"]) if tech.get("id") is not None else "",
        "tech_name": str(tech.get("name", "")),
        **_moment_fields("promised", parse_time(state.get("promised_at"), tz)),
    }


def lounge_card(entity_id: str, state: State, tz: ZoneInfo) -> Card:
    """Only the masked fields: the lounge payload has nothing else, and this keeps it that way.

    The time shown is the projected finish, the promise only while there is no projection (a carried-over car's
    promise from yesterday is not news to anyone); a car dispatched but not started is still waiting (step 0)."""
    status = _text(state, "status")
    waiting = status == RoStatus.DISPATCHED.value and state.get("work_started") is not True
    projected = parse_time(state.get("projected_ready_at"), tz)
    return {
        "key": entity_id,
        "status": status,
        "step": 0 if waiting else _LOUNGE_STEP_OF.get(status, 0),
        "waiting": waiting,
        "plate_masked": _text(state, "plate_masked"),
        "customer_masked": _text(state, "customer_masked"),
        "needs_customer": state.get("needs_customer") is True,
        **_moment_fields("promised", projected or parse_time(state.get("promised_at"), tz)),
    }


def lounge_line(card: Card, now_ms: int) -> str:
    """What the card's last line says (board/static/lounge_board.js draws the same): ready, see your advisor (only
    when the decision is the customer's), the expected time, or soon once that time has passed and the car is not
    ready, never a time already past; nothing without a time."""
    if card["status"] == RoStatus.READY.value:
        return "ready_call"
    if card["needs_customer"]:
        return "see_advisor"
    if card["promised_ms"] is None:
        return ""
    return "soon" if card["promised_ms"] <= now_ms else "expected"


# staff on the advisors' topic who take no bookings of their own: no row on the appointment board
ADVISOR_ROLE = "advisor"


def advisor_row(entity_id: str, state: State, _tz: ZoneInfo) -> Card | None:
    """A service advisor's row; None for the other staff the topic carries (role manager, cs, parts)."""
    if (state.get("role") or ADVISOR_ROLE) != ADVISOR_ROLE:
        return None
    return {"id": entity_id, "name": _text(state, "name"), "code": _text(state, "code"),
            "active": state.get("active", True) is not False}


def technician_row(entity_id: str, state: State, _tz: ZoneInfo) -> Card:
    return {"id": entity_id, "name": _text(state, "name"), "skill": _text(state, "skill"),
            "active": state.get("active", True) is not False}


SKILL_CLASSES = ("maintenance", "repair")  # PM and GR, in the order the capacity strip shows them


def _hours(value: object) -> float:
    """Hours as the strip shows them; garbage raises (TypeError/ValueError), so CardCache skips the day."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"hours must be a number, not {value!r}")
    return round(float(value) + 0.0, 2)


def _dict(state: State, key: str) -> dict[str, Any]:
    value = state.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{key} is not an object")
    return value


def capacity_day(entity_id: str, state: State, _tz: ZoneInfo) -> Card:
    """One day of the capacity strip and the week-load bars (services/capacity.py capacity_state).

    load = hours allocated / hours available for the whole workshop; None on a closed day (a holiday, or nobody
    on shift), where there is nothing to load."""
    day = date.fromisoformat(entity_id).isoformat()  # the topic's entity id is the day
    total = _dict(state, "total")
    available, allocated = _hours(total.get("available")), _hours(total.get("allocated"))
    holiday = state.get("holiday")
    closed = holiday is not None or available <= 0
    techs = []
    for tech in state.get("technicians") or []:
        tech_available, tech_allocated = _hours(tech.get("available")), _hours(tech.get("allocated"))
        free = tech.get("free")
        techs.append({"id": str(tech.get("id", "")), "name": str(tech.get("name", "")),
                      "skill": str(tech.get("skill", "")), "available": tech_available, "allocated": tech_allocated,
                      "free": _hours(free) if free is not None else round(tech_available - tech_allocated, 2)})
    skills = _dict(state, "skills")
    classes = {}
    for skill in SKILL_CLASSES:
        part = skills.get(skill) or {}
        classes[skill] = {name: _hours(part.get(name)) for name in ("available", "allocated", "free", "reserved")}
    carried, walk_in = _dict(state, "carried_over"), _dict(state, "walk_in")
    return {
        "day": day,
        "holiday": None if holiday is None else str(holiday),
        "closed": closed,
        "available": available,
        "allocated": allocated,
        "free": _hours(total.get("free")),
        "load": None if available <= 0 else round(allocated / available, 2),
        "reserve_share": _hours(state.get("reserve_share")),
        "technicians": techs,
        "skills": classes,
        "carried_over": {"hours": _hours(carried.get("hours")), "cars": len(carried.get("cars") or [])},
        "walk_in": {"hours": _hours(walk_in.get("hours")), "cars": int(walk_in.get("cars") or 0)},
    }


class CardCache:
    """Projections memoised by (entity, version): computed once however many screens show the card."""

    def __init__(self, project: Projection, tz: ZoneInfo) -> None:
        self._project = project
        self._tz = tz
        self._memo: dict[str, tuple[int, Card | None]] = {}

    def card(self, entity_id: str, state: State | None) -> Card | None:
        """The card for this state, or None when deleted or when the payload cannot be drawn."""
        if state is None:
            self._memo.pop(entity_id, None)
            return None
        version = state["version"]
        hit = self._memo.get(entity_id)
        if hit is not None and hit[0] == version:
            return hit[1]
        try:
            card: Card | None = self._project(entity_id, state, self._tz)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("cannot show %s (version %s) on the board: %s", entity_id, version, exc)
            card = None
        self._memo[entity_id] = (version, card)
        return card

    def prune(self, live: set[str]) -> None:
        """Forget entities deleted while no screen was listening."""
        for entity_id in self._memo.keys() - live:
            del self._memo[entity_id]
