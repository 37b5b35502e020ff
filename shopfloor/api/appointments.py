"""/appointments: a day's list, booking (409 with the rule it would break), one appointment, moves, cancels,
the day-before call, and the appointments of a range of days as iCalendar."""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, BOOKING_REFUSED, unprocessable
from shopfloor.api.fields import (
    DAY_REFUSED,
    HOURS_NOTE,
    MAX_ID,
    WORK_REFUSED,
    ChangeBody,
    DayQuery,
    Id,
    Text,
    days_after,
    parse_day,
)
from shopfloor.api.shapes import Shape
from shopfloor.api.work import Advisor, JobLineBody, OverrideBody, advisor_id, work_lines
from shopfloor.contract.entity_states import AppointmentState
from shopfloor.contract.payloads import DateTime
from shopfloor.contract.staff import Permission, StaffRole, roles_for
from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS
from shopfloor.domain.errors import Invalid
from shopfloor.services import ical
from shopfloor.services.booking import BookingRequest

router = APIRouter(route_class=GuardedRoute, tags=["appointments"])
_OVERRIDERS = ", ".join(r.value for r in StaffRole if r in roles_for(Permission.BOOKING_OVERRIDE))
_OVERRIDE_NEEDS = (f"Sending `override` also needs the permission {Permission.BOOKING_OVERRIDE.value} "
                   f"(roles {_OVERRIDERS}); without it the answer is 403.")


class AppointmentBody(ChangeBody):
    plate: Text | None = Field(default=None, max_length=20)
    tag: Text | None = Field(default=None, max_length=200)
    vehicle: int | None = Field(default=None, ge=1, le=MAX_ID, description="vehicle id")
    start: datetime = Field(description="ISO 8601; without an offset: the site's time")
    advisor: Advisor = Field(
        default=None, description="advisor id, code (A) or name; default: shopfloor picks the best free one")
    hours: float | None = Field(default=None, ge=MIN_LINE_HOURS, le=MAX_LINE_HOURS,
                                description=f"estimated hours (free-text work); {HOURS_NOTE}")
    job_lines: list[Text | JobLineBody] | None = Field(default=None, max_length=30,
                                                      description="operation codes, or lines with hours")
    skill: Literal["maintenance", "repair"] | None = None
    work: Text = Field(default="", max_length=200, description="what the card says")
    override: OverrideBody | None = None
    parts_status: Literal["none", "in_stock", "to_order", "arrived"] = "none"
    parts_eta: date | None = None
    parts_numbers: Text = Field(default="", max_length=200)
    waiting_customer: bool = False
    road_test: bool = False
    source: Literal["passive", "active", "rebook"] = "passive"


class MoveBody(ChangeBody):
    start: datetime
    advisor: Advisor = None
    override: OverrideBody | None = None


class CancelBody(ChangeBody):
    reason: Text = Field(min_length=1, max_length=200)


class CallBody(ChangeBody):
    outcome: Literal["confirmed", "rescheduled", "cancelled", "unreachable"]
    note: Text = Field(default="", max_length=300)


class AppointmentOfDay(AppointmentState):
    tag: str | None = Field(description="the car's QR tag (what the kiosk scans)")


class OverrideRecord(Shape):
    """A booking rule broken on purpose: which, why, by whom."""

    rule: Literal["capacity", "reserve", "stagger", "bay"]
    reason: str
    actor: str
    detail: str
    at: DateTime


class Appointment(AppointmentState):
    overrides: list[OverrideRecord]
    vehicle_id: int


@router.get("/appointments", summary="Appointments of one day", dependencies=[allowed(Permission.APPOINTMENT_READ)],
            responses=unprocessable(DAY_REFUSED))
def list_appointments(api: Services, day: DayQuery = None) -> list[AppointmentOfDay]:
    rows = api.appointments.list_day(parse_day(day, api.ctx.today()))
    return [AppointmentOfDay.model_validate(row) for row in rows]


@router.post("/appointments", summary="Book an appointment (409 with the rule it would break)", status_code=201,
             responses=BOOKING_REFUSED | BODY_ERRORS | unprocessable(
                 "the vehicle named other than once, a malformed plate, " + WORK_REFUSED + ", a start that has "
                 "passed, is more than 366 days ahead or outside the opening hours, an override without a reason"),
             description=_OVERRIDE_NEEDS)
def post_appointment(api: Services, caller: Annotated[Caller, allowed(Permission.APPOINTMENT_BOOK)],
                     body: AppointmentBody) -> Appointment:
    if body.override is not None:
        caller.require(Permission.BOOKING_OVERRIDE)
    named = sum(x is not None for x in (body.plate, body.tag, body.vehicle))
    if named != 1:
        raise Invalid("booking.error.no_vehicle" if not named else "booking.error.more.one_vehicle")
    lines = work_lines(api.booking, body.job_lines, body.hours, body.skill, body.work)
    return Appointment.model_validate(api.booking.book(BookingRequest(
        start=body.start, lines=lines, actor=caller.actor, vehicle_id=body.vehicle, plate=body.plate,
        tag=body.tag, advisor_id=advisor_id(api.booking, body.advisor), work=body.work,
        override_reason=body.override.reason if body.override else None, parts_status=body.parts_status,
        parts_eta=body.parts_eta, parts_numbers=body.parts_numbers, waiting_customer=body.waiting_customer,
        road_test=body.road_test, source=body.source)))


@router.get("/appointments/{appointment_id}", summary="One appointment, with its overrides",
            dependencies=[allowed(Permission.APPOINTMENT_READ)], responses=unprocessable())
def get_appointment(api: Services, appointment_id: Id) -> Appointment:
    return Appointment.model_validate(api.booking.get(appointment_id))


@router.post("/appointments/{appointment_id}/move", summary="Move to another time or advisor (rules checked)",
             responses=BOOKING_REFUSED | BODY_ERRORS | unprocessable(
                 "a start that has passed, is more than 366 days ahead or outside the opening hours, an override "
                 "without a reason"),
             description=_OVERRIDE_NEEDS)
def post_move(api: Services, caller: Annotated[Caller, allowed(Permission.APPOINTMENT_BOOK)], appointment_id: Id,
              body: MoveBody) -> Appointment:
    if body.override is not None:
        caller.require(Permission.BOOKING_OVERRIDE)
    return Appointment.model_validate(api.booking.move(
        appointment_id, body.start, advisor_id(api.booking, body.advisor), actor=caller.actor,
        override_reason=body.override.reason if body.override else None))


@router.post("/appointments/{appointment_id}/cancel", summary="Cancel (needs a reason)",
             responses=BODY_ERRORS | unprocessable("a reason of blanks only"))
def post_cancel(api: Services, caller: Annotated[Caller, allowed(Permission.APPOINTMENT_BOOK)], appointment_id: Id,
                body: CancelBody) -> Appointment:
    return Appointment.model_validate(api.booking.cancel(appointment_id, actor=caller.actor, reason=body.reason))


@router.post("/appointments/{appointment_id}/call", summary="Record the day-before confirmation call",
             responses=BODY_ERRORS | unprocessable())
def post_call(api: Services, caller: Annotated[Caller, allowed(Permission.CALLS)], appointment_id: Id,
              body: CallBody) -> Appointment:
    return Appointment.model_validate(api.booking.record_call(appointment_id, body.outcome, actor=caller.actor,
                                                              note=body.note))


@router.get("/appointments.ics", summary="Appointments of a range of days as iCalendar", response_class=Response,
            dependencies=[allowed(Permission.DATA_EXCHANGE)],
            responses={200: {"description": "an iCalendar file (RFC 5545), one VEVENT per appointment",
                             "content": {"text/calendar": {"schema": {"type": "string"}}}},
                       **unprocessable(f"{DAY_REFUSED}, a last day before the first, or more than 366 days")})
def get_ics(api: Services, first: DayQuery = None,
            last: Annotated[Text | None, Query(max_length=40, description="YYYY-MM-DD; default first + 6")] = None,
            ) -> Response:
    start = parse_day(first, api.ctx.today())
    end = parse_day(last, start) if last else days_after(start, 6)
    return Response(ical.export_range(api.ctx, start, end), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="appointments-{start}-{end}.ics"'})
