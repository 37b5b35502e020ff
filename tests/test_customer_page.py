"""The customer's page service (/c/<token>) on SQLite and PostgreSQL: the link, the masked view, the same work for a
right, wrong, unknown, malformed or expired token (counted in SQL statements, not timed), the plate proof and its
limits, everything after the proof (marks and photos, the estimate, findings) and the customer's decisions recorded
as method customer_page with the exact lines shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from shopfloor.contract.staff import PAGE_BY_PATH, StaffRole
from shopfloor.customer.page import PATH
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import mask_plate
from shopfloor.domain.models import AuditEntry, OutboxMessage, RepairOrder
from shopfloor.domain.reception_models import DamageMark, OrderPhoto
from shopfloor.services.reception.customer_page import ATTEMPT_WINDOW, MAX_ATTEMPTS, CustomerPageService
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.workshop.additional_work import AdditionalWorkService, FindingInfo
from shopfloor.testing.delivery import settle
from shopfloor.testing.photos import signature_png
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order, pass_checks, technician

pytestmark = ON_BOTH_DATABASES
SERVER = "http://shop.lan:8080"


@pytest.fixture
def page(services: Services) -> CustomerPageService:
    return CustomerPageService(services.ctx, SERVER + "/", estimate=EstimateService(services.ctx))


def order(svc: Services) -> tuple[str, str, str]:
    """A new order with two labour lines: (number, token, plate)."""
    number = new_order(svc, "OIL", "WSH")
    with svc.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None and ro.customer_token
        return number, ro.customer_token, ro.vehicle.plate


def finding(svc: Services, number: str, description: str = "右前刹车片磨损至 2 mm") -> FindingInfo:
    tech = technician(svc, "陈刚")
    return AdditionalWorkService(svc.ctx).report(number, technician=tech.id, actor="陈刚", description=description,
                                                 hours=0.8, parts=[{"number": "04465-02220", "name": "前刹车片",
                                                                    "quantity": 1, "unit_price": 420}])


@contextmanager
def statements(svc: Services) -> Iterator[list[str]]:
    """The SQL statements run while inside (on either engine)."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql)

    engines = {svc.db.read_engine, svc.db.write_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def test_the_customers_page_is_no_staff_page() -> None:
    assert PATH == "/c" and not any(path == PATH or path.startswith(PATH + "/") for path in PAGE_BY_PATH)


def test_the_link_carries_the_orders_unguessable_token(services: Services, page: CustomerPageService) -> None:
    number, token, _plate = order(services)
    assert page.link(number) == f"{SERVER}/c/{token}"
    assert len(token) >= 22  # ≥ 128 bits of URL-safe base64
    with pytest.raises(NotFound):
        page.link("RO-NOPE")


def test_the_masked_view_shows_nothing_that_names_the_customer(services: Services,
                                                                page: CustomerPageService) -> None:
    number, token, plate = order(services)
    view = page.open(token)
    assert view is not None
    assert view.plate_masked == mask_plate(plate) and "***" in view.plate_masked and plate not in view.plate_masked
    assert len(view.customer_masked) <= 3 and view.status == "checked_in" and view.step == 0
    assert view.expected_at is not None  # the promise until there is a projection
    assert not view.needs_customer
    finding(services, number)
    view = page.open(token)
    assert view is not None and view.needs_customer


@pytest.mark.parametrize("wrong", ["", "x", "A" * 32, "!" * 40, "a" * 500, "../../etc/passwd", "' OR 1=1 --"])
def test_a_wrong_or_malformed_token_opens_nothing(services: Services, page: CustomerPageService, wrong: str) -> None:
    order(services)
    assert page.open(wrong) is None
    assert page.full(wrong) is None
    assert page.prove(wrong, "1234") is False


def test_the_link_expires_days_after_delivery(services: Services, page: CustomerPageService) -> None:
    number, token, _ = order(services)
    services.repair_orders.transition(number, "cancelled", actor="张伟", reason="test")
    assert page.open(token) is None  # a cancelled order has nothing to show
    number, token, _ = order(services)
    svc = services
    tech = technician(svc, "陈刚")
    from shopfloor.services.workshop.services import WorkshopServices

    work = WorkshopServices.on(svc.ctx)
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    clocking, _ = work.clocking.clock_on(tech.badge, number, actor="陈刚")
    work.clocking.stop(clocking.id, "finished", actor="陈刚")
    pass_checks(svc.ctx, number)
    settle(svc.ctx, number)
    svc.repair_orders.transition(number, "delivered", actor="张伟")
    days = svc.ctx.settings.reception.customer_link_days
    view = page.open(token)
    assert view is not None and view.step == 4
    svc.clock.set(svc.clock.now() + timedelta(days=days) - timedelta(minutes=1))
    assert page.open(token) is not None
    svc.clock.set(svc.clock.now() + timedelta(minutes=2))
    assert page.open(token) is None and page.full(token) is None


def test_a_right_and_a_wrong_token_cost_the_same_statements(services: Services, page: CustomerPageService) -> None:
    """No timing that tells whether an order exists: the same queries (one), whatever the token; the wall clock is
    not measured (it would be flaky), the work is."""
    _number, token, _ = order(services)
    runs = {}
    for name, probe in [("right", token), ("unknown", token[:-1] + ("A" if token[-1] != "A" else "B")),
                        ("malformed", "!!"), ("empty", "")]:
        with statements(services) as seen:
            page.open(probe)
        runs[name] = seen
    shapes = {name: [" ".join(sql.split()) for sql in seen] for name, seen in runs.items()}
    assert len([sql for sql in shapes["right"] if sql.startswith("SELECT")]) == 1
    assert "customer_token = " in shapes["right"][-1]  # by the unique index on the token
    assert all(shape == shapes["right"] for shape in shapes.values()), shapes
    with statements(services) as right_proof:
        page.prove(token, "zzzz")
    with statements(services) as wrong_proof:
        page.prove("A" * 32, "zzzz")
    assert [" ".join(s.split()) for s in right_proof] == [" ".join(s.split()) for s in wrong_proof]


def test_the_plate_proof_is_case_blind_and_limited(services: Services, page: CustomerPageService) -> None:
    _number, token, plate = order(services)
    tail = plate[-4:]
    assert page.prove(token, tail.lower(), client="10.0.0.5")
    assert page.prove(token, f" {tail[:2]} {tail[2:]} ", client="10.0.0.5")
    assert not page.prove(token, plate[-5:-1], client="10.0.0.5")
    assert not page.prove(token, plate, client="10.0.0.5")  # the whole plate is not the last four
    for _ in range(MAX_ATTEMPTS - 2):
        assert not page.prove(token, "0000" if tail != "0000" else "1111", client="10.0.0.5")
    with pytest.raises(Refused) as waiting:  # even the right tail waits now
        page.prove(token, tail, client="10.0.0.6")
    assert waiting.value.key == "customer_page.error.wait" and waiting.value.params["minutes"] == 15
    assert "15" in waiting.value.message("zh-CN")
    services.clock.set(services.clock.now() + ATTEMPT_WINDOW)
    assert page.prove(token, tail, client="10.0.0.6")


def test_one_client_guessing_many_tokens_is_limited_too(services: Services, page: CustomerPageService) -> None:
    _number, token, plate = order(services)
    for n in range(MAX_ATTEMPTS):
        assert not page.prove(f"{'B' * 31}{n}", "1234", client="10.0.0.9")
    with pytest.raises(Refused):
        page.prove(token, plate[-4:], client="10.0.0.9")
    assert page.prove(token, plate[-4:], client="10.0.0.10")  # another phone on the Wi-Fi is not


def test_after_the_proof_the_whole_order(services: Services, page: CustomerPageService) -> None:
    number, token, plate = order(services)
    other, other_token, _ = order(services)
    now = services.ctx.now()
    with services.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        photo = OrderPhoto(repair_order_id=ro.id, name="ab" * 16 + ".jpg", width=800, height=600, size_bytes=1000,
                           uploaded_at=now, uploaded_by="张伟")
        s.add(photo)
        s.flush()
        s.add_all([DamageMark(repair_order_id=ro.id, vehicle_id=ro.vehicle_id, position="left_front", kind="scratch",
                              x=0.2, y=0.3, note="左前门划痕", photo_id=photo.id, created_at=now, created_by="张伟"),
                   DamageMark(repair_order_id=ro.id, vehicle_id=ro.vehicle_id, position="rear", kind="dent", x=0.5,
                              y=0.95, note="", photo_id=None, created_at=now, created_by="张伟")])
    found = finding(services, number)
    AdditionalWorkService(services.ctx).report(number, technician=technician(services, "陈刚").id, actor="陈刚",
                                               description="雨刮片老化", hours=0.2, photo="cd" * 16 + ".jpg")
    view = page.full(token)
    assert view is not None and view.plate == plate and view.number == number
    assert [(m.position, m.kind, m.x, m.y, m.photo) for m in view.marks] == [
        ("left_front", "scratch", 0.2, 0.3, "ab" * 16 + ".jpg"), ("rear", "dent", 0.5, 0.95, None)]
    assert view.estimate is not None and [line.kind for line in view.estimate.lines][:1] == ["labour"]
    assert view.estimate.customer_total > 0
    assert [v.version for v in view.versions] == [view.estimate.version]
    assert [f.id for f in view.pending][:1] == [found.id] and view.pending[0].price == found.price
    assert page.photo(token, "cd" * 16 + ".jpg")  # a finding's photo
    assert not page.photo(other_token, "cd" * 16 + ".jpg")
    assert page.photo(token, "ab" * 16 + ".jpg")
    assert not page.photo(other_token, "ab" * 16 + ".jpg")  # another order's photo is not theirs
    assert not page.photo("A" * 32, "ab" * 16 + ".jpg")
    assert page.full(other_token) is not None and page.full(other_token).marks == ()  # type: ignore[union-attr]
    assert other != number


def test_the_customers_decisions_go_through_additional_work(services: Services, page: CustomerPageService) -> None:
    number, token, _ = order(services)
    approve, decline = finding(services, number), finding(services, number, "空调滤芯脏")
    shown = ["右前刹车片磨损至 2 mm", "工时 0.8 小时 · ¥240.00", "合计 ¥660.00"]
    with services.db.read() as s:
        before = s.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0
    decided = page.decide(token, approve.id, "approved", shown)
    assert decided.status == "approved" and decided.decision_method == "customer_page"
    assert decided.job_line_id is not None
    page.decide(token, decline.id, "declined", ["空调滤芯脏", "合计 ¥80.00"])
    with services.db.read() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.entity_id == number,
                                                       AuditEntry.action == "additional_work_decision")
                              .order_by(AuditEntry.id)))
        published = list(s.scalars(select(OutboxMessage.topic).where(OutboxMessage.id > before)))
    assert [r.to_value for r in rows] == ["approved", "declined"]
    assert {r.actor_kind for r in rows} == {"customer"} and all(r.actor for r in rows)
    details = [json.loads(r.detail or "{}") for r in rows]
    assert details[0]["shown"] == shown and details[0]["method"] == "customer_page"
    assert details[1]["shown"] == ["空调滤芯脏", "合计 ¥80.00"]
    assert any(number in topic for topic in published)  # the kiosk hears it on the bus
    view = page.full(token)
    assert view is not None and view.pending == () and {f.status for f in view.findings} == {"approved", "declined"}
    with pytest.raises(Refused):  # decided already
        page.decide(token, approve.id, "declined", shown)


def test_a_decision_is_refused_for_another_order_or_bad_input(services: Services, page: CustomerPageService) -> None:
    number, token, _ = order(services)
    other, other_token, _ = order(services)
    theirs = finding(services, other)
    with pytest.raises(NotFound):
        page.decide(token, theirs.id, "approved", ["x"])
    with pytest.raises(NotFound):
        page.decide("A" * 32, theirs.id, "approved", ["x"])
    with pytest.raises(Invalid):
        page.decide(other_token, theirs.id, "pending", ["x"])
    with pytest.raises(Invalid):
        page.decide(other_token, theirs.id, "approved", [])
    with pytest.raises(Invalid):
        page.decide(other_token, theirs.id, "approved", ["x"] * 31)
    assert AdditionalWorkService(services.ctx).for_order(other)[0].status == "pending"
    assert number != other


def test_what_was_signed_and_what_changed_after(services: Services, page: CustomerPageService) -> None:
    number, token, _ = order(services)
    estimate = EstimateService(services.ctx)
    first = estimate.current(number)
    estimate.sign(number, first.version, "王建国", signature_png(), actor="张伟")
    view = page.full(token)
    assert view is not None and view.estimate is not None and view.estimate.signed
    assert [(v.version, v.signer) for v in view.versions] == [(first.version, "王建国")]
    assert view.versions[0].signed_at is not None
    found = finding(services, number)
    page.decide(token, found.id, "approved", ["右前刹车片磨损至 2 mm", "合计 ¥676.00"])
    view = page.full(token)
    assert view is not None and view.estimate is not None and not view.estimate.signed  # a new version to sign
    assert [(v.version, v.signer) for v in view.versions] == [(first.version, "王建国"), (first.version + 1, None)]
    assert view.estimate.customer_total > first.customer_total


def test_drafts_a_later_version_replaced_are_not_listed_and_approved_work_reads_as_consented(
        services: Services, page: CustomerPageService) -> None:
    number, token, _ = order(services)
    estimate = EstimateService(services.ctx)
    draft = estimate.current(number)
    estimate.update(number, actor="张伟", roles={StaffRole.ADVISOR}, keep_replaced_parts=True)
    estimate.update(number, actor="张伟", roles={StaffRole.ADVISOR}, followup_channel="wechat")
    current = estimate.current(number)
    assert current.version >= draft.version + 2  # drafts the customer never saw signed
    view = page.full(token)
    assert view is not None and [v.version for v in view.versions] == [current.version]
    estimate.sign(number, current.version, "王建国", signature_png(), actor="张伟")
    page.decide(token, finding(services, number).id, "approved", ["右前刹车片磨损至 2 mm", "合计 ¥676.00"])
    view = page.full(token, "zh-CN")
    assert view is not None and view.estimate is not None
    assert [(v.version, v.signer, v.consent) for v in view.versions] == [
        (current.version, "王建国", "signature"), (view.estimate.version, None, "decision")]
    assert view.estimate.consent == "decision" and not view.estimate.signed


def test_the_page_tells_the_promise_and_a_projection_only_when_it_is_later(services: Services,
                                                                           page: CustomerPageService) -> None:
    number, token, _ = order(services)
    now = services.ctx.now()
    with services.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        ro.promised_at, ro.projected_ready_at = now + timedelta(hours=4), now + timedelta(hours=3)
    view = page.open(token)
    assert view is not None and view.expected_at == now + timedelta(hours=4) and view.later_at is None
    with services.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        ro.projected_ready_at = now + timedelta(hours=5)
    view = page.open(token)
    assert view is not None and view.expected_at == now + timedelta(hours=4)
    assert view.later_at == now + timedelta(hours=5)


def test_amounts_read_as_on_the_advisors_kiosk() -> None:
    from decimal import Decimal

    from shopfloor.customer.sections import money

    assert (money(Decimal("-50")), money("1234.5"), money(0)) == ("-¥50.00", "¥1,234.50", "¥0.00")


def test_after_payment_and_delivery_the_page_says_what_was_paid_and_the_next_service(
        services: Services, page: CustomerPageService) -> None:
    from decimal import Decimal

    from shopfloor.services.workshop.services import WorkshopServices

    number, token, _ = order(services)
    tech = technician(services, "陈刚")
    work = WorkshopServices.on(services.ctx)
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    clocking, _ = work.clocking.clock_on(tech.badge, number, actor="陈刚")
    work.clocking.stop(clocking.id, "finished", actor="陈刚")
    pass_checks(services.ctx, number)
    before = page.full(token)
    assert before is not None and not before.settled and before.paid == 0 and not before.delivered
    assert before.versions and before.versions[-1].signed_at is None  # nobody signed this estimate
    total = Decimal(str(before.estimate.customer_total)) if before.estimate else Decimal(0)
    assert total > 0
    settle(services.ctx, number, actor="林静")
    paid = page.full(token)
    assert paid is not None and paid.settled and paid.paid == total and paid.settled_at is not None
    assert paid.delivered_at is None and not paid.delivered
    services.repair_orders.transition(number, "delivered", actor="张伟")
    with services.db.write() as s:  # the advisor's next service, as the delivery desk writes it
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        if ro.next_service_on is None:
            ro.next_service_on, ro.next_service_km = services.ctx.today() + timedelta(days=180), 35000
        expected = (ro.next_service_on, ro.next_service_km)
    done = page.full(token)
    assert done is not None and done.delivered and done.delivered_at is not None and done.settled
    assert (done.next_service_on, done.next_service_km) == expected and done.paid == total
