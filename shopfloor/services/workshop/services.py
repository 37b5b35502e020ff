"""The workshop's services, made once per server on one context (the composition root and the API take them
together)."""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop.additional_work import AdditionalWorkService
from shopfloor.services.workshop.carry_over import CarryOverService
from shopfloor.services.workshop.clocking import ClockingService
from shopfloor.services.workshop.dispatch import DispatchService
from shopfloor.services.workshop.promises import PromiseService
from shopfloor.services.workshop.quality import QualityService
from shopfloor.services.workshop.tick import WorkshopTick


@dataclass(frozen=True)
class WorkshopServices:
    dispatch: DispatchService
    clocking: ClockingService
    additional_work: AdditionalWorkService
    quality: QualityService
    promises: PromiseService
    carry_over: CarryOverService
    tick: WorkshopTick

    @classmethod
    def on(cls, ctx: ServiceContext) -> WorkshopServices:
        clocking, carry_over = ClockingService(ctx), CarryOverService(ctx)
        return cls(DispatchService(ctx), clocking, AdditionalWorkService(ctx), QualityService(ctx),
                   PromiseService(ctx), carry_over, WorkshopTick(ctx, clocking, carry_over))
