"""Dispatch (派工, step 6): job lines given to a technician, refused when the technician lacks the skill class, is
not at work today, or would finish the order after its promise, unless the foreman overrides with a typed reason
(logged on the line and in the audit); and the best technicians for a job, each with why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.capacity import qualified
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import JobLine, RepairOrder, RoEvent, Technician
from shopfloor.domain.projection import hours_in
from shopfloor.domain.states import RoStatus
from shopfloor.domain.workshop import DispatchRule, LineStatus
from shopfloor.domain.workshop_models import Clocking, ClockingLine, JobLineTechnician
from shopfloor.services import views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_technician
from shopfloor.services.repair_orders import resolve_technician
from shopfloor.services.workshop import projection
from shopfloor.services.workshop.order_status import follow_lines, load_order, publish, require_open, top_of_queue

MAX_REASON = 200  # as error.reason_too_long says
# lines a dispatch may give (or give again): not finished, not cancelled
DISPATCHABLE = (LineStatus.WAITING, LineStatus.DISPATCHED, LineStatus.IN_PROGRESS, LineStatus.PAUSED)


@dataclass(frozen=True)
class Broken:
    """A dispatch rule the dispatch would break: `detail` in English for the log, `key` and `params` for people."""

    rule: DispatchRule
    detail: str
    key: str
    params: dict[str, object]


class DispatchRefused(Refused):
    """The dispatch breaks a rule; `reason` is the first (skill, absent, promise), `violations` all of them."""

    def __init__(self, broken: list[Broken]) -> None:
        first = broken[0]
        super().__init__(first.key, **first.params)
        self.reason = first.rule.value
        self.violations = broken


@dataclass(frozen=True)
class Proposal:
    technician_id: int
    name: str
    skill: str
    finishes_at: datetime | None  # the order's projected finish with this technician
    before_promise: bool
    free_hours_today: float  # working hours left today less the work already theirs
    own_class: bool  # the work's skill class is the technician's own (maintenance to the semi-skilled)
    broken: list[DispatchRule]
    why: str


def lines_to_give(ro: RepairOrder, job_lines: Sequence[int] | None, add: bool = False) -> list[JobLine]:
    """The named lines of the order; by default those not started yet (a helper added: those not finished)."""
    if job_lines:
        by_id = {line.id: line for line in ro.job_lines}
        unknown = [str(i) for i in job_lines if i not in by_id]
        if unknown:
            raise NotFound("workshop.error.line_unknown", number=ro.number, lines=", ".join(unknown))
        lines = [by_id[i] for i in dict.fromkeys(job_lines)]
        done = [line.description for line in lines if LineStatus(line.status) not in DISPATCHABLE]
        if done:
            raise Refused("workshop.error.line_finished", line=done[0])
        return lines
    lines = [line for line in ro.job_lines
             if line.status in (DISPATCHABLE if add else (LineStatus.WAITING, LineStatus.DISPATCHED))]
    if not lines:
        raise Refused("workshop.error.nothing_to_dispatch", number=ro.number)
    return lines


def broken_rules(ctx: ServiceContext, site: projection.SiteWork, ro: RepairOrder, lines: Sequence[JobLine],
                 tech: Technician, crew: dict[int, list[int]]) -> tuple[list[Broken], datetime | None]:
    """The rules giving `lines` to `tech` breaks (the lines' crews as `crew` would make them), and the order's
    projected finish so."""
    broken = []
    unqualified = [line for line in lines if not qualified(tech.skill, line.skill)]
    if unqualified:
        broken.append(Broken(DispatchRule.SKILL, f"{tech.name} is not qualified for {unqualified[0].description} "
                                                 f"({unqualified[0].skill})", "error.technician_skill",
                             {"technician": tech.name}))
    today = ctx.today()
    if not site.time.present(tech.id, today):
        broken.append(Broken(DispatchRule.ABSENT, f"{tech.name} is not at work on {today}",
                             "workshop.refused.absent", {"technician": tech.name, "day": today.isoformat()}))
    finish = projection.finishes(site, crew).get(ro.id)
    if ro.promised_at is not None and (finish is None or finish > ro.promised_at):
        promised = when(ro.promised_at, ctx)
        ends = when(finish, ctx) if finish is not None else "—"
        broken.append(Broken(DispatchRule.PROMISE, f"with {tech.name} the work is projected to end {ends}, after the "
                                                   f"promise {promised}", "workshop.refused.promise",
                             {"technician": tech.name, "finish": ends, "promised": promised}))
    return broken, finish


def when(moment: datetime, ctx: ServiceContext) -> str:
    """14:30 today, 11-24 09:15 another day."""
    local = moment.astimezone(ctx.tz)
    return f"{local:%H:%M}" if local.date() == ctx.today() else f"{local:%m-%d %H:%M}"


def _crew(lines: Sequence[JobLine], tech: Technician, add: bool) -> dict[int, list[int]]:
    return {line.id: ([a.technician_id for a in line.assignments if a.technician_id != tech.id] if add else [])
            + [tech.id] for line in lines}


def _clocked_on_by_others(s: Session, lines: Sequence[JobLine], technician_id: int) -> str | None:
    name = s.scalar(select(Technician.name).join(Clocking, Clocking.technician_id == Technician.id).join(
        ClockingLine, ClockingLine.clocking_id == Clocking.id).where(
        Clocking.ended_at.is_(None), Clocking.technician_id != technician_id,
        ClockingLine.job_line_id.in_([line.id for line in lines])).limit(1))
    return name


def give(s: Session, ctx: ServiceContext, lines: Sequence[JobLine], tech: Technician, actor: Actor | str, *,
         add: bool = False, broken: Sequence[Broken] = (), override: str | None = None) -> None:
    """Give the lines to the technician, at the top of their queue; without `add`, instead of whoever had them."""
    now = ctx.now()
    sequence = top_of_queue(s, tech.id)
    rules = ",".join(b.rule.value for b in broken) or None
    for line in lines:
        if not add:
            line.assignments[:] = [a for a in line.assignments if a.technician_id == tech.id]
        mine = next((a for a in line.assignments if a.technician_id == tech.id), None)
        if mine is None:
            line.assignments.append(JobLineTechnician(
                technician_id=tech.id, sequence=sequence, dispatched_at=now, dispatched_by=str(actor)[:80],
                override_rules=rules, override_reason=override if rules else None))
        else:
            mine.sequence, mine.dispatched_at, mine.dispatched_by = sequence, now, str(actor)[:80]
            if rules:
                mine.override_rules, mine.override_reason = rules, override
        if line.status == LineStatus.WAITING:
            line.status = LineStatus.DISPATCHED.value


class DispatchService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def dispatch(self, number: str, technician: int | str, *, actor: Actor | str,
                 job_lines: Sequence[int] | None = None, override: str | None = None,
                 add: bool = False) -> dict[str, Any]:
        """Give the order's lines (default: those not started) to the technician. DispatchRefused names the rules
        broken unless `override` gives the reason to break them."""
        override = override.strip() if override and override.strip() else None
        if override is not None and len(override) > MAX_REASON:
            raise Invalid("error.reason_too_long")
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro, RoStatus.READY)
            tech = resolve_technician(s, self.ctx.site, technician)
            if tech is None:
                raise NotFound("error.technician_unknown", technician=technician)
            lines = lines_to_give(ro, job_lines, add)
            if not add:
                busy = _clocked_on_by_others(s, lines, tech.id)
                if busy is not None:
                    raise Refused("workshop.error.line_in_work", technician=busy)
            site = projection.load(s, self.ctx)
            broken, finish = broken_rules(self.ctx, site, ro, lines, tech, _crew(lines, tech, add))
            if broken and override is None:
                raise DispatchRefused(broken)
            before = {a.technician for line in lines for a in line.assignments}
            give(s, self.ctx, lines, tech, actor, add=add, broken=broken, override=override)
            detail: dict[str, Any] = {"technician": tech.name, "lines": [line.id for line in lines], "add": add}
            if finish is not None:
                detail["projected"] = views.at(finish, self.ctx.tz)
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "dispatched", to_value=tech.name,
                   detail=detail)
            if broken:
                record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "dispatch_override", to_value=tech.name,
                       reason=override, detail={"rules": [b.rule.value for b in broken],
                                                "broken": [b.detail for b in broken]})
            event = follow_lines(s, self.ctx, ro, actor)
            for changed in sorted(before | {tech}, key=lambda t: t.id):  # their hours sold today moved
                publish_technician(s, self.ctx, changed)
            if event is None:  # given again within the same status: the history still says to whom
                s.add(RoEvent(repair_order_id=ro.id, at=self.ctx.now(), actor=str(actor), kind="dispatch",
                              from_status=ro.status, to_status=ro.status, technician_id=tech.id, reason=override))
            return publish(s, self.ctx, ro, event)

    def proposals(self, number: str, job_lines: Sequence[int] | None = None, limit: int = 5) -> list[Proposal]:
        """The technicians best placed for the lines, best first: no rule broken, finishing before the promise,
        the work of their own class (the day stays level: maintenance to the semi-skilled), most hours free."""
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            require_open(ro, RoStatus.READY)
            lines = lines_to_give(ro, job_lines)
            site = projection.load(s, self.ctx)
            work = projection.workload(site)
            now, today = site.now, self.ctx.today()
            day_end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=self.ctx.tz)
            needs = "repair" if any(line.skill == "repair" for line in lines) else "maintenance"
            out = []
            for tech in s.scalars(select(Technician).where(Technician.site_id == self.ctx.site, Technician.active)
                                  .order_by(Technician.id)):
                broken, finish = broken_rules(self.ctx, site, ro, lines, tech, _crew(lines, tech, add=False))
                left_today = hours_in(site.time.windows(tech.id, today), now, day_end)
                queued = sum(task.hours for task in work.tasks.get(tech.id, []))
                free = round(left_today - queued, 2)
                before = ro.promised_at is None or (finish is not None and finish <= ro.promised_at)
                own = tech.skill == needs
                out.append(Proposal(tech.id, tech.name, tech.skill, finish, before, free, own,
                                    [b.rule for b in broken], _why(tech, broken, finish, before, own, free, self.ctx)))
            out.sort(key=lambda p: (bool(p.broken), not p.before_promise, not p.own_class, -p.free_hours_today,
                                    p.finishes_at or datetime.max.replace(tzinfo=now.tzinfo), p.technician_id))
            return out[:limit]


def _why(tech: Technician, broken: Sequence[Broken], finish: datetime | None, before: bool, own: bool, free: float,
         ctx: ServiceContext) -> str:
    parts = [b.detail for b in broken if b.rule != DispatchRule.PROMISE]
    if finish is not None:
        parts.append(f"{'finishes' if before else 'would finish'} at {when(finish, ctx)}"
                     f"{'' if before else ', after the promise'}")
    parts.append(f"{free:g} h free today" if free >= 0 else f"{-free:g} h over today")
    if own and not broken:
        parts.append(f"{tech.skill} is {tech.name}'s own class")
    return "; ".join(parts)
