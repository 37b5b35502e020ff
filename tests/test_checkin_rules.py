"""Reception rules found by trying the product: used appointments, odometer, booked work, rework, reprints."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.models import PrintJob, RoEvent
from shopfloor.services.checkin import CheckinRequest, JobLineInput
from shopfloor.testing.delivery import settle
from shopfloor.testing.demo_day import waiting_today
from shopfloor.testing.plugin import Services
from shopfloor.testing.workshop import pass_checks


def test_a_car_back_after_delivery_does_not_reuse_its_appointment(services: Services) -> None:
    appt, tag = waiting_today(services)
    first = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["OIL"])).repair_order
    assert first["appointment_id"] == appt.id
    for target, extra in (("dispatched", {"technician": "吴昊"}), ("in_progress", {}), ("quality_check", {})):
        services.repair_orders.transition(first["number"], target, actor="张伟", **extra)
    pass_checks(services.ctx, first["number"])
    settle(services.ctx, first["number"])
    services.repair_orders.transition(first["number"], "delivered", actor="张伟")
    scan = services.checkin.scan(tag, actor="张伟")
    assert scan.appointment is None and scan.open_ro is None
    second = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["WSH"])).repair_order
    assert second["number"] != first["number"] and second["appointment_id"] is None


def test_odometer_going_backwards_needs_confirmation(services: Services) -> None:
    _, tag = waiting_today(services)
    last = services.checkin.scan(tag, actor="张伟").mileage_km
    assert last
    try:
        services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", mileage_km=last - 1000))
        raise AssertionError("a lower odometer reading was accepted without confirmation")
    except Refused as exc:
        assert exc.key == "error.mileage_lower" and str(last) in exc.message("en")
    ro = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", mileage_km=last - 1000,
                                                  mileage_confirmed=True)).repair_order
    assert ro["mileage_km"] == last - 1000


def test_check_in_without_lines_takes_the_booked_work(services: Services) -> None:
    appt, tag = waiting_today(services)
    ro = services.checkin.check_in(CheckinRequest(tag=tag, actor="api")).repair_order
    assert [line["description"] for line in ro["job_lines"]] == [appt.work]
    assert ro["total_hours"] == float(appt.hours) and ro["work"] == appt.work


def test_an_extra_line_takes_at_least_a_tenth_of_an_hour(services: Services) -> None:
    _, tag = waiting_today(services)
    for hours in ("0.001", "0.09"):  # 0.001 was kept, stored as 0.00 hours
        with pytest.raises(Invalid, match=r"0\.1–100 hours"):
            services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", extra_lines=[
                JobLineInput("看看异响", Decimal(hours))]))
    ro = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", extra_lines=[
        JobLineInput("看看异响", Decimal("0.1"))])).repair_order
    assert ro["job_lines"][-1]["hours"] == 0.1


def test_rework_is_recorded_as_rework(services: Services) -> None:
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["OIL"],
                                                      complaint="换油")).repair_order["number"]
    for target, extra in (("dispatched", {"technician": "吴昊"}), ("in_progress", {}), ("quality_check", {}),
                          ("in_progress", {})):
        services.repair_orders.transition(number, target, actor="徐明", **extra)
    history = services.repair_orders.history(number)
    assert [h.kind for h in history][-2:] == ["transition", "rework"]
    with services.db.read() as s:
        assert s.scalar(select(RoEvent.kind).order_by(RoEvent.id.desc()).limit(1)) == "rework"
    assert services.repair_orders.get(number)["complaint"] == "换油"


def test_first_ticket_is_not_a_reprint_unless_one_was_printed(services: Services) -> None:
    _, tag = waiting_today(services)
    number = services.checkin.check_in(CheckinRequest(tag=tag, actor="api")).repair_order["number"]
    first = services.printing.print_ticket(number, "reception", actor="api", reprint=None)
    second = services.printing.print_ticket(number, "reception", actor="api", reprint=None)
    assert (first.reprint, second.reprint) == (False, True)
    with services.db.read() as s:
        assert s.scalar(select(PrintJob.reprint).where(PrintJob.id == second.id)) is True
