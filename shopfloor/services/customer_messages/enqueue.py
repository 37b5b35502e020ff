"""Queueing a customer message in the transaction of the change that causes it: the channel the customer can be
reached in, the text rendered once (what was queued is what is sent), one row per cause (the dedup key).

The sender (outbox/sender, helper D) sends what is queued when send_after has come; what no configured channel can
carry is queued for the advisor to send by hand (state manual). A message withdrawn because its cause went away
comes back when the cause does (the same row queued again); one sent, failed or possibly sent stays as it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import Channel, MessageState, MessageTemplate
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import Appointment, Customer, RepairOrder
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.sender import NOT_CONFIGURED
from shopfloor.services.customer_messages.templates import render
from shopfloor.services.messages import appointment_fields

# a message no longer true is withdrawn while nobody has sent it yet
OPEN_STATES = (MessageState.QUEUED.value, MessageState.MANUAL.value)


def customer_link(ctx: ServiceContext, ro: RepairOrder) -> str:
    """The order's customer page, as CustomerPageService.link builds it: the server's address is the context's
    (the composition root sets it from [web] public_url or the address it serves on)."""
    base = (ctx.server_url or ctx.settings.web.public_url or "http://localhost:8080").rstrip("/")
    return f"{base}/c/{ro.customer_token}" if ro.customer_token else ""


def channel_for(ctx: ServiceContext, customer: Customer, template: MessageTemplate,
                repair_order: RepairOrder | None = None) -> tuple[Channel, str]:
    """(channel, recipient): the order's follow-up channel, else the customer's preferred one, when it is
    configured for this template and the customer has the address it needs; by hand otherwise (phone, letter,
    none, an unconfigured gateway, a template the gateway has no approved code for, no number)."""
    wanted = (repair_order.followup_channel if repair_order is not None else None) or customer.preferred_channel
    messages = ctx.settings.messages
    if wanted == Channel.SMS and customer.phone.strip() and messages.sms is not None \
            and messages.sms.template_codes.get(template.value):
        return Channel.SMS, customer.phone.strip()
    if wanted == Channel.WECHAT and customer.wechat_openid.strip() and messages.wechat is not None \
            and messages.wechat.template_ids.get(template.value):
        return Channel.WECHAT, customer.wechat_openid.strip()
    if wanted == Channel.EMAIL and customer.email.strip() and messages.email is not None:
        return Channel.EMAIL, customer.email.strip()
    return Channel.MANUAL, ""


def message_fields(ctx: ServiceContext, customer: Customer, repair_order: RepairOrder | None,
                   appointment: Appointment | None, fields: dict[str, Any]) -> dict[str, Any]:
    """What every text may use, from the order or the appointment; the caller's fields win."""
    out: dict[str, Any] = {"customer": customer.addressed, "site": ctx.settings.site.name,
                           "hotline": ctx.settings.booking.hotline}
    if appointment is not None:
        out |= appointment_fields(ctx, appointment)
    if repair_order is not None:
        out |= {"plate": display_plate(repair_order.vehicle.plate), "advisor": repair_order.advisor.name,
                "link": customer_link(ctx, repair_order)}
    return out | fields


def _entity(row: CustomerMessage, repair_order: RepairOrder | None) -> tuple[Entity, int | str]:
    if repair_order is not None:
        return Entity.REPAIR_ORDER, repair_order.number
    if row.appointment_id is not None:
        return Entity.APPOINTMENT, row.appointment_id
    return Entity.CUSTOMER, row.customer_id


def queue_message(s: Session, ctx: ServiceContext, *, template: MessageTemplate, customer: Customer,
                  dedup_key: str, actor: Actor | str, fields: dict[str, Any], repair_order: RepairOrder | None = None,
                  appointment: Appointment | None = None, send_after: datetime | None = None) -> CustomerMessage:
    """Queue one message in the caller's transaction; a cause already queued (its dedup key) is that row, sent
    once. A cause that comes back after its message was withdrawn (a reopened order delivered again) brings that
    row back with what is true now."""
    found = s.scalar(select(CustomerMessage).where(CustomerMessage.dedup_key == dedup_key))
    if found is not None:
        if _revivable(found):
            # locked and read again: two requests reviving the same cause at once revive it once
            s.refresh(found, with_for_update=True)
            if _revivable(found):
                _revive(s, ctx, found, template, customer, actor, fields, repair_order, appointment, send_after)
        return found
    channel, recipient = channel_for(ctx, customer, template, repair_order)
    language = ctx.settings.site.language
    text = render(ctx, template, channel.value, language,
                  message_fields(ctx, customer, repair_order, appointment, fields))
    now = ctx.now()
    row = CustomerMessage(
        site_id=ctx.site, customer_id=customer.id, repair_order_id=repair_order.id if repair_order else None,
        appointment_id=appointment.id if appointment else None, dedup_key=dedup_key[:120], template=template.value,
        channel=channel.value, language=language, recipient=recipient[:200], subject=text.subject, body=text.body,
        params=text.params, state=_first_state(channel), send_after=send_after or now, attempts=0, created_at=now,
        created_by=str(actor)[:80], updated_at=now)
    try:
        # two changes causing the same message at once (two requests): the second finds the first's row
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:
        existing = s.scalar(select(CustomerMessage).where(CustomerMessage.dedup_key == dedup_key))
        if existing is None:
            raise
        return existing
    entity, entity_id = _entity(row, repair_order)
    record(s, ctx, actor, entity, entity_id, "message_queued", to_value=f"{template.value} ({channel.value})",
           detail={"template": template.value, "channel": channel.value, "dedup_key": dedup_key,
                   "send_after": row.send_after.isoformat()})
    return row


def _revivable(row: CustomerMessage) -> bool:
    """Withdrawn before any provider had it: what failed or may have been sent and was then cancelled by a person
    is never queued again (the customer may have it)."""
    return row.state == MessageState.CANCELLED and row.attempts == 0 and row.sent_at is None \
        and row.provider_id is None and row.provider_reason in (None, NOT_CONFIGURED)


def _first_state(channel: Channel) -> str:
    return (MessageState.MANUAL if channel is Channel.MANUAL else MessageState.QUEUED).value


def _revive(s: Session, ctx: ServiceContext, row: CustomerMessage, template: MessageTemplate, customer: Customer,
            actor: Actor | str, fields: dict[str, Any], repair_order: RepairOrder | None,
            appointment: Appointment | None, send_after: datetime | None) -> None:
    """A withdrawn message queued again as if new: the channel chosen today, the text rendered afresh, its tries
    counted from nought; the row (and its history) is the same one."""
    channel, recipient = channel_for(ctx, customer, template, repair_order)
    language = ctx.settings.site.language
    text = render(ctx, template, channel.value, language,
                  message_fields(ctx, customer, repair_order, appointment, fields))
    now = ctx.now()
    was = row.state
    row.customer_id, row.template, row.channel, row.language = customer.id, template.value, channel.value, language
    row.recipient, row.subject, row.body, row.params = recipient[:200], text.subject, text.body, text.params
    row.state, row.send_after, row.attempts, row.updated_at = _first_state(channel), send_after or now, 0, now
    row.provider_id, row.provider_reason, row.sent_at = None, None, None
    if repair_order is not None:
        row.repair_order_id = repair_order.id
    if appointment is not None:
        row.appointment_id = appointment.id
    s.flush()
    entity, entity_id = _entity(row, repair_order)
    record(s, ctx, actor, entity, entity_id, "message_requeued", from_value=was,
           to_value=f"{template.value} ({channel.value})",
           detail={"template": template.value, "channel": channel.value, "dedup_key": row.dedup_key,
                   "state": row.state, "send_after": row.send_after.isoformat()})


def _open(s: Session, dedup_key: str) -> CustomerMessage | None:
    return s.scalar(select(CustomerMessage).where(CustomerMessage.dedup_key == dedup_key,
                                                  CustomerMessage.state.in_(OPEN_STATES)))


def cancel_message(s: Session, ctx: ServiceContext, dedup_key: str, *, actor: Actor | str) -> bool:
    """Withdraw a message whose cause is gone (the appointment cancelled, the order cancelled) while it has not been
    sent; False when there is none left to withdraw."""
    row = _open(s, dedup_key)
    if row is None:
        return False
    was, row.state, row.updated_at = row.state, MessageState.CANCELLED.value, ctx.now()
    ro = s.get(RepairOrder, row.repair_order_id) if row.repair_order_id is not None else None
    entity, entity_id = _entity(row, ro)
    record(s, ctx, actor, entity, entity_id, "message_withdrawn", from_value=was, to_value=row.state,
           detail={"template": row.template, "channel": row.channel, "dedup_key": dedup_key})
    return True


def retime_message(s: Session, ctx: ServiceContext, dedup_key: str, send_after: datetime, fields: dict[str, Any], *,
                   actor: Actor | str) -> bool:
    """A message not sent yet goes out at another time, its text rendered again (the appointment moved: the new
    date and time); False when there is none to re-time."""
    row = _open(s, dedup_key)
    if row is None:
        return False
    customer = s.get(Customer, row.customer_id)
    ro = s.get(RepairOrder, row.repair_order_id) if row.repair_order_id is not None else None
    appt = s.get(Appointment, row.appointment_id) if row.appointment_id is not None else None
    assert customer is not None  # a foreign key
    text = render(ctx, MessageTemplate(row.template), row.channel, row.language,
                  message_fields(ctx, customer, ro, appt, fields))
    was = row.send_after
    row.send_after, row.subject, row.body, row.params = send_after, text.subject, text.body, text.params
    row.updated_at = ctx.now()
    entity, entity_id = _entity(row, ro)
    record(s, ctx, actor, entity, entity_id, "message_retimed", from_value=was.isoformat(),
           to_value=send_after.isoformat(), detail={"template": row.template, "dedup_key": dedup_key})
    return True
