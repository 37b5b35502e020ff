"""The demo's story as a new user reads it (shopfloor.demo): the salutation follows the given name, a Toyota and
Lexus fleet, no engine work on an electric car, the maintenance package the odometer is due for, the words of the
complaint matching the work, customer service calling and the cashier taking the money, and by mid-afternoon cars
ready for the cashier (one of 张伟's with a warranty line and a discount)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from shopfloor.clock import FixedClock
from shopfloor.db import Database, sqlite_url
from shopfloor.demo import seed
from shopfloor.demo.data import EV_MODELS, GIVEN, MODELS
from shopfloor.domain.aftersales_models import Complaint, FollowUpAttempt, Payment
from shopfloor.domain.models import Advisor, Customer, JobLine, RepairOrder, Vehicle
from shopfloor.testing.plugin import DEMO_PINS, make_services

PACKAGES = {"M05": 5000, "M10": 10000, "M20": 20000, "M40": 40000}
ENGINE = {"OIL", "TBT", "DGN", *PACKAGES}


def test_the_demo_story_reads_right_at_four_in_the_afternoon(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "demo.sqlite3"))
    try:
        db.migrate()
        ctx = make_services(db, FixedClock(datetime(2026, 11, 20, 16, 0, tzinfo=timezone(timedelta(hours=8))))).ctx
        seed.seed(ctx, DEMO_PINS)
        salutation = dict(GIVEN)
        with db.read() as s:
            people = s.execute(select(Customer.given_name, Customer.salutation)).all()
            assert people and all(salutation[given] == said for given, said in people)
            assert set(s.scalars(select(Vehicle.model))) <= {m for m, _ in MODELS}
            ev_engine = s.scalar(select(func.count()).select_from(JobLine).join(RepairOrder)
                                 .join(Vehicle, Vehicle.id == RepairOrder.vehicle_id)
                                 .where(Vehicle.model.in_(EV_MODELS), JobLine.operation_code.in_(ENGINE)))
            assert ev_engine == 0
            interval = ctx.settings.booking.service_interval_km
            for number, km, code in s.execute(select(RepairOrder.number, RepairOrder.mileage_km,
                                                     JobLine.operation_code).join(JobLine)
                                              .where(JobLine.operation_code.in_(PACKAGES))):
                assert km is not None, number
                milestone = -(-km // interval) * interval
                due = max(k for k, every in PACKAGES.items() if milestone % every == 0)
                assert code == due, (number, km, code)
            for number, complaint, codes in s.execute(
                    select(RepairOrder.number, RepairOrder.complaint, func.group_concat(JobLine.operation_code))
                    .join(JobLine).group_by(RepairOrder.id)):
                if "按时保养" in complaint:  # the words say maintenance: the work has it
                    assert set(codes.split(",")) & {*PACKAGES, "OIL", "EVS"}, (number, complaint, codes)
            assert set(s.scalars(select(Complaint.opened_by))) <= {"孙丽", "张伟"}
            assert set(s.scalars(select(FollowUpAttempt.by))) == {"孙丽"}
            assert set(s.scalars(select(Payment.actor))) == {"林静"}
            start, _ = ctx.day_bounds(ctx.today())
            today = s.execute(select(RepairOrder, Advisor.name).join(Advisor)
                              .where(RepairOrder.opened_at >= start)).all()
            ready = [(ro, name) for ro, name in today if ro.status == "ready"]
            final = [(ro, name) for ro, name in today if ro.status in ("ready", "quality_check")]
            assert len(ready) >= 2 and len({name for _, name in final}) >= 3 and "张伟" in {n for _, n in ready}
            billed = [ro for ro, _ in ready if ro.discount > 0]
            assert len(billed) == 1 and "warranty" in {line.payer for line in billed[0].job_lines}
    finally:
        db.dispose()
