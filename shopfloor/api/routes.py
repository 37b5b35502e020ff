"""The JSON API: the kiosk's operations for other systems (DMS, scripts, tests). Calls the same services."""
# No `from __future__ import annotations` here: FastAPI reads these annotations at runtime, closures included.


import base64
import hmac
import json
import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shopfloor.domain.errors import DomainError, Invalid, LoginRefused, NotFound, Refused
from shopfloor.services import dms_import, ical
from shopfloor.services.appointments import AppointmentService
from shopfloor.services.booking import BookingRefused, BookingRequest, BookingService, WorkLine
from shopfloor.services.checkin import CheckinRequest, CheckinService
from shopfloor.services.customers import CustomerService
from shopfloor.services.printing import PrintService
from shopfloor.services.repair_orders import RepairOrderService

PREFIX = "/api/v1"
MAX_ID = 2**31 - 1  # ids are INTEGER columns: larger numbers name nothing (and overflow the drivers)


def _storable(value: str) -> str:
    """Text every database can store and compare: PostgreSQL refuses NUL in text, and a lone UTF-16 surrogate
    (JSON allows "\\ud800") is not UTF-8 at all. Either would otherwise fail in the driver: a 500."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]


class CheckinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: Text = Field(min_length=1, max_length=200, description="the scanned QR tag (or text containing it)")
    advisor: int | None = Field(default=None, ge=1, le=MAX_ID,
                                description="advisor id; default: the appointment's advisor")
    complaint: Text = Field(default="", max_length=2000, description="the customer's own words")
    mileage_km: int | None = Field(default=None, ge=0, le=2_000_000)
    mileage_confirmed: bool = Field(default=False, description="accept a reading below the last recorded one")
    fuel_eighths: int | None = Field(default=None, ge=0, le=8)
    operations: list[Text] = Field(default_factory=list, max_length=50, description="labour-operation codes")
    promised_at: datetime | None = None
    printer: Text | None = Field(default=None, description="print the job ticket on this printer")


class TransitionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Text = Field(min_length=1, max_length=30)
    technician: int | Text | None = Field(default=None, description="technician id or name (needed to dispatch)")
    reason: Text | None = Field(default=None, max_length=200)


class TicketBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    printer: Text = Field(min_length=1, max_length=32)
    reprint: bool | None = Field(default=None, description="default: REPRINT if this order had a ticket before")


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["reprint", "confirm"] = Field(
        description="reprint: print again, marked REPRINT if it may have come out; confirm: it did print")
    actor: Text = Field(default="api", min_length=1, max_length=80, description="who decided")


class RedirectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    printer: Text = Field(min_length=1, max_length=32)
    actor: Text = Field(default="api", min_length=1, max_length=80)


class JobLineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Text | None = Field(default=None, max_length=20, description="labour-operation code")
    description: Text | None = Field(default=None, max_length=200)
    hours: float | None = Field(default=None, gt=0, le=100)
    skill: Literal["maintenance", "repair"] | None = None


class OverrideBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=300, description="why the rule is broken (logged with who)")


class AdvisorRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int = Field(ge=1, le=MAX_ID)


class AppointmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plate: Text | None = Field(default=None, max_length=20)
    tag: Text | None = Field(default=None, max_length=200)
    vehicle: int | None = Field(default=None, ge=1, le=MAX_ID, description="vehicle id")
    start: datetime = Field(description="ISO 8601; without an offset: the site's time")
    advisor: int | Text | AdvisorRef | None = Field(
        default=None, description="advisor id, code (A) or name; default: shopfloor picks the best free one")
    hours: float | None = Field(default=None, gt=0, le=100, description="estimated hours (free-text work)")
    job_lines: list[Text | JobLineBody] | None = Field(default=None, max_length=30,
                                                      description="operation codes, or lines with hours")
    skill: Literal["maintenance", "repair"] | None = None
    work: Text = Field(default="", max_length=200, description="what the card says")
    override: OverrideBody | None = None
    actor: Text = Field(default="api", min_length=1, max_length=80, description="who books")
    parts_status: Literal["none", "in_stock", "to_order", "arrived"] = "none"
    parts_eta: date | None = None
    parts_numbers: Text = Field(default="", max_length=200)
    waiting_customer: bool = False
    road_test: bool = False
    source: Literal["passive", "active", "rebook"] = "passive"


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: datetime
    advisor: int | Text | AdvisorRef | None = None
    override: OverrideBody | None = None
    actor: Text = Field(default="api", min_length=1, max_length=80)


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=200)
    actor: Text = Field(default="api", min_length=1, max_length=80)


class CallBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["confirmed", "rescheduled", "cancelled", "unreachable"]
    note: Text = Field(default="", max_length=300)
    actor: Text = Field(default="api", min_length=1, max_length=80)


class ImportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mapping: dict[str, Text] | None = Field(default=None, description="our field → the file's column header; "
                                            "default: recognised from the header")
    csv: Text | None = Field(default=None, description="the file as text")
    csv_base64: str | None = Field(default=None, max_length=70_000_000,
                                   description="the file's bytes, base64 (for GB18030 files)")
    dry_run: bool = False
    actor: Text = Field(default="api", min_length=1, max_length=80)


class Detail(BaseModel):
    detail: str


class Refusal(BaseModel):
    detail: str
    reason: Literal["capacity", "reserve", "stagger", "bay"]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Detail, "description": "missing or wrong bearer token"},
    404: {"model": Detail, "description": "unknown tag, repair order, technician or printer"},
    409: {"model": Detail, "description": "refused by the rules (e.g. the state machine)"},
}
RoNumber = Annotated[Text, Path(min_length=1, max_length=40, description="repair order number, e.g. RO20261123-001")]


def _day(day: str | None, default: date) -> date:
    try:
        when = date.fromisoformat(day) if day else default
    except ValueError:
        raise Invalid("error.day_invalid", day=day) from None
    if not date.min < when < date.max:  # the day's bounds in the site's zone, in UTC, must be dates too
        raise Invalid("error.day_invalid", day=day)
    return when


def build_router(api_token: str, checkin: CheckinService, repair_orders: RepairOrderService,
                 appointments: AppointmentService, printing: PrintService, booking: BookingService,
                 customers: CustomerService) -> APIRouter:
    bearer = HTTPBearer(auto_error=False)

    def authorized(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
        if creds is None or not hmac.compare_digest(creds.credentials.encode(), api_token.encode()):
            raise HTTPException(status_code=401, detail="missing or wrong API token (Authorization: Bearer …)",
                                headers={"WWW-Authenticate": "Bearer"})
        return "api"

    router = APIRouter(prefix=PREFIX, dependencies=[Depends(authorized)], responses=ERRORS)

    @router.get("/appointments", summary="Appointments of one day")
    def list_appointments(day: Annotated[Text | None, Query(max_length=40, description="YYYY-MM-DD; default today")
                                         ] = None) -> list[dict[str, Any]]:
        return appointments.list_day(_day(day, checkin.ctx.today()))

    def advisor_id(value: int | str | AdvisorRef | None) -> int | None:
        if value is None or isinstance(value, int):
            return value
        if isinstance(value, AdvisorRef):
            return value.id
        return booking.advisor_by_name(value)

    def work_lines(job_lines: list[str | JobLineBody] | None, hours: float | None, skill: str | None,
                   work: str) -> list[WorkLine]:
        codes = [x for x in job_lines or [] if isinstance(x, str)]
        extra = []
        for x in job_lines or []:
            if isinstance(x, JobLineBody):
                if x.code and x.hours is None:
                    codes.append(x.code)
                    continue
                if x.hours is None or not (x.description or work or x.code):
                    raise Invalid("error.job_line_invalid")
                extra.append(WorkLine((x.description or work or x.code or "").strip(), x.hours,
                                      x.skill or skill or "maintenance", x.code))
        if not codes and not extra and hours is None:
            raise Invalid("booking.error.no_work")
        return booking.lines(codes=codes, hours=hours, skill=skill, work=work, extra=extra)

    @router.get("/slots", summary="Proposed slots for a booking, best first, each with why it was chosen")
    def get_slots(day: Annotated[Text, Query(max_length=40, description="YYYY-MM-DD")],
                  hours: Annotated[float | None, Query(gt=0, le=100, description="estimated hours")] = None,
                  skill: Annotated[Literal["maintenance", "repair"] | None, Query()] = None,
                  operations: Annotated[list[Text] | None, Query(max_length=30, description="operation codes")
                                        ] = None,
                  advisor: Annotated[Text | None, Query(max_length=60, description="advisor id, code (A) or name")
                                     ] = None,
                  limit: Annotated[int, Query(ge=1, le=50)] = 5) -> list[dict[str, Any]]:
        lines = work_lines(list(operations or []), hours, skill, "")
        chosen = None
        if advisor:
            chosen = int(advisor) if advisor.isdigit() and 0 < int(advisor) <= MAX_ID else booking.advisor_by_name(
                advisor)
        return booking.propose_slots(_day(day, checkin.ctx.today()), lines, chosen, limit)

    @router.get("/capacity", summary="Technician hours of a day: per technician and per skill class")
    def get_capacity(day: Annotated[Text | None, Query(max_length=40, description="YYYY-MM-DD; default today")
                                    ] = None) -> dict[str, Any]:
        return booking.capacity(_day(day, checkin.ctx.today()))

    @router.get("/capacity/week", summary="Load per day (allocated / available) from a day on")
    def get_week(start: Annotated[Text | None, Query(max_length=40)] = None,
                 days: Annotated[int, Query(ge=1, le=31)] = 7) -> list[dict[str, Any]]:
        return booking.week(_day(start, checkin.ctx.today()), days)

    @router.post("/appointments", summary="Book an appointment (409 with the rule it would break)", status_code=201,
                 responses={409: {"model": Refusal, "description": "it would break a booking rule; send "
                                  "override: {reason} to book anyway (logged)"}})
    def post_appointment(body: AppointmentBody) -> dict[str, Any]:
        named = sum(x is not None for x in (body.plate, body.tag, body.vehicle))
        if named != 1:
            raise Invalid("booking.error.no_vehicle" if not named else "booking.error.more.one_vehicle")
        lines = work_lines(body.job_lines, body.hours, body.skill, body.work)
        return booking.book(BookingRequest(
            start=body.start, lines=lines, actor=body.actor, vehicle_id=body.vehicle, plate=body.plate, tag=body.tag,
            advisor_id=advisor_id(body.advisor), work=body.work,
            override_reason=body.override.reason if body.override else None, parts_status=body.parts_status,
            parts_eta=body.parts_eta, parts_numbers=body.parts_numbers, waiting_customer=body.waiting_customer,
            road_test=body.road_test, source=body.source))

    @router.get("/appointments/{appointment_id}", summary="One appointment, with its overrides")
    def get_appointment(appointment_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict[str, Any]:
        return booking.get(appointment_id)

    @router.post("/appointments/{appointment_id}/move", summary="Move to another time or advisor (rules checked)",
                 responses={409: {"model": Refusal}})
    def post_move(appointment_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: MoveBody) -> dict[str, Any]:
        return booking.move(appointment_id, body.start, advisor_id(body.advisor), actor=body.actor,
                            override_reason=body.override.reason if body.override else None)

    @router.post("/appointments/{appointment_id}/cancel", summary="Cancel (needs a reason)")
    def post_cancel(appointment_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: CancelBody) -> dict[str, Any]:
        return booking.cancel(appointment_id, actor=body.actor, reason=body.reason)

    @router.get("/appointments.ics", summary="Appointments of a range of days as iCalendar",
                response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
    def get_ics(first: Annotated[Text | None, Query(max_length=40, description="YYYY-MM-DD; default today")] = None,
                last: Annotated[Text | None, Query(max_length=40, description="YYYY-MM-DD; default first + 6")
                                ] = None) -> Response:
        start = _day(first, checkin.ctx.today())
        end = _day(last, start + timedelta(days=6))
        return Response(ical.export_range(checkin.ctx, start, end), media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="appointments-{start}-{end}.ics"'})

    @router.get("/customers", summary="Find customers and vehicles by plate, phone, name or VIN (partial)")
    def get_customers(query: Annotated[Text, Query(min_length=1, max_length=60)],
                      limit: Annotated[int, Query(ge=1, le=50)] = 20) -> list[dict[str, Any]]:
        return customers.search(query, limit)

    @router.get("/vehicles/{vehicle_id}", summary="A vehicle before booking: history, open items, appointments")
    def get_vehicle(vehicle_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict[str, Any]:
        return customers.overview(vehicle_id)

    @router.post("/imports", summary="Import customers, vehicles and appointments from a DMS export (CSV)")
    def post_import(body: ImportBody) -> dict[str, Any]:
        if (body.csv is None) == (body.csv_base64 is None):
            raise Invalid("api.import_one_file")
        try:
            data = body.csv.encode("utf-8") if body.csv is not None else base64.b64decode(body.csv_base64 or "",
                                                                                          validate=True)
        except ValueError:
            raise Invalid("api.import_base64") from None
        mapping = dict(body.mapping) if body.mapping else dms_import.suggest_mapping(dms_import.read_header(data))
        report = dms_import.DmsImportService(checkin.ctx).import_csv(data, mapping, body.actor, lang="en",
                                                                     dry_run=body.dry_run)
        if report.days and not body.dry_run:
            booking.refresh_days(sorted(report.days))
        return {**report.to_dict(), "mapping": mapping}

    @router.post("/appointments/{appointment_id}/call", summary="Record the day-before confirmation call")
    def post_call(appointment_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: CallBody) -> dict[str, Any]:
        return booking.record_call(appointment_id, body.outcome, actor=body.actor, note=body.note)

    @router.post("/checkins", summary="Check a vehicle in by its QR tag (a repeated scan returns the open order)",
                 status_code=201, responses={200: {"description": "the vehicle already has an open repair order: "
                                                                  "that one is returned, nothing new is created"}})
    def post_checkin(body: CheckinBody, response: Response) -> dict[str, Any]:
        if body.printer:
            printing.profile(body.printer)  # an unknown printer is refused before anything is checked in
        result = checkin.check_in(CheckinRequest(
            tag=body.tag, actor="api", advisor_id=body.advisor, complaint=body.complaint,
            mileage_km=body.mileage_km, fuel_eighths=body.fuel_eighths, operation_codes=body.operations,
            extra_lines=[], promised_at=body.promised_at, mileage_confirmed=body.mileage_confirmed))
        if not result.created:
            response.status_code = 200
        out: dict[str, Any] = {"repair_order": result.repair_order, "created": result.created}
        if body.printer and result.created:
            job = printing.print_ticket(result.repair_order["number"], body.printer, actor="api")
            out["print_job"] = {"id": job.id, "printer": job.printer, "status": job.status}
        return out

    @router.get("/repair-orders", summary="Open repair orders")
    def list_repair_orders() -> list[dict[str, Any]]:
        return repair_orders.open_orders()

    @router.get("/repair-orders/{number}", summary="One repair order with its history")
    def get_repair_order(number: RoNumber) -> dict[str, Any]:
        state = repair_orders.get(number)
        state["history"] = [
            {"at": h.at.isoformat(), "actor": h.actor, "kind": h.kind, "from": h.from_status, "to": h.to_status,
             "technician": h.technician, "reason": h.reason} for h in repair_orders.history(number)]
        state["print_jobs"] = [{"id": j.id, "printer": j.printer, "status": j.status, "reprint": j.reprint}
                               for j in printing.jobs_for(number)]
        return state

    @router.post("/repair-orders/{number}/transitions", summary="Move a repair order to another state")
    def post_transition(number: RoNumber, body: TransitionBody) -> dict[str, Any]:
        state = repair_orders.transition(number, body.to, actor="api", technician=body.technician,
                                         reason=body.reason)
        return {"repair_order": state}

    @router.post("/repair-orders/{number}/tickets", summary="Print (or reprint) the job ticket", status_code=201)
    def post_ticket(number: RoNumber, body: TicketBody) -> dict[str, Any]:
        job = printing.print_ticket(number, body.printer, actor="api", reprint=body.reprint)
        return {"id": job.id, "printer": job.printer, "status": job.status, "reprint": job.reprint}

    @router.get("/print-jobs", summary="Tickets waiting for a person: fate unknown (uncertain) or failed")
    def list_undecided_print_jobs() -> list[dict[str, Any]]:
        return [{"id": j.id, "printer": j.printer, "status": j.status, "ro_number": j.ro_number,
                 "reprint": j.reprint, "detail": j.detail, "created_at": j.created_at.isoformat()}
                for j in printing.needing_decision()]

    @router.post("/print-jobs/{job_id}/decision", summary="Settle an uncertain or failed ticket")
    def post_print_decision(job_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: DecisionBody) -> dict[str, Any]:
        again = printing.resolve(job_id, body.decision, actor=body.actor)
        return {"job": job_id, "decision": body.decision,
                "reprint_job": {"id": again.id, "printer": again.printer, "reprint": again.reprint} if again else None}

    @router.post("/print-jobs/{job_id}/redirect", summary="Send a waiting ticket to another printer instead")
    def post_print_redirect(job_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: RedirectBody) -> dict[str, Any]:
        job = printing.redirect(job_id, body.printer, actor=body.actor)
        return {"moved": job_id, "job": {"id": job.id, "printer": job.printer, "reprint": job.reprint}}

    @router.get("/technicians", summary="Active technicians")
    def list_technicians() -> list[dict[str, Any]]:
        return repair_orders.technicians()

    @router.get("/operations", summary="The labour-operation catalogue")
    def list_operations() -> list[dict[str, Any]]:
        return [{"code": o.code, "name_zh": o.name_zh, "name_en": o.name_en, "hours": float(o.hours),
                 "skill": o.skill} for o in checkin.operations()]

    return router


_STATUS = {NotFound: 404, Refused: 409, Invalid: 422, LoginRefused: 403}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def install(app: FastAPI, router: APIRouter) -> None:
    app.include_router(router)

    async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 400)
        body: dict[str, Any] = {"detail": exc.message("en")}
        if isinstance(exc, BookingRefused):
            body["reason"] = exc.reason
            body["rules"] = [{"rule": v.rule, "detail": v.detail} for v in exc.violations]
        return JSONResponse(body, status_code=status)

    app.add_exception_handler(DomainError, domain_error)

    async def invalid_request(_request: Request, exc: Exception) -> Response:
        # FastAPI's own handler echoes the input, and rendering it failed (a 500) for a lone surrogate
        # ({"tag": "\\ud800"}: not UTF-8) or a number too large for a float ({"tag": 1e999}: Infinity is not
        # JSON). ASCII-escaped JSON with non-finite numbers as text renders any input.
        assert isinstance(exc, RequestValidationError)
        body = json.dumps({"detail": _finite(jsonable_encoder(exc.errors()))}, allow_nan=False)
        return Response(body, status_code=422, media_type="application/json")

    app.add_exception_handler(RequestValidationError, invalid_request)
    schema: dict[str, Any] = {}

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        if not schema:
            schema.update(get_openapi(title="shopfloor API", version="1", routes=router.routes,
                                      description="Bearer token: [api] token in credentials.toml"))
        return schema
