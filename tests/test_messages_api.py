"""The customer messages' API and staff actions (issue 12) on SQLite and PostgreSQL: GET …/messages in the
contract's shape (channel, template, state; the recipient masked), resend of a failed or uncertain message (queued
again, tries counted afresh), sent by hand, cancel, each audited with its caller; 409 for a change the state does
not allow, 404 for an unknown message, 403 for a technician; the advisor's manual queue."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.aftersales import MessageState
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.models import AuditEntry, RepairOrder
from shopfloor.services.customer_messages.outbox import MessageService, mask_recipient
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.messages import queue
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

API = "/api/v1"
ADVISOR = ApiToken("reception-tablet", "advisor-token", frozenset({StaffRole.ADVISOR}))
CASHIER = ApiToken("cashier-desk", "cashier-token", frozenset({StaffRole.CASHIER}))
TECHNICIAN = ApiToken("bay-3", "technician-token", frozenset({StaffRole.TECHNICIAN}))


@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, "integrator", ADVISOR, CASHIER, TECHNICIAN)


def caller(app: FastAPI, token: ApiToken) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token.token}"})


def set_state(services: Services, message_id: int, state: MessageState, reason: str | None = None) -> None:
    with services.db.write() as s:
        row = s.get(CustomerMessage, message_id)
        assert row is not None
        row.state, row.attempts, row.provider_reason = state, 6, reason


def number_of(services: Services, message_id: int) -> str:
    with services.db.read() as s:
        return s.scalar(select(RepairOrder.number).join(
            CustomerMessage, CustomerMessage.repair_order_id == RepairOrder.id).where(CustomerMessage.id == message_id))


def test_an_orders_messages_in_the_contracts_shape(app: FastAPI, services: Services) -> None:
    sms, wechat = queue(services, key="a")[0], queue(services, channel="wechat", recipient="oABCDEFG1234", key="b")[0]
    set_state(services, wechat, MessageState.FAILED, "43004: require subscribe")
    number = number_of(services, sms)
    got = caller(app, CASHIER).get(f"{API}/repair-orders/{number}/messages")
    assert got.status_code == 200, got.text
    body = {m["id"]: m for m in got.json()}
    assert {k for m in body.values() for k in m} >= {"id", "channel", "template", "state", "recipient", "subject",
                                                     "body", "created_at", "sent_at", "attempts", "provider_reason"}
    assert (body[sms]["channel"], body[sms]["template"], body[sms]["state"], body[sms]["recipient"]) == (
        "sms", "ready", "queued", "138****5678")
    assert "13812345678" not in got.text and "oABCDEFG1234" not in got.text
    assert (body[wechat]["state"], body[wechat]["provider_reason"]) == ("failed", "43004: require subscribe")
    assert body[sms]["created_at"].endswith("+08:00") and body[sms]["sent_at"] is None
    assert caller(app, ADVISOR).get(f"{API}/repair-orders/RO19990101-999/messages").status_code == 404
    assert caller(app, TECHNICIAN).get(f"{API}/repair-orders/{number}/messages").status_code == 403


def test_resend_mark_sent_and_cancel_each_audited(app: FastAPI, services: Services) -> None:
    advisor = caller(app, ADVISOR)
    failed, uncertain, manual, queued = (queue(services, key=k)[0] for k in "abcd")
    set_state(services, failed, MessageState.FAILED, "isv.BUSINESS_LIMIT_CONTROL: 流控")
    set_state(services, uncertain, MessageState.UNCERTAIN)
    set_state(services, manual, MessageState.MANUAL)

    again = advisor.post(f"{API}/messages/{failed}/resend")
    assert again.status_code == 200, again.text
    assert (again.json()["state"], again.json()["attempts"]) == ("queued", 0)
    assert advisor.post(f"{API}/messages/{uncertain}/sent").json()["state"] == "sent"
    assert advisor.post(f"{API}/messages/{manual}/sent").json()["sent_at"]
    assert advisor.post(f"{API}/messages/{queued}/cancel").json()["state"] == "cancelled"

    refused = advisor.post(f"{API}/messages/{queued}/resend")
    assert refused.status_code == 409 and "cancelled" in refused.json()["detail"]
    assert advisor.post(f"{API}/messages/{manual}/resend").status_code == 409  # by hand, not by the gateway
    assert advisor.post(f"{API}/messages/999999/cancel").status_code == 404
    assert caller(app, CASHIER).post(f"{API}/messages/{failed}/cancel").status_code == 403

    number = number_of(services, failed)
    with services.db.read() as s:
        audit = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.from_value, AuditEntry.to_value)
                          .where(AuditEntry.entity_id == number, AuditEntry.action.like("message_%"))
                          .order_by(AuditEntry.id)).all()
    assert [tuple(a) for a in audit] == [
        ("message_resent", "reception-tablet", "failed", "queued"),
        ("message_marked_sent", "reception-tablet", "uncertain", "sent"),
        ("message_marked_sent", "reception-tablet", "manual", "sent"),
        ("message_cancelled", "reception-tablet", "queued", "cancelled")]


def test_the_manual_queue_holds_the_texts_an_advisor_sends_by_hand(services: Services) -> None:
    manual, other = queue(services, key="m")[0], queue(services, key="q")[0]
    set_state(services, manual, MessageState.MANUAL)
    service = MessageService(services.ctx)
    [waiting] = service.manual_queue()
    assert waiting.message.id == manual and waiting.message.body.startswith("王先生您好") and waiting.phone
    assert waiting.message.repair_order == number_of(services, manual)
    service.mark_sent(manual, actor="张伟")
    assert service.manual_queue() == [] and other


def test_recipients_masked() -> None:
    assert mask_recipient("sms", "13812345678") == "138****5678"
    assert mask_recipient("email", "wang.wei@example.com") == "w***@example.com"
    assert mask_recipient("wechat", "oABCDEFG1234") == "…1234"
    assert mask_recipient("manual", "") == ""
