"""Helpers for tests that deliver an order: delivered is refused until the customer's part is paid (issue 12)."""

from __future__ import annotations

from typing import Any

from shopfloor.services.context import ServiceContext
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.services.settlement.settlement import SettlementService


def settle(ctx: ServiceContext, number: str, actor: str = "孙丽") -> None:
    """What is left to pay on the order paid by card (nothing when nothing is left)."""
    settlement = SettlementService(ctx)
    left = settlement.summary(number).left
    if left > 0:
        settlement.pay(number, "card", left, actor=actor)


def deliver_paid(ctx: ServiceContext, number: str, actor: str = "张伟") -> dict[str, Any]:
    """The bill settled, then delivered through the state machine: the order's state."""
    settle(ctx, number)
    return RepairOrderService(ctx).transition(number, "delivered", actor=actor)
