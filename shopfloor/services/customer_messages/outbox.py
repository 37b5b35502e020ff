"""Reading a customer's messages and what staff do with them: send again, send by hand and mark sent, cancel."""

from __future__ import annotations

from shopfloor.services.context import ServiceContext


class MessageService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
