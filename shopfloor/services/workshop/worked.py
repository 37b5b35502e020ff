"""Time worked on job lines, from the clockings: a clocking's time is shared among the lines it covers by their
flat-rate hours, so a technician's worked time never adds up to more than the time they were clocked on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.models import JobLine
from shopfloor.domain.workshop_models import Clocking, ClockingLine


@dataclass(frozen=True)
class LineTime:
    """One clocking's share of one line: who, when, and the hours of it that count for that line."""

    clocking_id: int
    line_id: int
    technician_id: int
    started_at: datetime
    ended_at: datetime | None
    hours: float


def clocked_hours(started_at: datetime, ended_at: datetime | None, now: datetime) -> float:
    return max(((ended_at or now) - started_at).total_seconds(), 0.0) / 3600


def line_times(s: Session, now: datetime, *, orders: Iterable[int] | None = None, lines: Iterable[int] | None = None
               ) -> list[LineTime]:
    """Every clocking's share of each line it covers, for the given orders or lines (an open clocking counts to
    now)."""
    q = select(Clocking.id, Clocking.technician_id, Clocking.started_at, Clocking.ended_at, ClockingLine.job_line_id,
               JobLine.hours).join(ClockingLine, ClockingLine.clocking_id == Clocking.id).join(
        JobLine, JobLine.id == ClockingLine.job_line_id)
    if orders is not None:
        q = q.where(Clocking.repair_order_id.in_(list(orders)))
    wanted = set(lines) if lines is not None else None
    if wanted is not None:
        # every line of those clockings is read: each share is weighed against all the lines a clocking covers
        q = q.where(Clocking.id.in_(select(ClockingLine.clocking_id).where(ClockingLine.job_line_id.in_(wanted))))
    rows = list(s.execute(q))
    weight: dict[int, float] = defaultdict(float)
    for row in rows:
        weight[row.id] += float(row.hours)
    out = []
    for row in rows:
        if wanted is not None and row.job_line_id not in wanted:
            continue
        share = float(row.hours) / weight[row.id] if weight[row.id] > 0 else 1.0
        out.append(LineTime(row.id, row.job_line_id, row.technician_id, row.started_at, row.ended_at,
                            clocked_hours(row.started_at, row.ended_at, now) * share))
    return out


def worked_per_line(times: Iterable[LineTime]) -> dict[int, float]:
    out: dict[int, float] = defaultdict(float)
    for time in times:
        out[time.line_id] += time.hours
    return dict(out)
