"""The workshop's pure rules: the order's status from its lines, quality-check stages, promised-time risk, badge and
ticket scans, working windows and the projection laid on them."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopfloor.domain.projection import Task, Workload, hours_in, lay, project, windows_of_shift
from shopfloor.domain.states import HoldReason, RoStatus
from shopfloor.domain.workshop import (
    InvalidScan,
    LineState,
    LineStatus,
    PauseReason,
    QcStage,
    Risk,
    derive_status,
    new_badge_token,
    normalize_badge,
    risk,
    ro_number_in,
    stage_to_check,
    ticket_url,
)

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 23)
W, D, P, X = LineStatus.WAITING, LineStatus.DISPATCHED, LineStatus.PAUSED, LineStatus.DONE


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(("lines", "complete", "expected"), [
    ([LineState(W)], False, (RoStatus.CHECKED_IN, None)),
    ([LineState(D), LineState(W)], False, (RoStatus.DISPATCHED, None)),
    ([LineState(LineStatus.IN_PROGRESS), LineState(P, PauseReason.WAITING_PARTS)], False,
     (RoStatus.IN_PROGRESS, None)),  # work goes on on the other line
    ([LineState(P, PauseReason.WAITING_PARTS), LineState(D)], False, (RoStatus.ON_HOLD, HoldReason.WAITING_PARTS)),
    ([LineState(P, PauseReason.BREAK)], False, (RoStatus.IN_PROGRESS, None)),  # a break is no hold
    ([LineState(P, PauseReason.REWORK), LineState(X)], False, (RoStatus.IN_PROGRESS, None)),
    ([LineState(X), LineState(D)], False, (RoStatus.IN_PROGRESS, None)),  # started, the next line waits
    ([LineState(X), LineState(LineStatus.CANCELLED)], False, (RoStatus.QUALITY_CHECK, None)),
    ([LineState(X), LineState(X)], True, (RoStatus.READY, None)),
    ([LineState(P, PauseReason.SUBLET)], False, (RoStatus.ON_HOLD, HoldReason.SUBLET)),
])
def test_the_order_follows_its_lines(lines: list[LineState], complete: bool,
                                     expected: tuple[RoStatus, HoldReason | None]) -> None:
    assert derive_status(lines, complete) == expected


def test_an_order_without_live_lines_keeps_its_status() -> None:
    assert derive_status([], False) is None
    assert derive_status([LineState(LineStatus.CANCELLED)], True) is None


def test_checks_go_in_the_configured_order() -> None:
    all_three = [QcStage.SELF, QcStage.FOREMAN, QcStage.FINAL]
    assert stage_to_check(all_three, []) == QcStage.SELF
    assert stage_to_check(all_three, [QcStage.SELF]) == QcStage.FOREMAN
    assert stage_to_check(all_three, all_three) is None
    assert stage_to_check([QcStage.FINAL], []) == QcStage.FINAL


def test_risk_turns_at_the_checkpoint_and_at_the_promise() -> None:
    opened, promised = at(9), at(13)  # the checkpoint at half: 11:00
    late_finish = at(14)
    assert risk(at(10), opened, promised, late_finish, 0.5) == Risk.ON_TIME  # before the checkpoint
    assert risk(at(11), opened, promised, late_finish, 0.5) == Risk.AT_RISK
    assert risk(at(11), opened, promised, at(12, 30), 0.5) == Risk.ON_TIME
    assert risk(at(11), opened, promised, None, 0.5) == Risk.ON_TIME  # nothing projected
    assert risk(at(13, 1), opened, promised, at(13, 30), 0.5) == Risk.LATE
    assert risk(at(10), opened, promised, late_finish, 0.2) == Risk.AT_RISK  # an earlier checkpoint
    assert risk(at(20), opened, None, late_finish, 0.5) == Risk.ON_TIME


def test_a_ticket_scan_is_its_url_or_its_number() -> None:
    number = "RO20261123-007"
    assert ro_number_in(ticket_url("http://192.168.1.10:8080/", number)) == number
    assert ro_number_in(f"https://shop.example/ro/{number}?from=qr#x") == number
    assert ro_number_in(f"  {number.lower()}\n") == number
    assert ro_number_in(f"http://h/ro/{number}/") == number
    for bad in ("", "hello", "RO2026-1", "http://h/kiosk", "SFT-ABCDEFGHIJKLMNOPQRSTUVWX"):
        with pytest.raises(InvalidScan):
            ro_number_in(bad)


def test_a_badge_is_an_unguessable_token() -> None:
    badges = {new_badge_token() for _ in range(200)}
    assert len(badges) == 200
    badge = next(iter(badges))
    assert normalize_badge(f"https://x/badge/{badge.lower()}") == badge
    for bad in ("陈刚", "1", "SFB-SHORT", "SFT-ABCDEFGHIJKLMNOPQRSTUVWX"):
        with pytest.raises(InvalidScan):
            normalize_badge(bad)


def test_a_shift_has_its_break_in_the_middle_and_leave_off_its_end() -> None:
    assert windows_of_shift(at(8, 30), at(17, 30), 60, 0) == [(at(8, 30), at(12, 30)), (at(13, 30), at(17, 30))]
    assert windows_of_shift(at(8, 30), at(17, 30), 60, 2) == [(at(8, 30), at(12, 30)), (at(13, 30), at(15, 30))]
    assert windows_of_shift(at(8, 30), at(17, 30), 60, 5) == [(at(8, 30), at(11, 30))]
    assert windows_of_shift(at(8, 30), at(17, 30), 0, 0) == [(at(8, 30), at(17, 30))]
    assert windows_of_shift(at(8, 30), at(17, 30), 60, 9) == []


@given(st.integers(6 * 60, 12 * 60), st.integers(60, 11 * 60), st.integers(0, 120), st.floats(0, 12))
def test_a_shifts_windows_hold_its_hours_less_break_and_leave(start: int, length: int, brk: int,
                                                               leave: float) -> None:
    begin = at(0) + timedelta(minutes=start)
    end = begin + timedelta(minutes=length)
    windows = windows_of_shift(begin, end, brk, leave)
    expected = max(length / 60 - min(brk, length) / 60 - leave, 0)
    assert hours_in(windows, begin, end) == pytest.approx(expected, abs=1e-6)
    assert windows == sorted(windows) and all(a < b for a, b in windows)


def _windows(technician: int | None, day: date) -> list[tuple[datetime, datetime]]:
    if day.weekday() == 6:  # Sunday off
        return []
    return windows_of_shift(at(8, 30, day), at(17, 30, day), 60, 0)


def _day(moment: datetime) -> date:
    return moment.astimezone(TZ).date()


def test_work_is_laid_on_working_time_across_the_break_and_the_night() -> None:
    assert lay(_windows, 1, at(10), 2, _day) == at(12)
    assert lay(_windows, 1, at(12), 2, _day) == at(15)  # the break 12:30–13:30 between
    assert lay(_windows, 1, at(16, 30), 2, _day) == at(9, 30, DAY + timedelta(days=1))
    assert lay(_windows, 1, at(19), 1, _day) == at(9, 30, DAY + timedelta(days=1))
    saturday = DAY + timedelta(days=5)
    assert lay(_windows, 1, at(17, day=saturday), 1, _day) == at(9, day=saturday + timedelta(days=2))  # Sunday off
    assert lay(lambda _t, _d: [], 1, at(10), 1, _day) is None  # never at work: no projected finish


def test_a_technicians_lines_are_laid_in_their_order_held_ones_last() -> None:
    work = Workload()
    work.add(1, Task(order_id=10, line_id=100, hours=1, rank=(1, 5, 100)))
    work.add(1, Task(order_id=11, line_id=110, hours=2, rank=(2, 0, 110)))  # held: waits for parts
    work.add(1, Task(order_id=12, line_id=120, hours=1, rank=(0, 9, 120)))  # clocked on now
    work.orders.add(13)  # all its lines done: it is done now
    work.unassigned[14] = [(140, 1.5)]
    finish = project(work, at(9), _windows, _day)
    assert finish[12] == at(10) and finish[10] == at(11) and finish[11] == at(14)
    assert finish[13] == at(9)
    assert finish[14] == at(10, 30)


def test_a_shared_line_ends_when_its_last_technician_is_done() -> None:
    work = Workload()
    work.add(1, Task(order_id=10, line_id=100, hours=1, rank=(1, 0, 100)))
    work.add(2, Task(order_id=10, line_id=100, hours=1, rank=(1, 0, 100)))
    work.add(2, Task(order_id=11, line_id=110, hours=1, rank=(1, -1, 110)))  # technician 2 does this first
    finish = project(work, at(9), _windows, _day)
    assert finish[11] == at(10) and finish[10] == at(11)


def test_utc_moments_land_on_the_sites_days() -> None:
    evening_utc = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    assert lay(_windows, 1, evening_utc, 1, _day) == at(9, 30, DAY + timedelta(days=1))
