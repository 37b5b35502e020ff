"""The customer messages' services, made once per server."""

from __future__ import annotations

from dataclasses import dataclass

from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.outbox import MessageService


@dataclass(frozen=True)
class MessageServices:
    messages: MessageService

    @classmethod
    def on(cls, ctx: ServiceContext) -> MessageServices:
        return cls(messages=MessageService(ctx))
