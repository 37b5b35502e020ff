"""/repair-orders/{number}/qc and /rework: a quality check at one stage (self check, foreman check, final
inspection; the site's stages in their order), and the rework register of the checks that failed."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.dispatch import LineIds
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import DayQuery, RoNumber, Text, days_after, parse_day
from shopfloor.api.shapes import Shape
from shopfloor.contract.entity_states import RepairOrderState
from shopfloor.contract.staff import Permission
from shopfloor.services import views

router = APIRouter(route_class=GuardedRoute, tags=["workshop"])
REGISTER_DAYS = 30  # the register's default span: the last 30 days


class QcBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: Text = Field(min_length=1, max_length=20, description="self | foreman | final")
    passed: bool
    reason: Text | None = Field(default=None, max_length=200, description="needed when the check failed")
    responsible: int | Text | None = Field(default=None, description="the technician responsible for a failure "
                                                                     "(id or name); default: each line's")
    job_lines: LineIds | None = Field(default=None, max_length=100, description="the lines a failure sends back; "
                                      "default: the responsible technician's, else all")


class Checked(Shape):
    repair_order: RepairOrderState


class ReworkEntry(Shape):
    id: int
    repair_order: str
    plate: str
    job_line: int
    description: str = Field(description="the job line")
    stage: str
    reason: str
    found_by: str
    responsible: int | None = Field(description="the technician's id")
    responsible_name: str | None
    at: str
    time_lost_hours: float = Field(description="worked on the line since it was sent back")


@router.post("/repair-orders/{number}/qc", summary="Record a quality check (self, foreman, final)",
             description="The foreman check and the final inspection also need the permission workshop.qc_inspect "
                         "(roles foreman, manager). A failed check sends lines back to their technicians, each a "
                         "row of the rework register; the last configured stage passed makes the order ready.",
             responses=BODY_ERRORS | unprocessable("an unknown stage, a failure without its reason"))
def post_qc(api: Services, caller: Annotated[Caller, allowed(Permission.QC)], number: RoNumber,
            body: QcBody) -> Checked:
    if body.stage != "self":
        caller.require(Permission.QC_INSPECT)
    state = api.workshop.quality.record(number, body.stage, body.passed, actor=caller.actor, reason=body.reason,
                                        responsible=body.responsible, job_lines=body.job_lines)
    return Checked(repair_order=RepairOrderState.model_validate(state))


@router.get("/rework", summary="The rework register: lines sent back by a failed check",
            dependencies=[allowed(Permission.QUALITY_READ)], responses=unprocessable())
def get_rework(api: Services, from_: Annotated[DayQuery, Query(alias="from")] = None,
               to: Annotated[DayQuery, Query(description="YYYY-MM-DD, included; default today")] = None
               ) -> list[ReworkEntry]:
    last = parse_day(to, api.ctx.today())
    first = parse_day(from_, last) if from_ else days_after(last, 1 - REGISTER_DAYS)
    start, _ = api.ctx.day_bounds(first)
    _, end = api.ctx.day_bounds(last)
    tz = api.ctx.tz
    return [ReworkEntry(id=r.id, repair_order=r.number, plate=r.plate, job_line=r.job_line_id,
                        description=r.job_line, stage=r.stage, reason=r.reason, found_by=r.found_by,
                        responsible=r.responsible_id, responsible_name=r.responsible, at=views.at(r.at, tz),
                        time_lost_hours=r.time_lost_hours)
            for r in api.workshop.quality.rework(start, end)]
