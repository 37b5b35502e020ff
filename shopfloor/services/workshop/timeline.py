"""What the job progress board draws of each job line, computed where the order is published (the boards are fed by
MQTT alone): the planned bar per technician (the line's remaining hours laid on that technician's shifts after the
work ahead of it, as the projection lays them) and today's clocked segments (the actual bar), and which orders
were carried over from an earlier day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shopfloor.domain.models import JobLine, RepairOrder
from shopfloor.domain.projection import lay
from shopfloor.domain.workshop import LineStatus
from shopfloor.domain.workshop_models import CarryOver, Clocking, ClockingLine
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop import projection


@dataclass(frozen=True)
class Segment:
    technician_id: int
    start: datetime
    end: datetime | None  # None: still clocked on
    clocking_id: int | None = None
    assumed: bool = False  # closed by the server at the shift's end, not confirmed by the foreman yet


@dataclass
class Timelines:
    planned: dict[int, list[Segment]] = field(default_factory=dict)  # line -> one span per technician
    clocked: dict[int, list[Segment]] = field(default_factory=dict)  # line -> today's clockings
    carried_over: set[int] = field(default_factory=set)  # orders carried over into today

    def merge(self, other: Timelines) -> None:
        self.planned.update(other.planned)
        self.clocked.update(other.clocked)
        self.carried_over |= other.carried_over


def planned(site: projection.SiteWork) -> dict[int, list[Segment]]:
    """Every open line's planned span per technician: laid exactly as projection.finishes lays them."""
    out: dict[int, list[Segment]] = defaultdict(list)
    for technician_id, tasks in projection.workload(site).tasks.items():
        cursor: datetime | None = site.now
        for task in sorted(tasks, key=lambda t: t.rank):
            if cursor is None:
                break
            begin = _next_working(site, technician_id, cursor)
            cursor = lay(site.time.windows, technician_id, cursor, task.hours, site.time.day_of)
            if begin is not None and cursor is not None:
                out[task.line_id].append(Segment(technician_id, begin, cursor))
    return dict(out)


def _next_working(site: projection.SiteWork, technician_id: int, moment: datetime) -> datetime | None:
    """Where work laid from `moment` begins: the moment itself inside a window, else the next window's start."""
    day = site.time.day_of(moment)
    for _ in range(8):
        for a, b in site.time.windows(technician_id, day):
            if b > moment:
                return max(a, moment)
        day += timedelta(days=1)
    return None


def clocked_today(s: Session, ctx: ServiceContext, lines: Iterable[JobLine]) -> dict[int, list[Segment]]:
    ids = [line.id for line in lines]
    if not ids:
        return {}
    day_start, day_end = ctx.day_bounds(ctx.today())
    out: dict[int, list[Segment]] = defaultdict(list)
    for line_id, c in s.execute(select(ClockingLine.job_line_id, Clocking).join(
            Clocking, Clocking.id == ClockingLine.clocking_id).where(
            ClockingLine.job_line_id.in_(ids), Clocking.started_at < day_end,
            or_(Clocking.ended_at.is_(None), Clocking.ended_at > day_start)).order_by(Clocking.started_at)):
        out[line_id].append(Segment(c.technician_id, c.started_at, c.ended_at, c.id,
                                    c.assumed and c.confirmed_by is None))
    return dict(out)


def for_orders(s: Session, ctx: ServiceContext, orders: Iterable[RepairOrder], site: projection.SiteWork | None = None
               ) -> Timelines:
    """The timelines of these orders' lines. A line in work or finished today has its planned bar from its first
    clocking today for its flat-rate hours (the paper board's plan, which the actual bar then meets or overruns);
    the others, as the projection lays their remaining hours."""
    orders = list(orders)
    lines = [line for ro in orders for line in ro.job_lines]
    if not lines:
        return Timelines()
    site = site or projection.load(s, ctx)
    plan = planned(site)
    clocked = clocked_today(s, ctx, lines)
    out = Timelines()
    for line in lines:
        segments = clocked.get(line.id, [])
        if segments:
            out.clocked[line.id] = segments
        anchored = line.status in (LineStatus.DONE, LineStatus.IN_PROGRESS) and segments
        if line.id in plan and not anchored:
            out.planned[line.id] = plan[line.id]
        elif anchored:
            crew = max(len(line.assignments), 1)
            firsts: dict[int, datetime] = {}
            for seg in segments:
                firsts.setdefault(seg.technician_id, seg.start)
            out.planned[line.id] = [Segment(tech, start, start + timedelta(hours=float(line.hours) / crew))
                                    for tech, start in firsts.items()]
    ids = [ro.id for ro in orders]
    out.carried_over = set(s.scalars(select(CarryOver.repair_order_id).where(
        CarryOver.repair_order_id.in_(ids), CarryOver.day <= ctx.today())))  # the day carried into
    return out
