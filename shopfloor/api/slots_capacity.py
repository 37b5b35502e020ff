"""/slots, /capacity, /capacity/week: where a booking fits best, and the technician hours behind it."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from shopfloor.api.access import GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import unprocessable
from shopfloor.api.fields import DAY_REFUSED, HOURS_NOTE, MAX_ID, WORK_REFUSED, DayQuery, Text, parse_day
from shopfloor.api.shapes import Shape
from shopfloor.api.work import work_lines
from shopfloor.contract.entity_states import AdvisorRef, CapacityFigures, Skill, SkillClasses
from shopfloor.contract.payloads import Day
from shopfloor.contract.staff import Permission
from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS

router = APIRouter(route_class=GuardedRoute, tags=["booking"])


class SlotReasons(Shape):
    site_arrivals: int = Field(description="other arrivals within 30 minutes")
    advisor_arrivals: int = Field(description="the advisor's arrivals near this time")
    advisor_day: int = Field(description="the advisor's bookings that day")
    mean_per_hour: float = Field(description="the day's mean arrivals per hour")
    free: dict[Skill, float] = Field(description="hours still sellable per skill class the work needs")


class Slot(Shape):
    start: str = Field(description="ISO 8601 to the minute, with the site's offset",
                       examples=["2026-11-24T09:15+08:00"])
    end: str = Field(description="start + the work's hours, as start")
    advisor: AdvisorRef
    bay: str | None = Field(description="the bay the work needs, if it needs special equipment")
    score: float = Field(description="lower is better")
    why: str = Field(description="the reasons in a sentence (English)")
    reasons: SlotReasons


class DayLoad(Shape):
    day: Day
    holiday: str | None
    available: float
    allocated: float
    free: float
    appointments: int
    load: float | None = Field(description="allocated / available; null when nobody works that day")
    skills: SkillClasses


@router.get("/slots", summary="Proposed slots for a booking, best first, each with why it was chosen",
            dependencies=[allowed(Permission.APPOINTMENT_READ)],
            responses=unprocessable(f"{DAY_REFUSED}, a day that has passed or is more than 366 days ahead, "
                                    f"{WORK_REFUSED}"))
def get_slots(api: Services, day: Annotated[Text, Query(max_length=40, description="YYYY-MM-DD")],
              hours: Annotated[float | None, Query(ge=MIN_LINE_HOURS, le=MAX_LINE_HOURS,
                                                   description=f"estimated hours; {HOURS_NOTE}")] = None,
              skill: Annotated[Literal["maintenance", "repair"] | None, Query()] = None,
              operations: Annotated[list[Text] | None, Query(max_length=30, description="operation codes")] = None,
              advisor: Annotated[Text | None, Query(max_length=60, description="advisor id, code (A) or name")] = None,
              limit: Annotated[int, Query(ge=1, le=50)] = 5) -> list[Slot]:
    lines = work_lines(api.booking, list(operations or []), hours, skill, "")
    chosen = None
    if advisor:
        # an id as decimal digits (not isdigit(): "²" is a digit int() refuses); anything else is a code or name
        as_id = int(advisor) if advisor.isdecimal() and len(advisor) <= 10 else 0
        chosen = as_id if 0 < as_id <= MAX_ID else api.booking.advisor_by_name(advisor)
    slots = api.booking.propose_slots(parse_day(day, api.ctx.today()), lines, chosen, limit)
    return [Slot.model_validate(s) for s in slots]


@router.get("/capacity", summary="Technician hours of a day: per technician and per skill class",
            dependencies=[allowed(Permission.APPOINTMENT_READ)],
            responses=unprocessable(f"{DAY_REFUSED}, or a day more than 366 days from today"))
def get_capacity(api: Services, day: DayQuery = None) -> CapacityFigures:
    return CapacityFigures.model_validate(api.booking.capacity(parse_day(day, api.ctx.today())))


@router.get("/capacity/week", summary="Load per day (allocated / available) from a day on",
            dependencies=[allowed(Permission.APPOINTMENT_READ)],
            responses=unprocessable(f"{DAY_REFUSED}, or a day of the week more than 366 days from today"))
def get_week(api: Services, start: Annotated[Text | None, Query(max_length=40)] = None,
             days: Annotated[int, Query(ge=1, le=31)] = 7) -> list[DayLoad]:
    return [DayLoad.model_validate(d) for d in api.booking.week(parse_day(start, api.ctx.today()), days)]
