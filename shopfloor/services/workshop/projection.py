"""Projected finish and promised-time risk of every open order, read from the database into the pure rules of
shopfloor.domain.projection, and kept on the orders (repair_orders.projected_ready_at, risk) so that every state
published carries them. One order's change moves the others of the same technicians: all open orders are
projected together, and those whose projection changed are returned for publishing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.capacity import qualified
from shopfloor.domain.models import JobLine, RepairOrder, Technician
from shopfloor.domain.parts import PartsLineStatus
from shopfloor.domain.parts_models import PartsLine
from shopfloor.domain.projection import Task, Workload, lay, project, remaining
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.workshop import OPEN_LINE_STATUSES, LineState, LineStatus, PauseReason, Risk, risk
from shopfloor.domain.workshop_models import Clocking, ClockingLine
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop.worked import line_times, worked_per_line
from shopfloor.services.workshop.working_time import WorkingTime

# ready orders keep the projection they had when they became ready; these are projected
PROJECTED = [s.value for s in OPEN_STATUSES if s != RoStatus.READY]
TOP_OF_QUEUE = -(2**31)
PROJECTION_STEP_MINUTES = 5


@dataclass
class SiteWork:
    """The open orders with their lines and technicians, what was worked on each line, who is clocked on what."""

    now: datetime
    orders: list[RepairOrder]
    worked: dict[int, float]
    clocked_on: dict[int, set[int]]  # technician -> the lines of their open clocking
    time: WorkingTime
    # line -> the start of the day its last back-ordered part is due (only days after today: a part due today may
    # come any minute)
    parts_due: dict[int, datetime] = field(default_factory=dict)


def load(s: Session, ctx: ServiceContext) -> SiteWork:
    now = ctx.now()
    orders = list(s.scalars(select(RepairOrder).where(
        RepairOrder.site_id == ctx.site, RepairOrder.status.in_(PROJECTED)).options(
        selectinload(RepairOrder.job_lines).selectinload(JobLine.assignments)).order_by(RepairOrder.id)))
    ids = [ro.id for ro in orders]
    clocked_on: dict[int, set[int]] = defaultdict(set)
    for technician, line in s.execute(select(Clocking.technician_id, ClockingLine.job_line_id).join(
            ClockingLine, ClockingLine.clocking_id == Clocking.id).where(Clocking.site_id == ctx.site,
                                                                          Clocking.ended_at.is_(None))):
        clocked_on[technician].add(line)
    line_ids = [line.id for ro in orders for line in ro.job_lines]
    today = ctx.today()
    parts_due = {line: datetime.combine(eta, time.min, tzinfo=ctx.tz) for line, eta in s.execute(
        select(PartsLine.job_line_id, func.max(PartsLine.eta)).where(
            PartsLine.job_line_id.in_(line_ids), PartsLine.status == PartsLineStatus.BACK_ORDER.value,
            PartsLine.eta > today).group_by(PartsLine.job_line_id)) if eta is not None}
    return SiteWork(now, orders, worked_per_line(line_times(s, now, orders=ids)), dict(clocked_on),
                    WorkingTime(s, ctx, today), parts_due)


def workload(site: SiteWork, given: Mapping[int, list[int]] | None = None) -> Workload:
    """The site's work as technicians' tasks. `given`: line -> technicians, as if those lines were dispatched so
    (at the top of each technician's queue): what a dispatch would do to the projection."""
    work = Workload()
    for ro in site.orders:
        work.orders.add(ro.id)
        for line in ro.job_lines:
            status = LineStatus(line.status)
            if status not in OPEN_LINE_STATUSES:
                continue
            left = remaining(float(line.hours), site.worked.get(line.id, 0.0))
            if given is not None and line.id in given:
                crew = [(tech, TOP_OF_QUEUE) for tech in given[line.id]]
            else:
                crew = [(a.technician_id, a.sequence) for a in line.assignments]
            due = site.parts_due.get(line.id)
            if not crew:
                work.unassigned.setdefault(ro.id, []).append((line.id, left))
                if due is not None:
                    work.not_before[ro.id] = max(due, work.not_before.get(ro.id, due))
                continue
            held = LineState(status, PauseReason(line.pause_reason) if line.pause_reason else None).hold is not None
            for tech, sequence in crew:
                group = 0 if line.id in site.clocked_on.get(tech, ()) else 2 if held else 1
                work.add(tech, Task(ro.id, line.id, left / len(crew), (group, sequence, line.id), due))
    return work


def finishes(site: SiteWork, given: Mapping[int, list[int]] | None = None) -> dict[int, datetime | None]:
    return project(workload(site, given), site.now, site.time.windows, site.time.day_of)


def changes(s: Session, ctx: ServiceContext, site: SiteWork | None = None
            ) -> list[tuple[RepairOrder, datetime | None, Risk]]:
    """Every open order projected again: those whose projected finish or risk differ from what they carry, with
    the new values (nothing is changed: a read may ask). `site`: loaded already by the caller."""
    site = site or load(s, ctx)
    projected = finishes(site)
    checkpoint = ctx.settings.workshop.risk_checkpoint
    out = []
    for ro in site.orders:
        finish = projected.get(ro.id)
        finish = rounded_up(finish) if finish is not None else None
        level = risk(site.now, ro.opened_at, ro.promised_at, finish, checkpoint)
        if finish != ro.projected_ready_at or level.value != ro.risk:
            out.append((ro, finish, level))
    return out


def refresh(s: Session, ctx: ServiceContext, site: SiteWork | None = None) -> list[RepairOrder]:
    """Project every open order again (in a write): the orders whose projection changed, with the new values set."""
    moved = []
    for ro, finish, level in changes(s, ctx, site):
        ro.projected_ready_at, ro.risk = finish, level.value
        moved.append(ro)
    return moved


def rounded_up(moment: datetime) -> datetime:
    """To the next five minutes: a projection is an estimate, and one that moved by a few seconds (work waiting in a
    queue moves with the clock) is not worth telling every board about."""
    base = moment.replace(second=0, microsecond=0)
    step = PROJECTION_STEP_MINUTES
    minutes = (base.minute // step + (1 if moment != base or base.minute % step else 0)) * step - base.minute
    return base + timedelta(minutes=minutes)


def mark_ready(ro: RepairOrder, now: datetime) -> None:
    """A ready order's projection is the moment it became ready; late if that was after its promise."""
    ro.projected_ready_at = now.replace(microsecond=0)
    ro.risk = (Risk.LATE if ro.promised_at is not None and now > ro.promised_at else Risk.ON_TIME).value


def earliest_finish(s: Session, ctx: ServiceContext, hours: float, skill: str) -> datetime | None:
    """When `hours` of new work of `skill` could be done at the earliest: after the queue of the qualified
    technician who would finish it first (the promise a check-in can keep without a dispatch override)."""
    site = load(s, ctx)
    work = workload(site)
    best: datetime | None = None
    for tech in s.scalars(select(Technician).where(Technician.site_id == ctx.site, Technician.active.is_(True))):
        if not qualified(tech.skill, skill):
            continue
        cursor: datetime | None = site.now
        for task in sorted(work.tasks.get(tech.id, []), key=lambda t: t.rank):
            if task.rank[0] == 2:  # held work waits for something else: the new car goes before it
                continue
            cursor = lay(site.time.windows, tech.id, cursor, task.hours, site.time.day_of) if cursor else None
        end = lay(site.time.windows, tech.id, cursor, hours, site.time.day_of) if cursor else None
        if end is not None and (best is None or end < best):
            best = end
    return best
