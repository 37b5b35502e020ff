"""The repair order's status follows its lines: after any change to them, the status they make (domain.workshop.
derive_status) is written with the order's history row and audit row, and the order goes on the bus."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.errors import NotFound, Refused
from shopfloor.domain.models import JobLine, RepairOrder, RoEvent
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.workshop import FindingStatus, LineState, LineStatus, PauseReason, QcStage, derive_status
from shopfloor.domain.workshop_models import JobLineTechnician
from shopfloor.services import views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_repair_order
from shopfloor.services.workshop.projection import mark_ready

# a technician's lines still to work on: given and not started, started, or paused
WORKABLE = (LineStatus.DISPATCHED.value, LineStatus.IN_PROGRESS.value, LineStatus.PAUSED.value)


def load_order(s: Session, number: str) -> RepairOrder:
    ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number).options(
        selectinload(RepairOrder.job_lines).selectinload(JobLine.assignments)))
    if ro is None:
        raise NotFound("error.ro_unknown", number=number)
    return ro


def require_open(ro: RepairOrder, *closed: RoStatus) -> None:
    """Refused for a delivered or cancelled order, and for the other statuses named."""
    if RoStatus(ro.status) not in OPEN_STATUSES or RoStatus(ro.status) in closed:
        raise Refused("workshop.error.order_closed", number=ro.number, status=ro.status)


def require_decisions(ro: RepairOrder) -> None:
    """A car is not ready while the customer has not decided on work found in it: the decision may add a line."""
    pending = [f for f in ro.additional_work if f.status == FindingStatus.PENDING]
    if pending:
        raise Refused("workshop.error.decision_pending", number=ro.number, work=pending[0].description)


def line_state(line: JobLine) -> LineState:
    return LineState(LineStatus(line.status), PauseReason(line.pause_reason) if line.pause_reason else None)


def passed_stages(ro: RepairOrder) -> set[QcStage]:
    """The quality checks passed in the order's current round."""
    return {QcStage(r.stage) for r in ro.qc_results if r.round == ro.qc_round and r.passed}


def checks_complete(ro: RepairOrder, ctx: ServiceContext) -> bool:
    return ctx.settings.workshop.qc_stages[-1] in passed_stages(ro)


def lead_technician(ro: RepairOrder) -> int | None:
    """The order's technician as the boards name it: whoever was given a live line first."""
    firsts = [a for line in ro.job_lines if line.status != LineStatus.CANCELLED for a in line.assignments]
    return min(firsts, key=lambda a: a.id).technician_id if firsts else None


def top_of_queue(s: Session, technician_id: int) -> int:
    """A sequence before every line the technician has to work on: a line given now is their next."""
    lowest = s.scalar(select(func.min(JobLineTechnician.sequence)).join(
        JobLine, JobLine.id == JobLineTechnician.job_line_id).where(
        JobLineTechnician.technician_id == technician_id, JobLine.status.in_(WORKABLE)))
    return (lowest if lowest is not None else 1) - 1


def follow_lines(s: Session, ctx: ServiceContext, ro: RepairOrder, actor: Actor | str, *, kind: str = "transition",
                 reason: str | None = None, lineless: RoStatus | None = None) -> dict[str, Any] | None:
    """Set the open order's status to the one its lines make. The move's event fields (for publish) when it moved,
    None when it did not; a closed order keeps its status, and so does one without live lines (an order opened
    without work: its moves are made by hand) unless `lineless` says where the change takes it."""
    s.flush()
    s.refresh(ro, ["job_lines", "qc_results"])
    ro.technician_id = lead_technician(ro)
    if RoStatus(ro.status) not in OPEN_STATUSES:
        return None
    derived = derive_status([line_state(line) for line in ro.job_lines], checks_complete(ro, ctx))
    if derived is None:
        if lineless is None:
            return None
        derived = lineless, None
    status, hold = derived
    current = RoStatus(ro.status)
    if status == current and (hold.value if hold else None) == ro.hold_reason:
        return None
    now = ctx.now()
    ro.status, ro.hold_reason = status.value, hold.value if hold else None
    if status == RoStatus.READY:
        mark_ready(ro, now)
    why = hold.value if hold else reason
    s.add(RoEvent(repair_order_id=ro.id, at=now, actor=str(actor), kind=kind, from_status=current.value,
                  to_status=status.value, technician_id=ro.technician_id if status == RoStatus.DISPATCHED else None,
                  reason=why))
    record(s, ctx, actor, Entity.REPAIR_ORDER, ro.number, kind, from_value=current.value, to_value=status.value,
           reason=why)
    return {"kind": kind, "from": current.value, "to": status.value, "actor": str(actor),
            "at": views.at(now, ctx.tz), "reason": hold.value if hold else None}


def publish(s: Session, ctx: ServiceContext, ro: RepairOrder, event: dict[str, Any] | None) -> dict[str, Any]:
    """Put the order (and the event of its move, if it moved) in the outbox; its state as the API answers it."""
    s.flush()
    s.refresh(ro)
    publish_repair_order(s, ctx, ro, event)
    return views.repair_order_state(ro, ctx.tz).to_dict()
