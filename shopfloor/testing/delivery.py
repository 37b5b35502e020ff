"""Helpers for tests that deliver an order: delivered is refused until the customer's part is paid (issue 12)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopfloor.services.context import ServiceContext
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.services.settlement.settlement import SettlementService
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.testing.workshop import new_order, pass_checks, technician

if TYPE_CHECKING:
    from shopfloor.testing.plugin import Services


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


def delivered(svc: Services) -> str:
    """A demo car checked in, worked, inspected, paid and delivered now: its order number."""
    number = new_order(svc, "M10")
    work = WorkshopServices.on(svc.ctx)
    tech = technician(svc, "周杰")
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    clocking, _ = work.clocking.clock_on(tech.badge, number, actor=tech.name)
    work.clocking.stop(clocking.id, "finished", actor=tech.name)
    pass_checks(svc.ctx, number)
    settle(svc.ctx, number, actor="收银员")
    svc.repair_orders.transition(number, "delivered", actor="张伟")
    return number
