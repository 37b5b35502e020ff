"""Check-in keeps what was booked: every booked line (free text too) with its hours and skill, the promise from
those hours; a plate finds a car whose tag cannot be scanned; only a person who may receive cars marks the
appointment arrived by a scan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from shopfloor.domain.errors import Invalid, NotFound
from shopfloor.domain.identifiers import with_check_digit
from shopfloor.domain.models import Advisor, Appointment, AuditEntry, Vehicle
from shopfloor.services.audit import Actor, ActorKind
from shopfloor.services.checkin import CheckinRequest, booked_lines
from shopfloor.services.customers import CustomerService
from shopfloor.testing.demo_day import waiting_today
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

BOOKED = [
    {"code": "OIL", "description": "更换机油机滤", "hours": 0.5, "skill": "maintenance", "equipment": None},
    {"code": None, "description": "右前轮起步时异响，检查", "hours": 1.2, "skill": "repair", "equipment": None},
    {"code": "X-DMS-9", "description": "DMS 里的旧工位代码", "hours": 0.3, "skill": "maintenance", "equipment": None},
]


def _booked_appointment(services: Services, lines: list[dict[str, Any]] = BOOKED) -> tuple[Appointment, str]:
    appt, tag = waiting_today(services)
    with services.db.write() as s:
        row = s.get(Appointment, appt.id)
        assert row is not None
        row.job_lines = lines
        row.hours = Decimal("2.0")
        row.notes, row.waiting_customer, row.road_test = "客户要求保留旧机滤", True, True
    return appt, tag


def _staff(services: Services, name: str) -> Actor:
    with services.db.read() as s:
        staff_id = s.scalar(select(Advisor.id).where(Advisor.name == name))
    return Actor(name, ActorKind.STAFF, staff_id)


def _status(services: Services, appointment_id: int) -> str:
    with services.db.read() as s:
        row = s.get(Appointment, appointment_id)
        assert row is not None
        return row.status


def test_an_api_check_in_keeps_every_booked_line_with_its_hours_and_skill(services: Services) -> None:
    _booked_appointment(services)
    _, tag = waiting_today(services)
    ro = services.checkin.check_in(CheckinRequest(tag=tag, actor="api")).repair_order
    got = [(line["code"], line["description"], line["hours"], line["skill"]) for line in ro["job_lines"]]
    assert got == [("OIL", "更换机油机滤", 0.5, "maintenance"),
                   (None, "右前轮起步时异响，检查", 1.2, "repair"),
                   (None, "DMS 里的旧工位代码", 0.3, "maintenance")]
    assert ro["total_hours"] == pytest.approx(2.0)


def test_the_default_promise_waits_for_the_booked_hours_of_a_skilled_technician(services: Services) -> None:
    _booked_appointment(services)
    _, tag = waiting_today(services)
    expected = services.checkin.default_promise(2.0, "repair")
    ro = services.checkin.check_in(CheckinRequest(tag=tag, actor="api")).repair_order
    assert ro["promised_at"] == expected.isoformat()
    assert expected > services.checkin.default_promise(0.0)


def test_stored_lines_that_are_no_job_lines_are_left_out() -> None:
    stored: list[Any] = [{"code": "OIL", "description": "换油", "hours": "NaN"}, {"description": "", "hours": 1},
                         {"description": "太久", "hours": 500}, "garbage", {"description": "好的", "hours": "0.4",
                                                                            "skill": "wizardry"}]
    lines = booked_lines(stored)
    assert [(x.description, x.hours, x.skill, x.code) for x in lines] == [("好的", Decimal("0.40"), "maintenance",
                                                                         None)]


def test_only_a_person_who_may_receive_cars_marks_the_appointment_arrived(services: Services) -> None:
    appt, tag = waiting_today(services)
    before = appt.status
    for name in ("陈刚", "郑强"):  # a technician's and a foreman's scan only read
        result = services.checkin.scan(tag, _staff(services, name))
        assert result.appointment is not None and result.appointment["status"] == before
        assert not result.marked_arrived
        assert _status(services, appt.id) == before
    assert not services.checkin.scan(tag, Actor("integration", ActorKind.API)).marked_arrived
    with services.db.read() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "arrived",
                                                  AuditEntry.entity_id == str(appt.id))).first() is None

    # an advisor whose roles were taken away since signing in asks with the old page: the database answers
    advisor = _staff(services, "李娜")
    with services.db.write() as s:
        row = s.get(Advisor, advisor.staff_id)
        assert row is not None
        row.roles = "technician"
    assert not services.checkin.scan(tag, advisor).marked_arrived

    result = services.checkin.scan(tag, _staff(services, "张伟"))
    assert result.marked_arrived and result.appointment is not None and result.appointment["status"] == "arrived"
    assert _status(services, appt.id) == "arrived"


def test_a_plate_finds_the_car_whose_tag_cannot_be_scanned(services: Services) -> None:
    appt, tag = waiting_today(services)
    with services.db.read() as s:
        vehicle = s.get(Vehicle, appt.vehicle_id)
        assert vehicle is not None
        plate = vehicle.plate
    typed = f" {plate[:2]}·{plate[2:].lower()} "
    assert services.checkin.find_tag(typed) == tag
    result = services.checkin.scan(typed, _staff(services, "张伟"))
    assert result.tag == tag and result.marked_arrived

    with pytest.raises(NotFound) as missing:
        services.checkin.scan("京Z99999", _staff(services, "张伟"))
    assert missing.value.key == "checkin.error.plate_no_tag" and "京Z·99999" in missing.value.message("en")
    with pytest.raises(Invalid):
        services.checkin.find_tag("京1")  # neither a plate nor a tag: the plate's own message

    # the plate moved to another car that also has a tag: which one is not guessed
    CustomerService(services.ctx).create(plate=plate, vin=with_check_digit("LFMAB2CD0RA123456"), model="卡罗拉",
                                         surname="钱", phone="13800138111", actor="张伟")
    with pytest.raises(Invalid) as several:
        services.checkin.find_tag(plate)
    assert several.value.key == "checkin.error.plate_several" and "2" in several.value.message("zh-CN")
