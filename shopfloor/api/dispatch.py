"""/repair-orders/{number}/dispatch and /proposals: job lines given to a technician (refused with the rule it
breaks unless overridden with a reason, which is logged), and the best technicians for them with why."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import MAX_ID, RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.entity_states import RepairOrderState, Skill
from shopfloor.contract.staff import Permission
from shopfloor.services import views

router = APIRouter(route_class=GuardedRoute, tags=["workshop"])

LineIds = list[Annotated[int, Field(ge=1, le=MAX_ID)]]


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=200, description="why the rule is broken (logged)")


class DispatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    technician: int | Text = Field(description="the technician's id (or name)")
    job_lines: LineIds | None = Field(default=None, max_length=100,
                                      description="the lines to give; default: those not started yet")
    override: Override | None = Field(default=None, description="dispatch even though it breaks a rule")
    add: bool = Field(default=False, description="add the technician to the lines' technicians instead of giving "
                                                 "them the lines alone")


class DispatchedRule(BaseModel):
    rule: Literal["skill", "absent", "promise"]
    detail: str


class DispatchRefusal(BaseModel):
    detail: str
    reason: Literal["skill", "absent", "promise"] | None = Field(
        default=None, description="the first rule broken; absent for a refusal no override lifts")
    rules: list[DispatchedRule] = Field(default=[], description="every rule broken")


DISPATCH_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": DispatchRefusal, "description": "the technician lacks the lines' skill class (skill), is not at "
                                                   "work today (absent), or the order would be done after its "
                                                   "promise (promise); send override: {reason} to dispatch anyway "
                                                   "(logged). Without reason: other refusals (a finished line, an "
                                                   "order that is closed or ready)"}}


class Dispatched(Shape):
    repair_order: RepairOrderState


class Proposal(Shape):
    technician: int
    name: str
    skill: Skill
    finishes_at: str | None = Field(description="the order's projected finish with this technician")
    before_promise: bool
    free_hours_today: float = Field(description="working hours left today less the work already theirs (negative: "
                                                "over)")
    own_class: bool = Field(description="the work is of the technician's own skill class")
    broken: list[Literal["skill", "absent", "promise"]] = Field(description="the rules a dispatch to them breaks")
    why: str = Field(description="the reasons in a sentence (English)")


@router.post("/repair-orders/{number}/dispatch", summary="Give job lines to a technician",
             responses=DISPATCH_REFUSED | BODY_ERRORS | unprocessable("an override reason longer than 200 "
                                                                      "characters"))
def post_dispatch(api: Services, caller: Annotated[Caller, allowed(Permission.DISPATCH)], number: RoNumber,
                  body: DispatchBody) -> Dispatched:
    state = api.workshop.dispatch.dispatch(number, body.technician, actor=caller.actor, job_lines=body.job_lines,
                                           override=body.override.reason if body.override else None, add=body.add)
    return Dispatched(repair_order=RepairOrderState.model_validate(state))


@router.get("/repair-orders/{number}/proposals", summary="The best technicians for an order's lines, with why",
            dependencies=[allowed(Permission.DISPATCH)], responses=unprocessable())
def get_proposals(api: Services, number: RoNumber,
                  job_lines: Annotated[LineIds | None, Query(max_length=100, description="default: the lines not "
                                                                                         "started")] = None,
                  limit: Annotated[int, Query(ge=1, le=50)] = 5) -> list[Proposal]:
    tz = api.ctx.tz
    return [Proposal.model_validate({
        "technician": p.technician_id, "name": p.name, "skill": p.skill, "finishes_at": views.iso(p.finishes_at, tz),
        "before_promise": p.before_promise, "free_hours_today": p.free_hours_today, "own_class": p.own_class,
        "broken": [r.value for r in p.broken], "why": p.why})
        for p in api.workshop.dispatch.proposals(number, job_lines, limit)]
