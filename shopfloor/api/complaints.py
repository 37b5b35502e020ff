"""/complaints (issue 12, domain.md §5): registered with a class and severity (an important one escalates at once
to the service manager's screens), owned, acknowledged and investigated by their deadlines ([follow_up]
acknowledge_hours, investigate_hours from the opening; an important one's important_acknowledge_hours,
important_investigate_hours), resolved by its owner (the second follow-up call is scheduled) and closed when that
call is made. While one is open its customer is flagged complaining."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, ERRORS, unprocessable
from shopfloor.api.fields import MAX_ID, Id, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services import views
from shopfloor.services.aftercare.complaints import ComplaintView

router = APIRouter(route_class=GuardedRoute, tags=["complaints"])
ProblemClassIn = Literal["facilities", "attitude", "workmanship", "process", "price", "other"]
ReasonIn = Literal["safety", "large_loss", "media", "lawyer", "police", "consumer_association"]
StatusIn = Literal["open", "acknowledged", "investigated", "resolved", "closed"]
WRONG_STEP: dict[int | str, dict[str, Any]] = {409: {**ERRORS[409], "description": (
    "not the complaint's next step (open → acknowledged → investigated → resolved → closed), or it is closed")}}
RESOLVE_REFUSED: dict[int | str, dict[str, Any]] = {409: {**ERRORS[409], "description": (
    "not the complaint's next step (it must be investigated), or nobody owns it: assign an owner first")}}


class ComplaintOut(Shape):
    id: int
    status: str = Field(description="open | acknowledged | investigated | resolved | closed")
    severity: str = Field(description="normal | important")
    important_because: str | None = Field(description="safety | large_loss | media | lawyer | police | "
                                                      "consumer_association; may be null on an important one")
    problem_class: str = Field(serialization_alias="class")
    source: str = Field(description="call | desk | customer_page | api")
    text: str
    repair_order: str | None
    plate: str | None
    customer: str | None
    phone: str | None
    owner_id: int | None = Field(description="the staff member who owns it; an important one starts with the "
                                             "first manager, a normal one unowned until assigned or acknowledged")
    owner: str | None
    opened_at: str
    opened_by: str
    acknowledge_by: str = Field(description="ISO 8601 with offset: opened + [follow_up] acknowledge_hours "
                                            "(important_acknowledge_hours when important)")
    acknowledged_at: str | None
    investigate_by: str = Field(description="ISO 8601 with offset: opened + [follow_up] investigate_hours "
                                            "(important_investigate_hours when important)")
    investigated_at: str | None
    findings: str
    resolution: str
    resolved_at: str | None
    closed_at: str | None
    second_call: int | None = Field(description="the follow-up call after the resolution")
    raised_by_call: int | None = Field(description="the follow-up call that found it")
    overdue: bool = Field(description="now past a deadline not yet met")
    next_deadline: str | None = Field(description="the deadline still to meet (what the desk counts down to)")


def complaint_out(v: ComplaintView, api: Services) -> ComplaintOut:
    tz = api.ctx.tz

    def at(moment: datetime | None) -> str | None:
        return views.at(moment, tz) if moment is not None else None

    return ComplaintOut(
        id=v.id, status=v.status, severity=v.severity, important_because=v.important_because,
        problem_class=v.problem_class, source=v.source, text=v.text, repair_order=v.repair_order, plate=v.plate,
        customer=v.customer, phone=v.phone, owner_id=v.owner_id, owner=v.owner, opened_at=views.at(v.opened_at, tz),
        opened_by=v.opened_by, acknowledge_by=views.at(v.acknowledge_by, tz), acknowledged_at=at(v.acknowledged_at),
        investigate_by=views.at(v.investigate_by, tz), investigated_at=at(v.investigated_at), findings=v.findings,
        resolution=v.resolution, resolved_at=at(v.resolved_at), closed_at=at(v.closed_at),
        second_call=v.second_call_id, raised_by_call=v.raised_by_call_id, overdue=v.overdue,
        next_deadline=at(v.next_deadline))


class ComplaintBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    repair_order: Text | None = Field(default=None, min_length=1, max_length=40,
                                      description="the order complained about: its car and customer with it")
    problem_class: ProblemClassIn = Field(alias="class")
    severity: Literal["normal", "important"]
    text: Text = Field(min_length=1, max_length=2000, description="the complaint in the customer's words")
    important_because: ReasonIn | None = Field(default=None, description="only with severity important")


class OwnerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: int = Field(ge=1, le=MAX_ID, description="a staff member's id")


class FindingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: Text = Field(min_length=1, max_length=2000)


class ResolutionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Text = Field(min_length=1, max_length=2000)


@router.post("/complaints", summary="Register a complaint", status_code=201,
             responses=BODY_ERRORS | unprocessable("an important_because with severity normal, an empty text"))
def post_complaint(api: Services, caller: Annotated[Caller, allowed(Permission.COMPLAINT_REGISTER)],
                   body: ComplaintBody) -> ComplaintOut:
    """The deadlines run from now; an important complaint goes to the service manager's screens at once (the
    bus's complaints event) and is owned by the first manager."""
    return complaint_out(api.aftercare.complaints.register(
        actor=caller.actor, problem_class=body.problem_class, severity=body.severity, text=body.text,
        repair_order=body.repair_order, source="api", important_because=body.important_because), api)


@router.get("/complaints", summary="The complaints, important first", responses=unprocessable())
def get_complaints(api: Services, _caller: Annotated[Caller, allowed(Permission.COMPLAINT_REGISTER)],
                   status: Annotated[StatusIn | None, Query(description="default: every status")] = None
                   ) -> list[ComplaintOut]:
    return [complaint_out(v, api) for v in api.aftercare.complaints.by_status(status)]


@router.get("/complaints/{complaint_id}", summary="One complaint", responses=unprocessable())
def get_complaint(api: Services, _caller: Annotated[Caller, allowed(Permission.COMPLAINT_REGISTER)],
                  complaint_id: Id) -> ComplaintOut:
    return complaint_out(api.aftercare.complaints.get(complaint_id), api)


@router.post("/complaints/{complaint_id}/owner", summary="Give the complaint an owner",
             responses=BODY_ERRORS | WRONG_STEP | unprocessable("an unknown or inactive staff member"))
def post_owner(api: Services, caller: Annotated[Caller, allowed(Permission.COMPLAINT_HANDLE)], complaint_id: Id,
               body: OwnerBody) -> ComplaintOut:
    return complaint_out(api.aftercare.complaints.assign(complaint_id, body.owner, actor=caller.actor), api)


@router.post("/complaints/{complaint_id}/acknowledge", summary="The customer told it is being handled",
             responses=WRONG_STEP | unprocessable())
def post_acknowledge(api: Services, caller: Annotated[Caller, allowed(Permission.COMPLAINT_HANDLE)],
                     complaint_id: Id) -> ComplaintOut:
    return complaint_out(api.aftercare.complaints.acknowledge(complaint_id, actor=caller.actor), api)


@router.post("/complaints/{complaint_id}/investigate", summary="What the investigation found",
             responses=BODY_ERRORS | WRONG_STEP | unprocessable())
def post_investigate(api: Services, caller: Annotated[Caller, allowed(Permission.COMPLAINT_HANDLE)],
                     complaint_id: Id, body: FindingsBody) -> ComplaintOut:
    return complaint_out(api.aftercare.complaints.investigate(complaint_id, body.findings, actor=caller.actor), api)


@router.post("/complaints/{complaint_id}/resolve", summary="The resolution (schedules the second call)",
             responses=BODY_ERRORS | RESOLVE_REFUSED | unprocessable())
def post_resolve(api: Services, caller: Annotated[Caller, allowed(Permission.COMPLAINT_HANDLE)], complaint_id: Id,
                 body: ResolutionBody) -> ComplaintOut:
    """The second follow-up call is due [follow_up] second_call_days after today; the complaint closes when that
    call is made (a complaint about no car has nobody to call back: it closes now). Refused (409) while nobody owns
    it: the owner answers for the resolution."""
    return complaint_out(api.aftercare.complaints.resolve(complaint_id, body.resolution, actor=caller.actor), api)
