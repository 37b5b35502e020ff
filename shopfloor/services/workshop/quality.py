"""Quality checks in stages (domain.md §4: self check, foreman check, final inspection; the site chooses which it
uses), once the order's lines are done. A pass of the last configured stage makes the order ready; a failure sends
lines back to their technicians with a reason, each a row of the rework register."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import JobLine, RepairOrder, Technician
from shopfloor.domain.states import RoStatus
from shopfloor.domain.workshop import LineStatus, PauseReason, QcStage, stage_to_check
from shopfloor.domain.workshop_models import QcResult, Rework
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.repair_orders import resolve_technician
from shopfloor.services.workshop.order_status import (
    follow_lines,
    load_order,
    passed_stages,
    publish,
    require_decisions,
    require_open,
    top_of_queue,
)
from shopfloor.services.workshop.worked import line_times

MAX_REASON = 200  # as error.reason_too_long says


@dataclass(frozen=True)
class ReworkRow:
    id: int
    number: str
    plate: str
    job_line_id: int
    job_line: str
    stage: str
    reason: str
    found_by: str
    responsible_id: int | None
    responsible: str | None
    at: datetime
    time_lost_hours: float  # worked on the line since it was sent back, until it was sent back again


def parse_stage(stage: str) -> QcStage:
    try:
        return QcStage(stage)
    except ValueError:
        raise Invalid("workshop.error.stage_unknown", stage=stage[:20]) from None


def fail_stage(s: Session, ctx: ServiceContext, ro: RepairOrder, stage: QcStage, reason: str,
               responsible: Technician | None, lines: Sequence[JobLine], actor: Actor | str) -> QcResult:
    """Record the failed check and send the lines back to whoever had them (to dispatch when nobody did): a rework
    row each, and a new round of checks for the order."""
    now = ctx.now()
    result = QcResult(repair_order_id=ro.id, stage=stage.value, round=ro.qc_round, passed=False, reason=reason,
                      responsible_technician_id=responsible.id if responsible else None, found_by=str(actor)[:80],
                      at=now)
    s.add(result)
    s.flush()
    for line in lines:
        blamed = responsible.id if responsible else (line.assignments[0].technician_id if line.assignments else None)
        s.add(Rework(site_id=ctx.site, repair_order_id=ro.id, job_line_id=line.id, qc_result_id=result.id,
                     stage=stage.value, reason=reason, found_by=str(actor)[:80], responsible_technician_id=blamed,
                     at=now))
        # back to whoever had the line, first in their queue (to dispatch when nobody had it)
        line.status = (LineStatus.PAUSED if line.assignments else LineStatus.WAITING).value
        line.pause_reason = PauseReason.REWORK.value if line.assignments else None
        line.finished_at = None
        for assignment in line.assignments:
            assignment.sequence = top_of_queue(s, assignment.technician_id)
    ro.qc_round += 1
    record(s, ctx, actor, Entity.REPAIR_ORDER, ro.number, "qc", from_value=stage.value, to_value="failed",
           reason=reason, detail={"lines": [line.id for line in lines],
                                  "responsible": responsible.name if responsible else None})
    return result


class QualityService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def record(self, number: str, stage: str, passed: bool, *, actor: Actor | str, reason: str | None = None,
               responsible: int | str | None = None, job_lines: Sequence[int] | None = None) -> dict[str, Any]:
        """One check of the order at `stage`, which must be the next configured stage not passed in this round."""
        step = parse_stage(stage)
        stages = self.ctx.settings.workshop.qc_stages
        if step not in stages:
            raise Refused("workshop.error.stage_not_used", stage=step.value,
                          stages=", ".join(x.value for x in stages))
        reason = reason.strip() if reason and reason.strip() else None
        if reason is not None and len(reason) > MAX_REASON:
            raise Invalid("error.reason_too_long")
        if not passed and reason is None:
            raise Invalid("workshop.error.qc_needs_reason")
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro)
            if ro.status == RoStatus.READY:
                raise Refused("workshop.error.qc_ready", number=ro.number)
            unfinished = [line for line in ro.job_lines if line.status not in (LineStatus.DONE, LineStatus.CANCELLED)]
            if ro.status != RoStatus.QUALITY_CHECK or unfinished:
                raise Refused("workshop.error.qc_not_done", number=ro.number,
                              line=unfinished[0].description if unfinished else ro.status)
            s.refresh(ro, ["qc_results"])
            done = passed_stages(ro)
            expected = stage_to_check(stages, done)
            if step in done:
                raise Refused("workshop.error.stage_passed", stage=step.value)
            if step != expected:
                raise Refused("workshop.error.stage_first", stage=step.value,
                              first=expected.value if expected else "")
            tech = resolve_technician(s, self.ctx.site, responsible)
            if passed and step == stages[-1]:
                require_decisions(ro)
            if passed:
                s.add(QcResult(repair_order_id=ro.id, stage=step.value, round=ro.qc_round, passed=True, reason=reason,
                               responsible_technician_id=tech.id if tech else None, found_by=str(actor)[:80],
                               at=self.ctx.now()))
                record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "qc", from_value=step.value,
                       to_value="passed", reason=reason)
                last = step == stages[-1]
                return publish(s, self.ctx, ro, follow_lines(s, self.ctx, ro, actor,
                                                             lineless=RoStatus.READY if last else None))
            assert reason is not None
            fail_stage(s, self.ctx, ro, step, reason, tech, self._sent_back(ro, tech, job_lines), actor)
            return publish(s, self.ctx, ro, follow_lines(s, self.ctx, ro, actor, kind="rework", reason=reason,
                                                         lineless=RoStatus.IN_PROGRESS))

    @staticmethod
    def _sent_back(ro: RepairOrder, tech: Technician | None, job_lines: Sequence[int] | None) -> list[JobLine]:
        """The lines named; else those of the technician held responsible; else every line of the order."""
        done = [line for line in ro.job_lines if line.status == LineStatus.DONE]
        if job_lines:
            chosen = [line for line in done if line.id in set(job_lines)]
            if len(chosen) != len(set(job_lines)):
                raise NotFound("workshop.error.line_unknown", number=ro.number,
                               lines=", ".join(str(i) for i in job_lines))
            return chosen
        theirs = [line for line in done if tech is not None and any(a.technician_id == tech.id
                                                                     for a in line.assignments)]
        return theirs or done

    def results(self, number: str) -> list[QcResult]:
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            return list(s.scalars(select(QcResult).where(QcResult.repair_order_id == ro.id).order_by(QcResult.id)))

    def rework(self, start: datetime | None = None, end: datetime | None = None, limit: int = 5000
               ) -> list[ReworkRow]:
        """The rework register, oldest first; `end` is exclusive."""
        q = select(Rework).where(Rework.site_id == self.ctx.site)
        if start is not None:
            q = q.where(Rework.at >= start)
        if end is not None:
            q = q.where(Rework.at < end)
        with self.ctx.db.read() as s:
            rows = list(s.scalars(q.order_by(Rework.at, Rework.id).limit(limit)))
            line_ids = {r.job_line_id for r in rows}
            # when each line was sent back (any time, so a later return ends the time lost to an earlier one)
            returns: dict[int, list[datetime]] = defaultdict(list)
            for line_id, at in s.execute(select(Rework.job_line_id, Rework.at).where(Rework.job_line_id.in_(line_ids))
                                         .order_by(Rework.at)):
                returns[line_id].append(at)
            times = line_times(s, self.ctx.now(), lines=line_ids)
            out = []
            for r in rows:
                later = [at for at in returns[r.job_line_id] if at > r.at]
                until = later[0] if later else None
                lost = sum(t.hours for t in times if t.line_id == r.job_line_id and t.started_at >= r.at
                           and (until is None or t.started_at < until))
                out.append(ReworkRow(r.id, r.repair_order.number, r.repair_order.vehicle.plate, r.job_line_id,
                                     r.job_line.description, r.stage, r.reason, r.found_by,
                                     r.responsible_technician_id, r.responsible.name if r.responsible else None, r.at,
                                     round(lost, 2)))
            return out
