"""/follow-ups (issue 12, step 12): the calls customer service owes on a day (the 3-day call after a delivery, the
7-day call after a new car's sale, a complaint's second call) with what the caller needs on the line, their
outcome, and a problem found on a call booked in one step."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, BOOKING_REFUSED, ERRORS, unprocessable
from shopfloor.api.fields import DAY_REFUSED, MAX_ID, DayQuery, Id, Text, parse_day
from shopfloor.api.shapes import Shape
from shopfloor.api.work import OverrideBody
from shopfloor.contract.staff import Permission
from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS
from shopfloor.services import views
from shopfloor.services.aftercare.follow_ups import PROBLEM_HOURS, FollowUpView

router = APIRouter(route_class=GuardedRoute, tags=["follow-up calls"])
Money = Annotated[str, Field(description="yuan as a decimal string with two decimals", examples=["320.00"])]
Lang = Annotated[Literal["zh-CN", "en"] | None, Query(description="the call script's language; default the site's")]


class AttemptOut(Shape):
    at: str
    by: str
    outcome: str = Field(description="satisfied | problem | unreachable")
    note: str


class FollowUpOut(Shape):
    id: int
    kind: str = Field(description="3dc: after a delivery; 7dc: a new car's first week; complaint: the second call "
                                  "after a complaint's resolution")
    status: str = Field(description="due | done | gave_up")
    due_on: str = Field(description="YYYY-MM-DD")
    first_due_on: str
    attempts: int = Field(description="tries so far")
    max_attempts: int = Field(description="[follow_up] max_attempts: unreachable this often and the call is given up")
    customer: str
    addressed: str = Field(description="how to greet them (王先生)")
    phone: str
    plate: str
    model: str
    repair_order: str | None
    delivered_at: str | None
    advisor: str | None
    work: list[str] = Field(description="the job lines done")
    amount_paid: Money = Field(description="payments less refunds")
    sold_on: str | None = Field(description="a new car's sale (the 7-day call)")
    complaint_id: int | None = Field(description="the complaint whose second call this is")
    raised_complaint_id: int | None = Field(description="the complaint this call registered")
    appointment_id: int | None = Field(description="the problem booked in")
    outcome: str | None
    score: int | None = Field(description="1–10 when satisfied")
    problem_class: str | None = Field(serialization_alias="class", description="a problem's class")
    note: str
    called_by: str | None
    called_at: str | None
    tries: list[AttemptOut]
    script: str = Field(description="the call script, its fields filled")


def follow_up_out(v: FollowUpView, api: Services) -> FollowUpOut:
    tz = api.ctx.tz

    def at(moment: datetime | None) -> str | None:
        return views.at(moment, tz) if moment is not None else None

    def day(d: date | None) -> str | None:
        return d.isoformat() if d is not None else None

    return FollowUpOut(
        id=v.id, kind=v.kind, status=v.status, due_on=v.due_on.isoformat(), first_due_on=v.first_due_on.isoformat(),
        attempts=v.attempts, max_attempts=v.max_attempts, customer=v.customer, addressed=v.addressed, phone=v.phone,
        plate=v.plate, model=v.model, repair_order=v.repair_order, delivered_at=at(v.delivered_at),
        advisor=v.advisor, work=v.work, amount_paid=f"{v.amount_paid:.2f}", sold_on=day(v.sold_on),
        complaint_id=v.complaint_id, raised_complaint_id=v.raised_complaint_id, appointment_id=v.appointment_id,
        outcome=v.outcome, score=v.score, problem_class=v.problem_class, note=v.note, called_by=v.called_by,
        called_at=at(v.called_at), tries=[AttemptOut(at=views.at(a.at, tz), by=a.by, outcome=a.outcome, note=a.note)
                                          for a in v.tries], script=v.script)


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    outcome: Literal["satisfied", "problem", "unreachable"]
    score: int | None = Field(default=None, description="1–10: needed when satisfied, refused otherwise")
    problem_class: Literal["facilities", "attitude", "workmanship", "process", "price", "other"] | None = Field(
        default=None, alias="class", description="needed when problem, refused otherwise")
    note: Text = Field(default="", max_length=2000, description="a problem's note is its complaint's text")
    severity: Literal["normal", "important"] = Field(default="normal", description="a problem's complaint")
    important_because: Literal["safety", "large_loss", "media", "lawyer", "police",
                               "consumer_association"] | None = None


class BookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: datetime = Field(description="ISO 8601; without an offset: the site's time")
    advisor: int | None = Field(default=None, ge=1, le=MAX_ID, description="default: shopfloor picks one")
    hours: float = Field(default=PROBLEM_HOURS, ge=MIN_LINE_HOURS, le=MAX_LINE_HOURS)
    override: OverrideBody | None = None


class Booked(Shape):
    appointment_id: int
    follow_up: FollowUpOut


OUTCOME_REFUSED = ("satisfied without a score 1–10, a score with another outcome, a problem without its class, a "
                   "class with another outcome, a note over 2000 characters")
DONE: dict[int | str, dict[str, Any]] = {409: {
    **ERRORS[409], "description": "the call is over (done or given up): it takes no second outcome"}}


@router.get("/follow-ups", summary="The calls due on a day", responses=unprocessable(DAY_REFUSED))
def get_follow_ups(api: Services, _caller: Annotated[Caller, allowed(Permission.FOLLOW_UP)], day: DayQuery = None,
                   lang: Lang = None) -> list[FollowUpOut]:
    """Each call due that day (the 7-day calls of the cars sold [follow_up] new_car_days before it are made as
    the list is read), with who to call, the car, what was done and paid, the tries so far and the script."""
    when = parse_day(day, api.ctx.today())
    return [follow_up_out(v, api) for v in api.aftercare.follow_ups.due(when, lang=lang)]


@router.get("/follow-ups/{follow_up_id}", summary="One follow-up call", responses=unprocessable())
def get_follow_up(api: Services, _caller: Annotated[Caller, allowed(Permission.FOLLOW_UP)], follow_up_id: Id,
                  lang: Lang = None) -> FollowUpOut:
    return follow_up_out(api.aftercare.follow_ups.get(follow_up_id, lang), api)


@router.post("/follow-ups/{follow_up_id}", summary="Record the call's outcome",
             responses=BODY_ERRORS | DONE | unprocessable(OUTCOME_REFUSED))
def post_outcome(api: Services, caller: Annotated[Caller, allowed(Permission.FOLLOW_UP)], follow_up_id: Id,
                 body: OutcomeBody) -> FollowUpOut:
    """satisfied: done, the thank-you message queued; problem: done, a complaint registered (source call) and
    linked as raised_complaint_id; unreachable: tried again the next day until [follow_up] max_attempts."""
    view = api.aftercare.follow_ups.record(
        follow_up_id, body.outcome, actor=caller.actor, score=body.score, problem_class=body.problem_class,
        note=body.note, severity=body.severity, important_because=body.important_because)
    return follow_up_out(view, api)


@router.post("/follow-ups/{follow_up_id}/appointment", summary="Book the problem found on the call", status_code=201,
             responses=BOOKING_REFUSED | BODY_ERRORS | unprocessable(
                 "a start that has passed, is more than 366 days ahead or outside the opening hours"))
def post_appointment(api: Services, caller: Annotated[Caller, allowed(Permission.FOLLOW_UP)], follow_up_id: Id,
                     body: BookBody) -> Booked:
    """An appointment for the call's car whose concern is the problem's note, in one step; 409 when the call found
    no problem, is booked already, or the time breaks a booking rule (send override with the permission
    booking.override to book anyway)."""
    if body.override is not None:
        caller.require(Permission.BOOKING_OVERRIDE)
    appointment = api.aftercare.follow_ups.book(
        follow_up_id, body.start, actor=caller.actor, advisor_id=body.advisor, hours=body.hours,
        override_reason=body.override.reason if body.override else None)
    return Booked(appointment_id=appointment, follow_up=follow_up_out(api.aftercare.follow_ups.get(follow_up_id), api))

