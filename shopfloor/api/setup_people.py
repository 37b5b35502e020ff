"""/setup/staff, /setup/technicians (with their leave), /setup/holidays and /setup/bays: the site's people and
places, as /setup's tabs edit them (services/setup/{staff,technicians,calendar,bays}.py). Each list also comes out
as CSV (`…/export.csv`) and goes in from CSV (`POST …/import`, the file as the body): each bad line is reported
with its line and column, the good ones are kept. Every change is audited with the token's name and applies at
once (boards, booking, capacity)."""

import io
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

import qrcode
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from qrcode.constants import ERROR_CORRECT_M

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, ERRORS, unprocessable
from shopfloor.api.fields import Id, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission, StaffRole
from shopfloor.domain.capacity import SKILLS
from shopfloor.i18n import t
from shopfloor.services.setup.bays import BayAdmin, BayView
from shopfloor.services.setup.calendar import CalendarAdmin, HolidayView, LeaveView
from shopfloor.services.setup.csv_io import CsvImport
from shopfloor.services.setup.people_common import format_weekdays, parse_time, parse_weekdays
from shopfloor.services.setup.staff import StaffAdmin, StaffView
from shopfloor.services.setup.technicians import KEEP, KeepShift, TechnicianAdmin, TechnicianView, check_shift
from shopfloor.services.site_setup import WeeklyShift

router = APIRouter(route_class=GuardedRoute, tags=["setup: people and bays"])
SETUP = allowed(Permission.SETUP)
MAX_CSV_BYTES = 5 * 1024 * 1024
CSV_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {
    "type": "string", "description": "the CSV file: a header of our column names, then a row per item (UTF-8, "
                                     "with or without BOM, or GB18030)"}}}}}
CSV_OUT: dict[int | str, dict[str, Any]] = {200: {"description": "UTF-8 with BOM; a cell Excel would read as a "
                                                                 "formula starts with an apostrophe",
                                                  "content": {"text/csv": {"schema": {"type": "string"}}}}}
CSV_REFUSED = unprocessable("a file with an unknown column, without a required column, empty or unreadable as CSV "
                            "(bad rows are reported in the 200 answer instead)")
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: {**BODY_ERRORS[413], "description": "the file is over 5 MB"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: ERRORS[404]}


def _conflict(why: str) -> dict[int | str, dict[str, Any]]:
    return {409: {**ERRORS[409], "description": why}}


async def csv_body(request: Request) -> bytes:
    """The request's body as the CSV file (read here, so the route itself runs in the thread pool)."""
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_CSV_BYTES:
            raise HTTPException(status_code=413, detail="the CSV file is over 5 MB")
    return data


CsvFile = Annotated[bytes, Depends(csv_body)]
Since = Annotated[date | None, Query(description="default: today")]  # the first day a leave or holiday list shows


def _csv(data: bytes, name: str) -> Response:
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- shapes ---------------------------------------------------------------------------------------------------
class LineErrorOut(Shape):
    line: int = Field(description="the line in the file, as an editor shows it (the header is line 1)")
    column: str = Field(description="the column at fault; empty for the row as a whole")
    key: str = Field(description="the message's key, for a translation of your own")
    params: dict[str, Any]
    message: str = Field(description="in English")


class ImportOut(Shape):
    rows: int = Field(description="data rows read")
    added: int
    updated: int
    unchanged: int
    failed: int = Field(description="lines not imported")
    errors: list[LineErrorOut] = Field(description="the lines not imported; every other line is kept")


class OneTimePin(Shape):
    name: str
    pin: str = Field(description="works once; the person chooses their own at the first sign-in")


class StaffImportOut(ImportOut):
    one_time_pins: list[OneTimePin] = Field(description="each person added, with the PIN to hand over: not shown "
                                                        "again")


def _report(report: CsvImport) -> dict[str, Any]:
    return report.to_dict(partial(t, "en"))


def _imported(report: CsvImport) -> ImportOut:
    return ImportOut.model_validate(_report(report))


class StaffOut(Shape):
    id: int
    name: str
    code: str = Field(description="the row letter on the appointment board")
    roles: list[str] = Field(description=", ".join(r.value for r in StaffRole))
    active: bool = Field(description="false: may not sign in, not on the boards")
    must_change_pin: bool = Field(description="holds a one-time PIN not yet replaced")
    locked: bool = Field(description="locked for now after too many wrong PINs")


def staff_out(v: StaffView) -> StaffOut:
    return StaffOut(id=v.id, name=v.name, code=v.code, roles=list(v.roles), active=v.active,
                    must_change_pin=v.must_change_pin, locked=v.locked)


class StaffAdded(Shape):
    staff: StaffOut
    one_time_pin: str = Field(description="works once; shown only in this answer")


class StaffBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=60)
    code: Text = Field(min_length=1, max_length=8, description="the row letter on the appointment board: A, B…")
    roles: list[StaffRole] = Field(min_length=1)


class StaffChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text | None = Field(default=None, min_length=1, max_length=60)
    code: Text | None = Field(default=None, min_length=1, max_length=8)
    roles: list[StaffRole] | None = Field(default=None, min_length=1)
    active: bool | None = None


HHMM = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"


class ShiftIO(BaseModel):
    """A weekly shift: the same hours on each of its weekdays, less an unpaid break."""

    model_config = ConfigDict(extra="forbid")
    start: str = Field(pattern=HHMM, description="HH:MM, site time")
    end: str = Field(pattern=HHMM, description="HH:MM, after start")
    break_minutes: int = Field(ge=0, le=240)
    weekdays: Text = Field(min_length=1, max_length=20, description='ISO weekdays (1 = Monday): "1-5", "1,2,3"')


class TechnicianOut(Shape):
    id: int
    name: str
    skill: str = Field(description=" | ".join(SKILLS))
    active: bool
    shift: ShiftIO | None = Field(description="null: the site's default shift ([booking] shift_start…)")


def _shift_in(shift: ShiftIO) -> WeeklyShift:
    return check_shift(WeeklyShift(parse_time("start", shift.start), parse_time("end", shift.end),
                                   shift.break_minutes, parse_weekdays("weekdays", shift.weekdays)))


def technician_out(v: TechnicianView) -> TechnicianOut:
    shift = None if v.shift is None else ShiftIO(start=f"{v.shift.start:%H:%M}", end=f"{v.shift.end:%H:%M}",
                                                 break_minutes=v.shift.break_minutes,
                                                 weekdays=format_weekdays(v.shift.weekdays))
    return TechnicianOut(id=v.id, name=v.name, skill=v.skill, active=v.active, shift=shift)


class TechnicianBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=60)
    skill: str = Field(description=" | ".join(SKILLS))
    active: bool = True
    shift: ShiftIO | None = None


class TechnicianChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text | None = Field(default=None, min_length=1, max_length=60)
    skill: str | None = Field(default=None, description=" | ".join(SKILLS))
    active: bool | None = None
    shift: ShiftIO | None = Field(default=None, description="a new weekly shift (see default_shift to go back to "
                                                            "the site's)")
    default_shift: bool = Field(default=False, description="true: the site's default shift from now on")


class LeaveOut(Shape):
    id: int
    technician_id: int
    technician: str
    day: date
    hours: Decimal | None = Field(description="null: the whole day")
    reason: str


def leave_out(v: LeaveView) -> LeaveOut:
    return LeaveOut(id=v.id, technician_id=v.technician_id, technician=v.technician, day=v.day, hours=v.hours,
                    reason=v.reason)


class LeaveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    hours: Decimal | None = Field(default=None, gt=0, le=24, description="null or absent: the whole day")
    reason: Text = Field(default="", max_length=80)


class HolidayOut(Shape):
    id: int
    day: date
    name: str


def holiday_out(v: HolidayView) -> HolidayOut:
    return HolidayOut(id=v.id, day=v.day, name=v.name)


class HolidayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    name: Text = Field(default="", max_length=80)


class BayOut(Shape):
    id: int
    code: str
    kind: str = Field(description='"lift" for general work, or the equipment labour operations name')
    active: bool = Field(description="false: out of use, offered to no booking")


def bay_out(v: BayView) -> BayOut:
    return BayOut(id=v.id, code=v.code, kind=v.kind, active=v.active)


class BayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Text = Field(min_length=1, max_length=16)
    kind: Text = Field(min_length=1, max_length=20)


class BayChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Text | None = Field(default=None, min_length=1, max_length=16)
    kind: Text | None = Field(default=None, min_length=1, max_length=20)
    active: bool | None = None


# -- staff ----------------------------------------------------------------------------------------------------
@router.get("/setup/staff", summary="The staff who sign in", dependencies=[SETUP])
def get_staff(api: Services) -> list[StaffOut]:
    return [staff_out(v) for v in StaffAdmin(api.ctx).listing()]


@router.post("/setup/staff", summary="Add a staff member (answers their one-time PIN)", status_code=201,
             responses=BODY_ERRORS | _conflict("the name is taken") | unprocessable(
                 "a code with spaces or taken by another active person"))
def post_staff(api: Services, caller: Annotated[Caller, SETUP], body: StaffBody) -> StaffAdded:
    view, pin = StaffAdmin(api.ctx).add(body.name, body.code, [r.value for r in body.roles], caller.actor)
    return StaffAdded(staff=staff_out(view), one_time_pin=pin)


@router.get("/setup/staff/export.csv", summary="The staff as CSV (name, code, roles, active)",
            response_class=Response, responses=CSV_OUT, dependencies=[SETUP])
def get_staff_csv(api: Services) -> Response:
    return _csv(StaffAdmin(api.ctx).export_csv(), "staff.csv")


@router.post("/setup/staff/import", summary="Add or change staff from CSV (name, code, roles, active)",
             openapi_extra=CSV_BODY, responses=TOO_LARGE | CSV_REFUSED)
def post_staff_import(api: Services, caller: Annotated[Caller, SETUP], data: CsvFile) -> StaffImportOut:
    """Rows keyed by name. roles: "advisor,manager" (or separated by ;). A person added gets a one-time PIN,
    listed once in this answer."""
    report, pins = StaffAdmin(api.ctx).import_csv(data, caller.actor)
    return StaffImportOut.model_validate({**_report(report), "one_time_pins": [
        {"name": name, "pin": pin} for name, pin in pins.items()]})


@router.get("/setup/staff/{staff_id}", summary="One staff member", responses=NOT_FOUND | unprocessable(),
            dependencies=[SETUP])
def get_staff_member(api: Services, staff_id: Id) -> StaffOut:
    return staff_out(StaffAdmin(api.ctx).get(staff_id))


@router.patch("/setup/staff/{staff_id}", summary="Change a staff member's name, code, roles, or active",
              responses=BODY_ERRORS | NOT_FOUND | _conflict(
                  "the name is taken, or it would leave the site without an active manager") | unprocessable(
                  "a code with spaces or taken by another active person"))
def patch_staff(api: Services, caller: Annotated[Caller, SETUP], staff_id: Id, body: StaffChange) -> StaffOut:
    return staff_out(StaffAdmin(api.ctx).edit(
        staff_id, caller.actor, name=body.name, code=body.code,
        roles=[r.value for r in body.roles] if body.roles is not None else None, active=body.active))


# -- technicians ----------------------------------------------------------------------------------------------
@router.get("/setup/technicians", summary="The technicians, in use first", dependencies=[SETUP])
def get_technicians(api: Services) -> list[TechnicianOut]:
    return [technician_out(v) for v in TechnicianAdmin(api.ctx).listing()]


@router.post("/setup/technicians", summary="Add a technician", status_code=201,
             responses=BODY_ERRORS | _conflict("the name is taken") | unprocessable(
                 "an unknown skill, a shift that ends before it starts or a break as long as the shift"))
def post_technician(api: Services, caller: Annotated[Caller, SETUP], body: TechnicianBody) -> TechnicianOut:
    shift = _shift_in(body.shift) if body.shift is not None else None
    return technician_out(TechnicianAdmin(api.ctx).add(body.name, body.skill, caller.actor, shift,
                                                       active=body.active))


@router.get("/setup/technicians/export.csv", response_class=Response, responses=CSV_OUT, dependencies=[SETUP],
            summary="The technicians as CSV (name, skill, active, shift_start, shift_end, break_minutes, weekdays)")
def get_technicians_csv(api: Services) -> Response:
    return _csv(TechnicianAdmin(api.ctx).export_csv(), "technicians.csv")


@router.post("/setup/technicians/import", summary="Add or change technicians from CSV", openapi_extra=CSV_BODY,
             responses=TOO_LARGE | CSV_REFUSED)
def post_technicians_import(api: Services, caller: Annotated[Caller, SETUP], data: CsvFile) -> ImportOut:
    """Rows keyed by name; columns name, skill, active (yes/no), shift_start, shift_end (HH:MM), break_minutes,
    weekdays ("1-5" or "1,2,3"; 1 = Monday). Empty shift cells keep a known technician's shift."""
    return _imported(TechnicianAdmin(api.ctx).import_csv(data, caller.actor))


@router.get("/setup/technicians/{technician_id}", summary="One technician", responses=NOT_FOUND | unprocessable(),
            dependencies=[SETUP])
def get_technician(api: Services, technician_id: Id) -> TechnicianOut:
    return technician_out(TechnicianAdmin(api.ctx).get(technician_id))


@router.patch("/setup/technicians/{technician_id}", summary="Change a technician's name, skill, active or shift",
              responses=BODY_ERRORS | NOT_FOUND | _conflict(
                  "the name is taken, or taken out of use while clocked on a job") | unprocessable(
                  "an unknown skill, a shift that ends before it starts, shift and default_shift both given"))
def patch_technician(api: Services, caller: Annotated[Caller, SETUP], technician_id: Id,
                     body: TechnicianChange) -> TechnicianOut:
    if body.shift is not None and body.default_shift:
        raise HTTPException(status_code=422, detail="give either shift or default_shift, not both")
    shift: WeeklyShift | KeepShift | None = KEEP
    if body.shift is not None:
        shift = _shift_in(body.shift)
    elif body.default_shift:
        shift = None
    return technician_out(TechnicianAdmin(api.ctx).edit(technician_id, caller.actor, name=body.name,
                                                        skill=body.skill, active=body.active, shift=shift))


@router.post("/setup/technicians/{technician_id}/badge", summary="Reissue a lost badge (the old one stops working)",
             responses=NOT_FOUND | unprocessable())
def post_badge(api: Services, caller: Annotated[Caller, SETUP], technician_id: Id) -> TechnicianOut:
    """Print the new badge at /workshop/badges?technician={id}."""
    return technician_out(TechnicianAdmin(api.ctx).reissue_badge(technician_id, caller.actor))


@router.get("/setup/technicians/{technician_id}/badge.png", summary="The technician's badge QR as a PNG",
            response_class=Response, dependencies=[SETUP], responses=NOT_FOUND | unprocessable() | {
                200: {"description": "the QR the badge carries (it clocks the technician on at a station)",
                      "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}})
def get_badge_png(api: Services, technician_id: Id) -> Response:
    """For a badge printed elsewhere; /workshop/badges?technician={id} prints the card itself."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=2)
    qr.add_data(TechnicianAdmin(api.ctx).get(technician_id).badge)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out)
    return Response(out.getvalue(), media_type="image/png",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


# -- leave and holidays ---------------------------------------------------------------------------------------
@router.get("/setup/technicians/{technician_id}/leave", summary="A technician's leave from a day on",
            responses=NOT_FOUND | unprocessable(), dependencies=[SETUP])
def get_leave(api: Services, technician_id: Id, since: Since = None) -> list[LeaveOut]:
    return [leave_out(v) for v in CalendarAdmin(api.ctx).leave(technician_id, since)]


@router.post("/setup/technicians/{technician_id}/leave", summary="Record a technician's leave", status_code=201,
             responses=BODY_ERRORS | NOT_FOUND | unprocessable("a day over a year ago or over three years ahead"))
def post_leave(api: Services, caller: Annotated[Caller, SETUP], technician_id: Id, body: LeaveBody) -> LeaveOut:
    return leave_out(CalendarAdmin(api.ctx).add_leave(technician_id, body.day, body.hours, body.reason,
                                                      caller.actor))


@router.delete("/setup/leave/{leave_id}", summary="Remove recorded leave (answers it as it was)",
               responses=NOT_FOUND | unprocessable())
def delete_leave(api: Services, caller: Annotated[Caller, SETUP], leave_id: Id) -> LeaveOut:
    return leave_out(CalendarAdmin(api.ctx).remove_leave(leave_id, caller.actor))


@router.get("/setup/leave/export.csv", summary="Everyone's leave as CSV (technician, day, hours, reason)",
            response_class=Response, responses=CSV_OUT | unprocessable(), dependencies=[SETUP])
def get_leave_csv(api: Services, since: Since = None) -> Response:
    return _csv(CalendarAdmin(api.ctx).export_leave_csv(since), "leave.csv")


@router.post("/setup/leave/import", summary="Record leave from CSV (technician, day, hours, reason)",
             openapi_extra=CSV_BODY, responses=TOO_LARGE | CSV_REFUSED)
def post_leave_import(api: Services, caller: Annotated[Caller, SETUP], data: CsvFile) -> ImportOut:
    """technician by name; hours empty for the whole day; a row equal to recorded leave is left as it is."""
    return _imported(CalendarAdmin(api.ctx).import_leave_csv(data, caller.actor))


@router.get("/setup/holidays", summary="The days the workshop is closed, from a day on", responses=unprocessable(),
            dependencies=[SETUP])
def get_holidays(api: Services, since: Since = None) -> list[HolidayOut]:
    return [holiday_out(v) for v in CalendarAdmin(api.ctx).holidays(since)]


@router.post("/setup/holidays", summary="Close the workshop on a day", status_code=201,
             responses=BODY_ERRORS | _conflict("the day is a holiday already") | unprocessable(
                 "a day over a year ago or over three years ahead"))
def post_holiday(api: Services, caller: Annotated[Caller, SETUP], body: HolidayBody) -> HolidayOut:
    return holiday_out(CalendarAdmin(api.ctx).add_holiday(body.day, body.name, caller.actor))


@router.delete("/setup/holidays/{holiday_id}", summary="Open the workshop again on a holiday (answers it as it was)",
               responses=NOT_FOUND | unprocessable())
def delete_holiday(api: Services, caller: Annotated[Caller, SETUP], holiday_id: Id) -> HolidayOut:
    return holiday_out(CalendarAdmin(api.ctx).remove_holiday(holiday_id, caller.actor))


@router.get("/setup/holidays/export.csv", summary="The holidays as CSV (day, name)", response_class=Response,
            responses=CSV_OUT | unprocessable(), dependencies=[SETUP])
def get_holidays_csv(api: Services, since: Since = None) -> Response:
    return _csv(CalendarAdmin(api.ctx).export_holidays_csv(since), "holidays.csv")


@router.post("/setup/holidays/import", summary="Add or rename holidays from CSV (day, name)",
             openapi_extra=CSV_BODY, responses=TOO_LARGE | CSV_REFUSED)
def post_holidays_import(api: Services, caller: Annotated[Caller, SETUP], data: CsvFile) -> ImportOut:
    return _imported(CalendarAdmin(api.ctx).import_holidays_csv(data, caller.actor))


# -- bays -----------------------------------------------------------------------------------------------------
@router.get("/setup/bays", summary="The bays, in use first", dependencies=[SETUP])
def get_bays(api: Services) -> list[BayOut]:
    return [bay_out(v) for v in BayAdmin(api.ctx).listing()]


@router.get("/setup/bays/kinds", summary="The kinds a bay may have: lift, the labour catalogue's equipment, and "
                                         "those the bays have", dependencies=[SETUP])
def get_bay_kinds(api: Services) -> list[str]:
    return BayAdmin(api.ctx).kinds()


@router.post("/setup/bays", summary="Add a bay", status_code=201, responses=BODY_ERRORS | _conflict(
    "the code is taken") | unprocessable("a kind that is not lower-case letters, digits, - or _"))
def post_bay(api: Services, caller: Annotated[Caller, SETUP], body: BayBody) -> BayOut:
    return bay_out(BayAdmin(api.ctx).add(body.code, body.kind, caller.actor))


@router.get("/setup/bays/export.csv", summary="The bays as CSV (code, kind, active)", response_class=Response,
            responses=CSV_OUT, dependencies=[SETUP])
def get_bays_csv(api: Services) -> Response:
    return _csv(BayAdmin(api.ctx).export_csv(), "bays.csv")


@router.post("/setup/bays/import", summary="Add or change bays from CSV (code, kind, active)", openapi_extra=CSV_BODY,
             responses=TOO_LARGE | CSV_REFUSED)
def post_bays_import(api: Services, caller: Annotated[Caller, SETUP], data: CsvFile) -> ImportOut:
    return _imported(BayAdmin(api.ctx).import_csv(data, caller.actor))


@router.patch("/setup/bays/{bay_id}", summary="Change a bay's code or kind, or take it out of use",
              responses=BODY_ERRORS | NOT_FOUND | _conflict(
                  "the code is taken, or out of use while bookings from today on hold it") | unprocessable(
                  "a kind that is not lower-case letters, digits, - or _"))
def patch_bay(api: Services, caller: Annotated[Caller, SETUP], bay_id: Id, body: BayChange) -> BayOut:
    return bay_out(BayAdmin(api.ctx).edit(bay_id, caller.actor, code=body.code, kind=body.kind, active=body.active))
