"""The settlement (验车结算): the bill from the signed estimate and the approved additional work, and the payments
and refunds the cashier records against it."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext


class SettlementService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
