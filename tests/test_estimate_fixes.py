"""What a new user found in the estimate, on SQLite and PostgreSQL: a discount within the advisor's limit that a payer
change or a declined line would push over it (or over the customer's part) is refused with nothing changed;
unsigned versions a later one replaced are drafts; approved additional work is consented by its decision, not
signed again; the changes read in the viewer's language; settings changes carry their values in the audit detail;
a catalogue part is added to a line at its price."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from shopfloor.contract.staff import StaffRole
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import AuditEntry, JobLine, VehicleItem
from shopfloor.domain.parts_models import PartsLine
from shopfloor.services.parts.services import PartsServices
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.reception.handover import HandoverService
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.testing.photos import signature_png
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order, technician

pytestmark = ON_BOTH_DATABASES

ADVISOR = frozenset({StaffRole.ADVISOR})
MANAGER = frozenset({StaffRole.MANAGER})


def lines(svc: Services, number: str) -> list[int]:
    return [int(x["id"]) for x in svc.repair_orders.get(number)["job_lines"]]


def audit(svc: Services, number: str, action: str) -> list[AuditEntry]:
    with svc.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.entity_id == number, AuditEntry.action == action)
                              .order_by(AuditEntry.id)))


def declined(svc: Services) -> int:
    with svc.db.read() as s:
        return len(s.scalars(select(VehicleItem.id).where(VehicleItem.kind == "declined")).all())


def payers(svc: Services, number: str) -> list[str]:
    with svc.db.read() as s:
        return list(s.scalars(select(JobLine.payer).join(JobLine.repair_order).where(
            JobLine.repair_order.has(number=number)).order_by(JobLine.position)))


def test_a_discount_the_smaller_part_would_not_allow_is_refused_and_nothing_changes(services: Services) -> None:
    estimate = EstimateService(services.ctx)
    number = new_order(services, "OIL", "BRK")  # 160.00 + 480.00 at the demo's 320 a hour
    _oil, brake = lines(services, number)
    assert estimate.current(number).customer_total == Decimal("640.00")
    declined_before = declined(services)
    given = estimate.update(number, actor="张伟", roles=ADVISOR, discount="60", discount_reason="老客户")
    assert given.discount == Decimal("60.00")  # within 10 % of 640.00
    detail = json.loads(audit(services, number, "estimate_discount")[-1].detail or "{}")
    assert (detail["limit"], detail["limit_percent"], detail["customer_subtotal"]) == ("64.00", "10", "640.00")

    # the brake job to the insurer: 60.00 of the customer's 160.00 is 37.5 %, over the advisor's 10 %
    with pytest.raises(Refused) as over:
        estimate.update(number, actor="张伟", roles=ADVISOR, payers={brake: "insurance"})
    assert over.value.key == "estimate.error.discount_now_over_limit"
    said = over.value.message("en")
    assert "37.5%" in said and "10%" in said and "lower the discount first or ask the service manager" in said
    assert "37.5%" in over.value.message("zh-CN")
    # declining the brake job would do the same: refused, for an advisor and for an old caller without roles
    for roles in (ADVISOR, None):
        with pytest.raises(Refused) as refused:
            estimate.remove_line(number, brake, actor="张伟", roles=roles)
        assert refused.value.key == "estimate.error.discount_now_over_limit"
    assert payers(services, number) == ["customer", "customer"]
    view = estimate.current(number)
    assert (view.version, view.discount, len(view.lines)) == (given.version, Decimal("60.00"), 2)
    assert not audit(services, number, "job_line_payer") and not audit(services, number, "estimate_line_declined")
    assert declined(services) == declined_before

    # lowered first, the same change goes through; the manager may keep a larger one
    estimate.update(number, actor="张伟", roles=ADVISOR, discount="16")
    assert estimate.update(number, actor="张伟", roles=ADVISOR,
                           payers={brake: "insurance"}).customer_total == Decimal("144.00")
    estimate.update(number, actor="赵经理", roles=MANAGER, payers={brake: "customer"}, discount="100")
    assert estimate.update(number, actor="赵经理", roles=MANAGER,
                           payers={brake: "warranty"}).customer_total == Decimal("60.00")
    assert [json.loads(e.detail or "{}")["job_line"] for e in audit(services, number, "job_line_payer")] == [
        brake, brake, brake]


def test_a_discount_is_never_more_than_the_customers_part_whoever_asks(services: Services) -> None:
    estimate = EstimateService(services.ctx)
    number = new_order(services, "OIL", "BRK")
    _oil, brake = lines(services, number)
    estimate.update(number, actor="赵经理", roles=MANAGER, discount="200", discount_reason="投诉补偿")
    with pytest.raises(Refused) as over:
        estimate.update(number, actor="赵经理", roles=MANAGER, payers={brake: "warranty"})
    assert over.value.key == "estimate.error.discount_over_part" and "160.00" in over.value.message("en")
    with pytest.raises(Refused):
        estimate.remove_line(number, brake, actor="赵经理", roles=MANAGER)
    assert payers(services, number) == ["customer", "customer"]
    # within the smaller part, the manager's override stands
    estimate.update(number, actor="赵经理", roles=MANAGER, discount="100")
    view = estimate.remove_line(number, brake, actor="赵经理", roles=MANAGER)
    assert (view.customer_total, view.discount) == (Decimal("60.00"), Decimal("100.00"))


def test_unsigned_versions_a_later_one_replaced_are_drafts(services: Services) -> None:
    estimate = EstimateService(services.ctx)
    number = new_order(services, "OIL")
    assert estimate.current(number).version == 1
    for channel in ("wechat", "phone", "email"):  # each click a version: a signature names the one it saw
        estimate.update(number, actor="张伟", roles=ADVISOR, followup_channel=channel)
    assert [(v.version, v.superseded) for v in estimate.versions(number)] == [
        (1, True), (2, True), (3, True), (4, False)]
    estimate.sign(number, 4, "王建国", signature_png(), actor="张伟")
    estimate.update(number, actor="张伟", roles=ADVISOR, keep_replaced_parts=True)
    history = estimate.versions(number)
    assert [(v.version, v.superseded, v.consent) for v in history] == [
        (1, True, None), (2, True, None), (3, True, None), (4, False, "signature"), (5, False, None)]
    handover = HandoverService(services.ctx)
    assert [v.superseded for v in handover.versions(number)] == [False]


def test_approved_additional_work_is_consented_by_its_decision_not_signed_again(services: Services) -> None:
    estimate = EstimateService(services.ctx)
    number = new_order(services, "OIL")
    (oil,) = lines(services, number)
    estimate.sign(number, estimate.current(number).version, "王建国", signature_png(), actor="张伟")
    work = WorkshopServices.on(services.ctx)
    found = work.additional_work.report(number, technician=technician(services, "陈刚").id, actor="陈刚",
                                        description="更换前刹车片", hours=1.5, parts=["04465-02220"])
    work.additional_work.decide(found.id, "approved", "customer_page", actor="王建国", shown=["更换前刹车片"])
    view = estimate.current(number)
    assert (view.signed, view.consent) == (False, "decision") and view.last_signed_version == 1
    assert [(x.description, x.code) for x in view.lines][1:] == [("更换前刹车片", None), ("前刹车片", "04465-02220")]
    assert len(view.consented_by) == 1 and view.consented_by[0].startswith("客户页面 ")
    assert view.consented_by[0].endswith("：更换前刹车片")
    english = estimate.current(number, lang="en")
    assert english.consented_by[0].startswith("Customer page ") and english.consent == "decision"
    assert [(v.version, v.consent, v.superseded) for v in estimate.versions(number)] == [
        (1, "signature", False), (2, "decision", False)]

    # anything else moved still needs the signature: here the oil change's hours
    with services.db.write() as s:
        s.execute(update(JobLine).where(JobLine.id == oil).values(hours=Decimal("0.8")))
    changed = estimate.current(number)
    assert (changed.version, changed.consent, changed.consented_by) == (3, None, [])


def test_a_part_added_to_approved_work_after_the_decision_needs_the_signature(services: Services) -> None:
    estimate = EstimateService(services.ctx)
    number = new_order(services, "OIL")
    estimate.sign(number, 1, "王建国", signature_png(), actor="张伟")
    work = WorkshopServices.on(services.ctx)
    found = work.additional_work.report(number, technician=technician(services, "陈刚").id, actor="陈刚",
                                        description="空调滤芯更换", hours=0.3)
    decided = work.additional_work.decide(found.id, "approved", "phone", actor="张伟")
    assert estimate.current(number).consent == "decision"
    assert decided.job_line_id is not None
    view = estimate.add_part(number, decided.job_line_id, "04152-YZZA6", Decimal("1"), actor="张伟")
    assert view.consent is None and not view.signed


def test_the_changes_read_in_the_viewers_language_and_stay_stored_in_the_sites(services: Services) -> None:
    estimate = EstimateService(services.ctx)
    number = new_order(services, "OIL")
    estimate.sign(number, 1, "王建国", signature_png(), actor="张伟")
    estimate.update(number, actor="张伟", roles=ADVISOR, followup_channel="wechat")
    stored = estimate.current(number)
    english = estimate.current(number, lang="en")
    assert stored.version == english.version == 2
    assert any("回访方式" in c for c in stored.changes) and not any("回访方式" in c for c in english.changes)
    assert "Follow-up channel: not set → WeChat" in english.changes
    assert estimate.document(number, 2).content["changes"] == stored.changes
    assert estimate.versions(number, lang="en")[1].changes == english.changes
    assert estimate.versions(number)[1].changes == stored.changes


def test_settings_changes_carry_their_values_in_the_audit_detail(services: Services) -> None:
    estimate = EstimateService(services.ctx)
    number = new_order(services, "OIL")
    estimate.update(number, actor="张伟", roles=ADVISOR, keep_replaced_parts=True, followup_channel="sms",
                    discount_reason="老客户")
    estimate.update(number, actor="张伟", roles=ADVISOR, keep_replaced_parts=False)
    details = {a: [json.loads(e.detail or "null") for e in audit(services, number, a)]
               for a in ("keep_replaced_parts", "followup_channel", "estimate_discount_reason")}
    assert details["keep_replaced_parts"] == [{"field": "keep_replaced_parts", "before": None, "after": True},
                                              {"field": "keep_replaced_parts", "before": True, "after": False}]
    assert details["followup_channel"] == [{"field": "followup_channel", "before": None, "after": "sms"}]
    assert details["estimate_discount_reason"][0]["after"] == "老客户"


def test_a_catalogue_part_joins_a_line_at_its_price(services: Services) -> None:
    estimate = EstimateService(services.ctx)
    number = new_order(services, "OIL")
    (oil,) = lines(services, number)
    assert estimate.current(number).version == 1
    view = estimate.add_part(number, oil, "04152-yzza6", Decimal("2"), actor="张伟")
    part = view.lines[-1]
    assert (part.kind, part.code, part.quantity, part.unit_price, part.amount) == (
        "part", "04152-YZZA6", Decimal("2.00"), Decimal("68.00"), Decimal("136.00"))
    assert view.version == 2 and view.parts_total == Decimal("136.00")
    assert number in [x.number for x in PartsServices.on(services.ctx).counter.pick_lists()]
    assert audit(services, number, "parts_added")
    with pytest.raises(Invalid) as unknown:
        estimate.add_part(number, oil, "NO-SUCH-PART", Decimal("1"), actor="张伟")
    assert unknown.value.key == "estimate.error.part_unknown" and "NO-SUCH-PART" in unknown.value.message("en")
    with pytest.raises(Invalid):
        estimate.add_part(number, oil, "04152-YZZA6", Decimal("0"), actor="张伟")
    other = new_order(services, "OIL")
    with pytest.raises(NotFound):
        estimate.add_part(number, lines(services, other)[0], "04152-YZZA6", Decimal("1"), actor="张伟")
    with services.db.read() as s:
        assert len(s.scalars(select(PartsLine).where(PartsLine.job_line_id == oil)).all()) == 1
    assert estimate.current(number).version == 2
