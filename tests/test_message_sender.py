"""The customer messages' outbox sender and its providers (issue 12), on SQLite and PostgreSQL.

Each provider against a local gateway (the fake HTTP provider for Alibaba Cloud SMS and WeChat, a real aiosmtpd
server for e-mail); the signature against Alibaba's documented example; the faults: a gateway down (retried until
it is back, sent once), hanging (uncertain, never sent again), answering 500 (retried, accepted once), refusing
(failed with its reason), the sender's process killed with SIGKILL in the middle of a send (the row uncertain after
restart, the others each sent once); quiet hours; no message lost."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from shopfloor.credentials import MessageSecrets
from shopfloor.domain.aftersales import MessageState
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.providers import build_providers
from shopfloor.services.customer_messages.providers.sms import signature, string_to_sign
from shopfloor.services.customer_messages.sender import CRASHED, MessageSender, in_quiet_hours
from shopfloor.settings import EmailSettings, WechatSettings
from shopfloor.testing.fake_provider import FakeProvider
from shopfloor.testing.message_fixtures import SmtpInbox
from shopfloor.testing.messages import queue
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.polling import eventually_async, wait_until
from shopfloor.testing.sender_process import fake_settings

pytestmark = ON_BOTH_DATABASES

SECRETS = MessageSecrets(sms_key_id="testid", sms_key_secret="testsecret", wechat_appid="wx123",
                         wechat_secret="wxsecret")
FINAL = {MessageState.SENT, MessageState.FAILED, MessageState.UNCERTAIN}


def sender_for(services: Services, url: str, *, timeout: float = 1.0, **settings: object) -> MessageSender:
    s = fake_settings(url, timeout, services.ctx.settings)
    messages = s.messages.model_copy(update={
        "wechat": WechatSettings(url=url, template_ids={"ready": "TPL-READY"}), "retry_seconds": 30, **settings})
    s = s.model_copy(update={"messages": messages})
    ctx = ServiceContext(services.ctx.db, s, services.clock)
    return MessageSender(ctx, build_providers(s.messages, SECRETS, s.site.id))


def rows(services: Services, ids: list[int]) -> list[CustomerMessage]:
    with services.db.read() as s:
        return list(s.scalars(select(CustomerMessage).where(CustomerMessage.id.in_(ids))
                              .order_by(CustomerMessage.id)))


def test_signature_matches_alibabas_documented_example() -> None:
    # Alibaba Cloud's POP signature example (DescribeRegions, AccessKey testid / testsecret)
    params = {"TimeStamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
              "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Version": "2014-05-26",
              "SignatureVersion": "1.0"}
    assert string_to_sign("GET", params) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
        "%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26")
    assert signature("testsecret", "GET", params) == "CT9X0VtwR86fNWSnsc6v8YGOjuE="
    # RFC 3986: a space is %20 (not +), * is %2A, ~ stays, Chinese as UTF-8 bytes
    assert string_to_sign("POST", {"A": "a b*~", "S": "测"}) == "POST&%2F&A%3Da%2520b%252A~%26S%3D%25E6%25B5%258B"


def test_sms_sent_once_with_a_signed_sendsms_request(services: Services, fake_provider: FakeProvider) -> None:
    sender = sender_for(services, fake_provider.url)
    [mid] = queue(services)
    assert sender.send_due() == 1
    [got] = fake_provider.messages()
    form = got.form
    assert (form["Action"], form["Version"], form["PhoneNumbers"], form["TemplateCode"], form["OutId"]) == (
        "SendSms", "2017-05-25", "13812345678", "SMS_100001", str(mid))
    assert json.loads(form["TemplateParam"])["plate"] == "京A12345" and form["SignName"] == "测试4S店"
    unsigned = {k: v for k, v in form.items() if k != "Signature"}
    assert form["Signature"] == signature("testsecret", "POST", unsigned)
    [row] = rows(services, [mid])
    assert (row.state, row.attempts, row.provider_id, row.sent_at) == (
        MessageState.SENT, 1, "900001^0", services.clock.now())
    assert sender.send_due() == 0 and len(fake_provider.messages()) == 1


def test_wechat_template_message_with_a_cached_token_refreshed_when_expired(
        services: Services, fake_provider: FakeProvider) -> None:
    sender = sender_for(services, fake_provider.url)
    ids = queue(services, 2, channel="wechat", recipient="oOPENID123")
    assert sender.send_due() == 2
    tokens = [r for r in fake_provider.received if not r.is_message]
    assert len(tokens) == 1 and tokens[0].query == {"grant_type": "client_credential", "appid": "wx123",
                                                    "secret": "wxsecret"}
    first = fake_provider.messages()[0]
    assert first.path == "/cgi-bin/message/template/send" and first.query["access_token"] == "TOKEN1"
    assert first.json == {"touser": "oOPENID123", "template_id": "TPL-READY", "url": "https://s.example/c/abc",
                          "data": {"customer": {"value": "王先生"}, "plate": {"value": "京A12345"}}}
    assert [r.state for r in rows(services, ids)] == [MessageState.SENT] * 2
    assert rows(services, ids)[0].provider_id == "200001"


def test_email_through_a_real_smtp_server(services: Services, smtp_server: SmtpInbox) -> None:
    sender = sender_for(services, "http://127.0.0.1:9", email=EmailSettings(
        host=smtp_server.host, port=smtp_server.port, security="none", sender="service@dealer.example"))
    [mid] = queue(services, channel="email", recipient="wang@example.com")
    assert sender.send_due() == 1
    wait_until(lambda: smtp_server.mails, what="the mail")
    [mail] = smtp_server.mails
    assert mail["Message-ID"] == f"<shopfloor.{services.ctx.site}.{mid}@dealer.example>"
    assert str(mail["Subject"]) == "您的爱车可以取车了" or "=?utf-8?" in str(mail["Subject"]).lower()
    assert mail.get_payload(decode=True).decode("utf-8").startswith("王先生您好")
    assert smtp_server.envelopes == [("service@dealer.example", ["wang@example.com"])]
    [row] = rows(services, [mid])
    assert (row.state, row.provider_id) == (MessageState.SENT, mail["Message-ID"])


def test_gateway_down_retried_with_doubling_waits_until_back_then_sent_once(
        services: Services, fake_provider: FakeProvider) -> None:
    sender = sender_for(services, fake_provider.url)
    [mid] = queue(services)
    fake_provider.set_mode("down")
    sender.send_due()
    [row] = rows(services, [mid])
    assert (row.state, row.attempts) == (MessageState.QUEUED, 1) and "not reached" in (row.provider_reason or "")
    assert row.send_after == services.clock.now() + timedelta(seconds=30)
    assert sender.send_due() == 0  # not before its time
    services.clock.advance(seconds=30)
    sender.send_due()
    assert rows(services, [mid])[0].send_after == services.clock.now() + timedelta(seconds=60)
    fake_provider.set_mode("ok")
    services.clock.advance(seconds=60)
    assert sender.send_due() == 1
    [row] = rows(services, [mid])
    assert (row.state, row.attempts) == (MessageState.SENT, 3)
    assert len(fake_provider.messages()) == 1


def test_answering_500_or_busy_is_retried_and_accepted_once(services: Services, fake_provider: FakeProvider
                                                            ) -> None:
    sender = sender_for(services, fake_provider.url)
    [mid] = queue(services)
    fake_provider.script(["fail500", "busy", "ok"])
    for _ in range(3):
        sender.send_due()
        services.clock.advance(minutes=5)
    [row] = rows(services, [mid])
    assert (row.state, row.attempts) == (MessageState.SENT, 3)
    assert [r.mode for r in fake_provider.messages()] == ["fail500", "busy", "ok"]
    assert len(fake_provider.accepted()) == 1


def test_retries_run_out_as_failed_with_the_providers_reason(services: Services, fake_provider: FakeProvider
                                                             ) -> None:
    sender = sender_for(services, fake_provider.url, max_attempts=3)
    [mid] = queue(services)
    fake_provider.set_mode("busy")
    for _ in range(5):
        sender.send_due()
        services.clock.advance(minutes=10)
    [row] = rows(services, [mid])
    assert (row.state, row.attempts) == (MessageState.FAILED, 3)
    assert row.provider_reason is not None and row.provider_reason.startswith("isv.BUSINESS_LIMIT_CONTROL")


def test_a_refusal_fails_with_the_code_and_message(services: Services, fake_provider: FakeProvider) -> None:
    sender = sender_for(services, fake_provider.url)
    sms, wechat = queue(services, key="a")[0], queue(services, channel="wechat", recipient="oX", key="b")[0]
    fake_provider.set_mode("refuse")
    sender.send_due()
    by_id = {r.id: r for r in rows(services, [sms, wechat])}
    assert (by_id[sms].state, by_id[sms].provider_reason) == (MessageState.FAILED,
                                                              "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号")
    assert (by_id[wechat].state, by_id[wechat].provider_reason) == (MessageState.FAILED, "43004: require subscribe")
    services.clock.advance(hours=1)
    assert sender.send_due() == 0 and len(fake_provider.messages()) == 2


def test_a_hang_after_sending_is_uncertain_and_never_sent_again(services: Services, fake_provider: FakeProvider
                                                                ) -> None:
    sender = sender_for(services, fake_provider.url, timeout=0.5)
    hung, other = queue(services, 2)
    fake_provider.script(["hang"])
    assert sender.send_due() == 2
    fake_provider.release()
    by_id = {r.id: r for r in rows(services, [hung, other])}
    assert by_id[hung].state == MessageState.UNCERTAIN and "no answer" in (by_id[hung].provider_reason or "")
    assert by_id[other].state == MessageState.SENT
    services.clock.advance(days=1)
    assert sender.send_due() == 0
    assert [r.form["OutId"] for r in fake_provider.messages()] == [str(hung), str(other)]


def test_quiet_hours_hold_messages_until_the_morning(services: Services, fake_provider: FakeProvider) -> None:
    assert in_quiet_hours(time(22, 0), time(21, 0), time(8, 0)) and in_quiet_hours(time(7, 59), time(21), time(8))
    assert not in_quiet_hours(time(8, 0), time(21), time(8)) and not in_quiet_hours(time(3), time(0), time(0))
    sender = sender_for(services, fake_provider.url, quiet_from=time(21, 0), quiet_until=time(8, 0))
    services.clock.set(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 22:30 in Beijing
    [mid] = queue(services)
    assert sender.send_due() == 0 and fake_provider.messages() == []
    services.clock.set(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))  # 08:00
    assert sender.send_due() == 1 and rows(services, [mid])[0].state == MessageState.SENT


def test_a_channel_no_longer_configured_goes_to_the_advisor(services: Services, fake_provider: FakeProvider
                                                            ) -> None:
    sender = sender_for(services, fake_provider.url)
    [mid] = queue(services, channel="email", recipient="x@example.com")
    assert sender.send_due() == 0
    assert rows(services, [mid])[0].state == MessageState.MANUAL and fake_provider.received == []


def test_killed_while_a_send_hangs_none_lost_none_twice(services: Services, fake_provider: FakeProvider,
                                                        tmp_path: Path) -> None:
    """The sender in a process of its own, killed with SIGKILL while the gateway holds the first message:
    after a restart that one is uncertain (the gateway has it exactly once) and the rest are each sent once."""
    ids = queue(services, 4)
    fake_provider.script(["hang"])
    log = (tmp_path / "sender.log").open("wb")
    args = [sys.executable, "-m", "shopfloor.testing.sender_process", services.db.url, fake_provider.url, "30"]
    first = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: len(fake_provider.messages()) == 1, timeout=30, what="the first send")
        assert rows(services, ids)[0].state == MessageState.SENDING
        first.kill()
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    fake_provider.release()  # the gateway did take it
    second = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: all(r.state in FINAL for r in rows(services, ids)), timeout=30, what="every message")
    finally:
        second.kill()
        second.wait(10)
        log.close()
    states = [(r.state, r.attempts) for r in rows(services, ids)]
    assert states == [(MessageState.UNCERTAIN, 1)] + [(MessageState.SENT, 1)] * 3
    assert rows(services, ids)[0].provider_reason == CRASHED
    out_ids = [r.form["OutId"] for r in fake_provider.messages()]
    assert sorted(out_ids) == sorted(str(i) for i in ids) and len(out_ids) == len(set(out_ids))


def test_recover_turns_sending_rows_uncertain(services: Services, fake_provider: FakeProvider) -> None:
    sender = sender_for(services, fake_provider.url)
    [mid] = queue(services)
    with services.db.write() as s:
        s.get(CustomerMessage, mid).state = MessageState.SENDING  # type: ignore[union-attr]
    assert sender.recover() == 1
    assert rows(services, [mid])[0].state == MessageState.UNCERTAIN
    assert sender.send_due() == 0 and fake_provider.received == []


async def test_the_servers_task_recovers_then_sends_a_new_message_at_once(
        services: Services, fake_provider: FakeProvider) -> None:
    """run_forever as the server runs it: a crash's "sending" row becomes uncertain at start, and a message
    queued later goes out as its transaction commits, not at the next round (a minute away here)."""
    sender = sender_for(services, fake_provider.url)
    [crashed] = queue(services, key="crash")
    with services.db.write() as s:
        s.get(CustomerMessage, crashed).state = MessageState.SENDING  # type: ignore[union-attr]
    task = asyncio.create_task(sender.run_forever(asyncio.to_thread, every=60))
    try:
        assert await eventually_async(lambda: rows(services, [crashed])[0].state == MessageState.UNCERTAIN)
        await asyncio.sleep(0.3)  # its first round done: now waiting a minute
        [new] = await asyncio.to_thread(queue, services, key="new")
        assert await eventually_async(lambda: rows(services, [new])[0].state == MessageState.SENT, timeout=5)
    finally:
        task.cancel()
    assert [r.form["OutId"] for r in fake_provider.messages()] == [str(new)]


@pytest.mark.parametrize("secret_repr", ["testsecret", "wxsecret"])
def test_secrets_never_in_a_repr(secret_repr: str) -> None:
    assert secret_repr not in repr(SECRETS)
