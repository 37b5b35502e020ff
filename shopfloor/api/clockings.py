"""/clockings and /technicians/{id}/next-job: a technician clocked on by their badge and the job ticket's scan
(ending their other open clocking), off again finished or paused; the foreman's confirmation of a clocking the
server closed at the end of a shift; what a technician does next."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.dispatch import LineIds
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import Id, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services import views
from shopfloor.services.workshop.clocking import ClockingInfo

router = APIRouter(route_class=GuardedRoute, tags=["workshop"])


class ClockOnBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    badge: Text = Field(min_length=1, max_length=200, description="the technician's badge scan (or text holding it)")
    scan: Text = Field(min_length=1, max_length=500, description="the job ticket's QR: a URL to the order (…/ro/"
                                                                 "<number>) or the bare number")
    job_lines: LineIds | None = Field(default=None, max_length=100,
                                      description="only these of the technician's lines; default: all of them")


class StopBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Text = Field(min_length=1, max_length=20, description="finished | paused")
    reason: Text | None = Field(default=None, max_length=30, description="a pause's: break, waiting_parts, "
                                "waiting_approval, sublet, technical_help, other")


class ConfirmBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ended_at: datetime | None = Field(default=None, description="when it really ended; default: as closed")


class Clocking(Shape):
    id: int
    technician: int = Field(description="the technician's id")
    technician_name: str
    repair_order: str = Field(description="the repair order's number")
    job_lines: list[int]
    started_at: str
    ended_at: str | None
    outcome: str | None = Field(description="finished | paused; null while open")
    pause_reason: str | None
    assumed: bool = Field(description="closed by the server at the end of the shift, for the foreman to confirm")
    confirmed_by: str | None


class ClockingAnswer(Shape):
    clocking: Clocking


class NextLine(Shape):
    id: int
    description: str
    hours: float
    status: str


class NextJob(Shape):
    technician: int
    repair_order: str | None = Field(description="the order to work on next; null: nothing waiting")
    plate: str | None
    vehicle_model: str | None
    complaint: str | None = Field(description="the customer's own words")
    promised_at: str | None
    projected_ready_at: str | None
    parts_status: str | None = Field(description="the booking's parts: none, in_stock, to_order, arrived")
    parts_eta: str | None
    job_lines: list[NextLine] = Field(description="the technician's lines of that order")
    current: str | None = Field(description="the order the technician is clocked on now")
    clocked_on_at: str | None
    queued: int = Field(description="orders waiting for the technician, the next one included")
    held: list[str] = Field(description="the technician's orders on hold (parts, approval …)")


def clocking_of(c: ClockingInfo, api: Services) -> Clocking:
    tz = api.ctx.tz
    return Clocking(id=c.id, technician=c.technician_id, technician_name=c.technician, repair_order=c.repair_order,
                    job_lines=c.job_lines, started_at=views.at(c.started_at, tz), ended_at=views.iso(c.ended_at, tz),
                    outcome=c.outcome, pause_reason=c.pause_reason, assumed=c.assumed, confirmed_by=c.confirmed_by)


@router.post("/clockings", summary="Clock a technician on by badge and ticket scan", status_code=201,
             responses={200: {"model": ClockingAnswer, "description": "the technician is already clocked on those "
                                                                      "lines: that clocking, unchanged"}}
             | BODY_ERRORS | unprocessable("a badge or ticket scan that is not one"))
def post_clocking(api: Services, caller: Annotated[Caller, allowed(Permission.CLOCK)], body: ClockOnBody,
                  response: Response) -> ClockingAnswer:
    clocking, created = api.workshop.clocking.clock_on(body.badge, body.scan, actor=caller.actor,
                                                       job_lines=body.job_lines)
    if not created:
        response.status_code = 200
    return ClockingAnswer(clocking=clocking_of(clocking, api))


@router.post("/clockings/{clocking_id}/stop", summary="Clock off: finished, or paused with a reason",
             responses=BODY_ERRORS | unprocessable("an unknown outcome or pause reason, a pause without one"))
def post_clocking_stop(api: Services, caller: Annotated[Caller, allowed(Permission.CLOCK)], clocking_id: Id,
                       body: StopBody) -> ClockingAnswer:
    clocking = api.workshop.clocking.stop(clocking_id, body.outcome, actor=caller.actor, reason=body.reason)
    return ClockingAnswer(clocking=clocking_of(clocking, api))


@router.post("/clockings/{clocking_id}/confirm", summary="Confirm (or correct) a clocking closed at a shift's end",
             responses=BODY_ERRORS | unprocessable("an end before the start, in the future, or after the "
                                                   "technician's next clocking"))
def post_clocking_confirm(api: Services, caller: Annotated[Caller, allowed(Permission.DISPATCH)], clocking_id: Id,
                          body: ConfirmBody) -> ClockingAnswer:
    clocking = api.workshop.clocking.confirm(clocking_id, actor=caller.actor, ended_at=body.ended_at)
    return ClockingAnswer(clocking=clocking_of(clocking, api))


@router.get("/clockings/{clocking_id}", summary="One clocking", dependencies=[allowed(Permission.REPAIR_ORDER_READ)],
            responses=unprocessable())
def get_clocking(api: Services, clocking_id: Id) -> ClockingAnswer:
    return ClockingAnswer(clocking=clocking_of(api.workshop.clocking.get(clocking_id), api))


@router.get("/technicians/{technician_id}/next-job", summary="What the technician works on next",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable())
def get_next_job(api: Services, technician_id: Id) -> NextJob:
    job = api.workshop.clocking.next_job(technician_id)
    tz = api.ctx.tz
    return NextJob(technician=job.technician_id, repair_order=job.repair_order, plate=job.plate,
                   vehicle_model=job.vehicle_model, complaint=job.complaint,
                   promised_at=views.iso(job.promised_at, tz), projected_ready_at=views.iso(job.projected_ready_at, tz),
                   parts_status=job.parts_status, parts_eta=job.parts_eta,
                   job_lines=[NextLine(id=line.id, description=line.description, hours=line.hours, status=line.status)
                              for line in job.lines],
                   current=job.current, clocked_on_at=views.iso(job.clocked_on_at, tz), queued=job.queued,
                   held=job.held)
