"""Response models of the entity states the API shares with the bus (shopfloor/services/views.py): an
appointment, a repair order, a technician. Each lists exactly the keys the service returns."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shopfloor.domain.states import RoStatus

IsoTime = Annotated[str, Field(description="ISO 8601 with the site's UTC offset",
                               examples=["2026-11-23T09:30:00+08:00"])]
IsoDay = Annotated[str, Field(description="YYYY-MM-DD", examples=["2026-11-23"])]
Skill = Literal["maintenance", "repair"]


class Shape(BaseModel):
    """A response body. Extra keys are refused rather than dropped: a key a service starts to return fails the
    tests until the contract (this model) says so, instead of silently vanishing from the answer."""

    model_config = ConfigDict(extra="forbid")


class AdvisorRef(Shape):
    id: int
    name: str
    code: str = Field(description="the advisor's row letter on the appointment board")


class TechnicianRef(Shape):
    id: int
    name: str


class AppointmentLine(Shape):
    """A line of work as booked: the hours the booking sells, per skill class."""

    code: str | None = Field(description="labour-operation code; null for free-text work")
    description: str
    hours: float
    skill: Skill
    equipment: str | None = Field(description="a bay kind the work needs (alignment, paint); null: any lift")


class Parts(Shape):
    status: Literal["none", "in_stock", "to_order", "arrived"]
    eta: IsoDay | None
    numbers: str


class Flags(Shape):
    waiting_customer: bool
    road_test: bool
    repeat_repair: bool
    complaining_customer: bool


class AppointmentState(Shape):
    """An appointment as the boards see it (its retained state on the bus)."""

    schema_: int = Field(alias="schema", description="payload schema version")
    version: int = Field(description="grows with every change: keep the highest seen")
    site: str
    id: int
    status: str = Field(description="booked, confirmed, late, arrived, no_show, cancelled")
    start: IsoTime
    end: IsoTime
    hours: float
    work: str
    plate: str
    plate_display: str
    vehicle_model: str
    customer: str = Field(description="as the customer is addressed (王先生)")
    advisor: AdvisorRef
    bay: str | None
    arrived_at: IsoTime | None
    ro_number: str | None = Field(description="the repair order opened for it, once the car is checked in")
    skill: Skill
    job_lines: list[AppointmentLine]
    equipment: str | None
    source: str = Field(description="passive, active, import, rebook")
    parts: Parts
    flags: Flags
    call_outcome: str | None = Field(description="confirmed, rescheduled, cancelled, unreachable")
    no_show_at: IsoTime | None
    cancel_reason: str | None
    rebooked_as: int | None = Field(description="the appointment a no-show was rebooked as")
    notes: str
    overridden: bool = Field(description="booked or moved against a rule (see overrides)")


class RepairOrderLine(Shape):
    code: str | None
    description: str
    hours: float
    skill: Skill


class RepairOrderState(Shape):
    """A repair order as the boards see it (its retained state on the bus)."""

    schema_: int = Field(alias="schema", description="payload schema version")
    version: int
    site: str
    number: str
    status: RoStatus
    hold_reason: str | None = Field(description="why it is on hold: waiting_parts, waiting_approval, other")
    plate: str
    plate_display: str
    vehicle_model: str
    customer: str = Field(description="as the customer is addressed (王先生)")
    advisor: AdvisorRef
    technician: TechnicianRef | None
    appointment_id: int | None
    promised_at: IsoTime | None
    opened_at: IsoTime
    closed_at: IsoTime | None
    work: str
    job_lines: list[RepairOrderLine]
    total_hours: float
    complaint: str
    mileage_km: int | None
    fuel_eighths: int | None


class TechnicianState(Shape):
    schema_: int = Field(alias="schema")
    version: int
    site: str
    id: int
    name: str
    skill: Skill
    active: bool
