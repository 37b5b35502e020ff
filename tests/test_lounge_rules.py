"""The lounge's display rules (board/cards.py lounge_card and lounge_line, drawn the same by lounge_board.js): the
projected time, never a time already past ("soon" instead), "see your advisor" only when the decision is the
customer's, a dispatched car not started shows as waiting, and a carried-over car's missed promise is not shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shopfloor.board.cards import lounge_card, lounge_line

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=TZ)
NOW_MS = int(NOW.timestamp() * 1000)


def _state(**changes: Any) -> dict[str, Any]:
    state = {"number": "RO20261124-001", "plate_masked": "京A·***45", "customer_masked": "王先生",
             "status": "in_progress", "promised_at": "2026-11-24T16:00:00+08:00", "needs_customer": False,
             "projected_ready_at": "2026-11-24T15:30:00+08:00", "work_started": True}
    return {**state, **changes}


def _card(**changes: Any) -> dict[str, Any]:
    return lounge_card("RO20261124-001", _state(**changes), TZ)


def test_the_projected_time_is_shown_not_the_promise() -> None:
    card = _card()
    assert (card["promised"], lounge_line(card, NOW_MS)) == ("15:30", "expected")


def test_a_projection_already_past_says_soon_never_the_past_time() -> None:
    card = _card(projected_ready_at="2026-11-24T13:45:00+08:00")
    assert lounge_line(card, NOW_MS) == "soon"
    # and a time that passes while the screen shows it turns too
    assert lounge_line(_card(), int(datetime(2026, 11, 24, 15, 31, tzinfo=TZ).timestamp() * 1000)) == "soon"


def test_a_carried_over_car_shows_todays_projection_not_yesterdays_missed_promise() -> None:
    card = _card(promised_at="2026-11-23T17:00:00+08:00", projected_ready_at="2026-11-24T11:00:00+08:00")
    card_later = _card(promised_at="2026-11-23T17:00:00+08:00", projected_ready_at="2026-11-24T16:30:00+08:00")
    assert lounge_line(card, NOW_MS) == "soon"
    assert (card_later["promised"], card_later["promised_date"], lounge_line(card_later, NOW_MS)) == (
        "16:30", "2026-11-24", "expected")
    # no projection at all: the missed promise still reads "soon", not 17:00 yesterday
    assert lounge_line(_card(promised_at="2026-11-23T17:00:00+08:00", projected_ready_at=None), NOW_MS) == "soon"


def test_see_your_advisor_only_when_the_decision_is_the_customers() -> None:
    held_for_parts = _card(status="on_hold", needs_customer=False)
    assert lounge_line(held_for_parts, NOW_MS) == "expected"
    assert lounge_line(_card(status="on_hold", needs_customer=True), NOW_MS) == "see_advisor"
    assert lounge_line(_card(status="ready", needs_customer=False), NOW_MS) == "ready_call"


def test_a_dispatched_car_not_started_is_waiting_not_in_work() -> None:
    waiting = _card(status="dispatched", work_started=False)
    assert (waiting["step"], waiting["waiting"]) == (0, True)
    started = _card(status="dispatched", work_started=True)  # e.g. a second line dispatched after work began
    assert (started["step"], started["waiting"]) == (1, False)
    assert _card(status="in_progress")["step"] == 1
    # a state from before the field (an old retained payload) counts as not started
    old = _state(status="dispatched")
    del old["work_started"]
    assert lounge_card("x", old, TZ)["waiting"] is True
