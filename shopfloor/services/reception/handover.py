"""The vehicle handover record (交接车登记): the car's condition as handed over, signed by the customer."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext


class HandoverService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
