"""The vehicle handover record (交接车登记) on SQLite and PostgreSQL: made from the walkaround's rows (marks, fuel,
odometer, valuables, protection kit) and the promise, needed for long work or when the customer leaves the car,
signed like the estimate: a mark added after signing makes a new version, the signed one still verifies."""


import pytest
from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.domain.errors import Refused
from shopfloor.domain.models import AuditEntry, RepairOrder
from shopfloor.domain.reception_models import DamageMark, Walkaround
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.reception.handover import HandoverService
from shopfloor.testing.photos import signature_png
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order

pytestmark = ON_BOTH_DATABASES


def walk(svc: Services, number: str, *marks: tuple[str, str, float, float]) -> None:
    """The walkaround as the bay recorded it: these marks added to the order's."""
    with svc.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        if s.scalar(select(Walkaround).where(Walkaround.repair_order_id == ro.id)) is None:
            s.add(Walkaround(repair_order_id=ro.id, mileage_km=52_310, fuel_eighths=3, protection_kit=True,
                             valuables_taken=True, items={"tools": {"status": "green"}}, explained=True,
                             recorded_at=svc.ctx.now(), recorded_by="张伟"))
        for position, kind, x, y in marks:
            s.add(DamageMark(repair_order_id=ro.id, vehicle_id=ro.vehicle_id, position=position, kind=kind, x=x,
                             y=y, note="", created_at=svc.ctx.now(), created_by="张伟"))


def test_the_record_is_the_walkaround_signed_and_a_later_mark_is_a_new_version(services: Services) -> None:
    handover = HandoverService(services.ctx)
    number = new_order(services, "OIL")
    before = handover.current(number)
    assert (before.recorded, before.content["marks"]) == (False, [])
    with pytest.raises(Refused) as nothing:
        handover.sign(number, before.version, "王建国", signature_png(), actor="张伟")
    assert nothing.value.key == "estimate.error.handover_no_walkaround"

    walk(services, number, ("left_front", "scratch", 0.12, 0.3))
    record = handover.current(number, actor="张伟")
    assert record.version == before.version + 1 and record.recorded
    c = record.content
    assert (c["number"], c["mileage_km"], c["fuel_eighths"], c["protection_kit"], c["valuables_taken"]) == (
        number, 52_310, 3, True, True)
    assert [(m["position"], m["kind"], m["x"], m["y"]) for m in c["marks"]] == [("left_front", "scratch", 0.12, 0.3)]
    assert c["promised_at"] == services.repair_orders.get(number)["promised_at"]
    signed = handover.sign(number, record.version, "王建国", signature_png(), actor="张伟")
    assert handover.current(number).signed and handover.current(number).digest == signed.digest

    walk(services, number, ("rear", "dent", 0.5, 0.95))
    later = handover.current(number)
    assert (later.version, later.signed, later.last_signed_version) == (record.version + 1, False, record.version)
    assert len(later.content["marks"]) == 2
    with pytest.raises(Refused) as stale:
        handover.sign(number, record.version, "王建国", signature_png(), actor="张伟")
    assert stale.value.key == "estimate.error.stale"
    assert handover.verify(number, record.version) and handover.document(number, record.version).signer == "王建国"
    assert [v.signer for v in handover.versions(number)] == [None, "王建国", None]
    # the estimate's versions are its own
    assert EstimateService(services.ctx).current(number).version == 1
    with services.db.read() as s:
        done = list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == number,
                                                              AuditEntry.action.like("handover_%"))))
    assert done.count("handover_signed") == 1 and done.count("handover_version") == 3


def test_needed_for_long_work_or_when_the_customer_leaves_the_car(services: Services) -> None:
    handover, estimate = HandoverService(services.ctx), EstimateService(services.ctx)
    advisor = frozenset({StaffRole.ADVISOR})
    short = new_order(services, "OIL")  # 0.5 h
    estimate.update(short, actor="张伟", roles=advisor, customer_leaves_car=False)
    assert not handover.required(short) and not handover.current(short).required
    estimate.update(short, actor="张伟", roles=advisor, customer_leaves_car=True)
    assert handover.required(short)
    hours = services.ctx.settings.reception.handover_hours
    long = new_order(services, "BRK", "TBT", "ALN", "DGN")
    estimate.update(long, actor="张伟", roles=advisor, customer_leaves_car=False)
    total = sum(x["hours"] for x in services.repair_orders.get(long)["job_lines"])
    assert total > hours and handover.required(long)
