"""/print-jobs: tickets whose fate is unknown or that failed, settled by a person (reprint or confirm), and a
waiting ticket sent to another printer."""

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import ChangeBody, Id, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission

router = APIRouter(route_class=GuardedRoute, tags=["print jobs"])


class DecisionBody(ChangeBody):
    decision: Literal["reprint", "confirm"] = Field(
        description="reprint: print again, marked REPRINT if it may have come out; confirm: it did print")


class RedirectBody(ChangeBody):
    printer: Text = Field(min_length=1, max_length=32)


class UndecidedJob(Shape):
    id: int
    printer: str
    status: str = Field(description="uncertain (nobody knows whether it came out) or failed (nothing was sent)")
    ro_number: str | None = Field(description="null for a job of its own (a pick label, a slip)")
    reprint: bool
    detail: str = Field(description="what the printer's agent reported")
    created_at: str = Field(description="ISO 8601 in UTC")


class NewJob(Shape):
    id: int
    printer: str
    reprint: bool


class Decided(Shape):
    job: int
    decision: Literal["reprint", "confirm"]
    reprint_job: NewJob | None = Field(description="the new job when the decision was reprint")


class Redirected(Shape):
    moved: int = Field(description="the job withdrawn from its printer")
    job: NewJob = Field(description="the same ticket on the other printer")


@router.get("/print-jobs", summary="Tickets waiting for a person: fate unknown (uncertain) or failed",
            dependencies=[allowed(Permission.TICKET_PRINT)])
def list_undecided_print_jobs(api: Services) -> list[UndecidedJob]:
    return [UndecidedJob(id=j.id, printer=j.printer, status=j.status, ro_number=j.ro_number, reprint=j.reprint,
                         detail=j.detail, created_at=j.created_at.isoformat())
            for j in api.printing.needing_decision()]


@router.post("/print-jobs/{job_id}/decision", summary="Settle an uncertain or failed ticket",
             responses=BODY_ERRORS | unprocessable())
def post_print_decision(api: Services, caller: Annotated[Caller, allowed(Permission.TICKET_PRINT)], job_id: Id,
                        body: DecisionBody) -> Decided:
    again = api.printing.resolve(job_id, body.decision, actor=caller.actor)
    return Decided(job=job_id, decision=body.decision,
                   reprint_job=NewJob(id=again.id, printer=again.printer, reprint=again.reprint) if again else None)


@router.post("/print-jobs/{job_id}/redirect", summary="Send a waiting ticket to another printer instead",
             responses=BODY_ERRORS | unprocessable("the printer it already waits on"))
def post_print_redirect(api: Services, caller: Annotated[Caller, allowed(Permission.TICKET_PRINT)], job_id: Id,
                        body: RedirectBody) -> Redirected:
    job = api.printing.redirect(job_id, body.printer, actor=caller.actor)
    return Redirected(moved=job_id, job=NewJob(id=job.id, printer=job.printer, reprint=job.reprint))
