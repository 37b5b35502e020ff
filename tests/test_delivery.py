"""Completion check and delivery (issue 12, steps 9 and 11) on SQLite and PostgreSQL: delivered refused unpaid first,
then qc (also through the API's transitions: 409 with the reason), paid and inspected delivers with its effects
(next service on the order, the car's last service, the reminder queued for its day, the 3-day call), the advisor's
completion check and the READY message, the walk, the sheet, and the manager's reopen."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.aftersales_models import CustomerMessage, FollowUpCall
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.models import AuditEntry, PrintJob, RepairOrder, RoEvent, Vehicle
from shopfloor.domain.states import TransitionRefused
from shopfloor.printer.inspect import text_lines
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.services.settlement.delivery import WALK, DeliveryRefused
from shopfloor.services.settlement.services import SettlementServices
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.delivery import settle
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.settlement import make_ready, priced_order, ready_bill

pytestmark = ON_BOTH_DATABASES

API = "/api/v1"
ADVISOR = ApiToken("reception-tablet", "advisor-token", frozenset({StaffRole.ADVISOR}))
MANAGER = ApiToken("manager-pc", "manager-token", frozenset({StaffRole.MANAGER}))
CASHIER = ApiToken("cashier-desk", "cashier-token", frozenset({StaffRole.CASHIER}))
WALKED = {key: True for key in WALK}


@pytest.fixture
def desk(services: Services) -> SettlementServices:
    return SettlementServices.on(services.ctx, services.printing, "http://shop.test")


@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, "integrator", ADVISOR, MANAGER, CASHIER)


def caller(app: FastAPI, token: ApiToken) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token.token}"})


def order(svc: Services, number: str) -> RepairOrder:
    with svc.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        s.expunge(ro)
        return ro


def actions(svc: Services, number: str) -> list[str]:
    with svc.db.read() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == number)
                              .order_by(AuditEntry.id)))


def test_delivered_is_refused_unpaid_first_then_qc_from_any_open_status(services: Services,
                                                                       desk: SettlementServices) -> None:
    ro = services.repair_orders
    number = priced_order(services.ctx, services.checkin, "OIL")
    with pytest.raises(DeliveryRefused) as unpaid:
        ro.transition(number, "delivered", actor="张伟")  # checked in, nothing paid: unpaid is said first
    assert unpaid.value.reason == "unpaid" and unpaid.value.key == "delivery.error.unpaid"
    settle(services.ctx, number)  # paid in advance: now the car itself is the reason
    with pytest.raises(DeliveryRefused) as qc:
        ro.transition(number, "delivered", actor="张伟")
    assert qc.value.reason == "qc" and number in qc.value.message("en")
    make_ready(services.ctx, number)
    state = ro.transition(number, "delivered", actor="张伟")
    assert state["status"] == "delivered"
    with pytest.raises(TransitionRefused):  # closed: the state machine's own refusal, no delivery reason
        ro.transition(number, "delivered", actor="张伟")


def test_warranty_lines_are_not_the_customers_to_pay(services: Services) -> None:
    number = priced_order(services.ctx, services.checkin, "BRK", payers={0: "warranty"}, oil_filter=False)
    make_ready(services.ctx, number)
    assert services.repair_orders.transition(number, "delivered", actor="张伟")["status"] == "delivered"


def test_the_api_answers_409_with_the_reason_and_delivers_when_paid_and_inspected(
        app: FastAPI, services: Services) -> None:
    advisor = caller(app, ADVISOR)
    number = priced_order(services.ctx, services.checkin, "OIL")
    url = f"{API}/repair-orders/{number}/transitions"
    refused = advisor.post(url, json={"to": "delivered"})
    assert refused.status_code == 409 and refused.json()["reason"] == "unpaid"
    assert "cashier" in refused.json()["detail"]
    paid = caller(app, CASHIER).post(f"{API}/repair-orders/{number}/payments", json={"method": "account",
                                                                                   "amount": "228.00"})
    assert paid.status_code == 201, paid.text
    assert advisor.post(url, json={"to": "delivered"}).json()["reason"] == "qc"
    make_ready(services.ctx, number)
    done = advisor.post(url, json={"to": "delivered"})
    assert done.status_code == 200, done.text
    assert done.json()["repair_order"]["status"] == "delivered"
    schema = app.openapi()["paths"]["/api/v1/repair-orders/{number}/transitions"]["post"]["responses"]["409"]
    assert "DeliveryRefusalOut" in str(schema)


def test_on_delivered_stores_the_next_service_the_cars_last_service_the_reminder_and_the_3dc(
        services: Services) -> None:
    ctx = services.ctx
    number = ready_bill(ctx, services.checkin, "M05")  # a periodic maintenance (it has a km interval)
    with services.db.write() as s:  # this visit's odometer: 35,210 km
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        ro.mileage_km = 35210
        vehicle_id = ro.vehicle_id
    settle(ctx, number)
    services.repair_orders.transition(number, "delivered", actor="张伟")
    ro = order(services, number)
    assert ro.next_service_km == 40000 and ro.delivered_by == "张伟"
    today = ctx.today()
    assert ro.next_service_on is not None
    assert today < ro.next_service_on <= today + timedelta(days=ctx.settings.booking.service_interval_days)
    with services.db.read() as s:
        vehicle = s.get(Vehicle, vehicle_id)
        assert vehicle is not None and (vehicle.last_service_on, vehicle.last_service_km) == (today, 35210)
        message = s.scalar(select(CustomerMessage).where(CustomerMessage.dedup_key == f"next_service:{number}"))
        assert message is not None and message.template == "next_service"
        reminder = ro.next_service_on - timedelta(days=ctx.settings.delivery.reminder_days_before)
        assert message.send_after is not None
        assert message.send_after.astimezone(ctx.tz) == datetime.combine(
            reminder, ctx.settings.messages.reminder_at, tzinfo=ctx.tz)
        assert "40,000" in message.body or "40000" in message.body
        call = s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == f"3dc:{number}"))
        assert call is not None and call.due_on == today + timedelta(days=ctx.settings.follow_up.after_service_days)
    assert "next_service_set" in actions(services, number)


def test_the_completion_check_its_items_and_telling_the_customer(services: Services,
                                                                  desk: SettlementServices) -> None:
    delivery = desk.delivery
    number = priced_order(services.ctx, services.checkin, "OIL")
    view = delivery.completion(number)
    assert [(i.key, i.checked, i.locked) for i in view.items] == [
        ("lines_done", False, True), ("final_inspection", False, True),
        ("covers_removed", False, False), ("order_checked", False, False)]
    with pytest.raises(Invalid):
        delivery.check_completion(number, {"final_inspection": True}, actor="张伟")  # computed: not theirs
    view = delivery.check_completion(number, {"covers_removed": True, "order_checked": True}, actor="张伟",
                                     wash_ordered=True)
    assert [i.key for i in view.items if not i.checked] == ["lines_done", "final_inspection", "washed"]
    assert view.checked_by == "张伟" and view.checked_at is not None and not view.passed
    with pytest.raises(Refused):
        delivery.notify_ready(number, actor="张伟")
    make_ready(services.ctx, number)
    assert not delivery.completion(number).passed  # the wash is not ticked yet
    assert delivery.check_completion(number, {"washed": True}, actor="张伟").passed
    told = delivery.notify_ready(number, actor="张伟")
    assert told.customer_notified_at is not None
    delivery.notify_ready(number, actor="张伟")  # told twice: still one message
    with services.db.read() as s:
        ready = list(s.scalars(select(CustomerMessage).where(CustomerMessage.dedup_key == f"ready:{number}")))
    assert len(ready) == 1 and ready[0].template == "ready"
    assert {"completion_checked", "customer_notified"} <= set(actions(services, number))


def test_the_delivery_walk_delivers_prints_the_sheet_and_the_manager_reopens(services: Services,
                                                                             desk: SettlementServices) -> None:
    delivery = desk.delivery
    number = ready_bill(services.ctx, services.checkin, "OIL")
    with pytest.raises(DeliveryRefused) as unpaid:  # the reason before the walk is asked for
        delivery.deliver(number, {}, actor="张伟")
    assert unpaid.value.reason == "unpaid"
    settle(services.ctx, number)
    with services.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        ro.mileage_km = 35210
    with pytest.raises(Invalid):
        delivery.deliver(number, {**WALKED, "see_off": False}, actor="张伟")
    state = delivery.deliver(number, WALKED, actor="王芳", printer="reception")
    assert state["status"] == "delivered"
    ro = order(services, number)
    assert ro.delivered_by == "王芳" and ro.delivery_walk == WALKED and ro.closed_at is not None
    with services.db.read() as s:
        job = s.scalar(select(PrintJob).where(PrintJob.repair_order_id == ro.id, PrintJob.kind == "delivery_sheet"))
        assert job is not None
        text = "\n".join(text_lines(job.data, "gb18030"))
    assert "交车单" in text and "下次保养" in text and f"{ro.next_service_km:,}" in text
    assert "¥" not in text and "228.00" in text
    assert "行驶里程" in text and "35,210 km" in text  # the odometer at this visit
    assert any("银行卡" in line and "228.00" in line for line in text.splitlines())  # settle() paid by card

    reopened = delivery.reopen(number, "交错车了", actor="赵经理")
    assert reopened["status"] == "ready"
    ro = order(services, number)
    assert ro.closed_at is None and ro.next_service_on is None and ro.delivered_by is None
    with services.db.read() as s:
        assert s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == f"3dc:{number}")) is None
        message = s.scalar(select(CustomerMessage).where(CustomerMessage.dedup_key == f"next_service:{number}"))
        assert message is not None and message.state == "cancelled"
        event = s.scalars(select(RoEvent).where(RoEvent.repair_order_id == ro.id).order_by(RoEvent.id.desc())).first()
        assert event is not None and (event.kind, event.to_status, event.reason) == ("reopen", "ready", "交错车了")
    assert "delivery_reopened" in actions(services, number)
    with pytest.raises(TransitionRefused):
        delivery.reopen(number, "again", actor="赵经理")  # ready is not delivered
    # the plain transitions never go back from delivered
    RepairOrderService(services.ctx).transition(number, "delivered", actor="张伟")
    with pytest.raises(TransitionRefused):
        RepairOrderService(services.ctx).transition(number, "ready", actor="赵经理")


def test_the_api_delivery_reopen_by_the_manager_only_and_the_next_service(app: FastAPI, services: Services) -> None:
    advisor, manager = caller(app, ADVISOR), caller(app, MANAGER)
    number = ready_bill(services.ctx, services.checkin, "OIL")
    base = f"{API}/repair-orders/{number}"
    ns = advisor.get(f"{base}/next-service")
    assert ns.status_code == 200 and ns.json()["basis"], ns.text
    with services.db.read() as s:
        odometer = s.scalar(select(Vehicle.mileage_km).join(RepairOrder, RepairOrder.vehicle_id == Vehicle.id)
                            .where(RepairOrder.number == number)) or 0
    assert odometer < ns.json()["km"] <= odometer + 5000
    check = advisor.post(f"{base}/completion", json={"items": {"covers_removed": True, "order_checked": True}})
    assert check.status_code == 200 and check.json()["passed"], check.text
    assert advisor.post(f"{base}/notify-ready", json={}).status_code == 200
    refused = advisor.post(f"{base}/delivery", json={"walk": WALKED})
    assert refused.status_code == 409 and refused.json()["reason"] == "unpaid"
    settle(services.ctx, number)
    assert advisor.post(f"{base}/delivery", json={"walk": {"nope": True}}).status_code == 422
    done = advisor.post(f"{base}/delivery", json={"walk": WALKED})
    assert done.status_code == 200 and done.json()["status"] == "delivered", done.text
    sheet = advisor.post(f"{base}/delivery-sheet", json={"printer": "reception"})
    assert sheet.status_code == 201 and not sheet.json()["reprint"]
    assert advisor.post(f"{base}/delivery-sheet", json={"printer": "reception"}).json()["reprint"]
    assert advisor.post(f"{base}/reopen", json={"reason": "mistake"}).status_code == 403
    assert manager.post(f"{base}/reopen", json={"reason": " "}).status_code == 422
    back = manager.post(f"{base}/reopen", json={"reason": "交错车了"})
    assert back.status_code == 200 and back.json()["status"] == "ready"
    assert advisor.get(f"{base}/completion").json()["status"] == "ready"
    assert Decimal(caller(app, CASHIER).get(f"{base}/settlement").json()["left"]) == 0


def test_a_walk_not_done_names_its_items_in_the_readers_language(services: Services,
                                                                 desk: SettlementServices) -> None:
    number = ready_bill(services.ctx, services.checkin, "OIL")
    settle(services.ctx, number)
    with pytest.raises(Invalid) as walk:
        desk.delivery.deliver(number, {**WALKED, "walk_car": False, "see_off": False}, actor="张伟")
    assert walk.value.message("zh-CN") == "交车项目尚未完成：陪同客户环车验车、送别客户"
    assert walk.value.message("en") == "Delivery items not done yet: Walk the car with the customer, " \
                                       "See the customer off"
    assert "walk_car" not in walk.value.message("zh-CN")


def ready_message(services: Services, number: str) -> str:
    with services.db.read() as s:
        message = s.scalar(select(CustomerMessage).where(CustomerMessage.dedup_key == f"ready:{number}"))
        assert message is not None
        return message.body


def test_the_ready_message_says_what_the_customer_pays_and_what_is_left_when_part_was_paid(
        services: Services, desk: SettlementServices) -> None:
    delivery = desk.delivery
    checked = {"covers_removed": True, "order_checked": True}
    whole = ready_bill(services.ctx, services.checkin, "OIL")
    to_pay = desk.settlement.summary(whole).to_pay
    assert to_pay > 0
    delivery.check_completion(whole, checked, actor="张伟")
    delivery.notify_ready(whole, actor="张伟")
    body = ready_message(services, whole)
    assert f"费用¥{to_pay:,.2f}。" in body and "{" not in body
    assert delivery.completion(whole).plate in body

    part = ready_bill(services.ctx, services.checkin, "OIL")
    desk.settlement.pay(part, "cash", Decimal("100.00"), actor="孙丽")
    left = desk.settlement.summary(part).left
    delivery.check_completion(part, checked, actor="张伟")
    delivery.notify_ready(part, actor="张伟")
    assert f"¥{left:,.2f}（余款，已付¥100.00）" in ready_message(services, part)

    paid = ready_bill(services.ctx, services.checkin, "OIL")
    settle(services.ctx, paid)
    delivery.check_completion(paid, checked, actor="张伟")
    delivery.notify_ready(paid, actor="张伟")
    assert "¥0.00（已付清¥" in ready_message(services, paid)


def test_a_warranty_only_order_is_stamped_settled_when_delivered(services: Services) -> None:
    number = priced_order(services.ctx, services.checkin, "BRK", payers={0: "warranty"}, oil_filter=False)
    make_ready(services.ctx, number)
    assert order(services, number).settled_at is None  # no payment ever set it
    services.repair_orders.transition(number, "delivered", actor="张伟")
    ro = order(services, number)
    assert ro.settled_at is not None and ro.settled_at == ro.closed_at


def test_the_cars_delivered_in_the_last_days_are_listed_latest_first(services: Services,
                                                                      desk: SettlementServices) -> None:
    older, newer, long_ago = (ready_bill(services.ctx, services.checkin, "OIL") for _ in range(3))
    for number in (older, newer, long_ago):
        settle(services.ctx, number)
        desk.delivery.deliver(number, WALKED, actor="王芳")
    now = services.ctx.now()
    with services.db.write() as s:
        # three days back is before the day before yesterday began: not in the list
        for number, back in ((older, timedelta(days=1)), (newer, timedelta(0)), (long_ago, timedelta(days=3))):
            ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
            assert ro is not None
            ro.closed_at = now - back
    recent = desk.delivery.delivered_recently()
    numbers = [car.number for car in recent]
    assert numbers.index(newer) < numbers.index(older) and long_ago not in numbers
    car = next(car for car in recent if car.number == newer)
    assert car.delivered_by == "王芳" and car.plate and car.customer
