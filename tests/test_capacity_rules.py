"""The capacity rules, pure (shopfloor.domain.capacity): hand-built days with known answers, and properties that
hold for any day and any sequence of booking attempts (hypothesis)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from shopfloor.domain.capacity import (
    GROUPS,
    BayInfo,
    Booking,
    DayPlan,
    TechnicianDay,
    Unplanned,
    propose,
)

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 24)
OPEN = datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
CLOSE = datetime(2026, 11, 24, 20, 0, tzinfo=TZ)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=TZ)


def plan(techs: list[tuple[str, float]], bookings: list[Booking] | None = None, *, bays: int = 6,
         unplanned: list[Unplanned] | None = None, reserve: float = 0.2, per_quarter: int = 1,
         special: list[BayInfo] | None = None) -> DayPlan:
    return DayPlan(day=DAY, opening=OPEN, closing=CLOSE,
                   technicians=[TechnicianDay(i + 1, f"t{i}", skill, hours) for i, (skill, hours) in enumerate(techs)],
                   bays=[BayInfo(100 + i, str(i + 1), "lift") for i in range(bays)] + (special or []),
                   bookings=list(bookings or []), unplanned=list(unplanned or []), reserve_share=reserve,
                   arrivals_per_quarter=per_quarter)


def booking(i: int, hours: dict[str, float], start: datetime, advisor: int = 1, equipment: str | None = None,
            bay: int | None = None) -> Booking:
    return Booking(id=i, advisor_id=advisor, start=start, hours=hours, equipment=equipment, bay_id=bay)


# -- known answers ------------------------------------------------------------------------------------------

def test_repair_needs_skilled_hours_but_maintenance_may_use_them() -> None:
    day = plan([("repair", 8), ("maintenance", 8)])  # 16 h, reserve 20 %: 6.4 repair / 12.8 all sellable
    assert day.hour_violations({"repair": 6.4}) == []
    assert [v.rule for v in day.hour_violations({"repair": 6.5})] == ["reserve"]
    assert [v.rule for v in day.hour_violations({"repair": 8.5})] == ["capacity"]
    # maintenance spills onto the skilled technician: 12.8 h fits although the semi-skilled one has 8
    assert day.hour_violations({"maintenance": 12.8}) == []
    assert [v.rule for v in day.hour_violations({"maintenance": 13})] == ["reserve"]


def test_maintenance_booked_on_skilled_hours_leaves_no_room_for_repair() -> None:
    day = plan([("repair", 8), ("maintenance", 8)], [booking(1, {"maintenance": 12.0}, at(8))])
    # repair group alone has 6.4 sellable, but all work together only 0.8 more
    assert day.hour_violations({"repair": 0.8}) == []
    assert [v.rule for v in day.hour_violations({"repair": 1.0})] == ["reserve"]
    assert day.free_for("repair") == day.free_for("maintenance") == 12.8 - 12.0


def test_unplanned_work_eats_the_reserve_first() -> None:
    carried = Unplanned("carried_over", "RO1", {"repair": 1.5})
    day = plan([("repair", 8), ("maintenance", 8)], unplanned=[carried])
    assert day.sellable_left("repair") == 6.4  # 1.5 h < 1.6 h reserve: bookings lose nothing
    more = plan([("repair", 8), ("maintenance", 8)], unplanned=[carried, Unplanned("walk_in", "RO2", {"repair": 1})])
    assert round(more.sellable_left("repair"), 6) == round(6.4 - 0.9, 6)


def test_stagger_counts_one_advisor_per_quarter_hour() -> None:
    day = plan([("repair", 8)] * 4, [booking(1, {"maintenance": 1}, at(9, 5), advisor=1)], per_quarter=1)
    assert day.stagger_violation(1, at(9, 10)) is not None  # same quarter 09:00–09:15
    assert day.stagger_violation(1, at(9, 15)) is None
    assert day.stagger_violation(2, at(9, 10)) is None  # another advisor


def test_special_equipment_needs_its_bay_for_the_whole_job() -> None:
    rack = BayInfo(200, "A1", "alignment")
    day = plan([("repair", 8)] * 4, [booking(1, {"repair": 1.0}, at(9), equipment="alignment", bay=200)],
               special=[rack])
    bay, problem = day.free_bay("alignment", at(9, 30), 1.0)
    assert bay is None and problem is not None and problem.rule == "bay"
    bay, problem = day.free_bay("alignment", at(10), 1.0)
    assert bay == rack and problem is None
    _, problem = plan([("repair", 8)]).free_bay("paint", at(10), 1.0)
    assert problem is not None and problem.key == "booking.refused.bay_missing"


def test_general_bays_limit_work_running_at_once() -> None:
    running = [booking(i, {"maintenance": 2}, at(9), advisor=i, bay=100 + i) for i in range(2)]
    day = plan([("maintenance", 8)] * 4, running, bays=2)
    assert day.free_bay(None, at(10), 1)[1] is not None
    assert day.free_bay(None, at(11), 1)[0] is not None


def test_proposals_level_arrivals_and_explain_themselves() -> None:
    # a crowded morning: the proposal goes where nobody arrives
    crowded = [booking(i, {"maintenance": 0.5}, at(8, 15 * (i % 4)), advisor=1 + i % 3) for i in range(8)]
    day = plan([("maintenance", 8)] * 6, crowded, per_quarter=3)
    slots = propose(day, [1, 2, 3], {"maintenance": 1.0}, None, OPEN)
    assert slots, "a day with hours left proposes slots"
    assert all(s.site_arrivals == 0 for s in slots[:3])
    assert all(not (at(8) <= s.start < at(9)) for s in slots[:3])
    starts = [s.start for s in slots]
    assert all(abs(a - b) >= timedelta(minutes=30) for i, a in enumerate(starts) for b in starts[i + 1:])
    # work must finish before closing
    late = propose(plan([("maintenance", 8)] * 2), [1], {"maintenance": 3.0}, None, at(17))
    assert all(s.start + timedelta(hours=3) <= CLOSE for s in late) and late


def test_no_proposals_when_the_day_is_sold() -> None:
    day = plan([("repair", 8)], [booking(1, {"repair": 6.4}, at(9))])
    assert propose(day, [1, 2], {"repair": 0.5}, None, OPEN) == []


def test_allocation_keeps_dispatched_work_and_gives_maintenance_to_the_semi_skilled_first() -> None:
    day = plan([("repair", 8), ("maintenance", 8)], [booking(1, {"maintenance": 2}, at(9)),
                                                    booking(2, {"repair": 3}, at(10), advisor=2)],
               unplanned=[Unplanned("carried_over", "RO9", {"repair": 1}, technician_id=1)])
    assert day.allocation() == {1: 4.0, 2: 2.0}


# -- properties ---------------------------------------------------------------------------------------------

skills = st.sampled_from(["maintenance", "repair"])
technicians = st.lists(st.tuples(skills, st.sampled_from([0.0, 4.0, 6.5, 7.0, 8.0])), min_size=1, max_size=8)
attempt = st.tuples(
    st.dictionaries(skills, st.sampled_from([0.3, 0.5, 0.8, 1.0, 1.5, 2.5, 3.0, 6.0]), min_size=1),
    st.integers(min_value=0, max_value=47),  # quarter hour of the day from 08:00
    st.integers(min_value=1, max_value=4),  # advisor
    st.sampled_from([None, None, None, "alignment"]),
    st.booleans(),  # with an override reason
)
unplanned_work = st.lists(st.tuples(skills, st.sampled_from([0.5, 1.0, 2.0, 4.0]), st.booleans()), max_size=4)


def _apply(day: DayPlan, attempts: list, overrides: dict[int, list[str]]) -> None:
    """Book the attempts as the service does: refused unless overridden; an override records every rule."""
    for i, (hours, quarter, advisor, equipment, override) in enumerate(attempts, start=1):
        start = OPEN + timedelta(minutes=15 * quarter)
        violations, bay = day.violations(advisor, start, hours, equipment)
        if violations and not override:
            continue
        day.bookings.append(Booking(i, advisor, start, hours, equipment, bay.id if bay else None))
        if violations:
            overrides[i] = [v.rule for v in violations]


@settings(max_examples=300, deadline=None)
@given(technicians, unplanned_work, st.lists(attempt, max_size=40), st.sampled_from([0.0, 0.1, 0.2, 0.35]),
       st.integers(min_value=1, max_value=3))
def test_bookings_without_override_never_exceed_sellable_hours_and_keep_the_reserve(
        techs: list, unplanned: list, attempts: list, reserve: float, per_quarter: int) -> None:
    day = plan(techs, reserve=reserve, per_quarter=per_quarter, bays=3,
               special=[BayInfo(300, "A1", "alignment")],
               unplanned=[Unplanned("carried_over" if carried else "walk_in", f"RO{i}", {s: h})
                          for i, (s, h, carried) in enumerate(unplanned)])
    overrides: dict[int, list[str]] = {}
    _apply(day, attempts, overrides)
    # Replay only the bookings nobody overrode: they alone must respect every rule.
    clean = [b for b in day.bookings if b.id not in overrides]
    replay = plan(techs, clean, reserve=reserve, per_quarter=per_quarter, bays=3,
                  special=[BayInfo(300, "A1", "alignment")], unplanned=day.unplanned)
    eps = 1e-6
    for group in GROUPS:
        reserve_hours = replay.reserved(group)
        over_reserve = max(0.0, replay.unplanned_hours(group) - reserve_hours)
        # never more than the sellable hours of each skill-class group (walk-ins and carried-over cars beyond
        # the reserve take from them too) …
        sellable = replay.available(group) - reserve_hours - over_reserve
        assert replay.booked(group) <= max(sellable, 0.0) + eps
        # … so the walk-in reserve is never sold to a booking
        if replay.booked(group) > 0:
            assert replay.available(group) - replay.booked(group) >= reserve_hours - eps
    for b in clean:
        same_quarter = [x for x in clean if x.advisor_id == b.advisor_id and replay.quarter(x.start) ==
                        replay.quarter(b.start)]
        assert len(same_quarter) <= per_quarter
    for b in clean:
        kind = b.equipment or "lift"
        at_once = [x for x in clean if (x.equipment or "lift") == kind and x.start < b.end and b.start < x.end
                   and x.start <= b.start]
        assert len(at_once) <= len([x for x in replay.bays if x.kind == kind])


@settings(max_examples=200, deadline=None)
@given(technicians, st.lists(attempt, max_size=30))
def test_every_booking_that_broke_a_rule_is_an_override(techs: list, attempts: list) -> None:
    """Book in order; a booking that the rules would have refused at its turn is exactly one with an override
    record naming those rules (so an override is never silent)."""
    day = plan(techs, bays=3, special=[BayInfo(300, "A1", "alignment")])
    overrides: dict[int, list[str]] = {}
    _apply(day, attempts, overrides)
    check = plan(techs, bays=3, special=[BayInfo(300, "A1", "alignment")])
    for b in day.bookings:
        rules = [v.rule for v in check.violations(b.advisor_id, b.start, b.hours, b.equipment)[0]]
        assert rules == overrides.get(b.id, [])
        check.bookings.append(b)


@settings(max_examples=150, deadline=None)
@given(technicians, st.lists(attempt, max_size=30), st.dictionaries(skills, st.sampled_from([0.5, 1.0, 2.5]),
                                                                   min_size=1))
def test_every_proposed_slot_is_bookable_without_override(techs: list, attempts: list, hours: dict) -> None:
    day = plan(techs, bays=3, special=[BayInfo(300, "A1", "alignment")])
    _apply(day, attempts, {})
    for slot in propose(day, [1, 2, 3, 4], hours, None, OPEN):
        violations, bay = day.violations(slot.advisor_id, slot.start, hours, None)
        assert violations == [] and bay == slot.bay
        assert slot.start + timedelta(hours=sum(hours.values())) <= CLOSE


def test_work_ends_before_its_technicians_leave() -> None:
    """Skilled technicians work 08:30–17:30, one semi-skilled until 20:00: repair work is neither proposed nor
    booked to run past 17:30, maintenance may run until 20:00."""
    techs = [TechnicianDay(1, "陈刚", "repair", 8.0, at(8, 30), at(17, 30)),
             TechnicianDay(2, "孙涛", "maintenance", 7.0, at(12), at(20))]
    day = DayPlan(day=DAY, opening=OPEN, closing=CLOSE, technicians=techs, bays=[], bookings=[])
    slots = propose(day, [1, 2, 3], {"repair": 1.0}, None, at(15))
    assert slots and all(s.start + timedelta(hours=1) <= at(17, 30) for s in slots)
    late, _ = day.violations(1, at(17), {"repair": 1.0}, None)
    assert [v.rule for v in late] == ["capacity"] and late[0].params["last"] == "17:30"
    assert day.violations(1, at(18), {"maintenance": 1.0}, None)[0] == []
    assert [v.rule for v in day.violations(1, at(19, 30), {"maintenance": 1.0}, None)[0]] == ["capacity"]
    # longer than anyone's shift: starts in the first hour and is carried over
    assert day.violations(1, at(9), {"repair": 10.0}, None)[0][0].rule == "capacity"  # hours, not the clock
    assert day.after_hours_violation(at(9), {"repair": 10.0}) is None
    assert day.after_hours_violation(at(11), {"repair": 10.0}) is not None
