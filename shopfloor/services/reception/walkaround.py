"""The six-position walkaround (环车检查六方位, domain.md §3): readings, items, damage marks; proposals from red and
yellow items; last visit's marks."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext


class WalkaroundService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
