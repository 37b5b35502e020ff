"""/repair-orders/{number}/additional-work and /additional-work: work a technician found beyond the order, priced
(the site's labour rate × hours + parts), and the customer's decision on it: approved work joins the order,
declined work stays on the vehicle."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import HOURS_NOTE, Id, RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS
from shopfloor.services import views
from shopfloor.services.workshop.additional_work import FindingInfo, Part

router = APIRouter(route_class=GuardedRoute, tags=["workshop"])


class PartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Text = Field(default="", max_length=40, description="the part number")
    name: Text = Field(default="", max_length=80)
    quantity: float = Field(default=1, gt=0, le=1000)
    unit_price: float | None = Field(default=None, ge=0, le=1_000_000)


class FindingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Text = Field(default="", max_length=200, description="the technician's words; default: the "
                                                                     "operation's name")
    hours: float | None = Field(default=None, ge=MIN_LINE_HOURS, le=MAX_LINE_HOURS,
                                description=f"flat-rate hours, {HOURS_NOTE}; default: the operation's")
    parts: list[PartBody | Text] = Field(default_factory=list, max_length=30,
                                         description="part numbers, or {number, name, quantity, unit_price}")
    technician: int | Text = Field(description="who found it: the technician's id (or name)")
    skill: Text | None = Field(default=None, max_length=20, description="maintenance | repair; default: the "
                                                                       "operation's, else maintenance")
    operation: Text | None = Field(default=None, max_length=20, description="a labour-operation code")


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Text = Field(min_length=1, max_length=20, description="approved | declined")
    method: Text = Field(min_length=1, max_length=20, description="in_person | phone | sms | wechat | customer_page")
    reason: Text | None = Field(default=None, max_length=200)


class PartOut(Shape):
    number: str
    name: str
    quantity: float
    unit_price: float | None


class Finding(Shape):
    id: int
    repair_order: str
    status: str = Field(description="pending | approved | declined")
    description: str
    operation: str | None
    hours: float
    skill: str
    parts: list[PartOut]
    technician: int
    technician_name: str
    reported_by: str
    reported_at: str
    labour_price: float = Field(description="the site's labour rate × hours")
    parts_price: float = Field(description="the parts that have a price")
    price: float
    method: str | None = Field(description="how the customer decided")
    decision_reason: str | None
    decided_by: str | None
    decided_at: str | None
    job_line: int | None = Field(description="approved: the job line it became")


def finding_of(f: FindingInfo, api: Services) -> Finding:
    tz = api.ctx.tz

    def when(moment: datetime | None) -> str | None:
        return views.iso(moment, tz)

    return Finding(id=f.id, repair_order=f.repair_order, status=f.status, description=f.description,
                   operation=f.operation_code, hours=f.hours, skill=f.skill,
                   parts=[PartOut(number=p.number, name=p.name, quantity=p.quantity, unit_price=p.unit_price)
                          for p in f.parts],
                   technician=f.technician_id, technician_name=f.technician, reported_by=f.reported_by,
                   reported_at=views.at(f.reported_at, tz), labour_price=f.labour_price, parts_price=f.parts_price,
                   price=f.price, method=f.decision_method, decision_reason=f.decision_reason,
                   decided_by=f.decided_by, decided_at=when(f.decided_at), job_line=f.job_line_id)


@router.post("/repair-orders/{number}/additional-work", summary="Report work found beyond the order",
             status_code=201, responses=BODY_ERRORS | unprocessable(
                 "no description and no operation, an unknown operation, a part without number or name"))
def post_additional_work(api: Services, caller: Annotated[Caller, allowed(Permission.ADDITIONAL_WORK_REPORT)],
                         number: RoNumber, body: FindingBody) -> Finding:
    parts = [Part(number=p) if isinstance(p, str) else Part(p.number, p.name, p.quantity, p.unit_price)
             for p in body.parts]
    finding = api.workshop.additional_work.report(
        number, technician=body.technician, actor=caller.actor, description=body.description, hours=body.hours,
        parts=parts, skill=body.skill, operation=body.operation)
    return finding_of(finding, api)


@router.post("/additional-work/{finding_id}/decision", summary="Record the customer's decision on additional work",
             responses=BODY_ERRORS | unprocessable("an unknown decision or method"))
def post_decision(api: Services, caller: Annotated[Caller, allowed(Permission.ADDITIONAL_WORK_DECIDE)],
                  finding_id: Id, body: DecisionBody) -> Finding:
    finding = api.workshop.additional_work.decide(finding_id, body.decision, body.method, actor=caller.actor,
                                                  reason=body.reason)
    return finding_of(finding, api)


@router.get("/additional-work", summary="Additional work waiting for the customer's decision, oldest first",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)])
def list_pending(api: Services) -> list[Finding]:
    return [finding_of(f, api) for f in api.workshop.additional_work.pending()]


@router.get("/repair-orders/{number}/additional-work", summary="An order's additional work, oldest first",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable())
def list_for_order(api: Services, number: RoNumber) -> list[Finding]:
    return [finding_of(f, api) for f in api.workshop.additional_work.for_order(number)]
