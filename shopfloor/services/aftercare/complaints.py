"""Complaints (domain.md §5): registered, owned, acknowledged and investigated by their deadlines, resolved and
called back; an important one escalates at once to the service manager's screens."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext


class ComplaintService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
