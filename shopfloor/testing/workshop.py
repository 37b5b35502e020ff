"""Helpers for tests that take a repair order through the workshop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from shopfloor.domain.errors import Refused
from shopfloor.domain.models import QrTag, RepairOrder, Technician
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.context import ServiceContext
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.services.workshop.quality import QualityService

if TYPE_CHECKING:
    from shopfloor.testing.plugin import Services


def technician(svc: Services, name: str) -> Technician:
    """The demo's technician of that name."""
    with svc.db.read() as s:
        tech = s.scalar(select(Technician).where(Technician.name == name))
        assert tech is not None
        return tech


def new_order(svc: Services, *operations: str) -> str:
    """A demo car without an open order checked in by 张伟 with these labour operations; its number."""
    with svc.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    return str(svc.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=list(operations)))
               .repair_order["number"])


def pass_checks(ctx: ServiceContext, number: str, actor: str = "郑强") -> dict[str, Any]:
    """Every quality check the site uses and the order has not passed yet, passed in order: the order is ready.
    Its state after the last."""
    quality = QualityService(ctx)
    for stage in ctx.settings.workshop.qc_stages:
        try:
            quality.record(number, stage.value, True, actor=actor)
        except Refused as refused:
            if refused.key != "workshop.error.stage_passed":
                raise
    return RepairOrderService(ctx).get(number)
