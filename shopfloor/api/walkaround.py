"""/repair-orders/{number}/walkaround (issue 11, reception: steps 3–5): the six-position walkaround (环车检查六方位)
as the advisor records it on the tablet, and a red or yellow item proposed as a job line."""

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import MAX_ID, RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import NotFound
from shopfloor.domain.walkaround import ITEMS, ItemStatus, MarkKind, Position
from shopfloor.services import views
from shopfloor.services.reception.walkaround import (
    ALL_ITEMS,
    MAX_MARKS,
    MAX_MM,
    MAX_NOTE,
    MEASURED_ITEMS,
    ItemInput,
    MarkInput,
    ProposedLine,
    WalkaroundInput,
    WalkaroundView,
)

router = APIRouter(route_class=GuardedRoute, tags=["reception"])

if TYPE_CHECKING:
    ItemKey = str
else:
    ItemKey = Literal[ALL_ITEMS]  # the schema lists them; an unknown key is a 422 at items.<key>

_CHECKED = "; ".join(f"{position.value}: {', '.join(keys)}" for position, keys in ITEMS.items())
_MEASURED = "; ".join(f"{m}: {', '.join(keys)}" for m, keys in MEASURED_ITEMS.items())
ITEMS_DOC = (
    f"Items checked at each position ({_CHECKED}), and measured items, in millimetres ({_MEASURED}: tyres left/right "
    "front/rear, brake pads per axle). A measured item's `value` sets its status from the site's [reception] "
    "thresholds (below red_below: red, below yellow_below: yellow, else green); any other item takes a `status`.")
DIAGRAM_DOC = ("The diagram is a top view of the car, front at the top, the driver's (left) side on the left; x and y "
               "are fractions 0..1 of it from the left and from the top.")


class ItemBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: ItemStatus | None = Field(default=None, description="green | yellow | red (set by `value` when given)")
    value: float | None = Field(default=None, ge=0, le=MAX_MM, description="millimetres; measured items only")
    note: Text = Field(default="", max_length=MAX_NOTE)


class MarkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: Position = Field(description="which of the six positions it was seen from")
    kind: MarkKind
    x: float = Field(ge=0, le=1, description="0 the left (driver's) side, 1 the right")
    y: float = Field(ge=0, le=1, description="0 the front, 1 the rear")
    note: Text = Field(default="", max_length=MAX_NOTE)
    photo: int | None = Field(default=None, ge=1, le=MAX_ID,
                              description="the id of a photo of this order (POST /repair-orders/{number}/photos)")


class WalkaroundBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mileage_km: int | None = Field(default=None, ge=0, le=2_000_000, description="default: as read at check-in")
    fuel_eighths: int | None = Field(default=None, ge=0, le=8, description="0 empty … 8 full; default: as at "
                                                                           "check-in")
    protection_kit: bool = Field(default=False, description="the three-piece protection kit is fitted")
    valuables_taken: bool = Field(default=False, description="the customer has taken their valuables")
    items: dict[ItemKey, ItemBody] = Field(default_factory=dict, description=ITEMS_DOC)
    marks: list[MarkBody] = Field(default_factory=list, max_length=MAX_MARKS,
                                  description="all of the order's damage marks: a mark not sent is removed. "
                                              + DIAGRAM_DOC)
    explained: bool = Field(default=False, description="the findings were explained to the customer")
    mileage_confirmed: bool = Field(default=False, description="accept a reading below the car's last recorded one")


class ProposalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: ItemKey = Field(description="a red or yellow item of the order's walkaround")


class ItemOut(Shape):
    status: str | None = None
    value: float | None = None
    note: str = ""
    job_line: int | None = Field(default=None, description="the job line it was proposed as")


class MarkOut(Shape):
    id: int
    position: str
    kind: str
    x: float
    y: float
    note: str
    photo: int | None
    photo_url: str | None = Field(description="for staff signed in on a staff page (/photos/<name>); a token "
                                              "reads it at GET /repair-orders/{number}/photos/{photo}")


class WalkaroundOut(Shape):
    repair_order: str
    mileage_km: int | None
    fuel_eighths: int | None
    protection_kit: bool
    valuables_taken: bool
    items: dict[str, ItemOut]
    marks: list[MarkOut]
    explained: bool
    recorded_at: str
    recorded_by: str
    measured: list[str] = Field(description="the items the order's labour operations ask to be measured")


class ProposedOut(Shape):
    job_line: int
    item: str
    operation: str | None = Field(description="the labour operation [reception] proposals names; null: a free line")
    description: str
    hours: float
    skill: str
    amount: float = Field(description="hours × the site's labour rate for the skill, in CNY")


def walkaround_of(number: str, view: WalkaroundView, api: Services) -> WalkaroundOut:
    items = {key: ItemOut(status=entry.get("status"), value=entry.get("value"), note=entry.get("note", ""),
                          job_line=entry.get("job_line")) for key, entry in view.items.items()}
    marks = [MarkOut(id=m.id, position=m.position, kind=m.kind, x=m.x, y=m.y, note=m.note, photo=m.photo_id,
                     photo_url=m.photo_url) for m in view.marks]
    return WalkaroundOut(repair_order=number, mileage_km=view.mileage_km, fuel_eighths=view.fuel_eighths,
                         protection_kit=view.protection_kit, valuables_taken=view.valuables_taken, items=items,
                         marks=marks, explained=view.explained, recorded_at=views.at(view.recorded_at, api.ctx.tz),
                         recorded_by=view.recorded_by, measured=view.measured)


def proposed_of(line: ProposedLine) -> ProposedOut:
    return ProposedOut(job_line=line.job_line_id, item=line.item, operation=line.operation_code,
                       description=line.description, hours=line.hours, skill=line.skill, amount=float(line.amount))


@router.post("/repair-orders/{number}/walkaround", summary="Record the walkaround (环车检查) of an open order",
             description=f"Replaces what was recorded before; the order's and the car's mileage and fuel follow it "
                         f"(409 for a mileage below the car's last one without mileage_confirmed). {ITEMS_DOC} "
                         f"{DIAGRAM_DOC}",
             responses=BODY_ERRORS | unprocessable(
                 "a value on an item that is not measured, or a photo that is not one of this order's (the detail "
                 "names the field, e.g. marks[0].photo)"))
def post_walkaround(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)], number: RoNumber,
                    body: WalkaroundBody) -> WalkaroundOut:
    data = WalkaroundInput(
        mileage_km=body.mileage_km, fuel_eighths=body.fuel_eighths, protection_kit=body.protection_kit,
        valuables_taken=body.valuables_taken,
        items={key: ItemInput(i.status.value if i.status else None, i.value, i.note) for key, i in body.items.items()},
        marks=[MarkInput(m.position.value, m.kind.value, m.x, m.y, m.note, m.photo) for m in body.marks],
        explained=body.explained, mileage_confirmed=body.mileage_confirmed)
    view = api.reception.walkaround.record(number, data, actor=caller.actor)
    return walkaround_of(number, view, api)


@router.get("/repair-orders/{number}/walkaround", summary="An order's walkaround as recorded (404 before the first)",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable())
def get_walkaround(api: Services, number: RoNumber) -> WalkaroundOut:
    view = api.reception.walkaround.get(number)
    if view is None:
        raise NotFound("walkaround.error.none", number=number)
    return walkaround_of(number, view, api)


@router.post("/repair-orders/{number}/walkaround/proposals", status_code=201,
             summary="Propose a red or yellow walkaround item as a job line (once per item)",
             description="The labour operation the site's [reception] proposals name for the item (or for its "
                         "measurement, tyre_tread or brake_pad), else a free line of proposal_hours (skill "
                         "maintenance); priced at the site's labour rate for its skill. 409 for an item not "
                         "checked, green, or already proposed.",
             responses=BODY_ERRORS | unprocessable())
def post_proposal(api: Services, caller: Annotated[Caller, allowed(Permission.RECEPTION)], number: RoNumber,
                  body: ProposalBody) -> ProposedOut:
    return proposed_of(api.reception.walkaround.propose(number, body.item, actor=caller.actor))
