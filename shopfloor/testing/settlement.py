"""Helpers for tests of the settlement and the cashier's desk: a priced order, worked and ready for the cashier."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.domain.models import QrTag, RepairOrder, Technician
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.services.checkin import CheckinRequest, CheckinService
from shopfloor.services.context import ServiceContext
from shopfloor.services.parts.counter import CounterService
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.testing.workshop import pass_checks

MANAGER = frozenset({StaffRole.MANAGER})
OIL_FILTER = "04152-YZZA6"  # 68.00 in the demo catalogue


def priced_order(ctx: ServiceContext, checkin: CheckinService, *operations: str, payers: dict[int, str] | None = None,
                 discount: str | None = None, discount_reason: str = "老客户", oil_filter: bool = True) -> str:
    """A demo car without an open order checked in with these operations (default an oil service and brakes),
    the oil filter on the first line, then the payers (by line position, 0 first) and discount; its number."""
    with ctx.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    number = str(checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=list(operations or (
        "OIL", "BRK")))).repair_order["number"])
    lines = job_lines(ctx, number)
    if oil_filter:
        CounterService(ctx).add(number, lines[0], OIL_FILTER, 1, actor="钱进")
    if payers or discount is not None:
        EstimateService(ctx).update(number, actor="赵经理", roles=MANAGER,
                                    payers={lines[i]: p for i, p in (payers or {}).items()} or None,
                                    discount=Decimal(discount) if discount is not None else None,
                                    discount_reason=discount_reason if discount is not None else None)
    return number


def job_lines(ctx: ServiceContext, number: str) -> list[int]:
    with ctx.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        return [line.id for line in ro.job_lines]


def make_ready(ctx: ServiceContext, number: str, technician: str = "陈刚") -> None:
    """The order's lines dispatched, worked and finished, every quality check passed: it is ready."""
    work = WorkshopServices.on(ctx)
    with ctx.db.read() as s:
        tech = s.scalar(select(Technician).where(Technician.name == technician))
        assert tech is not None
        tech_id, badge = tech.id, tech.badge
    work.dispatch.dispatch(number, tech_id, actor="郑强", override="test")
    clocking, _ = work.clocking.clock_on(badge, number, actor=technician)
    work.clocking.stop(clocking.id, "finished", actor=technician)
    assert pass_checks(ctx, number)["status"] == "ready"


def ready_bill(ctx: ServiceContext, checkin: CheckinService, *operations: str, payers: dict[int, str] | None = None,
               discount: str | None = None) -> str:
    number = priced_order(ctx, checkin, *operations, payers=payers, discount=discount)
    make_ready(ctx, number)
    return number
