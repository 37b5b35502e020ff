"""Customer messages (issue 12): an order's messages with their delivery state, and what staff do with one: send
a failed or uncertain one again, mark one sent by hand, cancel it. Recipients are masked (138****5678)."""

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import unprocessable
from shopfloor.api.fields import MAX_ID, RoNumber
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services import views
from shopfloor.services.customer_messages.outbox import MessageView

router = APIRouter(route_class=GuardedRoute, tags=["customer messages"])

MessageId = Annotated[int, Path(ge=1, le=MAX_ID, description="the message's id")]


class Message(Shape):
    id: int
    channel: str = Field(description="sms | wechat | email | manual")
    template: str = Field(description="appointment_confirmed, ready, next_service …")
    state: str = Field(description="queued | sending | sent | failed | uncertain | manual | cancelled")
    recipient: str = Field(description="masked: 138****5678")
    subject: str
    body: str
    created_at: str
    send_after: str
    sent_at: str | None
    attempts: int
    provider_reason: str | None = Field(description="the provider's code and message when it failed")


def message_of(m: MessageView, api: Services) -> Message:
    tz = api.ctx.tz
    return Message(id=m.id, channel=m.channel, template=m.template, state=m.state, recipient=m.recipient,
                   subject=m.subject, body=m.body, created_at=views.at(m.created_at, tz),
                   send_after=views.at(m.send_after, tz), sent_at=views.at(m.sent_at, tz) if m.sent_at else None,
                   attempts=m.attempts, provider_reason=m.provider_reason)


@router.get("/repair-orders/{number}/messages", summary="The messages sent (or to send) about an order",
            responses=unprocessable())
def get_messages(api: Services, _caller: Annotated[Caller, allowed(Permission.MESSAGES_READ)],
                 number: RoNumber) -> list[Message]:
    return [message_of(m, api) for m in api.messages.messages.for_order(number)]


@router.post("/messages/{message_id}/resend", summary="Queue a failed or uncertain message again",
             responses=unprocessable())
def post_resend(api: Services, caller: Annotated[Caller, allowed(Permission.MESSAGES_SEND)],
                message_id: MessageId) -> Message:
    return message_of(api.messages.messages.resend(message_id, actor=caller.actor), api)


@router.post("/messages/{message_id}/sent", summary="Mark a message sent by hand",
             responses=unprocessable())
def post_sent(api: Services, caller: Annotated[Caller, allowed(Permission.MESSAGES_SEND)],
              message_id: MessageId) -> Message:
    return message_of(api.messages.messages.mark_sent(message_id, actor=caller.actor), api)


@router.post("/messages/{message_id}/cancel", summary="Cancel a message not sent",
             responses=unprocessable())
def post_cancel(api: Services, caller: Annotated[Caller, allowed(Permission.MESSAGES_SEND)],
                message_id: MessageId) -> Message:
    return message_of(api.messages.messages.cancel(message_id, actor=caller.actor), api)
