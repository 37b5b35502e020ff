"""Helpers for tests that take a repair order through the workshop."""

from __future__ import annotations

from typing import Any

from shopfloor.domain.errors import Refused
from shopfloor.services.context import ServiceContext
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.services.workshop.quality import QualityService


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
