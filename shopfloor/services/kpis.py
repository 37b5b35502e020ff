"""The service KPIs (/manager/figures, GET /api/v1/kpis): each figure with its numerator, denominator and the
formula it is counted by (the trade defines them differently; ours are written beside each)."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext


class KpiService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
