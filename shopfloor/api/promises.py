"""/repair-orders/{number}/promise: a new promised time with its reason and whether the customer was told (every
promise is kept: GET /repair-orders/{number} lists them)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.entity_states import RepairOrderState
from shopfloor.contract.staff import Permission
from shopfloor.services import views
from shopfloor.services.workshop.promises import PromiseInfo

router = APIRouter(route_class=GuardedRoute, tags=["workshop"])


class PromiseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    promised_at: datetime = Field(description="with its UTC offset")
    reason: Text = Field(min_length=1, max_length=200)
    customer_told: bool = Field(default=True, description="the customer was told the new time")


class PromiseEntry(Shape):
    promised_at: str
    kind: str = Field(description="checkin: given at check-in; new: a later one")
    reason: str
    customer_told: bool
    recorded_by: str
    recorded_at: str


class Promised(Shape):
    repair_order: RepairOrderState
    promises: list[PromiseEntry] = Field(description="every promise, the first first")


def promise_of(p: PromiseInfo, api: Services) -> PromiseEntry:
    tz = api.ctx.tz
    return PromiseEntry(promised_at=views.at(p.promised_at, tz), kind=p.kind, reason=p.reason,
                        customer_told=p.customer_told, recorded_by=p.recorded_by,
                        recorded_at=views.at(p.recorded_at, tz))


@router.post("/repair-orders/{number}/promise", summary="Give the customer a new promised time",
             responses=BODY_ERRORS | unprocessable("a time without offset, past, or more than 366 days ahead"))
def post_promise(api: Services, caller: Annotated[Caller, allowed(Permission.PROMISE)], number: RoNumber,
                 body: PromiseBody) -> Promised:
    state = api.workshop.promises.promise(number, body.promised_at, body.reason, actor=caller.actor,
                                          customer_told=body.customer_told)
    return Promised(repair_order=RepairOrderState.model_validate(state),
                    promises=[promise_of(p, api) for p in api.workshop.promises.promises(number)])
