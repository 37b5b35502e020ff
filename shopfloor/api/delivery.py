"""/repair-orders/{number}/completion, /notify-ready, /delivery, /reopen, /next-service and /delivery-sheet (issue
12, steps 9 and 11): the advisor's completion check, the customer told, the delivery walk (delivered through the
state machine: refused with a reason until settled and inspected), the next service and its sheet, and the
manager's reopen of a mistaken delivery."""

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, DELIVERY_REFUSED, unprocessable
from shopfloor.api.fields import ChangeBody, RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services.settlement.delivery import WALK, CompletionView
from shopfloor.services.settlement.next_service import NextService

router = APIRouter(route_class=GuardedRoute, tags=["completion check, delivery, reopen"])


class CompletionItemOut(Shape):
    key: str = Field(description="lines_done, final_inspection (computed, locked); washed (when a wash was ordered), "
                                 "parts_bagged (when the customer keeps the replaced parts), covers_removed, "
                                 "order_checked")
    checked: bool
    locked: bool = Field(description="computed by the system; not the advisor's to tick")


class NextServiceOut(Shape):
    on: str = Field(description="YYYY-MM-DD")
    km: int | None = Field(description="null when no mileage is known")
    basis: str = Field(description="how it was computed, in words (the site's language)")


class CompletionOut(Shape):
    number: str
    plate: str
    status: str
    items: list[CompletionItemOut]
    passed: bool = Field(description="every item that applies is checked")
    checked_at: str | None
    checked_by: str | None
    wash_ordered: bool | None
    keep_replaced_parts: bool | None
    customer_notified_at: str | None
    settled: bool
    delivered_at: str | None
    delivered_by: str | None
    delivery_walk: dict[str, Any] | None
    next_service: NextServiceOut | None = Field(description="as stored at delivery; before, as if delivered today")


class CompletionBody(ChangeBody):
    items: dict[str, bool] = Field(description="the advisor's items: washed, parts_bagged, covers_removed, "
                                               "order_checked", max_length=10)
    wash_ordered: bool | None = None


class DeliveryBody(ChangeBody):
    walk: dict[str, bool] = Field(description="every item of the delivery walk, true: " + ", ".join(WALK),
                                  max_length=20)
    printer: Text | None = Field(default=None, max_length=32, description="print the delivery sheet there")


class ReopenBody(ChangeBody):
    reason: Text = Field(min_length=1, max_length=200)


class SheetBody(ChangeBody):
    printer: Text = Field(min_length=1, max_length=32)


class SheetJob(Shape):
    id: int
    printer: str
    reprint: bool


def _out(api: Services, view: CompletionView) -> CompletionOut:
    return CompletionOut.model_validate(view.to_dict(api.ctx.tz))


def _ns(ns: NextService) -> NextServiceOut:
    return NextServiceOut(on=ns.on.isoformat(), km=ns.km, basis=ns.basis)


@router.get("/repair-orders/{number}/completion", summary="The completion check of an order",
            dependencies=[allowed(Permission.DELIVERY)], responses=unprocessable())
def get_completion(api: Services, number: RoNumber) -> CompletionOut:
    return _out(api, api.settlement.delivery.completion(number))


@router.post("/repair-orders/{number}/completion", summary="Record the advisor's completion check",
             responses=BODY_ERRORS | unprocessable("an unknown item"))
def post_completion(api: Services, caller: Annotated[Caller, allowed(Permission.DELIVERY)], number: RoNumber,
                    body: CompletionBody) -> CompletionOut:
    return _out(api, api.settlement.delivery.check_completion(number, body.items, actor=caller.actor,
                                                              wash_ordered=body.wash_ordered))


@router.post("/repair-orders/{number}/notify-ready", summary="Tell the customer the car is ready (once)",
             responses=unprocessable())
def post_notify_ready(api: Services, caller: Annotated[Caller, allowed(Permission.DELIVERY)],
                      number: RoNumber) -> CompletionOut:
    return _out(api, api.settlement.delivery.notify_ready(number, actor=caller.actor))


@router.post("/repair-orders/{number}/delivery", summary="Deliver the car after the walk with the customer",
             responses=BODY_ERRORS | DELIVERY_REFUSED | unprocessable("an item of the walk missing or unknown"))
def post_delivery(api: Services, caller: Annotated[Caller, allowed(Permission.DELIVERY)], number: RoNumber,
                  body: DeliveryBody) -> dict[str, Any]:
    return api.settlement.delivery.deliver(number, body.walk, actor=caller.actor, printer=body.printer)


@router.post("/repair-orders/{number}/reopen", summary="Reopen a mistaken delivery (back to ready)",
             responses=BODY_ERRORS | unprocessable("no reason"))
def post_reopen(api: Services, caller: Annotated[Caller, allowed(Permission.DELIVERY_REOPEN)], number: RoNumber,
                body: ReopenBody) -> dict[str, Any]:
    return api.settlement.delivery.reopen(number, body.reason, actor=caller.actor)


@router.get("/repair-orders/{number}/next-service", summary="The next service's date and mileage, and why",
            dependencies=[allowed(Permission.DELIVERY)], responses=unprocessable())
def get_next_service(api: Services, number: RoNumber) -> NextServiceOut:
    return _ns(api.settlement.delivery.next_service(number))


@router.post("/repair-orders/{number}/delivery-sheet", summary="Print (or reprint) the delivery sheet",
             status_code=201, responses=BODY_ERRORS | unprocessable())
def post_delivery_sheet(api: Services, caller: Annotated[Caller, allowed(Permission.DELIVERY)], number: RoNumber,
                        body: SheetBody) -> SheetJob:
    job = api.settlement.delivery.print_sheet(number, body.printer, actor=caller.actor)
    return SheetJob(id=job.id, printer=job.printer, reprint=job.reprint)
