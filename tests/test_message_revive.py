"""A message's cause that comes back, and a manual message for later, on SQLite and PostgreSQL: a withdrawn message
is queued again when its cause is (the same row, the channel chosen now, the text rendered afresh, audited), one
that was sent, failed, possibly sent or is still waiting stays as it is; a manager's reopen and a second delivery
bring the next-service reminder back; a manual reminder months ahead is not in the advisor's queue nor marked sent
before its day."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shopfloor.domain.aftersales import MessageState, MessageTemplate
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.errors import Refused
from shopfloor.domain.models import AuditEntry, Customer, RepairOrder, Vehicle
from shopfloor.services.customer_messages.enqueue import cancel_message, queue_message
from shopfloor.services.customer_messages.outbox import MessageService
from shopfloor.services.settlement.delivery import WALK
from shopfloor.services.settlement.services import SettlementServices
from shopfloor.settings import SmsSettings
from shopfloor.testing.delivery import settle
from shopfloor.testing.messages import ALL_CODES, configured, queue
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.settlement import ready_bill

pytestmark = ON_BOTH_DATABASES

WALKED = dict.fromkeys(WALK, True)
SMS = {"sms": SmsSettings(sign_name="4S", template_codes=ALL_CODES)}


def row(services: Services, key: str) -> CustomerMessage:
    with services.db.read() as s:
        rows = list(s.scalars(select(CustomerMessage).where(CustomerMessage.dedup_key == key)))
        assert len(rows) == 1, rows
        s.expunge(rows[0])
        return rows[0]


def audited(services: Services, action: str) -> list[AuditEntry]:
    with services.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def customer_texted(services: Services, customer_id: int, channel: str) -> None:
    with services.db.write() as s:
        customer = s.get(Customer, customer_id)
        assert customer is not None
        customer.preferred_channel, customer.phone = channel, "13800138000"


def thank(services: Services, key: str, *, sms: bool = False, **fields: Any) -> CustomerMessage:
    ctx = configured(services, **SMS) if sms else services.ctx
    with services.db.write() as s:
        customer = s.scalars(select(Customer).join(Vehicle).order_by(Vehicle.id)).first()
        assert customer is not None
        queue_message(s, ctx, template=MessageTemplate.THANK_YOU, customer=customer, dedup_key=key, actor="孙丽",
                      fields=fields, send_after=services.ctx.now() + timedelta(hours=1))
    return row(services, key)


def test_a_withdrawn_message_comes_back_when_its_cause_does(services: Services) -> None:
    first = thank(services, "thank_you:revive", customer="王先生")
    assert (first.state, first.channel) == ("manual", "manual")
    with services.db.write() as s:
        assert cancel_message(s, services.ctx, "thank_you:revive", actor="赵经理")
    customer_texted(services, first.customer_id, "sms")  # since then the customer reads SMS

    services.clock.advance(days=2)
    again = thank(services, "thank_you:revive", sms=True, customer="王女士")
    assert again.id == first.id  # the same row: "sent once" still holds for the cause
    assert (again.state, again.channel, again.recipient, again.attempts) == ("queued", "sms", "13800138000", 0)
    assert again.send_after == services.ctx.now() + timedelta(hours=1)
    assert again.body.startswith("【") and "王女士" in again.body and "王先生" not in again.body
    assert again.params["customer"] == "王女士" and again.updated_at == services.ctx.now()
    [entry] = audited(services, "message_requeued")
    assert (entry.actor, entry.from_value, entry.to_value) == ("孙丽", "cancelled", "thank_you (sms)")
    detail = json.loads(entry.detail or "{}")
    assert detail["dedup_key"] == "thank_you:revive" and detail["state"] == "queued"

    # and back to the advisor when no configured channel reaches them any more
    with services.db.write() as s:
        assert cancel_message(s, services.ctx, "thank_you:revive", actor="赵经理")
    by_hand = thank(services, "thank_you:revive", customer="王女士")
    assert (by_hand.id, by_hand.state, by_hand.channel, by_hand.recipient) == (first.id, "manual", "manual", "")
    assert len(audited(services, "message_requeued")) == 2


@pytest.mark.parametrize(("state", "tried"), [
    ("sent", 1), ("failed", 3), ("uncertain", 1), ("queued", 0), ("manual", 0), ("sending", 1),
    ("cancelled", 2),  # failed (or possibly sent), then cancelled by a person: the customer may have it
])
def test_a_message_sent_tried_or_still_waiting_stays_as_it_is(services: Services, state: str, tried: int) -> None:
    [message_id] = queue(services, template="thank_you", key="stays")
    with services.db.write() as s:
        message = s.get(CustomerMessage, message_id)
        assert message is not None
        message.state, message.attempts = state, tried
        message.provider_reason = "isv.BUSINESS_LIMIT_CONTROL" if tried else None
        key, body, send_after = message.dedup_key, message.body, message.send_after
    services.clock.advance(hours=3)
    with services.db.write() as s:
        customer = s.get(Customer, message.customer_id)
        assert customer is not None
        got = queue_message(s, services.ctx, template=MessageTemplate.THANK_YOU, customer=customer,
                            dedup_key=key, actor="孙丽", fields={"customer": "别人"},
                            send_after=services.ctx.now())
        assert got.id == message_id
    kept = row(services, key)
    assert (kept.state, kept.attempts, kept.body, kept.send_after) == (state, tried, body, send_after)
    assert audited(services, "message_requeued") == []


def test_a_reopened_order_delivered_again_queues_its_next_service_reminder_again(services: Services) -> None:
    desk = SettlementServices.on(services.ctx, services.printing, "http://shop.test")
    number = ready_bill(services.ctx, services.checkin, "OIL")
    settle(services.ctx, number)
    desk.delivery.deliver(number, WALKED, actor="王芳")
    key = f"next_service:{number}"
    first = row(services, key)
    assert (first.state, first.channel) == ("manual", "manual")
    assert first.send_after > services.ctx.now() + timedelta(days=30)  # months ahead

    desk.delivery.reopen(number, "交错车了", actor="赵经理")
    assert row(services, key).state == "cancelled"

    customer_texted(services, first.customer_id, "sms")
    services.clock.advance(days=3)
    ctx = configured(services, **SMS)
    SettlementServices.on(ctx, services.printing, "http://shop.test").delivery.deliver(number, WALKED, actor="张伟")
    with services.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None and ro.next_service_on is not None
        due_on = ro.next_service_on
    again = row(services, key)
    assert again.id == first.id
    assert (again.state, again.channel, again.recipient, again.attempts) == ("queued", "sms", "13800138000", 0)
    assert again.send_after == first.send_after + timedelta(days=3)  # reckoned from the second delivery
    assert due_on.isoformat() in again.body and again.params["next_service_date"] == due_on.isoformat()
    [entry] = [e for e in audited(services, "message_requeued") if e.entity_id == number]
    assert (entry.entity, entry.actor, entry.from_value) == ("repair_order", "张伟", "cancelled")

    # a second reopen and delivery: withdrawn and back once more, still one row
    desk.delivery.reopen(number, "又交错了", actor="赵经理")
    assert row(services, key).state == "cancelled"
    SettlementServices.on(ctx, services.printing, "http://shop.test").delivery.deliver(number, WALKED, actor="张伟")
    assert row(services, key).state == "queued"
    with services.db.read() as s:
        assert len(list(s.scalars(select(CustomerMessage.id).where(CustomerMessage.dedup_key == key)))) == 1


def test_a_manual_message_for_later_is_not_asked_for_before_its_day(services: Services) -> None:
    now = services.ctx.now()
    ids = queue(services, 4, channel="manual", recipient="", key="later")
    offsets = [timedelta(hours=-1), timedelta(hours=-2), timedelta(days=120), timedelta(0)]
    with services.db.write() as s:
        for message_id, offset in zip(ids, offsets, strict=True):
            message = s.get(CustomerMessage, message_id)
            assert message is not None
            message.state, message.send_after = MessageState.MANUAL, now + offset
    service = MessageService(services.ctx)
    # due ones only, the longest due first
    assert [m.message.id for m in service.manual_queue()] == [ids[1], ids[0], ids[3]]
    shown = {m.id: m.due for m in service.for_order(service.manual_queue()[0].message.repair_order or "")}
    assert shown[ids[2]] is False and shown[ids[0]] is True

    with pytest.raises(Refused) as early:
        service.mark_sent(ids[2], actor="张伟")
    assert early.value.key == "messages.error.not_due"
    assert (now + timedelta(days=120)).astimezone(services.ctx.tz).strftime("%Y-%m-%d") in early.value.message("zh-CN")
    assert row_state(services, ids[2]) == "manual"
    assert service.cancel(ids[2], actor="张伟").state == "cancelled"  # withdrawing it is not sending it

    services.clock.advance(days=121)
    [later] = queue(services, channel="manual", recipient="", key="due-later")
    with services.db.write() as s:
        message = s.get(CustomerMessage, later)
        assert message is not None
        message.state, message.send_after = MessageState.MANUAL, now + timedelta(days=120)
    assert later in [m.message.id for m in service.manual_queue()]
    assert service.mark_sent(later, actor="张伟").state == "sent"


def row_state(services: Services, message_id: int) -> str:
    with services.db.read() as s:
        message = s.get(CustomerMessage, message_id)
        assert message is not None
        return message.state
