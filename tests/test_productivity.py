"""A technician's day on the job progress board (services/workshop/productivity.py, timeline.py) on SQLite and
PostgreSQL: the shift's windows, hours sold, worked and clocked in, productivity and efficiency, and the bars the
retained states carry to the wall board."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from shopfloor.contract import topics
from shopfloor.domain.models import OutboxMessage
from shopfloor.services.snapshot import SnapshotService
from shopfloor.services.workshop.productivity import ProductivityService, figures, roster
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order, technician

pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL

TZ = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=TZ)


def test_a_shift_with_leave_is_working_windows_a_break_and_leave_off_its_end() -> None:
    r = roster((at(8, 30), at(17, 30), 60, 2.0))
    assert r.shift == (at(8, 30), at(17, 30))
    assert r.breaks == [(at(12, 30), at(13, 30))]
    assert r.working == [(at(8, 30), at(12, 30)), (at(13, 30), at(15, 30))]
    assert r.leave == [(at(15, 30), at(17, 30))]
    all_day = roster((at(8, 30), at(17, 30), 60, None))
    assert all_day.working == [] and all_day.leave == [(at(8, 30), at(12, 30)), (at(13, 30), at(17, 30))]
    assert roster(None).shift is None


def test_productivity_is_worked_over_clocked_in_and_overtime_counts_as_clocked_in() -> None:
    working = [(at(8, 30), at(12, 30)), (at(13, 30), at(17, 30))]
    f = figures(at(11, 30), at(0), at(0) + timedelta(days=1), working, [(at(9, 30), at(10, 30)), (at(11), None)],
                sold=3.0, finished=1.2, finished_worked=1.0)
    assert (f.worked, f.attended, f.productivity) == (1.5, 3.0, 0.5)
    assert f.efficiency == 1.2
    late = figures(at(19), at(0), at(0) + timedelta(days=1), working, [(at(17), at(18, 30))], 0, 0, 0)
    assert (late.worked, late.attended, late.efficiency) == (1.5, 9.0, None)  # 8 h of shift + 1 h after it
    assert figures(at(8), at(0), at(0) + timedelta(days=1), working, [], 0, 0, 0).productivity is None






def test_a_finished_job_makes_the_day_figures_and_the_states_carry_the_bars(services: Services) -> None:
    work = WorkshopServices.on(services.ctx)
    figures_of = ProductivityService(services.ctx)
    tech = technician(services, "吴昊")  # 08:30–17:30, an hour's break; the demo clock is 10:30
    before = figures_of.today([tech.id])[tech.id]
    assert before.roster.breaks == [(at(12, 30), at(13, 30))]
    assert before.figures.attended == 2.0 and before.figures.worked == 0.0
    number = new_order(services, "M20")  # 1.8 flat-rate hours
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    assert figures_of.today([tech.id])[tech.id].figures.sold == 1.8
    clocking, _ = work.clocking.clock_on(tech.badge, number, actor="吴昊")
    services.clock.advance(minutes=60)
    published = {topic: json.loads(raw) for topic, raw, _ in SnapshotService(services.ctx).messages() if raw}
    working = published[topics.state(services.ctx.site, topics.REPAIR_ORDERS, number)]["job_lines"][0]
    # in work: the plan is its first clocking for its flat-rate hours, the actual bar open
    assert working["planned"] == [{"technician": tech.id, "start": at(10, 30).isoformat(),
                                   "end": (at(10, 30) + timedelta(hours=1.8)).isoformat()}]
    assert working["clocked_today"][0]["end"] is None
    mid = figures_of.today([tech.id])[tech.id].figures
    assert (mid.worked, mid.attended, mid.productivity, mid.efficiency) == (1.0, 3.0, 0.333, None)
    services.clock.advance(minutes=60)
    work.clocking.stop(clocking.id, "finished", actor="吴昊")
    done = figures_of.today([tech.id])[tech.id].figures
    assert (done.worked, done.attended, done.productivity) == (2.0, 4.0, 0.5)
    assert (done.finished, done.finished_worked, done.efficiency) == (1.8, 2.0, 0.9)

    published = {topic: json.loads(raw) for topic, raw, _ in SnapshotService(services.ctx).messages() if raw}
    row = published[topics.state(services.ctx.site, topics.TECHNICIANS, tech.id)]
    assert row["today"]["figures"]["efficiency"] == 0.9 and row["today"]["breaks"]
    line = published[topics.state(services.ctx.site, topics.REPAIR_ORDERS, number)]["job_lines"][0]
    assert [(c["technician"], c["end"] is not None) for c in line["clocked_today"]] == [(tech.id, True)]
    assert line["planned"][0]["technician"] == tech.id  # a finished line: its first clocking + flat-rate hours


@pytest.mark.parametrize("name", ["孙涛"])
def test_a_dispatched_line_is_planned_on_the_technicians_shift(services: Services, name: str) -> None:
    work = WorkshopServices.on(services.ctx)
    tech = technician(services, name)  # the late shift: 12:00–20:00
    number = new_order(services, "WSH")
    state = work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    planned = state["job_lines"][0]["planned"] if state["job_lines"][0]["planned"] else None
    published = {topic: json.loads(raw) for topic, raw, _ in SnapshotService(services.ctx).messages() if raw}
    line = published[topics.state(services.ctx.site, topics.REPAIR_ORDERS, number)]["job_lines"][0]
    assert planned is None  # the API's answer is the order itself; the bars travel on the bus
    assert line["planned"] == [{"technician": tech.id, "start": at(12).isoformat(),
                                "end": (at(12) + timedelta(hours=0.3)).isoformat()}]


def test_a_new_day_puts_the_carried_over_cars_out_again_flagged(services: Services) -> None:
    work = WorkshopServices.on(services.ctx)
    number = new_order(services, "TBT")
    services.clock.set(at(20, 30))
    assert any(c.number == number for c in work.carry_over.close_day())
    work.tick.new_day()  # the first run: the snapshot publishes
    services.clock.set(at(8, 0) + timedelta(days=1))
    work.tick.new_day()
    with services.db.read() as s:
        raw = s.scalar(select(OutboxMessage.payload).where(
            OutboxMessage.topic == topics.state(services.ctx.site, topics.REPAIR_ORDERS, number))
            .order_by(OutboxMessage.id.desc()).limit(1))
        rows = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.topic.like(topics.state(services.ctx.site, topics.TECHNICIANS, "%"))))
    assert raw is not None and json.loads(raw)["flags"]["carried_over"] is True
    assert rows  # and every technician's row for the new day
