"""A technician's day on the job progress board: the shift as rostered (working windows, the break, leave) and the
figures a foreman watches (issue 10), from the clockings and the shifts:

- sold: the technician's share of the flat-rate hours of the lines given to them that are still open or were
  finished today;
- worked: time clocked on jobs today (an open clocking counts to now);
- attended ("clocked in"): the shift's working time up to now, plus any job clocking outside it (overtime), so
  worked never exceeds it — there is no separate attendance clock;
- productivity = worked ÷ attended; efficiency = flat-rate hours of the lines finished today ÷ the time worked on
  those lines (on any day).
The boards are fed by MQTT alone, so these travel in the technician's retained state (TechnicianState.today)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shopfloor.domain.models import JobLine, Technician
from shopfloor.domain.projection import Window, windows_of_shift
from shopfloor.domain.workshop import LineStatus
from shopfloor.domain.workshop_models import Clocking, JobLineTechnician
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop.worked import line_times
from shopfloor.services.workshop.working_time import WorkingTime

OPEN_GIVEN = (LineStatus.DISPATCHED.value, LineStatus.IN_PROGRESS.value, LineStatus.PAUSED.value)


@dataclass(frozen=True)
class Roster:
    """The day's shift as rostered: None for all four on a day without a shift."""

    shift: Window | None
    working: list[Window]  # the shift less its break and leave
    breaks: list[Window]
    leave: list[Window]


@dataclass(frozen=True)
class Figures:
    sold: float
    worked: float
    attended: float
    finished: float  # flat-rate hours of the lines finished today
    finished_worked: float  # time worked on those lines
    productivity: float | None  # worked ÷ attended; None before any attendance
    efficiency: float | None  # finished ÷ finished_worked; None before a line is finished


@dataclass(frozen=True)
class TechnicianDay:
    technician_id: int
    day: date
    as_of: datetime
    roster: Roster
    figures: Figures


def _minus(whole: Iterable[Window], parts: Sequence[Window]) -> list[Window]:
    """The pieces of `whole` not covered by `parts` (both sorted, non-overlapping)."""
    out = []
    for a, b in whole:
        cursor = a
        for c, d in parts:
            if d <= cursor or c >= b:
                continue
            if c > cursor:
                out.append((cursor, c))
            cursor = max(cursor, d)
        if cursor < b:
            out.append((cursor, b))
    return out


def roster(rostered: tuple[datetime, datetime, int, float | None] | None) -> Roster:
    """The windows of a shift (WorkingTime.rostered): working, the break between them, leave taken off the end."""
    if rostered is None:
        return Roster(None, [], [], [])
    start, end, brk, leave = rostered
    without_leave = windows_of_shift(start, end, brk, 0.0)
    breaks = _minus([(start, end)], without_leave)
    if leave is None:  # on leave all day
        return Roster((start, end), [], breaks, without_leave)
    working = windows_of_shift(start, end, brk, leave)
    return Roster((start, end), working, breaks, _minus(without_leave, working))


def _union_hours(spans: Iterable[Window]) -> float:
    total, reach = timedelta(0), None
    for a, b in sorted(spans):
        if b <= a:
            continue
        if reach is None or a >= reach:
            total += b - a
            reach = b
        elif b > reach:
            total += b - reach
            reach = b
    return total.total_seconds() / 3600


def figures(now: datetime, day_start: datetime, day_end: datetime, working: Sequence[Window],
            clockings: Iterable[tuple[datetime, datetime | None]], sold: float, finished: float,
            finished_worked: float) -> Figures:
    """Pure: the day's figures from the working windows, the technician's clockings and the line hours."""
    until = min(now, day_end)
    on_jobs = [(max(a, day_start), min(b or now, until)) for a, b in clockings]
    on_jobs = [(a, b) for a, b in on_jobs if b > a]
    worked = _union_hours(on_jobs)  # one open clocking per technician: a union only guards against bad data
    shift_so_far = [(a, min(b, until)) for a, b in working if a < until]
    attended = _union_hours([*shift_so_far, *on_jobs])
    return Figures(round(sold, 2), round(worked, 2), round(attended, 2), round(finished, 2),
                   round(finished_worked, 2),
                   round(worked / attended, 3) if attended > 0 else None,
                   round(finished / finished_worked, 3) if finished_worked > 0 else None)


def technician_days(s: Session, ctx: ServiceContext, technician_ids: Sequence[int],
                    hours: WorkingTime | None = None) -> dict[int, TechnicianDay]:
    """Today for each technician named, in a few reads whatever their number."""
    now, today = ctx.now(), ctx.today()
    day_start, day_end = ctx.day_bounds(today)
    ids = list(technician_ids)
    if not ids:
        return {}
    hours = hours or WorkingTime(s, ctx, today, days=1)
    clocked: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for tech, started, ended in s.execute(select(Clocking.technician_id, Clocking.started_at, Clocking.ended_at)
                                          .where(Clocking.technician_id.in_(ids), Clocking.started_at < day_end,
                                                 or_(Clocking.ended_at.is_(None), Clocking.ended_at > day_start))):
        clocked[tech].append((started, ended))
    sold: dict[int, float] = defaultdict(float)
    finished: dict[int, float] = defaultdict(float)
    finished_lines: dict[int, set[int]] = defaultdict(set)
    crews: dict[int, int] = defaultdict(int)
    rows = list(s.execute(select(JobLineTechnician.technician_id, JobLine.id, JobLine.hours, JobLine.status,
                                 JobLine.finished_at).join(JobLine, JobLine.id == JobLineTechnician.job_line_id)
                          .where(JobLineTechnician.technician_id.in_(ids), or_(
                              JobLine.status.in_(OPEN_GIVEN),
                              (JobLine.status == LineStatus.DONE.value) & (JobLine.finished_at >= day_start)))))
    line_ids = {row.id for row in rows}
    if line_ids:
        for line_id, in s.execute(select(JobLineTechnician.job_line_id).where(
                JobLineTechnician.job_line_id.in_(line_ids))):
            crews[line_id] += 1
    for tech, line_id, flat, status, finished_at in rows:
        share = float(flat) / max(crews[line_id], 1)
        sold[tech] += share
        if status == LineStatus.DONE.value and finished_at is not None and finished_at < day_end:
            finished[tech] += share
            finished_lines[tech].add(line_id)
    worked_on: dict[int, float] = defaultdict(float)
    done = set().union(*finished_lines.values()) if finished_lines else set()
    if done:
        for t in line_times(s, now, lines=done):
            if t.line_id in finished_lines.get(t.technician_id, ()):
                worked_on[t.technician_id] += t.hours
    out = {}
    for tech in ids:
        r = roster(hours.rostered(tech, today))
        out[tech] = TechnicianDay(tech, today, now, r, figures(
            now, day_start, day_end, r.working, clocked.get(tech, []), sold[tech], finished[tech], worked_on[tech]))
    return out


class ProductivityService:
    """The figures as the foreman's page and the API read them (the boards read them from the bus)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def today(self, technician_ids: Sequence[int] | None = None) -> dict[int, TechnicianDay]:
        with self.ctx.db.read() as s:
            if technician_ids is None:
                technician_ids = list(s.scalars(select(Technician.id).where(
                    Technician.site_id == self.ctx.site, Technician.active).order_by(Technician.id)))
            return technician_days(s, self.ctx, technician_ids)
