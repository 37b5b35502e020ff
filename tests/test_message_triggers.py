"""What customers are told, and when: each change queues one message in its own transaction, in the channel the
customer can be reached in, with the site's text."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shopfloor import cli
from shopfloor import settings as settings_mod
from shopfloor.domain.aftersales import MessageState, MessageTemplate
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import AuditEntry, Customer, RepairOrder, Vehicle
from shopfloor.domain.workshop_models import Promise
from shopfloor.services.booking import BookingRequest, BookingService
from shopfloor.services.checkin import CheckinRequest, CheckinService
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.enqueue import cancel_message, queue_message
from shopfloor.services.customer_messages.templates import render
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.services.workshop.additional_work import AdditionalWorkService
from shopfloor.services.workshop.promises import PromiseService
from shopfloor.settings import EmailSettings, SmsSettings, WechatSettings
from shopfloor.testing.demo_day import quiet_day, waiting_today
from shopfloor.testing.messages import ALL_CODES, configured
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

def messages(svc: Services, **where: Any) -> list[CustomerMessage]:
    with svc.db.read() as s:
        query = select(CustomerMessage).order_by(CustomerMessage.id)
        for name, value in where.items():
            query = query.where(getattr(CustomerMessage, name) == value)
        rows = list(s.scalars(query))
        s.expunge_all()
        return rows


def one(svc: Services, key: str) -> CustomerMessage:
    rows = messages(svc, dedup_key=key)
    assert len(rows) == 1, rows
    return rows[0]


def set_customer(svc: Services, plate: str, **values: Any) -> Customer:
    with svc.db.write() as s:
        customer = s.scalars(select(Customer).join(Vehicle, Vehicle.customer_id == Customer.id)
                             .where(Vehicle.plate == plate)).one()
        for name, value in values.items():
            setattr(customer, name, value)
        s.flush()
        s.expunge(customer)
        return customer


def a_plate(svc: Services, index: int = 5) -> str:
    with svc.db.read() as s:
        return list(s.scalars(select(Vehicle.plate).order_by(Vehicle.id)))[index]


def book(ctx: ServiceContext, plate: str, day: date, hour: int = 10, override: str | None = None) -> dict[str, Any]:
    b = BookingService(ctx)
    return b.book(BookingRequest(start=datetime.combine(day, time(hour), tzinfo=ctx.tz),
                                 lines=b.lines(codes=["M10"]), actor="张伟", plate=plate, override_reason=override))


def audited(svc: Services, action: str) -> list[AuditEntry]:
    with svc.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_a_booking_is_confirmed_now_and_reminded_the_day_before_at_the_configured_hour(services: Services) -> None:
    plate = a_plate(services)
    customer = set_customer(services, plate, preferred_channel="sms", phone="13800138000")
    ctx = configured(services, sms=SmsSettings(sign_name="4S", template_codes=ALL_CODES))
    day = quiet_day(services)
    appt = book(ctx, plate, day)

    confirmed = one(services, f"confirmed:appointment:{appt['id']}")
    assert (confirmed.template, confirmed.channel, confirmed.state, confirmed.recipient) == (
        "appointment_confirmed", "sms", "queued", "13800138000")
    assert confirmed.send_after == services.ctx.now() and confirmed.language == "zh-CN"
    assert display_plate(plate) in confirmed.body and customer.addressed in confirmed.body
    assert f"{day.month}月{day.day}日 10:00" in confirmed.body
    assert confirmed.params["plate"] == display_plate(plate) and confirmed.params["time"] == "10:00"

    reminder = one(services, f"reminder:appointment:{appt['id']}")
    assert (reminder.template, reminder.channel, reminder.state) == ("appointment_reminder", "sms", "queued")
    assert reminder.send_after == datetime.combine(day - timedelta(days=1), time(10), tzinfo=services.ctx.tz)
    # the booking desk's [templates] sms text is the zh-CN reminder
    assert reminder.body.startswith(f"【{services.ctx.settings.site.name}】{customer.addressed}您好，您的爱车")
    assert len(messages(services, appointment_id=appt["id"])) == 2
    queued = [a for a in audited(services, "message_queued") if a.entity_id == str(appt["id"])]
    assert [a.to_value for a in queued] == ["appointment_confirmed (sms)", "appointment_reminder (sms)"]
    assert {a.actor for a in queued} == {"张伟"}


def test_booked_for_tomorrow_after_the_reminder_hour_is_confirmed_but_not_reminded(services: Services) -> None:
    # the demo clock is 10:30 in Beijing: tomorrow's reminder hour (today 10:00) has passed
    # (tomorrow's bays may be full in the demo: the capacity rules are not what this is about)
    appt = book(services.ctx, a_plate(services, 7), services.ctx.today() + timedelta(days=1), 15, override="客户要求")
    assert [m.template for m in messages(services, appointment_id=appt["id"])] == ["appointment_confirmed"]


def test_a_move_re_times_the_reminder_with_the_new_date_and_a_cancel_withdraws_both(services: Services) -> None:
    day = quiet_day(services)
    appt = book(services.ctx, a_plate(services, 9), day)
    key = f"reminder:appointment:{appt['id']}"
    assert one(services, key).channel == "manual" and one(services, key).state == "manual"

    later = day + timedelta(days=2)
    services.booking.move(appt["id"], datetime.combine(later, time(14), tzinfo=services.ctx.tz), None,
                          actor="赵经理")
    moved = one(services, key)
    assert moved.send_after == datetime.combine(later - timedelta(days=1), time(10), tzinfo=services.ctx.tz)
    assert f"{later.month}月{later.day}日 14:00" in moved.body
    assert f"{day.month}月{day.day}日" not in moved.body
    assert audited(services, "message_retimed")[-1].actor == "赵经理"

    services.booking.cancel(appt["id"], actor="赵经理", reason="客户出差")
    assert {m.state for m in messages(services, appointment_id=appt["id"])} == {"cancelled"}
    assert len(audited(services, "message_withdrawn")) == 2


def test_moved_to_tomorrow_the_reminder_is_withdrawn(services: Services) -> None:
    appt = book(services.ctx, a_plate(services, 11), quiet_day(services))
    tomorrow = services.ctx.today() + timedelta(days=1)
    services.booking.move(appt["id"], datetime.combine(tomorrow, time(16), tzinfo=services.ctx.tz), None,
                          actor="赵经理", override_reason="客户要求")
    assert one(services, f"reminder:appointment:{appt['id']}").state == "cancelled"
    assert one(services, f"confirmed:appointment:{appt['id']}").state == "manual"  # already true: stays

    # moved out again: the withdrawn reminder comes back for the new day before, with the new date
    later = quiet_day(services) + timedelta(days=3)
    services.booking.move(appt["id"], datetime.combine(later, time(9), tzinfo=services.ctx.tz), None,
                          actor="赵经理", override_reason="客户要求")
    back = one(services, f"reminder:appointment:{appt['id']}")
    assert (back.state, back.attempts) == ("manual", 0)
    assert back.send_after == datetime.combine(later - timedelta(days=1), time(10), tzinfo=services.ctx.tz)
    assert f"{later.month}月{later.day}日 09:00" in back.body
    assert [a.actor for a in audited(services, "message_requeued")] == ["赵经理"]


def test_a_cause_queued_twice_is_one_message_and_a_sent_one_is_not_withdrawn(services: Services) -> None:
    plate = a_plate(services, 13)
    with services.db.write() as s:
        customer = s.scalars(select(Customer).join(Vehicle).where(Vehicle.plate == plate)).one()
        first = queue_message(s, services.ctx, template=MessageTemplate.THANK_YOU, customer=customer,
                              dedup_key="thank_you:test", actor="孙丽", fields={})
        again = queue_message(s, services.ctx, template=MessageTemplate.THANK_YOU, customer=customer,
                              dedup_key="thank_you:test", actor="孙丽", fields={"customer": "别人"})
        assert again is first
    row = one(services, "thank_you:test")
    assert row.customer_id == customer.id and "别人" not in row.body
    with services.db.write() as s:
        s.get(CustomerMessage, row.id).state = MessageState.SENT.value  # type: ignore[union-attr]
    with services.db.write() as s:
        assert cancel_message(s, services.ctx, "thank_you:test", actor="孙丽") is False
    assert one(services, "thank_you:test").state == "sent"
    assert [a.entity for a in audited(services, "message_queued") if "thank_you" in (a.to_value or "")] == [
        "customer"]


def test_check_in_sends_the_customer_page_link(services: Services) -> None:
    appt, tag = waiting_today(services)
    with services.db.read() as s:
        plate = s.scalars(select(Vehicle.plate).where(Vehicle.id == appt.vehicle_id)).one()
    set_customer(services, plate, preferred_channel="wechat", wechat_openid="oABC123")
    ctx = configured(services, wechat=WechatSettings(template_ids={"checked_in": "TPL-1"}))
    number = CheckinService(ctx).check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order["number"]
    with services.db.read() as s:
        ro = s.scalars(select(RepairOrder).where(RepairOrder.number == number)).one()
        token, promised = ro.customer_token, ro.promised_at
    row = one(services, f"checked_in:{number}")
    assert (row.template, row.channel, row.state, row.recipient) == ("checked_in", "wechat", "queued", "oABC123")
    assert f"https://shop.example/c/{token}" in row.body and row.params["link"].endswith(f"/c/{token}")
    assert promised is not None and promised.astimezone(services.ctx.tz).strftime("%H:%M") in row.body
    # the appointment's reminder was for today: nothing left to withdraw, nothing else queued
    assert len(messages(services, repair_order_id=row.repair_order_id)) == 1


def checked_in(svc: Services, ctx: ServiceContext | None = None) -> str:
    _appt, tag = waiting_today(svc)
    return CheckinService(ctx or svc.ctx).check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order["number"]


def customer_of(svc: Services, number: str) -> str:
    with svc.db.read() as s:
        return s.scalars(select(Vehicle.plate).join(RepairOrder).where(RepairOrder.number == number)).one()


def test_a_new_promise_tells_the_new_time_unless_the_advisor_already_told_them_by_hand(services: Services) -> None:
    number = checked_in(services)
    promises = PromiseService(services.ctx)
    new_time = services.ctx.now() + timedelta(hours=5)
    promises.promise(number, new_time, "等配件", actor="张伟", customer_told=True)  # phoned: manual, told
    assert [m.template for m in messages(services, template="promise_changed")] == []

    promises.promise(number, new_time + timedelta(hours=1), "等配件", actor="张伟", customer_told=False)
    with services.db.read() as s:
        last = s.scalars(select(Promise.id).order_by(Promise.id.desc())).first()
    row = one(services, f"promise:{number}:{last}")
    local = (new_time + timedelta(hours=1)).astimezone(services.ctx.tz)
    assert (row.template, row.channel, row.state) == ("promise_changed", "manual", "manual")
    assert f"{local.month}月{local.day}日 {local:%H:%M}" in row.body

    plate = customer_of(services, number)
    set_customer(services, plate, preferred_channel="sms", phone="13900139000")
    ctx = configured(services, sms=SmsSettings(template_codes=ALL_CODES))
    PromiseService(ctx).promise(number, new_time + timedelta(hours=2), "等配件", actor="张伟", customer_told=True)
    assert [m.channel for m in messages(services, template="promise_changed")] == ["manual", "sms"]


def test_additional_work_asks_for_a_decision_with_the_link_and_the_amount(services: Services) -> None:
    number = checked_in(services)
    finding = AdditionalWorkService(services.ctx).report(number, technician="陈刚", actor="陈刚",
                                                         description="更换刹车油", hours=0.5)
    row = one(services, f"additional_work:{number}:{finding.id}")
    assert row.template == "additional_work" and "更换刹车油" in row.body
    assert f"¥{finding.price:,.2f}" in row.body and "http://localhost:8080/c/" in row.body


def test_a_cancelled_order_withdraws_what_was_not_sent(services: Services) -> None:
    number = checked_in(services)
    AdditionalWorkService(services.ctx).report(number, technician="陈刚", actor="陈刚", description="换雨刷",
                                               hours=0.3)
    RepairOrderService(services.ctx).transition(number, "cancelled", actor="赵经理", reason="客户取消")
    with services.db.read() as s:
        ro_id = s.scalars(select(RepairOrder.id).where(RepairOrder.number == number)).one()
    rows = messages(services, repair_order_id=ro_id)
    assert len(rows) == 2 and {m.state for m in rows} == {"cancelled"}


@pytest.mark.parametrize(("values", "channels", "expected"), [
    ({"preferred_channel": "phone", "phone": "13800138000"}, {"sms": SmsSettings(template_codes=ALL_CODES)},
     "manual"),  # a phone call: the advisor
    ({"preferred_channel": "sms", "phone": ""}, {"sms": SmsSettings(template_codes=ALL_CODES)}, "manual"),
    ({"preferred_channel": "sms", "phone": "13800138000"}, {}, "manual"),  # no gateway configured
    ({"preferred_channel": "sms", "phone": "13800138000"}, {"sms": SmsSettings(template_codes={"ready": "SMS_1"})},
     "manual"),  # the gateway has no approved template for this message
    ({"preferred_channel": "wechat", "wechat_openid": ""}, {"wechat": WechatSettings(template_ids=ALL_CODES)},
     "manual"),
    ({"preferred_channel": "email", "email": "wang@example.com"}, {}, "manual"),
    ({"preferred_channel": "email", "email": "wang@example.com"},
     {"email": EmailSettings(host="127.0.0.1", sender="service@example.com")}, "email"),
    ({"preferred_channel": "sms", "phone": "13800138000"}, {"sms": SmsSettings(template_codes=ALL_CODES)}, "sms"),
])
def test_the_channel_falls_back_to_the_advisor(services: Services, values: dict[str, Any],
                                               channels: dict[str, Any], expected: str) -> None:
    plate = a_plate(services, 15)
    set_customer(services, plate, **values)
    appt = book(configured(services, **channels), plate, quiet_day(services))
    row = one(services, f"confirmed:appointment:{appt['id']}")
    assert row.channel == expected
    assert row.state == ("manual" if expected == "manual" else "queued")
    assert row.recipient == ("" if expected == "manual" else values.get("phone") or values["email"])
    if expected == "email":
        assert row.subject.startswith(services.ctx.settings.site.name) and "\n" in row.body


def test_the_sites_templates_override_the_built_in_ones(services: Services, tmp_path: Path) -> None:
    text = settings_mod.demo_config_path().read_text(encoding="utf-8") + (
        '\n[message_templates."zh-CN".ready]\nsms = "{customer}：{plate}好了，{amount}"\n'
        'manual = "打电话给{customer}"\n')
    ctx = ServiceContext(services.db, settings_mod.parse(text), services.clock)
    fields = {"customer": "王先生", "plate": "京A·12345", "amount": "¥320.00"}
    assert render(ctx, MessageTemplate.READY, "sms", "zh-CN", fields).body == "王先生：京A·12345好了，¥320.00"
    assert render(ctx, MessageTemplate.READY, "manual", "zh-CN", fields).body == "打电话给王先生"
    built_in = render(ctx, MessageTemplate.READY, "wechat", "zh-CN", fields)  # not overridden: built in
    assert "京A·12345已完工" in built_in.body
    english = render(ctx, MessageTemplate.READY, "email", "en", fields)
    assert english.subject.endswith("京A·12345 is ready") and english.body.startswith("Dear 王先生")


@pytest.mark.parametrize("table", ['[message_templates."zh-CN".redy]\nsms = "x"',
                                   '[message_templates."zh-CN".ready]\nsmss = "x"',
                                   '[message_templates.fr.ready]\nsms = "x"'])
def test_check_config_refuses_an_unknown_template_or_channel(tmp_path: Path, table: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "site.toml"
    path.write_text(settings_mod.demo_config_path().read_text(encoding="utf-8") + "\n" + table + "\n",
                    encoding="utf-8")
    assert cli.main(["check-config", str(path)]) == 1
    assert "message_templates" in capsys.readouterr().err


def test_hostile_text_in_a_name_or_a_template_is_printed_as_it_is(services: Services) -> None:
    plate = a_plate(services, 17)
    hostile = "{0}{customer.__class__}<b>{"
    set_customer(services, plate, surname=hostile[:20], salutation="先生")
    appt = book(services.ctx, plate, quiet_day(services))
    row = one(services, f"confirmed:appointment:{appt['id']}")
    assert f"{hostile[:20]}先生" in row.body
    broken = services.ctx.settings.model_copy(update={"message_templates": {
        "zh-CN": {"ready": {"sms": "{customer} {plate!r:>{x}} {"}}}})
    body = render(ServiceContext(services.db, broken, services.clock), MessageTemplate.READY, "sms", "zh-CN",
                  {"customer": "王先生"}).body
    assert body == "{customer} {plate!r:>{x}} {"  # a stray brace: the text as typed rather than an error


def test_a_customers_email_and_openid_are_checked_kept_and_shown(services: Services) -> None:
    from fastapi.testclient import TestClient

    from shopfloor.domain.errors import Invalid
    from shopfloor.services.customers import CustomerService
    from shopfloor.testing.api_fixtures import api_app

    customers = CustomerService(services.ctx)
    new = {"plate": "京E12345", "vin": "LSVAU218XN2183294", "surname": "王", "salutation": "先生",
           "phone": "13800138123", "actor": "张伟"}
    for bad, key in [({"email": "wang at example"}, "email_invalid"), ({"wechat_openid": "o x"}, "openid_invalid"),
                     ({"preferred_channel": "email"}, "email_missing")]:
        with pytest.raises(Invalid) as refused:
            customers.create(**new, **bad)
        assert refused.value.key == f"customer_error.{key}"
    hit = customers.create(**new, preferred_channel="email", email=" wang@example.com ",
                           wechat_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    record = customers.update_customer(hit["customer_id"], wechat_openid="")
    assert (record["email"], record["wechat_openid"], record["preferred_channel"]) == (
        "wang@example.com", "", "email")
    with pytest.raises(Invalid):
        customers.update_customer(hit["customer_id"], email="<wang@example.com>")
    client = TestClient(api_app(services.ctx, "t0ken-for-tests-0123456789"),
                        headers={"Authorization": "Bearer t0ken-for-tests-0123456789"})
    shown = client.get(f"/api/v1/vehicles/{hit['vehicle_id']}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["customer"]["email"] == "wang@example.com"
    assert shown.json()["customer"]["wechat_openid"] == ""
