"""The next service's arithmetic (services/settlement/next_service.py): the car at 35,210 km is told 40,000 km, not
"5,000 km"; a car off the schedule its last maintenance + the interval; the date from the car's own pace, capped at
the day interval. Hypothesis: the km is always above the odometer and at most one interval past it, the date in
(today, today + interval days]."""

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopfloor.services.settlement.next_service import Reading, km_per_day, next_km, next_multiple, plan

TODAY = date(2026, 12, 5)


def test_the_car_at_35210_km_serviced_now_is_told_40000_km() -> None:
    ns = plan(TODAY, 35210, 5000, 180, 35210, [], "en")
    assert ns.km == 40000 and ns.on == TODAY + timedelta(days=180)
    assert "40,000 km" in ns.basis and "35,210" in ns.basis and "180-day" in ns.basis
    assert "40,000公里" in ns.explain("zh-CN")


def test_the_next_km_by_the_cars_history() -> None:
    assert next_multiple(35210, 5000) == 40000 and next_multiple(40000, 5000) == 45000
    assert next_km(35210, 5000, None) == (40000, "no_record")
    assert next_km(35210, 5000, 35210) == (40000, "schedule")  # serviced now, on the schedule
    assert next_km(36000, 5000, 35900) == (40000, "schedule")  # the 35,000 km service done 900 km late
    assert next_km(37900, 5000, 37900) == (42900, "off_schedule")  # half-way between milestones: its own rhythm
    assert next_km(29500, 5000, 29500) == (34500, "off_schedule")  # early: never more than an interval ahead
    assert next_km(33000, 5000, 31000) == (35000, "schedule")  # a repair visit: the 35,000 km service is next
    assert next_km(35210, 5000, 31000) == (36000, "off_schedule")  # 35,000 passed unserviced: due at 36,000
    assert next_km(35210, 5000, 28000) == (40000, "overdue")  # the last service's next is behind the car
    assert next_km(35210, 5000, 90000) == (40000, "no_record")  # a record above the odometer is a typo


def test_the_date_follows_the_cars_own_pace_capped_at_the_day_interval() -> None:
    # 20,000 km → 35,210 km in a year: ~41.7 km a day; 4,790 km to go: 115 days
    year = [Reading(TODAY - timedelta(days=365), 20000), Reading(TODAY, 35210)]
    ns = plan(TODAY, 35210, 5000, 180, 35210, year, "en")
    assert ns.on == TODAY + timedelta(days=115) and "115 days" in ns.basis
    # a car that hardly moves: the day interval comes first
    slow = [Reading(TODAY - timedelta(days=365), 34000), Reading(TODAY, 35210)]
    assert plan(TODAY, 35210, 5000, 180, 35210, slow).on == TODAY + timedelta(days=180)
    # sold a year ago (0 km on the sale): the same pace from the sale
    assert km_per_day([Reading(TODAY - timedelta(days=100), 0), Reading(TODAY, 5000)]) == 50
    # no odometer at all: the day interval, no km
    blind = plan(TODAY, None, 5000, 180, None, year, "en")
    assert (blind.on, blind.km) == (TODAY + timedelta(days=180), None) and "no mileage" in blind.basis


def test_readings_that_say_nothing_give_no_pace() -> None:
    assert km_per_day([]) is None
    assert km_per_day([Reading(TODAY, 1000)]) is None
    assert km_per_day([Reading(TODAY, 1000), Reading(TODAY, 2000)]) is None  # the same day
    assert km_per_day([Reading(TODAY - timedelta(days=10), 3000), Reading(TODAY, 2000)]) is None  # went back


# readings as (days before today, km): cheap to draw on a busy machine
readings = st.lists(st.tuples(st.integers(min_value=0, max_value=4000), st.integers(min_value=0, max_value=400_000))
                    .map(lambda r: Reading(TODAY - timedelta(days=r[0]), r[1])), max_size=6)


@settings(suppress_health_check=[HealthCheck.too_slow])  # the 2 shared cores of a full run draw slowly
@given(odometer=st.integers(min_value=0, max_value=400_000), interval=st.integers(min_value=1000, max_value=50000),
       days=st.integers(min_value=30, max_value=730),
       last=st.none() | st.integers(min_value=0, max_value=450_000), history=readings)
def test_the_next_service_is_ahead_of_the_car_and_within_one_interval(odometer: int, interval: int, days: int,
                                                                      last: int | None,
                                                                      history: list[Reading]) -> None:
    ns = plan(TODAY, odometer, interval, days, last, history)
    assert ns.km is not None and odometer < ns.km <= odometer + interval
    assert TODAY < ns.on <= TODAY + timedelta(days=days)
    assert ns.basis and ns.explain("en")
