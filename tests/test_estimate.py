"""The estimate's services on SQLite and PostgreSQL: lines priced by skill to their payer, the discount and its limit,
versions, and the customer's signature binding exactly what they saw — a change after signing (a line's hours, an
added line, a new parts price) makes a new unsigned version while the signed one still verifies, and nothing signed
can be written again."""

import io
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import select, update

from shopfloor.contract.staff import StaffRole
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import AuditEntry, JobLine, VehicleItem
from shopfloor.domain.parts_models import PartsLine
from shopfloor.domain.reception_models import SignedDocument
from shopfloor.services.context import ServiceContext
from shopfloor.services.parts.services import PartsServices
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.reception.signed_documents import content_digest, signature_digest
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.testing.photos import signature_png
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order, technician

pytestmark = ON_BOTH_DATABASES

ADVISOR = frozenset({StaffRole.ADVISOR})
MANAGER = frozenset({StaffRole.MANAGER})


def filled() -> bytes:
    """An opaque pad of one colour: nothing drawn on it."""
    out = io.BytesIO()
    Image.new("RGB", (300, 100), (11, 31, 77)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def estimate(services: Services) -> EstimateService:
    # repair work at its own rate; maintenance falls back to [workshop] labour_rate (320 in the demo)
    settings = services.ctx.settings.model_copy(update={"reception": services.ctx.settings.reception.model_copy(
        update={"labour_rates": {"repair": 400.0}})})
    return EstimateService(ServiceContext(services.db, settings, services.clock))


def lines(svc: Services, number: str) -> list[int]:
    return [int(x["id"]) for x in svc.repair_orders.get(number)["job_lines"]]


def actions(svc: Services, number: str) -> list[str]:
    with svc.db.read() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == number)
                              .order_by(AuditEntry.id)))


def test_lines_are_priced_by_skill_to_their_payer_and_the_discount_comes_off_the_customers_part(
        services: Services, estimate: EstimateService) -> None:
    number = new_order(services, "OIL", "BRK")
    oil, brake = lines(services, number)
    parts = PartsServices.on(services.ctx)
    parts.counter.add(number, oil, "04152-YZZA6", 1, actor="钱进")  # 68.00
    parts.counter.add(number, brake, "04465-02220", 2, actor="钱进", unit_price="250.5")
    view = estimate.current(number, actor="张伟")
    assert view.version == 1 and not view.signed and view.currency == "CNY"
    assert [(x.kind, x.code, x.quantity, x.unit_price, x.amount, x.payer) for x in view.lines] == [
        ("labour", "OIL", Decimal("0.50"), Decimal("320.00"), Decimal("160.00"), "customer"),
        ("part", "04152-YZZA6", Decimal("1.00"), Decimal("68.00"), Decimal("68.00"), "customer"),
        ("labour", "BRK", Decimal("1.50"), Decimal("400.00"), Decimal("600.00"), "customer"),
        ("part", "04465-02220", Decimal("2.00"), Decimal("250.50"), Decimal("501.00"), "customer")]
    assert (view.labour_total, view.parts_total, view.total) == (Decimal("760.00"), Decimal("569.00"),
                                                                 Decimal("1329.00"))
    assert view.terms == services.ctx.settings.reception.estimate_terms
    state = services.repair_orders.get(number)
    assert (view.number, view.plate) == (number, state["plate"]) and view.customer
    # the brake job under warranty: priced to the warranty, not the customer
    view = estimate.update(number, actor="张伟", roles=ADVISOR, payers={brake: "warranty"}, discount="20",
                           discount_reason="老客户", keep_replaced_parts=True, followup_channel="wechat")
    assert [x.payer for x in view.lines] == ["customer", "customer", "warranty", "warranty"]
    assert (view.total, view.customer_total, view.discount) == (Decimal("1309.00"), Decimal("208.00"),
                                                                Decimal("20.00"))
    assert view.payer_totals == {"warranty": Decimal("1101.00")}
    assert (view.version, view.keep_replaced_parts, view.followup_channel) == (2, True, "wechat")
    # 10 % of the customer's 228.00 is 22.80: more is the manager's
    with pytest.raises(Refused) as refused:
        estimate.update(number, actor="张伟", roles=ADVISOR, discount="30")
    assert refused.value.key == "estimate.error.discount_over_limit"
    assert estimate.update(number, actor="赵经理", roles=MANAGER, discount="30").customer_total == Decimal("198.00")
    with pytest.raises(Invalid):
        estimate.update(number, actor="赵经理", roles=MANAGER, discount="228.01")
    with pytest.raises(Invalid):
        estimate.update(number, actor="张伟", roles=ADVISOR, discount="1.001")
    with pytest.raises(Invalid):
        estimate.update(number, actor="张伟", roles=ADVISOR, payers={brake: "nobody"})
    with pytest.raises(NotFound):
        estimate.update(number, actor="张伟", roles=ADVISOR, payers={999999: "warranty"})
    assert actions(services, number).count("estimate_discount") == 2
    assert {"job_line_payer", "estimate_discount_reason", "keep_replaced_parts", "followup_channel",
            "estimate_version"} <= set(actions(services, number))


def test_a_change_after_signing_is_a_new_unsigned_version_and_the_signed_one_still_verifies(
        services: Services, estimate: EstimateService) -> None:
    number = new_order(services, "OIL")
    (oil,) = lines(services, number)
    first = estimate.current(number)
    png = signature_png()
    signed = estimate.sign(number, first.version, "王建国", png, actor="张伟")
    with services.db.read() as s:
        row = s.scalar(select(SignedDocument).where(SignedDocument.digest == signed.digest))
        assert row is not None and row.witnessed_by == "张伟" and row.signature_png == png
        assert row.content_digest == content_digest(row.content)
        assert signed.digest == signature_digest(row.content_digest, png, "王建国", signed.signed_at)
    again = estimate.current(number)
    assert (again.version, again.signed, again.signer, again.changes) == (1, True, "王建国", [])

    # the line's hours edited in the workshop
    with services.db.write() as s:
        s.execute(update(JobLine).where(JobLine.id == oil).values(hours=Decimal("0.8")))
    second = estimate.current(number)
    assert (second.version, second.signed, second.last_signed_version) == (2, False, 1)
    assert second.lines[0].amount == Decimal("256.00") and any("160.00" in c and "256.00" in c
                                                               for c in second.changes)
    with pytest.raises(Refused) as stale:
        estimate.sign(number, 1, "王建国", png, actor="张伟")
    assert stale.value.key == "estimate.error.stale"
    assert estimate.verify(number, 1) and estimate.verify(number, 2)
    assert estimate.document(number, 1).content["lines"][0]["amount"] == "160.00"

    # a line added (approved additional work) and a part at a new price: each a version of its own
    work = WorkshopServices.on(services.ctx)
    found = work.additional_work.report(number, technician=technician(services, "陈刚").id, actor="陈刚",
                                        description="空调滤芯更换", hours=0.3)
    work.additional_work.decide(found.id, "approved", "in_person", actor="张伟")
    third = estimate.current(number)
    assert third.version == 3 and [x.description for x in third.lines][-1] == "空调滤芯更换"
    assert any("空调滤芯更换" in c for c in third.changes)
    PartsServices.on(services.ctx).counter.add(number, oil, "04152-YZZA6", 1, actor="钱进")
    with services.db.write() as s:
        s.execute(update(PartsLine).where(PartsLine.job_line_id == oil).values(unit_price=Decimal("75.00")))
    fourth = estimate.current(number)
    assert fourth.version == 4 and fourth.lines[1].unit_price == Decimal("75.00")
    assert estimate.sign(number, 4, "王建国", png, actor="李娜").digest != signed.digest
    history = estimate.versions(number)
    assert [(v.version, v.signer is not None) for v in history] == [(1, True), (2, False), (3, False), (4, True)]
    assert all(estimate.verify(number, v.version) for v in history)
    assert actions(services, number).count("estimate_signed") == 2


def test_nothing_signed_is_written_again(services: Services, estimate: EstimateService) -> None:
    number = new_order(services, "OIL")
    signed = estimate.sign(number, estimate.current(number).version, "王建国", signature_png(), actor="张伟")
    with pytest.raises(Refused) as again:
        estimate.sign(number, 1, "王建国", signature_png(), actor="张伟")
    assert again.value.key == "estimate.error.already_signed"
    with pytest.raises(Refused) as guard, services.db.write() as s:
        row = s.scalar(select(SignedDocument).where(SignedDocument.digest == signed.digest))
        assert row is not None
        row.content = {**row.content, "total": "1.00"}
    assert guard.value.key == "estimate.error.signed_unchangeable"
    assert estimate.verify(number, 1)
    # written behind the services' back, the digest no longer matches: verify says so
    with services.db.write() as s:
        s.execute(update(SignedDocument).where(SignedDocument.digest == signed.digest)
                  .values(signer="someone else"))
    assert not estimate.verify(number, 1)


@pytest.mark.parametrize("data, key", [
    (b"not a picture at all", "estimate.error.signature_not_png"),
    (signature_png()[:60], "estimate.error.signature_not_png"),
    (signature_png(ink=False), "estimate.error.signature_blank"),
    (filled(), "estimate.error.signature_blank"),
    (b"\x89PNG\r\n\x1a\n" + bytes(1024 * 1024 + 1), "estimate.error.signature_too_large"),
])
def test_a_signature_that_is_no_signature_is_refused(services: Services, estimate: EstimateService, data: bytes,
                                                     key: str) -> None:
    number = new_order(services, "OIL")
    with pytest.raises(Invalid) as refused:
        estimate.sign(number, estimate.current(number).version, "王建国", data, actor="张伟")
    assert refused.value.key == key
    with pytest.raises(Invalid):
        estimate.sign(number, 1, "  ", signature_png(), actor="张伟")
    assert not estimate.current(number).signed


def test_a_declined_line_leaves_the_estimate_and_stays_on_the_vehicle(services: Services,
                                                                      estimate: EstimateService) -> None:
    number = new_order(services, "OIL", "BRK")
    oil, brake = lines(services, number)
    parts = PartsServices.on(services.ctx)
    parts.counter.add(number, brake, "04465-02220", 1, actor="钱进")
    assert number in [x.number for x in parts.counter.pick_lists()]
    assert estimate.current(number).version == 1
    view = estimate.remove_line(number, brake, actor="张伟")
    assert [x.code for x in view.lines] == ["OIL"] and view.version == 2
    assert number not in [x.number for x in parts.counter.pick_lists()]  # nobody picks parts for declined work
    with services.db.read() as s:
        declined = s.scalars(select(VehicleItem.description).where(VehicleItem.kind == "declined")).all()
    assert any("刹车片" in d for d in declined)
    assert "estimate_line_declined" in actions(services, number)
    with pytest.raises(Refused) as last:
        estimate.remove_line(number, oil, actor="张伟")
    assert last.value.key == "estimate.error.last_line"
    with pytest.raises(NotFound):
        estimate.remove_line(number, brake, actor="张伟")


def test_the_changes_the_customer_signs_for_are_in_their_words() -> None:
    from zoneinfo import ZoneInfo

    from shopfloor.services.reception.estimate import changes

    line = {"kind": "labour", "job_line_id": 1, "code": "OIL", "description": "更换机油机滤", "quantity": "0.50",
            "unit_price": "320.00", "amount": "160.00", "payer": "customer"}
    old = {"lines": [line], "promised_at": "2026-11-23T05:00:00+00:00", "followup_channel": "sms"}
    new = {"lines": [line | {"payer": "warranty"}], "promised_at": "2026-11-23T07:30:00+00:00",
           "followup_channel": "wechat"}
    said = changes(old, new, "zh-CN", ZoneInfo("Asia/Shanghai"))
    assert "更换机油机滤 的付费方：客户 → 保修" in said
    assert "承诺交车时间：2026-11-23 13:00 → 2026-11-23 15:30" in said
    assert "回访方式：短信 → 微信" in said
