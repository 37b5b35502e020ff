"""The workshop's services on SQLite and PostgreSQL: the shift-end close and the foreman's confirmation, a line with
two technicians, the transitions API moving lines (and refused where they do not allow it), and the properties
that hold through any sequence of dispatches, clockings, checks and moves."""

import contextlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shopfloor.domain.errors import DomainError, Refused
from shopfloor.domain.models import Appointment, AuditEntry, JobLine, QrTag, RepairOrder, Technician
from shopfloor.domain.states import TransitionRefused
from shopfloor.domain.workshop_models import Clocking, ClockingLine, QcResult, Rework
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.site_setup import reissue_badge
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.services.workshop.worked import clocked_hours, line_times
from shopfloor.testing.plugin import Services
from shopfloor.testing.workshop import new_order, pass_checks, technician


@pytest.fixture
def work(db_services: Services) -> WorkshopServices:
    return WorkshopServices.on(db_services.ctx)






def local(svc: Services, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(svc.ctx.today(), datetime.min.time(), tzinfo=svc.ctx.tz).replace(hour=hour,
                                                                                             minute=minute)


def test_a_clocking_open_after_the_shift_is_closed_at_its_end_and_confirmed_by_the_foreman(
        db_services: Services, work: WorkshopServices) -> None:
    tech = technician(db_services, "吴昊")  # 08:30–17:30
    number = new_order(db_services, "M20")
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    clocking, _ = work.clocking.clock_on(tech.badge, number, actor="吴昊")
    db_services.clock.set(local(db_services, 17, 20))
    assert work.clocking.close_at_shift_end() == 0  # still in the shift
    db_services.clock.set(local(db_services, 18, 5))
    assert work.clocking.close_at_shift_end() == 1
    closed = work.clocking.get(clocking.id)
    assert closed.ended_at == local(db_services, 17, 30) and closed.assumed
    assert (closed.outcome, closed.pause_reason) == ("paused", "shift_end")
    assert db_services.repair_orders.get(number)["status"] == "in_progress"  # the car is still in work
    assert work.clocking.next_job(tech.id).current is None
    with pytest.raises(DomainError):  # not after now
        work.clocking.confirm(clocking.id, actor="郑强", ended_at=local(db_services, 19))
    confirmed = work.clocking.confirm(clocking.id, actor="郑强", ended_at=local(db_services, 16, 50))
    assert confirmed.confirmed_by == "郑强" and confirmed.ended_at == local(db_services, 16, 50)
    with db_services.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_id == number, AuditEntry.action == "clocking_confirmed")) == 1


def test_a_lost_badge_replaced_no_longer_clocks_on(db_services: Services, work: WorkshopServices) -> None:
    tech = technician(db_services, "孙涛")
    number = new_order(db_services, "WSH")
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    with db_services.db.write() as s:
        fresh = reissue_badge(s.get(Technician, tech.id))
    assert fresh != tech.badge and work.clocking.technician_of_badge(fresh) == (tech.id, "孙涛")
    with pytest.raises(DomainError, match="No technician has this badge"):
        work.clocking.clock_on(tech.badge, number, actor="孙涛")
    assert work.clocking.clock_on(fresh, number, actor="孙涛")[1]


def test_a_line_of_two_technicians_is_done_when_the_last_one_finishes(
        db_services: Services, work: WorkshopServices) -> None:
    first, helper = technician(db_services, "陈刚"), technician(db_services, "杨帆")
    number = new_order(db_services, "TBT")
    work.dispatch.dispatch(number, first.id, actor="郑强", override="test")
    work.dispatch.dispatch(number, helper.id, actor="郑强", override="test", add=True,
                           job_lines=[db_services.repair_orders.get(number)["job_lines"][0]["id"]])
    line = db_services.repair_orders.get(number)["job_lines"][0]
    assert [t["name"] for t in line["technicians"]] == ["陈刚", "杨帆"]
    a, _ = work.clocking.clock_on(first.badge, number, actor="陈刚")
    b, _ = work.clocking.clock_on(helper.badge, number, actor="杨帆")
    db_services.clock.advance(minutes=90)
    work.clocking.stop(a.id, "finished", actor="陈刚")
    assert db_services.repair_orders.get(number)["job_lines"][0]["status"] == "in_progress"  # 杨帆 still on it
    work.clocking.stop(b.id, "finished", actor="杨帆")
    assert db_services.repair_orders.get(number)["status"] == "quality_check"
    # a helper added to work already started: by default the lines not finished
    started = new_order(db_services, "DGN")
    work.dispatch.dispatch(started, first.id, actor="郑强", override="test")
    work.clocking.clock_on(first.badge, started, actor="陈刚")
    state = work.dispatch.dispatch(started, helper.id, actor="郑强", override="test", add=True)
    assert [t["name"] for t in state["job_lines"][0]["technicians"]] == ["陈刚", "杨帆"]
    # giving the line to someone else while a technician is clocked on it is refused
    other = new_order(db_services, "OIL")
    work.dispatch.dispatch(other, first.id, actor="郑强", override="test")
    work.clocking.clock_on(first.badge, other, actor="陈刚")
    with pytest.raises(Refused, match="陈刚"):
        work.dispatch.dispatch(other, helper.id, actor="郑强", override="test",
                               job_lines=[db_services.repair_orders.get(other)["job_lines"][0]["id"]])


def test_the_transitions_move_the_lines_and_are_refused_where_the_lines_do_not_allow(
        db_services: Services, work: WorkshopServices) -> None:
    ro = db_services.repair_orders
    tech = technician(db_services, "徐明")
    number = new_order(db_services, "OIL", "WSH")
    state = ro.transition(number, "dispatched", actor="张伟", technician=tech.id)
    assert [line["status"] for line in state["job_lines"]] == ["dispatched", "dispatched"]
    clocking, _ = work.clocking.clock_on(tech.badge, number, actor="徐明")
    with pytest.raises(TransitionRefused, match="徐明"):  # clocked on: not finished
        ro.transition(number, "quality_check", actor="张伟")
    held = ro.transition(number, "on_hold", actor="张伟", reason="waiting_approval")
    assert held["hold_reason"] == "waiting_approval"
    assert {(line["status"], line["pause_reason"]) for line in held["job_lines"]} == {("paused", "waiting_approval")}
    assert work.clocking.get(clocking.id).ended_at is not None  # the hold stopped the clock
    assert ro.transition(number, "in_progress", actor="张伟")["status"] == "in_progress"
    done = ro.transition(number, "quality_check", actor="张伟")
    assert [line["status"] for line in done["job_lines"]] == ["done", "done"]
    back = ro.transition(number, "in_progress", actor="郑强", reason="车内有油污")  # rework: a failed check
    assert back["status"] == "in_progress"
    with db_services.db.read() as s:
        rows = list(s.scalars(select(Rework).join(RepairOrder).where(RepairOrder.number == number)))
        assert [(r.stage, r.reason, r.found_by, r.responsible_technician_id) for r in rows] == [
            ("self", "车内有油污", "郑强", tech.id)] * 2
    cancelled = ro.transition(number, "cancelled", actor="张伟")
    assert {line["status"] for line in cancelled["job_lines"]} == {"cancelled"}


def test_additional_work_after_the_checks_reopens_them(db_services: Services, work: WorkshopServices) -> None:
    tech = technician(db_services, "周杰")
    number = new_order(db_services, "OIL")
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    c, _ = work.clocking.clock_on(tech.badge, number, actor="周杰")
    work.clocking.stop(c.id, "finished", actor="周杰")
    work.quality.record(number, "self", True, actor="周杰")
    found = work.additional_work.report(number, technician=tech.id, actor="周杰", operation="WSH")
    assert found.description == "精洗车" and found.hours == 0.3
    decided = work.additional_work.decide(found.id, "approved", "in_person", actor="张伟")
    order = db_services.repair_orders.get(number)
    assert order["status"] == "dispatched" or order["status"] == "in_progress"
    assert order["job_lines"][-1]["id"] == decided.job_line_id
    c, _ = work.clocking.clock_on(tech.badge, number, actor="周杰")
    work.clocking.stop(c.id, "finished", actor="周杰")
    with pytest.raises(Refused, match="self"):  # a new round: the self check again first
        work.quality.record(number, "foreman", True, actor="郑强")


def test_a_car_is_not_ready_while_the_customer_has_not_decided_on_work_found(
        db_services: Services, work: WorkshopServices) -> None:
    tech = technician(db_services, "周杰")
    number = new_order(db_services, "OIL")
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    found = work.additional_work.report(number, technician=tech.id, actor="周杰", operation="WSH")
    c, _ = work.clocking.clock_on(tech.badge, number, actor="周杰")
    work.clocking.stop(c.id, "finished", actor="周杰")
    work.quality.record(number, "self", True, actor="周杰")
    work.quality.record(number, "foreman", True, actor="郑强")
    with pytest.raises(Refused) as final:  # the decision may add a line: not ready before it
        work.quality.record(number, "final", True, actor="郑强")
    assert final.value.key == "workshop.error.decision_pending" and final.value.params["work"] == "精洗车"
    with pytest.raises(Refused):  # nor by the kiosk's button
        db_services.repair_orders.transition(number, "ready", actor="张伟")
    work.additional_work.decide(found.id, "declined", "phone", actor="张伟")
    assert work.quality.record(number, "final", True, actor="郑强")["status"] == "ready"


def test_an_order_opened_without_work_goes_through_the_checks_too(db_services: Services,
                                                                   work: WorkshopServices) -> None:
    ro = db_services.repair_orders
    with db_services.db.read() as s:  # a car with no appointment: checked in without lines
        booked = select(Appointment.vehicle_id)
        busy = select(RepairOrder.vehicle_id)
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(booked), QrTag.vehicle_id.not_in(busy))
                       .limit(1))
    assert tag is not None
    number = db_services.checkin.check_in(CheckinRequest(tag=tag, actor="张伟")).repair_order["number"]
    assert ro.get(number)["job_lines"] == []
    for target, extra in (("dispatched", {"technician": "陈刚"}), ("in_progress", {}), ("quality_check", {})):
        ro.transition(number, target, actor="张伟", **extra)
    failed = work.quality.record(number, "self", False, reason="未洗车", actor="陈刚")
    assert failed["status"] == "in_progress"
    ro.transition(number, "quality_check", actor="张伟")
    assert pass_checks(db_services.ctx, number)["status"] == "ready"


# -- properties through any sequence of the workshop's operations ---------------------------------------------

TEAM = ("陈刚", "杨帆", "赵磊", "周杰")
# weighted by repetition: clocking on, finishing and checking make the sequences that reach rework
ACTIONS = ("dispatch", "add", "clock_on", "clock_on", "clock_on", "finish", "finish", "finish", "pause",
           "check_pass", "check_pass", "check_fail", "check_fail", "to_quality_check", "to_in_progress", "hold",
           "shift_end")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, len(TEAM) - 1), st.integers(0, 2),
                          st.integers(1, 50)), min_size=10, max_size=30))
def test_clockings_and_rework_keep_their_properties(db_services: Services,
                                                     steps: list[tuple[str, int, int, int]]) -> None:
    svc = db_services
    work = WorkshopServices.on(svc.ctx)
    team = [technician(svc, name) for name in TEAM]
    orders = [new_order(svc, "OIL"), new_order(svc, "BRK", "WSH"), new_order(svc, "M10")]
    for action, who, which, minutes in steps:
        tech, number = team[who], orders[which]
        try:
            if action in ("dispatch", "add"):
                work.dispatch.dispatch(number, tech.id, actor="郑强", override="property", add=action == "add")
            elif action == "clock_on":  # given the order's lines first, as a helper, so that most scans clock on
                with contextlib.suppress(DomainError):
                    work.dispatch.dispatch(number, tech.id, actor="郑强", override="property", add=True,
                                           job_lines=_open_lines(svc, number))
                work.clocking.clock_on(tech.badge, number, actor=tech.name)
            elif action in ("finish", "pause"):
                current = _open_clocking(svc, tech.id)
                if current is not None:
                    work.clocking.stop(current, "finished" if action == "finish" else "paused",
                                       reason="waiting_parts", actor=tech.name)
            elif action in ("check_pass", "check_fail"):
                _check_next(svc, work, number, passed=action == "check_pass")
            elif action == "to_quality_check":
                svc.repair_orders.transition(number, "quality_check", actor="张伟")
            elif action == "to_in_progress":
                svc.repair_orders.transition(number, "in_progress", actor="张伟", reason="property")
            elif action == "hold":
                svc.repair_orders.transition(number, "on_hold", actor="张伟", reason="waiting_parts")
            else:
                work.clocking.close_at_shift_end()
        except DomainError:
            pass  # refused by the rules: the properties hold all the same
        svc.clock.advance(minutes=minutes)
    _assert_properties(svc)
    with svc.db.read() as s:  # what the sequences reached (--hypothesis-show-statistics)
        event(f"rework rows: {min(s.scalar(select(func.count()).select_from(Rework)) or 0, 3)}+")


def _open_lines(svc: Services, number: str) -> list[int]:
    return [line["id"] for line in svc.repair_orders.get(number)["job_lines"]
            if line["status"] in ("waiting", "dispatched", "in_progress", "paused")]


def _check_next(svc: Services, work: WorkshopServices, number: str, *, passed: bool) -> None:
    """The next stage the order waits for, passed or failed."""
    for stage in svc.ctx.settings.workshop.qc_stages:
        try:
            work.quality.record(number, stage.value, passed, reason="property", actor="郑强")
            return
        except Refused as refused:
            if refused.key not in ("workshop.error.stage_passed", "workshop.error.stage_first"):
                raise


def _open_clocking(svc: Services, technician_id: int) -> int | None:
    with svc.db.read() as s:
        return s.scalar(select(Clocking.id).where(Clocking.technician_id == technician_id,
                                                  Clocking.ended_at.is_(None)))


def _assert_properties(svc: Services) -> None:
    now = svc.ctx.now()
    with svc.db.read() as s:
        clockings = list(s.scalars(select(Clocking)))
        # at most one open clocking per technician
        open_per_tech = defaultdict(int)
        for c in clockings:
            if c.ended_at is None:
                open_per_tech[c.technician_id] += 1
        assert all(n <= 1 for n in open_per_tech.values()), open_per_tech
        # worked time never exceeds clocked time
        clocked: dict[int, float] = defaultdict(float)
        for c in clockings:
            assert c.ended_at is None or c.ended_at >= c.started_at
            clocked[c.technician_id] += clocked_hours(c.started_at, c.ended_at, now)
        worked: dict[int, float] = defaultdict(float)
        for share in line_times(s, now, orders={c.repair_order_id for c in clockings}):
            worked[share.technician_id] += share.hours
        assert all(worked[t] <= clocked[t] + 1e-6 for t in worked), (worked, clocked)
        # a line's clockings never overlap for one technician
        spans: dict[tuple[int, int], list[tuple[datetime, datetime]]] = defaultdict(list)
        ends = {c.id: c.ended_at or now for c in clockings}
        starts = {c.id: c.started_at for c in clockings}
        techs = {c.id: c.technician_id for c in clockings}
        for cl in s.scalars(select(ClockingLine)):
            spans[(techs[cl.clocking_id], cl.job_line_id)].append((starts[cl.clocking_id], ends[cl.clocking_id]))
        for periods in spans.values():
            periods.sort()
            assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(periods))
        # every rework row matches a failed stage of its order
        for row in s.scalars(select(Rework)):
            result = s.get(QcResult, row.qc_result_id)
            assert result is not None and not result.passed
            assert (result.repair_order_id, result.stage) == (row.repair_order_id, row.stage)
            assert row.job_line.repair_order_id == row.repair_order_id
        # and the order's status is the one its lines make
        for ro in s.scalars(select(RepairOrder).where(RepairOrder.status.in_(["dispatched", "in_progress",
                                                                               "on_hold", "quality_check"]))):
            statuses = {line.status for line in ro.job_lines}
            if ro.status == "quality_check":
                assert statuses <= {"done", "cancelled"}, (ro.number, statuses)
            if ro.status == "in_progress":
                assert statuses & {"in_progress", "paused", "done"}, (ro.number, statuses)


def test_clocked_hours_count_an_open_clocking_to_now() -> None:
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert clocked_hours(start, start + timedelta(minutes=90), start) == 1.5
    assert clocked_hours(start, None, start + timedelta(minutes=30)) == 0.5


def test_the_promise_offered_at_check_in_follows_the_workshops_queues(db_services: Services,
                                                                     work: WorkshopServices) -> None:
    checkin = db_services.checkin
    bare = checkin.default_promise(3.0)
    offered = checkin.default_promise(3.0, "repair")
    assert offered >= bare  # a queue only delays
    # everyone who could do it gets a long job first: the promise offered moves past it
    for tech in (t for t in db_services.repair_orders.technicians() if t["skill"] == "repair"):
        number = new_order(db_services, "DGN")
        work.dispatch.dispatch(number, tech["id"], actor="郑强", override="test")
        with db_services.db.write() as s:
            for line in s.scalars(select(JobLine).join(RepairOrder).where(RepairOrder.number == number)):
                line.hours = 4
    later = checkin.default_promise(3.0, "repair")
    assert later >= offered + timedelta(hours=3)
    assert later.minute % 15 == 0 and later.second == 0


def test_parts_typed_at_the_bay_are_priced_from_the_catalogue(db_services: Services, work: WorkshopServices) -> None:
    tech = technician(db_services, "陈刚")
    number = new_order(db_services, "OIL")
    found = work.additional_work.report(number, technician=tech.id, actor="陈刚", description="前刹车片磨损",
                                        hours=1.0, parts=["04465-02220", "前刹车片", "04465-0K240 前刹车片", "刹车油"])
    assert [(p.number, p.name, p.unit_price) for p in found.parts] == [
        ("04465-02220", "前刹车片", 620.0), ("04465-02220", "前刹车片", 620.0),
        ("04465-0K240", "前刹车片", None),  # a number the catalogue lacks is kept, never swapped for another part
        ("", "刹车油", None)]
    assert found.parts_price == 1240.0
