"""The transitions API kept (POST /repair-orders/{number}/transitions, the kiosk's move buttons): each move of
the state machine says what it does to the order's lines, and is refused when the lines do not allow it.

- dispatched: the lines not started go to the technician (skill and presence checked; no override here: the
  dispatch route takes one);
- in_progress: dispatched lines start, held ones resume; from quality check it is rework: the next stage to
  check fails and every line goes back to its technician, a row each in the rework register;
- on_hold: open clockings end, the lines in work pause with the hold's reason;
- quality_check: every line is finished, unless a technician is clocked on one or a line was never dispatched;
- ready: the checks not passed yet in this round are recorded as passed by whoever makes the move (one row and
  one audit entry each): the kiosk's one "ready" button and the API's transition keep working where a site has
  no inspectors at screens yet; a site that has them lets the checks themselves make the order ready;
- cancelled: open clockings end, the lines not done are cancelled.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Refused
from shopfloor.domain.models import JobLine, RepairOrder, Technician
from shopfloor.domain.states import HoldReason, RoStatus, TransitionRefused
from shopfloor.domain.workshop import (
    PAUSE_FOR_HOLD,
    DispatchRule,
    LineStatus,
    PauseReason,
    derive_status,
    stage_to_check,
)
from shopfloor.domain.workshop_models import Clocking, QcResult
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop.clocking import end_clockings_on
from shopfloor.services.workshop.dispatch import Broken, DispatchRefused, give
from shopfloor.services.workshop.order_status import checks_complete, line_state, passed_stages, require_decisions
from shopfloor.services.workshop.quality import fail_stage
from shopfloor.services.workshop.working_time import WorkingTime

SENT_BACK = "sent back from the quality check"
PASSED_WITH_MOVE = "passed with the move to ready"


def apply_move(s: Session, ctx: ServiceContext, ro: RepairOrder, current: RoStatus, target: RoStatus,
               tech: Technician | None, reason: str | None, actor: Actor | str) -> tuple[str, list[Technician]]:
    """Change the lines as the move says. The move's kind (transition, rework) and the technicians whose clocking
    it ended (their state goes on the bus too)."""
    live = [line for line in ro.job_lines if line.status != LineStatus.CANCELLED]
    ended: list[Technician] = []
    kind = "transition"
    if target == RoStatus.DISPATCHED and tech is not None:
        _check_technician(s, ctx, ro, tech)
        waiting = [line for line in live if line.status in (LineStatus.WAITING, LineStatus.DISPATCHED)]
        if waiting:
            give(s, ctx, waiting, tech, actor)
        ro.technician_id = tech.id
    elif target == RoStatus.IN_PROGRESS and current == RoStatus.QUALITY_CHECK:
        kind = "rework"
        stages = ctx.settings.workshop.qc_stages
        stage = stage_to_check(stages, passed_stages(ro)) or stages[-1]
        done = [line for line in live if line.status == LineStatus.DONE]
        if done:
            fail_stage(s, ctx, ro, stage, reason or SENT_BACK, None, done, actor)
    elif target == RoStatus.IN_PROGRESS:
        for line in live:
            if line.status == LineStatus.DISPATCHED or line_state(line).hold is not None:
                line.status, line.pause_reason = LineStatus.IN_PROGRESS.value, None
    elif target == RoStatus.ON_HOLD:
        pause = PAUSE_FOR_HOLD[HoldReason(reason or HoldReason.OTHER)]  # the state machine asked for the reason
        ended = end_clockings_on(s, ctx, ro, pause, actor)
        started = [line for line in live if line.status in (LineStatus.IN_PROGRESS, LineStatus.PAUSED)]
        for line in started or [line for line in live if line.status == LineStatus.DISPATCHED]:
            line.status, line.pause_reason = LineStatus.PAUSED.value, pause.value
    elif target == RoStatus.QUALITY_CHECK:
        _check_finishable(s, ro, live)
        now = ctx.now()
        for line in live:
            if line.status != LineStatus.DONE:
                line.status, line.pause_reason, line.finished_at = LineStatus.DONE.value, None, now
    elif target == RoStatus.READY:
        require_decisions(ro)
        if not checks_complete(ro, ctx):
            _pass_remaining_checks(s, ctx, ro, actor)
    elif target == RoStatus.CANCELLED:
        ended = end_clockings_on(s, ctx, ro, PauseReason.OTHER, actor)
        for line in live:
            if line.status != LineStatus.DONE:
                line.status, line.pause_reason = LineStatus.CANCELLED.value, None
    s.flush()
    return kind, ended


def check_follows(ro: RepairOrder, target: RoStatus, ctx: ServiceContext) -> None:
    """After the move, the lines must make the status it moved to; else the move is refused (and rolled back)."""
    if target in (RoStatus.DELIVERED, RoStatus.CANCELLED):
        return
    derived = derive_status([line_state(line) for line in ro.job_lines], checks_complete(ro, ctx))
    if derived is not None and derived[0] != target:
        raise TransitionRefused("workshop.error.lines_disagree", target=target.value, lines=derived[0].value)


def _check_technician(s: Session, ctx: ServiceContext, ro: RepairOrder, tech: Technician) -> None:
    needs = {line.skill for line in ro.job_lines if line.status != LineStatus.CANCELLED}
    if "repair" in needs and tech.skill != "repair":
        raise Refused("error.technician_skill", technician=tech.name)
    today = ctx.today()
    if not WorkingTime(s, ctx, today, days=1).present(tech.id, today):
        raise DispatchRefused([Broken(DispatchRule.ABSENT, f"{tech.name} is not at work on {today}",
                                      "workshop.refused.absent", {"technician": tech.name, "day": today.isoformat()})])


def _check_finishable(s: Session, ro: RepairOrder, live: list[JobLine]) -> None:
    on = s.scalar(select(Technician.name).join(Clocking, Clocking.technician_id == Technician.id).where(
        Clocking.repair_order_id == ro.id, Clocking.ended_at.is_(None)).limit(1))
    if on is not None:
        raise TransitionRefused("workshop.error.still_clocked", technician=on)
    waiting = next((line for line in live if line.status == LineStatus.WAITING), None)
    if waiting is not None:
        raise TransitionRefused("workshop.error.line_not_dispatched", line=waiting.description)


def _pass_remaining_checks(s: Session, ctx: ServiceContext, ro: RepairOrder, actor: Actor | str) -> None:
    now = ctx.now()
    while (stage := stage_to_check(ctx.settings.workshop.qc_stages, passed_stages(ro))) is not None:
        s.add(QcResult(repair_order_id=ro.id, stage=stage.value, round=ro.qc_round, passed=True,
                       reason=PASSED_WITH_MOVE, found_by=str(actor)[:80], at=now))
        record(s, ctx, actor, Entity.REPAIR_ORDER, ro.number, "qc", from_value=stage.value, to_value="passed",
               reason=PASSED_WITH_MOVE)
        s.flush()
        s.refresh(ro, ["qc_results"])
