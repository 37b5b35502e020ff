"""/customers (find by plate, phone, name or VIN, typed in part) and /vehicles/{id} (everything to see before
booking: visits, appointments, open items)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from shopfloor.api.access import GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import unprocessable
from shopfloor.api.fields import Id, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.entity_states import AppointmentState, RepairOrderLine
from shopfloor.contract.payloads import DateTime, Day
from shopfloor.contract.staff import Permission

router = APIRouter(route_class=GuardedRoute, tags=["customers"])


class CustomerHit(Shape):
    """A vehicle with its owner."""

    vehicle_id: int
    plate: str
    plate_display: str
    vin: str
    model: str
    customer_id: int
    customer: str = Field(description="full name")
    addressed: str = Field(description="as the customer is addressed (王先生)")
    phone: str
    preferred_channel: str = Field(description="sms, wechat, email, phone, letter")
    complaining: bool
    tag: str | None = Field(description="the car's active QR tag")
    match: Literal["plate", "vin", "phone", "name"] | None = Field(description="what the query matched")


class CustomerRecord(Shape):
    id: int
    surname: str
    given_name: str
    salutation: str
    name: str
    addressed: str
    phone: str
    preferred_channel: str
    complaining: bool
    address: str
    email: str = Field(description="for e-mailed messages; empty: none")
    wechat_openid: str = Field(description="the customer's openid with the site's WeChat official account; empty: none")


class VehicleRecord(Shape):
    id: int
    vin: str
    plate: str
    plate_display: str
    model: str
    mileage_km: int | None
    mileage_at: Day | None = Field(description="when mileage_km was read")
    sold_on: Day | None
    last_service_on: Day | None
    last_service_km: int | None
    insurance_expires_on: Day | None
    inspection_due_on: Day | None
    warranty_expires_on: Day | None
    tag: str | None


class Visit(Shape):
    number: str
    status: str
    opened_at: DateTime
    closed_at: DateTime | None
    opened_on: Day
    closed_on: Day | None
    mileage_km: int | None
    advisor: str
    complaint: str
    work: list[RepairOrderLine]
    total_hours: float


class OpenItem(Shape):
    id: int
    vehicle_id: int
    kind: Literal["recall", "campaign", "declined", "parts_order"]
    description: str
    part_numbers: str
    created_on: Day
    eta: Day | None
    arrived_on: Day | None
    closed_on: Day | None
    state: Literal["open", "on_order", "arrived", "closed"]


class LastService(Shape):
    on: Day | None
    km: int | None


class VehicleOverview(Shape):
    customer: CustomerRecord
    vehicle: VehicleRecord
    visits: list[Visit] = Field(description="newest first")
    appointments: list[AppointmentState] = Field(description="upcoming, and today's still waiting")
    open_items: list[OpenItem]
    last_service: LastService
    repeat_repair: bool
    repeat_repair_of: str | None
    complaining: bool
    open_ro: str | None
    other_vehicles: list[CustomerHit] = Field(description="the owner's other vehicles")


@router.get("/customers", summary="Find customers and vehicles by plate, phone, name or VIN (partial)",
            dependencies=[allowed(Permission.CUSTOMER_READ)], responses=unprocessable())
def get_customers(api: Services, query: Annotated[Text, Query(min_length=1, max_length=60)],
                  limit: Annotated[int, Query(ge=1, le=50)] = 20) -> list[CustomerHit]:
    return [CustomerHit.model_validate(h) for h in api.customers.search(query, limit)]


@router.get("/vehicles/{vehicle_id}", summary="A vehicle before booking: history, open items, appointments",
            dependencies=[allowed(Permission.CUSTOMER_READ)], responses=unprocessable())
def get_vehicle(api: Services, vehicle_id: Id) -> VehicleOverview:
    return VehicleOverview.model_validate(api.customers.overview(vehicle_id))
