"""/carry-over: the cars carried over into a day (open and not ready at the closing before), with why and the
flat-rate hours they still need; and a reason given by hand."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import DayQuery, RoNumber, Text, parse_day
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services import views
from shopfloor.services.workshop.carry_over import CarriedOrder

router = APIRouter(route_class=GuardedRoute, tags=["workshop"])


class CarryOverBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=20, description="parts | approval | capacity | sublet | customer "
                                                                  "| other")
    day: date | None = Field(default=None, description="the day carried into; default: the last one, else tomorrow")


class Carried(Shape):
    day: str = Field(description="the day the car is carried into")
    repair_order: str
    plate: str
    status: str
    reason: str
    remaining_hours: float
    recorded_by: str
    recorded_at: str


def carried_of(c: CarriedOrder, api: Services) -> Carried:
    return Carried(day=c.day.isoformat(), repair_order=c.number, plate=c.plate, status=c.status, reason=c.reason,
                   remaining_hours=c.remaining_hours, recorded_by=c.recorded_by,
                   recorded_at=views.at(c.recorded_at, api.ctx.tz))


@router.get("/carry-over", summary="Cars carried over into a day, with why and the hours they still need",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable("a day that is no date"))
def get_carry_over(api: Services, day: DayQuery = None) -> list[Carried]:
    return [carried_of(c, api) for c in api.workshop.carry_over.carried(parse_day(day, api.ctx.today()))]


@router.post("/repair-orders/{number}/carry-over", summary="Say why an order is carried over",
             responses=BODY_ERRORS | unprocessable("an unknown reason"))
def post_carry_over(api: Services, caller: Annotated[Caller, allowed(Permission.REPAIR_ORDER_MOVE)],
                    number: RoNumber, body: CarryOverBody) -> Carried:
    return carried_of(api.workshop.carry_over.set_reason(number, body.reason, actor=caller.actor, day=body.day), api)
