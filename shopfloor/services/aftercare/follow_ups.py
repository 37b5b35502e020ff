"""The follow-up calls (domain.md §5): the 3-day call after a delivery, the 7-day call after a new car's sale, the
second call after a complaint; outcomes, retries when unreachable, a problem turned into a complaint or a booking."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext


class FollowUpService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
