"""/checkins and /repair-orders: a car checked in by its QR tag, the open orders, one order with its history,
moves through the state machine, and the job ticket."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, DELIVERY_REFUSED, unprocessable
from shopfloor.api.fields import MAX_ID, RoNumber, Text
from shopfloor.api.promises import PromiseEntry, promise_of
from shopfloor.api.shapes import Shape
from shopfloor.contract.entity_states import RepairOrderState
from shopfloor.contract.staff import Permission
from shopfloor.services.checkin import CheckinRequest

router = APIRouter(route_class=GuardedRoute, tags=["repair orders"])


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


class QueuedTicket(Shape):
    id: int
    printer: str
    status: str = Field(description="pending until the printer's agent reports printed, uncertain or failed")


class CheckinResult(Shape):
    repair_order: RepairOrderState
    created: bool = Field(description="false: the car already had an open order, returned unchanged")
    print_job: QueuedTicket | None = Field(default=None, description="only present when a ticket was queued")


class HistoryEntry(Shape):
    at: str = Field(description="ISO 8601 in UTC")
    actor: str
    kind: str = Field(description="checked_in, transition, rework, reprint …")
    from_: str | None = Field(alias="from")
    to: str | None
    technician: str | None = Field(description="the technician's name")
    reason: str | None


class TicketJob(Shape):
    id: int
    printer: str
    status: str = Field(description="pending, printed, uncertain, failed, superseded, moved")
    reprint: bool


class RepairOrderDetail(RepairOrderState):
    history: list[HistoryEntry] = Field(description="oldest first")
    print_jobs: list[TicketJob]
    promises: list[PromiseEntry] = Field(description="every time promised, the first (at check-in) first")
    customer_link: str = Field(description="the customer's own page (/c/<token>, printed as a QR on the estimate): "
                                           "a secret, never on the bus", examples=["http://192.168.1.10:8080/c/…"])


class Transitioned(Shape):
    repair_order: RepairOrderState


@router.post("/checkins", summary="Check a vehicle in by its QR tag (a repeated scan returns the open order)",
             status_code=201, response_model_exclude_unset=True,
             responses={200: {"model": CheckinResult, "description": "the vehicle already has an open repair "
                                                                     "order: that one is returned, nothing new is "
                                                                     "created"}}
             | BODY_ERRORS | unprocessable(
                 "a tag that is not a shopfloor tag, an unknown labour operation, a complaint longer than 2000 "
                 "characters, a promised time without a zone, in the past or more than 366 days ahead"))
def post_checkin(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)], body: CheckinBody,
                 response: Response) -> CheckinResult:
    if body.printer:
        api.printing.profile(body.printer)  # an unknown printer is refused before anything is checked in
    result = api.checkin.check_in(CheckinRequest(
        tag=body.tag, actor=caller.actor, advisor_id=body.advisor, complaint=body.complaint,
        mileage_km=body.mileage_km, fuel_eighths=body.fuel_eighths, operation_codes=body.operations,
        extra_lines=[], promised_at=body.promised_at, mileage_confirmed=body.mileage_confirmed))
    if not result.created:
        response.status_code = 200
    out = CheckinResult(repair_order=RepairOrderState.model_validate(result.repair_order), created=result.created)
    if body.printer and result.created:
        # the ticket is the reception's own paper: no TICKET_PRINT needed on top of checking the car in
        job = api.printing.print_ticket(result.repair_order["number"], body.printer, actor=caller.actor)
        out.print_job = QueuedTicket(id=job.id, printer=job.printer, status=job.status)
    return out


@router.get("/repair-orders", summary="Open repair orders", dependencies=[allowed(Permission.REPAIR_ORDER_READ)])
def list_repair_orders(api: Services) -> list[RepairOrderState]:
    return [RepairOrderState.model_validate(ro) for ro in api.repair_orders.open_orders()]


@router.get("/repair-orders/{number}", summary="One repair order with its history",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable())
def get_repair_order(api: Services, number: RoNumber) -> RepairOrderDetail:
    state = api.repair_orders.get(number)
    state["history"] = [
        {"at": h.at.isoformat(), "actor": h.actor, "kind": h.kind, "from": h.from_status, "to": h.to_status,
         "technician": h.technician, "reason": h.reason} for h in api.repair_orders.history(number)]
    state["print_jobs"] = [{"id": j.id, "printer": j.printer, "status": j.status, "reprint": j.reprint}
                           for j in api.printing.jobs_for(number)]
    state["promises"] = [promise_of(p, api).model_dump() for p in api.workshop.promises.promises(number)]
    state["customer_link"] = api.reception.customer_page.link(number)
    return RepairOrderDetail.model_validate(state)


@router.post("/repair-orders/{number}/transitions", summary="Move a repair order to another state",
             responses=BODY_ERRORS | DELIVERY_REFUSED
             | unprocessable("an unknown state, a reason longer than 200 characters"))
def post_transition(api: Services, caller: Annotated[Caller, allowed(Permission.REPAIR_ORDER_MOVE)],
                    number: RoNumber, body: TransitionBody) -> Transitioned:
    state = api.repair_orders.transition(number, body.to, actor=caller.actor, technician=body.technician,
                                         reason=body.reason)
    return Transitioned(repair_order=RepairOrderState.model_validate(state))


@router.post("/repair-orders/{number}/tickets", summary="Print (or reprint) the job ticket", status_code=201,
             responses=BODY_ERRORS | unprocessable())
def post_ticket(api: Services, caller: Annotated[Caller, allowed(Permission.TICKET_PRINT)], number: RoNumber,
                body: TicketBody) -> TicketJob:
    job = api.printing.print_ticket(number, body.printer, actor=caller.actor, reprint=body.reprint)
    return TicketJob(id=job.id, printer=job.printer, status=job.status, reprint=job.reprint)
