"""The walkaround's services on SQLite and PostgreSQL: readings, items and marks recorded (the order's and the car's
mileage following them, audited, the order republished), measurements turned red/yellow/green by the site's
thresholds, refusals naming the field with nothing saved, marks replaced keeping the unchanged ones, last visit's
marks, the items an order's operations measure, a red item proposed as a priced job line once, and when the
handover record is needed."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shopfloor.contract import topics
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.models import AuditEntry, JobLine, OutboxMessage, QrTag, RepairOrder, Vehicle
from shopfloor.domain.reception_models import DamageMark
from shopfloor.domain.states import RoStatus
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.reception.photos import OrderPhotoService
from shopfloor.services.reception.walkaround import (
    ItemInput,
    MarkInput,
    WalkaroundInput,
    WalkaroundService,
)
from shopfloor.testing.photos import jpeg
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order

pytestmark = ON_BOTH_DATABASES

ADVISOR = "李娜"


@pytest.fixture
def walk(services: Services) -> WalkaroundService:
    return WalkaroundService(services.ctx)


def audit(svc: Services, number: str, prefix: str = "walkaround") -> list[tuple[str, str, dict]]:
    with svc.db.read() as s:
        return [(a.action, a.actor, json.loads(a.detail or "{}")) for a in s.scalars(select(AuditEntry).where(
            AuditEntry.entity_id == number, AuditEntry.action.like(f"{prefix}%")).order_by(AuditEntry.id))]


def published(svc: Services, number: str) -> int:
    with svc.db.read() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.topic == topics.state(svc.ctx.site, topics.REPAIR_ORDERS, number))) or 0


def vehicle_of(svc: Services, number: str) -> Vehicle:
    with svc.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        vehicle = s.get(Vehicle, ro.vehicle_id)
        assert vehicle is not None
        return vehicle


MARKS = [MarkInput("front", "scratch", 0.42, 0.08, "前保险杠划痕"), MarkInput("left_rear", "dent", 0.05, 0.8)]


def test_a_walkaround_is_stored_as_given_and_the_measurements_set_the_status(services: Services,
                                                                             walk: WalkaroundService) -> None:
    number = new_order(services, "M10")
    before = published(services, number)
    km = (vehicle_of(services, number).mileage_km or 0) + 1234
    view = walk.record(number, WalkaroundInput(
        mileage_km=km, fuel_eighths=3, protection_kit=True, valuables_taken=True,
        items={"warning_lamps": ItemInput("yellow", note="胎压灯亮"), "audio": ItemInput("green"),
               "tyre_tread_lf": ItemInput(value=1.2), "tyre_tread_rf": ItemInput(value=2.5),
               "tyre_tread_lr": ItemInput("red", value=6.0), "brake_pad_front": ItemInput(value=1.9),
               "brake_pad_rear": ItemInput(value=3.5), "trim": {"status": "green", "note": " 干净 "}},
        marks=MARKS, explained=True), actor=ADVISOR)
    assert (view.mileage_km, view.fuel_eighths, view.protection_kit, view.valuables_taken, view.explained) == (
        km, 3, True, True, True)
    assert {k: (v.get("status"), v.get("value")) for k, v in view.items.items()} == {
        "warning_lamps": ("yellow", None), "audio": ("green", None), "trim": ("green", None),
        "tyre_tread_lf": ("red", 1.2), "tyre_tread_rf": ("yellow", 2.5), "tyre_tread_lr": ("green", 6.0),
        "brake_pad_front": ("red", 1.9), "brake_pad_rear": ("yellow", 3.5)}  # the value decides, not the status
    assert view.items["trim"]["note"] == "干净"
    assert [(m.position, m.kind, m.x, m.y, m.note, m.photo_id) for m in view.marks] == [
        ("front", "scratch", 0.42, 0.08, "前保险杠划痕", None), ("left_rear", "dent", 0.05, 0.8, "", None)]
    assert view.recorded_by == ADVISOR and view.recorded_at == services.ctx.now()
    assert view.measured == ["tyre_tread_lf", "tyre_tread_rf", "tyre_tread_lr", "tyre_tread_rr", "brake_pad_front",
                             "brake_pad_rear"]
    assert walk.get(number) == view
    order = services.repair_orders.get(number)
    assert (order["mileage_km"], order["fuel_eighths"]) == (km, 3)
    assert vehicle_of(services, number).mileage_km == km
    [(action, actor, detail)] = audit(services, number)
    assert (action, actor) == ("walkaround_recorded", ADVISOR)
    assert (detail["red"], detail["marks_added"], detail["protection_kit"]) == (
        ["brake_pad_front", "tyre_tread_lf"], 2, True)
    assert published(services, number) > before


def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(services: Services,
                                                                     walk: WalkaroundService) -> None:
    number = new_order(services, "OIL")
    first = walk.record(number, WalkaroundInput(fuel_eighths=4, marks=MARKS[:1]), actor=ADVISOR)
    good = MarkInput("front", "chip", 0.5, 0.5)
    cases = [
        (WalkaroundInput(marks=[good, MarkInput("roof", "dent", 0.5, 0.5)]), "walkaround.error.position",
         "marks[1].position"),
        (WalkaroundInput(marks=[MarkInput("front", "burn", 0.5, 0.5)]), "walkaround.error.kind", "marks[0].kind"),
        (WalkaroundInput(marks=[MarkInput("front", "dent", 1.5, 0.5)]), "walkaround.error.coordinate",
         "marks[0].x"),
        (WalkaroundInput(marks=[good, good, MarkInput("rear", "dent", 0.5, -0.01)]), "walkaround.error.coordinate",
         "marks[2].y"),
        (WalkaroundInput(marks=[MarkInput("rear", "dent", float("nan"), 0.5)]), "walkaround.error.coordinate",
         "marks[0].x"),
        (WalkaroundInput(marks=[MarkInput("rear", "dent", 0.5, 0.5, "x" * 201)]), "walkaround.error.text_too_long",
         "marks[0].note"),
        (WalkaroundInput(items={"sunroof": ItemInput("red")}), "walkaround.error.item", "sunroof"),
        (WalkaroundInput(items={"audio": ItemInput("blue")}), "walkaround.error.status", "items.audio.status"),
        (WalkaroundInput(items={"audio": ItemInput(value=3)}), "walkaround.error.unmeasured", "items.audio.value"),
        (WalkaroundInput(items={"brake_pad_rear": ItemInput(value=-1)}), "walkaround.error.value",
         "items.brake_pad_rear.value"),
        (WalkaroundInput(marks=[good] * 101), "walkaround.error.too_many_marks", "100"),
        (WalkaroundInput(fuel_eighths=9), "error.fuel_range", "8"),
        (WalkaroundInput(mileage_km=-1), "error.mileage_range", "2,000,000"),
    ]
    for data, key, named in cases:
        with pytest.raises(Invalid) as refused:
            walk.record(number, data, actor=ADVISOR)
        assert refused.value.key == key and named in refused.value.message("en"), (key, refused.value.message("en"))
    assert walk.get(number) == first
    assert [a for a, _, _ in audit(services, number)] == ["walkaround_recorded"]


def test_a_mark_with_a_photo_of_another_order_is_refused(services: Services, walk: WalkaroundService,
                                                         tmp_path: Path) -> None:
    photos = OrderPhotoService(services.ctx, tmp_path)
    number, other = new_order(services, "OIL"), new_order(services, "OIL")
    ours, theirs = photos.upload(number, jpeg(), actor=ADVISOR), photos.upload(other, jpeg(), actor=ADVISOR)
    with pytest.raises(Invalid, match=r"marks\[1\]\.photo"):
        walk.record(number, WalkaroundInput(marks=[MarkInput("front", "dent", 0.5, 0.1, photo=ours.id),
                                                   MarkInput("rear", "dent", 0.5, 0.9, photo=theirs.id)]),
                    actor=ADVISOR)
    view = walk.record(number, WalkaroundInput(marks=[MarkInput("front", "dent", 0.5, 0.1, photo=ours.id)]),
                       actor=ADVISOR)
    assert [(m.photo_id, m.photo_url) for m in view.marks] == [(ours.id, ours.url)]


def test_marks_sent_again_replace_the_orders_marks_keeping_the_unchanged_ones(services: Services,
                                                                              walk: WalkaroundService) -> None:
    number = new_order(services, "OIL")
    first = walk.record(number, WalkaroundInput(marks=MARKS), actor=ADVISOR)
    moved = MarkInput("right_side", "crack", 0.95, 0.5, "后视镜裂")
    second = walk.record(number, WalkaroundInput(marks=[MARKS[0], moved]), actor="张伟")
    assert second.marks[0].id == first.marks[0].id  # unchanged: the same row, who placed it kept
    assert [(m.position, m.kind) for m in second.marks] == [("front", "scratch"), ("right_side", "crack")]
    assert second.marks[1].id not in {m.id for m in first.marks}
    with services.db.read() as s:
        rows = list(s.execute(select(DamageMark.kind, DamageMark.created_by).order_by(DamageMark.id).where(
            DamageMark.repair_order_id == select(RepairOrder.id).where(
                RepairOrder.number == number).scalar_subquery())))
    assert rows == [("scratch", ADVISOR), ("crack", "张伟")]
    last = audit(services, number)[-1][2]
    assert (last["marks_added"], last["marks_removed"]) == (1, 1)
    assert [(m["position"], m["kind"], m["x"], m["by"]) for m in last["removed"]] == [("left_rear", "dent", 0.05,
                                                                                       ADVISOR)]
    assert walk.record(number, WalkaroundInput(), actor=ADVISOR).marks == []


def test_a_lower_mileage_needs_confirming_as_at_check_in(services: Services, walk: WalkaroundService) -> None:
    number = new_order(services, "OIL")
    vehicle = vehicle_of(services, number)
    assert vehicle.mileage_km
    with pytest.raises(Refused) as refused:
        walk.record(number, WalkaroundInput(mileage_km=vehicle.mileage_km - 500), actor=ADVISOR)
    assert refused.value.key == "error.mileage_lower"
    view = walk.record(number, WalkaroundInput(mileage_km=vehicle.mileage_km - 500, mileage_confirmed=True),
                       actor=ADVISOR)
    assert view.mileage_km == vehicle_of(services, number).mileage_km == vehicle.mileage_km - 500
    # the order's own reading (from this walkaround) is not "the last one": it may be corrected either way
    assert walk.record(number, WalkaroundInput(mileage_km=vehicle.mileage_km - 400), actor=ADVISOR).mileage_km == (
        vehicle.mileage_km - 400)
    with services.db.read() as s:
        reasons = list(s.scalars(select(AuditEntry.reason).where(
            AuditEntry.entity_id == number, AuditEntry.action == "walkaround_recorded").order_by(AuditEntry.id)))
    assert reasons == ["mileage below the last recorded, confirmed", None]


def test_a_closed_order_is_refused(services: Services, walk: WalkaroundService) -> None:
    number = new_order(services, "OIL")
    services.repair_orders.transition(number, RoStatus.CANCELLED.value, actor=ADVISOR, reason="客户取消")
    with pytest.raises(Refused):
        walk.record(number, WalkaroundInput(), actor=ADVISOR)


def test_last_visits_marks_come_back_with_their_day(services: Services, walk: WalkaroundService) -> None:
    number = new_order(services, "OIL")
    walk.record(number, WalkaroundInput(marks=MARKS), actor=ADVISOR)
    day = services.ctx.today()
    with services.db.write() as s:  # the car was delivered and comes back a week later
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        ro.status, ro.closed_at = RoStatus.DELIVERED.value, services.ctx.now()
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id == ro.vehicle_id).limit(1))
    assert tag is not None
    services.clock.advance(days=7)
    again = str(services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["OIL"]))
                .repair_order["number"])
    assert again != number
    earlier = walk.earlier_marks(again)
    assert [(m.position, m.kind, m.x, m.y, m.note, m.on, m.repair_order) for m in earlier] == [
        ("front", "scratch", 0.42, 0.08, "前保险杠划痕", day, number),
        ("left_rear", "dent", 0.05, 0.8, "", day, number)]
    assert walk.earlier_marks(number) == []  # nothing before the first visit with a walkaround
    assert walk.get(again) is None


def test_the_items_an_orders_operations_measure(services: Services, walk: WalkaroundService) -> None:
    assert walk.measured_items(new_order(services, "BRK")) == ["brake_pad_front", "brake_pad_rear"]
    assert walk.measured_items(new_order(services, "ALN", "OIL")) == [
        "tyre_tread_lf", "tyre_tread_rf", "tyre_tread_lr", "tyre_tread_rr"]
    assert walk.measured_items(new_order(services, "OIL")) == []


def test_a_red_item_becomes_a_priced_job_line_once(services: Services, walk: WalkaroundService) -> None:
    number = new_order(services, "M10")
    walk.record(number, WalkaroundInput(items={
        "brake_pad_front": ItemInput(value=1.5), "tyre_tread_lf": ItemInput(value=2.0, note="内侧偏磨"),
        "audio": ItemInput("green")}), actor=ADVISOR)
    before = published(services, number)
    brakes = walk.propose(number, "brake_pad_front", actor=ADVISOR)  # [reception] proposals: BRK
    rate = Decimal(str(services.ctx.settings.workshop.labour_rate))
    assert (brakes.operation_code, brakes.description, brakes.hours, brakes.skill) == ("BRK", "更换前刹车片", 1.5,
                                                                                       "repair")
    assert brakes.amount == (Decimal("1.5") * rate).quantize(Decimal("0.01"))
    tyre = walk.propose(number, "tyre_tread_lf", actor=ADVISOR)  # no operation: a free line of proposal_hours
    assert (tyre.operation_code, tyre.hours, tyre.skill) == (None, 0.5, "maintenance")
    assert tyre.description.endswith("内侧偏磨") and tyre.amount == (Decimal("0.5") * rate).quantize(Decimal("0.01"))
    with services.db.read() as s:
        lines = {line.id: line for line in s.scalars(select(JobLine).where(JobLine.id.in_(
            [brakes.job_line_id, tyre.job_line_id])))}
    assert {(x.origin, x.status, x.payer) for x in lines.values()} == {("walkaround", "waiting", "customer")}
    order = services.repair_orders.get(number)
    assert [line["description"] for line in order["job_lines"]][-2:] == [brakes.description, tyre.description]
    assert published(services, number) > before
    with pytest.raises(Refused, match="already"):
        walk.propose(number, "brake_pad_front", actor=ADVISOR)
    # recorded again (the item still red): the proposal stays with the item
    view = walk.record(number, WalkaroundInput(items={"brake_pad_front": ItemInput(value=1.4)}), actor=ADVISOR)
    assert view.items["brake_pad_front"]["job_line"] == brakes.job_line_id
    assert view.items["tyre_tread_lf"]["job_line"] == tyre.job_line_id  # left out: kept, with its proposal
    with pytest.raises(Refused, match="already"):
        walk.propose(number, "brake_pad_front", actor=ADVISOR)
    with pytest.raises(Refused) as green:
        walk.propose(number, "audio", actor=ADVISOR)
    assert green.value.key in ("walkaround.error.green", "walkaround.error.not_recorded")
    with pytest.raises(Refused) as unchecked:
        walk.propose(number, "tyre_tread_rr", actor=ADVISOR)
    assert unchecked.value.key == "walkaround.error.not_recorded"
    with pytest.raises(Invalid):
        walk.propose(number, "sunroof", actor=ADVISOR)
    proposals = [(actor, d["item"], d["job_line"]) for a, actor, d in audit(services, number)
                 if a == "walkaround_proposal"]
    assert proposals == [(ADVISOR, "brake_pad_front", brakes.job_line_id), (ADVISOR, "tyre_tread_lf",
                                                                              tyre.job_line_id)]


def test_a_green_item_is_not_proposed_and_the_rate_follows_the_skill(services: Services,
                                                                     walk: WalkaroundService) -> None:
    settings = services.ctx.settings
    services.ctx.settings = settings.model_copy(update={"reception": settings.reception.model_copy(
        update={"labour_rates": {"repair": 450.0}})})
    number = new_order(services, "OIL")
    walk.record(number, WalkaroundInput(items={"audio": ItemInput("green"), "warning_lamps": ItemInput("red")}),
                actor=ADVISOR)
    with pytest.raises(Refused) as green:
        walk.propose(number, "audio", actor=ADVISOR)
    assert green.value.key == "walkaround.error.green"
    lamps = walk.propose(number, "warning_lamps", actor=ADVISOR)  # DGN, a repair job: the repair rate
    assert (lamps.operation_code, lamps.skill, lamps.amount) == ("DGN", "repair", Decimal("450.00"))


def test_the_handover_record_is_needed_for_long_work_or_a_car_left_behind(services: Services,
                                                                          walk: WalkaroundService) -> None:
    short, long = new_order(services, "OIL"), new_order(services, "TBT", "M40")  # 0.5 h; 3.0 + 2.5 h
    with services.db.write() as s:
        for ro in s.scalars(select(RepairOrder).where(RepairOrder.number.in_([short, long]))):
            ro.customer_leaves_car = False  # the customer waits in the lounge
    assert walk.handover_required(short) is False
    assert walk.handover_required(long) is True
    with services.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == short))
        assert ro is not None
        ro.customer_leaves_car = True
    assert walk.handover_required(short) is True


def test_a_save_that_changes_nothing_writes_no_audit_row_and_a_change_names_itself(
        services: Services, walk: WalkaroundService) -> None:
    number = new_order(services, "M10")
    km = vehicle_of(services, number).mileage_km or 0
    data = WalkaroundInput(fuel_eighths=4, items={"audio": ItemInput("green")}, marks=MARKS[:1])
    walk.record(number, data, actor=ADVISOR)
    for _ in range(3):  # the page's autosave, each field left again
        walk.record(number, data, actor=ADVISOR)
    with services.db.read() as s:
        rows = list(s.execute(select(AuditEntry.from_value, AuditEntry.to_value).where(
            AuditEntry.entity_id == number, AuditEntry.action == "walkaround_recorded")))
    assert len(rows) == 1
    walk.record(number, WalkaroundInput(fuel_eighths=4, items={"audio": ItemInput("red")}, marks=MARKS),
                actor=ADVISOR)
    last = audit(services, number)[-1][2]
    assert (last["changed"], last["items_changed"], last["marks_added"], last["marks_removed"]) == (
        [], {"audio": ["green", "red"]}, 1, 0)
    with services.db.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == number, AuditEntry.action ==
                                                   "walkaround_recorded").order_by(AuditEntry.id.desc())).first()
        assert entry is not None and (entry.from_value, entry.to_value) == (None, None)  # the mileage stayed
    was = services.repair_orders.get(number)["mileage_km"]
    walk.record(number, WalkaroundInput(mileage_km=km + 70, fuel_eighths=4, items={"audio": ItemInput("red")},
                                        marks=MARKS), actor=ADVISOR)
    with services.db.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == number, AuditEntry.action ==
                                                   "walkaround_recorded").order_by(AuditEntry.id.desc())).first()
        assert entry is not None and (entry.from_value, entry.to_value) == (
            None if was is None else str(was), str(km + 70))
    assert audit(services, number)[-1][2]["changed"] == ["mileage_km"]
    assert len(audit(services, number)) == 3
