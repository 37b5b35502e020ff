"""The estimate (估价单): priced lines, discount, payer per line, versions, and the customer's signature over exactly
what they saw."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext


class EstimateService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
