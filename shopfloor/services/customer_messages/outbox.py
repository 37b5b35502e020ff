"""Reading a customer's messages and what staff do with them: send again, send by hand and mark sent, cancel.

Each of these is a person's decision (a message that failed or may have been sent, a text sent from the advisor's
own phone), so each is audited on the message's order (or appointment) with who asked for it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import Channel, MessageState
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.errors import NotFound, Refused
from shopfloor.domain.models import Customer, RepairOrder
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext

RESENDABLE = frozenset({MessageState.FAILED, MessageState.UNCERTAIN})
MARKABLE = frozenset({MessageState.MANUAL, MessageState.UNCERTAIN})
CANCELLABLE = frozenset({MessageState.QUEUED, MessageState.MANUAL, MessageState.FAILED, MessageState.UNCERTAIN})


def mask_recipient(channel: str, recipient: str) -> str:
    """138****5678 for a phone, z***@example.com for an address, the openid's last four for WeChat."""
    if not recipient:
        return ""
    if channel == Channel.EMAIL and "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    digits = re.sub(r"\D", "", recipient)
    if channel == Channel.SMS or (len(digits) >= 7 and len(digits) == len(recipient.lstrip("+"))):
        return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"
    return f"…{recipient[-4:]}" if len(recipient) > 4 else "****"


@dataclass(frozen=True)
class MessageView:
    id: int
    channel: str
    template: str
    state: str
    recipient: str  # masked
    subject: str
    body: str
    created_at: datetime
    send_after: datetime
    sent_at: datetime | None
    attempts: int
    provider_reason: str | None
    repair_order: str | None = None
    due: bool = True  # send_after has come (a manual text is sent by hand only from then)


@dataclass(frozen=True)
class ManualMessage:
    """A text waiting for an advisor to send by hand: to whom, on which phone."""

    message: MessageView
    customer: str
    phone: str


def _view(row: CustomerMessage, number: str | None, now: datetime) -> MessageView:
    return MessageView(id=row.id, channel=row.channel, template=row.template, state=row.state,
                       recipient=mask_recipient(row.channel, row.recipient), subject=row.subject, body=row.body,
                       created_at=row.created_at, send_after=row.send_after, sent_at=row.sent_at,
                       attempts=row.attempts, provider_reason=row.provider_reason, repair_order=number,
                       due=row.send_after <= now)


class MessageService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _order(self, s: Session, number: str) -> RepairOrder:
        ro = s.scalars(select(RepairOrder).where(RepairOrder.site_id == self.ctx.site,
                                                 RepairOrder.number == number)).first()
        if ro is None:
            raise NotFound("error.ro_unknown", number=number)
        return ro

    def for_order(self, number: str) -> list[MessageView]:
        with self.ctx.db.read() as s:
            ro = self._order(s, number)
            rows = s.scalars(select(CustomerMessage).where(CustomerMessage.repair_order_id == ro.id)
                             .order_by(CustomerMessage.created_at, CustomerMessage.id))
            now = self.ctx.now()
            return [_view(row, number, now) for row in rows]

    def manual_queue(self) -> list[ManualMessage]:
        """The texts an advisor has to send by hand now, the longest due first; one due later (the next service's
        reminder, months ahead) is not listed before its day."""
        now = self.ctx.now()
        with self.ctx.db.read() as s:
            rows = s.execute(
                select(CustomerMessage, Customer, RepairOrder.number)
                .join(Customer, Customer.id == CustomerMessage.customer_id)
                .outerjoin(RepairOrder, RepairOrder.id == CustomerMessage.repair_order_id)
                .where(CustomerMessage.site_id == self.ctx.site, CustomerMessage.state == MessageState.MANUAL,
                       CustomerMessage.send_after <= now)
                .order_by(CustomerMessage.send_after, CustomerMessage.id)).all()
            return [ManualMessage(_view(m, number, now), c.addressed, c.phone) for m, c, number in rows]

    def resend(self, message_id: int, *, actor: Actor | str) -> MessageView:
        """A failed or uncertain message queued again now, its tries counted afresh (a person decided)."""
        return self._change(message_id, RESENDABLE, MessageState.QUEUED, "message_resent", actor)

    def mark_sent(self, message_id: int, *, actor: Actor | str) -> MessageView:
        """Sent by hand (a manual text, once it is due: "your service is due" is not said months early), or an
        uncertain one the customer confirms they got."""
        return self._change(message_id, MARKABLE, MessageState.SENT, "message_marked_sent", actor)

    def cancel(self, message_id: int, *, actor: Actor | str) -> MessageView:
        return self._change(message_id, CANCELLABLE, MessageState.CANCELLED, "message_cancelled", actor)

    def _change(self, message_id: int, allowed: frozenset[MessageState], to: MessageState, action: str,
                actor: Actor | str) -> MessageView:
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            row = s.get(CustomerMessage, message_id)
            if row is None or row.site_id != self.ctx.site:
                raise NotFound("messages.error.not_found", id=message_id)
            was = row.state
            if was not in allowed:
                raise Refused("messages.error.not_now", state=was, to=to.value)
            if to == MessageState.SENT and was == MessageState.MANUAL and row.send_after > now:
                due = row.send_after.astimezone(self.ctx.tz)
                raise Refused("messages.error.not_due", date=f"{due:%Y-%m-%d %H:%M}")
            row.state, row.updated_at = to, now
            if to == MessageState.QUEUED:
                row.send_after, row.attempts = now, 0
            elif to == MessageState.SENT:
                row.sent_at = now
            number = s.scalar(select(RepairOrder.number).where(RepairOrder.id == row.repair_order_id)) \
                if row.repair_order_id else None
            # the card history reads an order's (or appointment's) entries; a message of neither is kept by its id
            if number:
                entity, entity_id = Entity.REPAIR_ORDER, number
            elif row.appointment_id:
                entity, entity_id = Entity.APPOINTMENT, str(row.appointment_id)
            else:
                entity, entity_id = Entity.REPAIR_ORDER, f"message:{row.id}"
            record(s, self.ctx, actor, entity, entity_id, action, from_value=was, to_value=to.value,
                   detail={"message": row.id, "template": row.template, "channel": row.channel})
            return _view(row, number, now)
