"""The repair order's state machine: which moves are allowed, and what each needs."""

from __future__ import annotations

from enum import StrEnum

from shopfloor.domain.errors import Refused


class RoStatus(StrEnum):
    CHECKED_IN = "checked_in"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    QUALITY_CHECK = "quality_check"
    READY = "ready"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class HoldReason(StrEnum):
    WAITING_PARTS = "waiting_parts"
    WAITING_APPROVAL = "waiting_approval"
    SUBLET = "sublet"  # the car (or a part of the work) is at another shop
    TECHNICAL_HELP = "technical_help"  # the technician waits for the technical director's or foreman's help
    OTHER = "other"


OPEN_STATUSES = frozenset(RoStatus) - {RoStatus.DELIVERED, RoStatus.CANCELLED}

# quality_check -> in_progress is rework: the car goes back to the technician.
_FORWARD: dict[RoStatus, frozenset[RoStatus]] = {
    RoStatus.CHECKED_IN: frozenset({RoStatus.DISPATCHED}),
    RoStatus.DISPATCHED: frozenset({RoStatus.IN_PROGRESS, RoStatus.DISPATCHED}),
    RoStatus.IN_PROGRESS: frozenset({RoStatus.ON_HOLD, RoStatus.QUALITY_CHECK}),
    RoStatus.ON_HOLD: frozenset({RoStatus.IN_PROGRESS}),
    RoStatus.QUALITY_CHECK: frozenset({RoStatus.READY, RoStatus.IN_PROGRESS}),
    RoStatus.READY: frozenset({RoStatus.DELIVERED}),
    RoStatus.DELIVERED: frozenset(),
    RoStatus.CANCELLED: frozenset(),
}

ALLOWED: dict[RoStatus, frozenset[RoStatus]] = {
    state: targets | ({RoStatus.CANCELLED} if state in OPEN_STATUSES else frozenset())
    for state, targets in _FORWARD.items()
}


class TransitionRefused(Refused):
    """A move the state machine does not allow (or not without what it needs)."""


def check(current: RoStatus, target: RoStatus, *, technician: int | None, reason: str | None) -> None:
    """Raise TransitionRefused unless `current -> target` is allowed with what is given."""
    if target not in ALLOWED[current]:
        raise TransitionRefused("error.transition_not_allowed", current=current.value, target=target.value)
    if target == RoStatus.DISPATCHED and technician is None:
        raise TransitionRefused("error.dispatch_needs_technician")
    if target == RoStatus.ON_HOLD:
        if reason is None:
            raise TransitionRefused("error.hold_needs_reason")
        if reason not in {r.value for r in HoldReason}:
            raise TransitionRefused("error.hold_reason_unknown", reason=reason)


def next_moves(current: RoStatus) -> list[RoStatus]:
    order = list(RoStatus)
    return sorted(ALLOWED[current], key=order.index)


# A mistaken delivery goes back to ready: the manager's reopen (DeliveryService.reopen) only, never the plain
# transitions, so it is not in ALLOWED.
REOPEN: dict[RoStatus, RoStatus] = {RoStatus.DELIVERED: RoStatus.READY}


def check_reopen(current: RoStatus) -> RoStatus:
    """The status a reopened order goes back to; refused for an order that was not delivered."""
    if current not in REOPEN:
        raise TransitionRefused("error.transition_not_allowed", current=current.value,
                                target=RoStatus.READY.value)
    return REOPEN[current]
