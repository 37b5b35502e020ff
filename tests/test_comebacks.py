"""Comebacks and first-time fix, and the final inspection's checklist, on SQLite and PostgreSQL: check-in suggests a
comeback for the same car back within [workshop] comeback_days for a like concern (not for another concern, not
after the window), the mark is stored with who made it and audited; first-time fix = delivered orders with no rework
and no comeback ÷ delivered; the final inspection passes only with every item and a failure names those missed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shopfloor.domain.errors import DomainError
from shopfloor.domain.models import AuditEntry, QrTag, RepairOrder, Technician
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.i18n import Translator
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.comebacks import ComebackService, best_match
from shopfloor.services.figures import FiguresService
from shopfloor.services.workshop.inspection import FINAL_CHECKLIST, InspectionService
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.testing.delivery import settle
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import pass_checks

pytestmark = ON_BOTH_DATABASES


def _free_tag(svc: Services) -> str:
    with svc.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    return tag


def _open(svc: Services, tag: str, complaint: str, *ops: str) -> str:
    return str(svc.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", complaint=complaint,
                                                   operation_codes=list(ops))).repair_order["number"])


def _work(svc: Services, number: str, *, fail_once: bool = False) -> None:
    """Dispatched, worked, every check passed (the foreman's failed once first when asked)."""
    work = WorkshopServices.on(svc.ctx)
    with svc.db.read() as s:
        tech = s.scalar(select(Technician).where(Technician.name == "周杰"))
    assert tech is not None
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    for _ in range(2 if fail_once else 1):
        c, _ = work.clocking.clock_on(tech.badge, number, actor=tech.name)
        work.clocking.stop(c.id, "finished", actor=tech.name)
        if fail_once and not any(r.stage == "foreman" for r in work.quality.results(number)):
            work.quality.record(number, "self", True, actor=tech.name)
            work.quality.record(number, "foreman", False, reason="螺丝未拧紧", actor="郑强", responsible=tech.id)
    pass_checks(svc.ctx, number)


def _deliver(svc: Services, tag: str, complaint: str, *ops: str, fail_once: bool = False) -> str:
    number = _open(svc, tag, complaint, *ops)
    _work(svc, number, fail_once=fail_once)
    settle(svc.ctx, number)
    svc.repair_orders.transition(number, "delivered", actor="张伟")
    return number


def test_a_car_back_for_a_like_concern_within_the_window_is_suggested_as_a_comeback(services: Services) -> None:
    svc = services
    comebacks = ComebackService(svc.ctx)
    tag = _free_tag(svc)
    first = _deliver(svc, tag, "刹车时有异响", "BRK")
    svc.clock.set(svc.ctx.now() + timedelta(days=5))
    recent = comebacks.recent(tag)
    assert [(v.number, v.days_ago) for v in recent] == [(first, 5)]
    assert best_match(recent, "刹车异响又出现了", []) is not None  # the customer's words alike
    assert best_match(recent, "", ["BRK"]) is not None  # the same operation again
    assert best_match(recent, "空调不制冷", ["WSH"]) is None  # another concern

    again = _open(svc, tag, "刹车异响又出现了")
    state = comebacks.mark(again, first, actor="张伟", suggested=True)
    assert state["number"] == again and comebacks.comeback_of(again) == first
    with svc.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == again))
        assert ro is not None and ro.comeback_marked_by == "张伟"
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_id == again, AuditEntry.action == "comeback")) == 1
    with pytest.raises(DomainError):  # not an earlier delivery of this car
        comebacks.mark(again, again, actor="张伟")
    comebacks.mark(again, None, actor="李娜")
    assert comebacks.comeback_of(again) is None

    # past the window: nothing suggested
    svc.clock.set(svc.ctx.now() + timedelta(days=svc.ctx.settings.workshop.comeback_days + 1))
    assert comebacks.recent(tag) == []


def test_first_time_fix_counts_rework_and_comebacks_against_deliveries(services: Services) -> None:
    svc = services
    comebacks = ComebackService(svc.ctx)
    today = svc.ctx.today()
    before = comebacks.first_time_fix(today, today)
    tag = _free_tag(svc)
    fixed = _deliver(svc, tag, "保养", "OIL")
    tag2 = _free_tag(svc)
    reworked = _deliver(svc, tag2, "更换刹车片", "BRK", fail_once=True)
    tag3 = _free_tag(svc)
    came_back = _deliver(svc, tag3, "转向异响", "OIL")
    back = _open(svc, tag3, "转向异响还在")
    comebacks.mark(back, came_back, actor="张伟")
    after = comebacks.first_time_fix(today, today)
    assert after["delivered"] - before["delivered"] == 3
    assert after["first_time"] - before["first_time"] == 1
    assert after["reworked"] - before["reworked"] == 1 and after["comebacks"] - before["comebacks"] == 1
    assert after["rate"] == pytest.approx(after["first_time"] / after["delivered"])
    assert fixed != reworked
    assert FiguresService(svc.ctx).report(today, today)["first_time_fix"] == after


def test_the_final_inspection_passes_only_with_every_item(services: Services) -> None:
    svc = services
    work = WorkshopServices.on(svc.ctx)
    inspection = InspectionService(svc.ctx, work.quality)
    number = _open(svc, _free_tag(svc), "保养", "OIL")
    with svc.db.read() as s:
        tech = s.scalar(select(Technician).where(Technician.name == "周杰"))
    assert tech is not None
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    c, _ = work.clocking.clock_on(tech.badge, number, actor=tech.name)
    work.clocking.stop(c.id, "finished", actor=tech.name)
    assert [(i.number, i.stage) for i in inspection.waiting() if i.number == number] == [(number, "self")]
    work.quality.record(number, "self", True, actor=tech.name)
    work.quality.record(number, "foreman", True, actor="郑强")
    assert [i.stage for i in inspection.waiting() if i.number == number] == ["final"]
    with pytest.raises(DomainError):
        inspection.final(number, ["no_such_item"], actor="郑强")
    failed = inspection.final(number, [i for i in FINAL_CHECKLIST if i not in ("clean", "no_tools")], actor="郑强",
                              note="后座有扳手")
    assert failed["status"] != "ready"
    row = next(r for r in work.quality.rework() if r.number == number)
    site = Translator(svc.ctx.settings.site.language)
    assert row.stage == "final" and site("qc.item.clean") in row.reason and site("qc.item.no_tools") in row.reason
    assert "后座有扳手" in row.reason and site("qc.item.body_paint") not in row.reason
    assert all(i.number != number for i in inspection.waiting())  # back in work, not waiting for a check
    c, _ = work.clocking.clock_on(tech.badge, number, actor=tech.name)
    work.clocking.stop(c.id, "finished", actor=tech.name)
    work.quality.record(number, "self", True, actor=tech.name)
    work.quality.record(number, "foreman", True, actor="郑强")
    assert inspection.final(number, FINAL_CHECKLIST, actor="郑强")["status"] == "ready"
