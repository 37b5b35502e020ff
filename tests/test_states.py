import itertools

import pytest

from shopfloor.domain.states import ALLOWED, HoldReason, RoStatus, TransitionRefused, check, next_moves

EXPECTED = {
    ("checked_in", "dispatched"), ("dispatched", "dispatched"), ("dispatched", "in_progress"),
    ("in_progress", "on_hold"), ("in_progress", "quality_check"), ("on_hold", "in_progress"),
    ("quality_check", "ready"), ("quality_check", "in_progress"), ("ready", "delivered"),
    *((s, "cancelled") for s in ("checked_in", "dispatched", "in_progress", "on_hold", "quality_check", "ready")),
}


def _args(target: RoStatus) -> dict:
    return {"technician": 1 if target == RoStatus.DISPATCHED else None,
            "reason": HoldReason.WAITING_PARTS.value if target == RoStatus.ON_HOLD else None}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(RoStatus, RoStatus)))
def test_every_move_is_allowed_or_refused_as_specified(current: RoStatus, target: RoStatus) -> None:
    if (current.value, target.value) in EXPECTED:
        check(current, target, **_args(target))
        assert target in ALLOWED[current]
    else:
        with pytest.raises(TransitionRefused) as exc:
            check(current, target, **_args(target))
        assert exc.value.key == "error.transition_not_allowed"
        assert current.value in exc.value.message("en") and target.value in exc.value.message("en")


def test_dispatch_needs_a_technician() -> None:
    with pytest.raises(TransitionRefused, match="technician"):
        check(RoStatus.CHECKED_IN, RoStatus.DISPATCHED, technician=None, reason=None)


@pytest.mark.parametrize("reason", [None, "coffee break"])
def test_hold_needs_a_known_reason(reason: str | None) -> None:
    with pytest.raises(TransitionRefused):
        check(RoStatus.IN_PROGRESS, RoStatus.ON_HOLD, technician=None, reason=reason)


def test_nothing_leaves_delivered_or_cancelled() -> None:
    assert next_moves(RoStatus.DELIVERED) == []
    assert next_moves(RoStatus.CANCELLED) == []


def test_rework_goes_back_to_the_technician() -> None:
    assert RoStatus.IN_PROGRESS in next_moves(RoStatus.QUALITY_CHECK)


def test_refusal_is_translated() -> None:
    with pytest.raises(TransitionRefused) as exc:
        check(RoStatus.READY, RoStatus.IN_PROGRESS, technician=None, reason=None)
    assert "工单不能从" in exc.value.message("zh-CN")
