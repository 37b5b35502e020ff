"""What each entity looks like on the bus: the retained state per kind (`…/<kind>/<id>/state`) and the repair
orders' events, as pydantic models. services/views.py and services/capacity.py build them; the boards check
what they receive against them; docs/asyncapi.yaml is generated from them (shopfloor.contract.asyncapi)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from shopfloor.contract import topics
from shopfloor.contract.payloads import DateTime, Day, EnumValue, Payload, Schema, Version
from shopfloor.contract.staff import StaffRole
from shopfloor.domain.aftersales import ComplaintSource, ComplaintStatus, ImportantReason, ProblemClass, Severity
from shopfloor.domain.parts import JobLineParts
from shopfloor.domain.states import HoldReason, RoStatus
from shopfloor.domain.workshop import FindingStatus, LineStatus, PauseReason, Risk


class Skill(StrEnum):
    """The skill class work needs: maintenance any technician may do, repair only a skilled one."""

    MAINTENANCE = "maintenance"
    REPAIR = "repair"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    LATE = "late"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class BookingSource(StrEnum):
    """passive: the customer asked; active: the dealer called them (solicitation); import: from the DMS;
    rebook: a no-show booked again."""

    PASSIVE = "passive"
    ACTIVE = "active"
    IMPORT = "import"
    REBOOK = "rebook"


class PartsStatus(StrEnum):
    NONE = "none"
    IN_STOCK = "in_stock"
    TO_ORDER = "to_order"
    ARRIVED = "arrived"


class CallOutcome(StrEnum):
    """The day-before confirmation call."""

    CONFIRMED = "confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"


class AdvisorRef(Payload):
    id: int
    name: str
    code: str = Field(description="row letter on the appointment board: A, B, C…")


class TechnicianRef(Payload):
    id: int
    name: str


# -- repair orders ---------------------------------------------------------------------------------------------

class PlannedSpan(Payload):
    """A technician's planned bar for a job line on the job progress board."""

    technician: int = Field(description="the technician's id")
    start: DateTime = Field(description="when the technician is planned to start the line (after the work ahead "
                                        "of it in their queue, on their working windows); a line in work or "
                                        "finished today: their first clocking on it today")
    end: DateTime = Field(description="when that technician's share of the remaining flat-rate hours is done; a "
                                      "line in work or finished today: the start plus their share of its "
                                      "flat-rate hours")


class ClockedSpan(Payload):
    """A clocking on a job line today: the actual bar drawn over the planned one."""

    technician: int = Field(description="the technician's id")
    clocking: int = Field(description="the clocking's id (the foreman confirms an assumed one by it)")
    start: DateTime
    end: DateTime | None = Field(description="null while the technician is still clocked on")
    assumed: bool = Field(default=False, description="closed by the server at the end of the shift; the foreman "
                                                     "has not confirmed it yet")


class RepairOrderLine(Payload):
    code: str | None = Field(description="labour operation code; null for free text")
    description: str
    hours: float = Field(description="flat-rate hours")
    skill: EnumValue[Skill]
    # the workshop's (rev 0007); defaults for states written before lines were worked on their own
    id: int | None = Field(default=None, description="the job line's id: dispatch and clockings name lines by it")
    status: EnumValue[LineStatus] = LineStatus.WAITING
    pause_reason: EnumValue[PauseReason] | None = Field(default=None, description="why a paused line stopped")
    technician: TechnicianRef | None = Field(default=None, description="the first technician given the line")
    technicians: list[TechnicianRef] = Field(default=[], description="everyone given the line, first first")
    additional: bool = Field(default=False, description="additional work the customer approved")
    planned: list[PlannedSpan] = Field(default=[], description="the job progress board's planned bars, one per "
                                                              "technician; empty for a line nobody was given")
    clocked_today: list[ClockedSpan] = Field(default=[], description="today's clockings on the line, oldest first")
    # the parts counter's (rev 0010)
    parts_status: EnumValue[JobLineParts] = Field(default=JobLineParts.NONE, description="the line's parts: none, "
                                                  "to_pick at the counter, issued, back_order (the line waits)")
    parts_eta: Day | None = Field(default=None, description="back_order: when the last part is due")


class OrderFlags(Payload):
    """What the foreman's waiting queue flags (domain.md §2: repeat repairs to the technical director, complaints
    to the service manager)."""

    waiting_customer: bool = Field(default=False, description="the customer waits in the lounge")
    repeat_repair: bool = Field(default=False, description="booked as a repeat repair, or marked a comeback")
    complaint: bool = Field(default=False, description="the customer complained (booking flag or customer record)")
    carried_over: bool = Field(default=False, description="carried over from an earlier day: dispatched first")


class AdditionalWorkRef(Payload):
    """Work a technician found beyond the order: the advisor asks the customer while it is pending."""

    id: int
    description: str
    hours: float
    status: EnumValue[FindingStatus]
    technician: TechnicianRef
    photo: str | None = Field(default=None, description="the technician's photo of it: a path on the server "
                              "(/photos/<name>) that staff signed in on a staff page may open")


class RepairOrderState(Payload):
    """A repair order's full state (personal data: roles server and board)."""

    schema_: Schema = Field(alias="schema")
    version: Version
    site: str
    number: str = Field(examples=["RO20261123-007"])
    status: EnumValue[RoStatus]
    hold_reason: EnumValue[HoldReason] | None
    plate: str = Field(examples=["京A12345"])
    plate_display: str = Field(examples=["京A·12345"])
    vehicle_model: str
    customer: str = Field(description="surname + salutation", examples=["王先生"])
    advisor: AdvisorRef
    technician: TechnicianRef | None
    appointment_id: int | None
    promised_at: DateTime | None
    opened_at: DateTime
    closed_at: DateTime | None
    work: str = Field(description="the first job line, '+N' for more")
    job_lines: list[RepairOrderLine]
    total_hours: float
    complaint: str = Field(description="the customer's own words")
    mileage_km: int | None
    fuel_eighths: int | None = Field(ge=0, le=8)
    projected_ready_at: DateTime | None = Field(
        default=None, description="when the work is projected to be done: the lines' remaining flat-rate hours on "
                                  "their technicians' shifts; a ready order: when it became ready")
    risk: EnumValue[Risk] = Field(default=Risk.ON_TIME, description="against the promise: at_risk once the "
                                  "checkpoint passed with the projected finish after the promise, late past it")
    additional_work: list[AdditionalWorkRef] = Field(default=[], description="found during the work, oldest first")
    flags: OrderFlags = Field(default_factory=OrderFlags, description="the dispatch queue's flags")


class LoungeState(Payload):
    """What the customers' lounge may show of an open repair order: no personal data."""

    schema_: Schema = Field(alias="schema")
    version: Version
    site: str
    number: str
    plate_masked: str = Field(examples=["京A·***45"])
    customer_masked: str = Field(description="surname + salutation", examples=["王先生"])
    status: EnumValue[RoStatus]
    promised_at: DateTime | None
    needs_customer: bool = Field(description="on hold waiting for the customer's approval")
    projected_ready_at: DateTime | None = Field(default=None, description="when the work is projected to be done")
    work_started: bool = Field(default=False, description="a technician has started on the car (a line in work, "
                               "paused or done): a car dispatched but not started is shown as waiting")


class CheckedInEvent(Payload):
    """A car checked in: its repair order opened."""

    version: Version
    number: str
    kind: Literal["checked_in"]
    to: EnumValue[RoStatus]
    actor: str
    at: DateTime


class MovedEvent(Payload):
    """A repair order moved from one status to another; rework: quality check sent the car back to the
    technician."""

    version: Version
    number: str
    kind: Literal["transition", "rework"]
    from_: EnumValue[RoStatus] = Field(alias="from")
    to: EnumValue[RoStatus]
    actor: str
    at: DateTime
    reason: str | None = Field(description="the hold reason of a move to on_hold")


class PartsEvent(Payload):
    """The parts counter: a part of a job line went on back-order (the line waits for it) or arrived (the line is
    released): the foreman and the advisor hear it as it happens."""

    version: Version
    number: str
    kind: Literal["parts_back_order", "parts_arrived"]
    job_line: int
    part: str = Field(description="the part number")
    name: str
    eta: Day | None = Field(description="back_order: when it is due")
    actor: str
    at: DateTime


RepairOrderEvent = Annotated[CheckedInEvent | MovedEvent | PartsEvent, Field(
    discriminator="kind", description="A repair order's move, told as it happens (the state topic has the result).")]
repair_order_events: TypeAdapter[CheckedInEvent | MovedEvent | PartsEvent] = TypeAdapter(RepairOrderEvent)


# -- appointments ------------------------------------------------------------------------------------------

class AppointmentLine(Payload):
    code: str | None = Field(description="labour operation code; null for free text")
    description: str
    hours: float
    skill: EnumValue[Skill]
    equipment: str | None = Field(description="the bay kind the work needs, e.g. alignment; null: any lift")


class AppointmentParts(Payload):
    status: EnumValue[PartsStatus]
    eta: Day | None
    numbers: str = Field(description="part numbers, comma-separated")


class AppointmentFlags(Payload):
    waiting_customer: bool
    road_test: bool
    repeat_repair: bool
    complaining_customer: bool


class AppointmentState(Payload):
    """One appointment: a card on the appointment board."""

    schema_: Schema = Field(alias="schema")
    version: Version
    site: str
    id: int
    status: EnumValue[AppointmentStatus]
    start: DateTime
    end: DateTime
    hours: float
    work: str
    plate: str
    plate_display: str
    vehicle_model: str
    customer: str = Field(description="surname + salutation")
    advisor: AdvisorRef
    bay: str | None = Field(description="the bay's code")
    arrived_at: DateTime | None
    ro_number: str | None = Field(description="the repair order the car was checked in as")
    skill: EnumValue[Skill] = Field(description="repair if any line needs a skilled technician")
    job_lines: list[AppointmentLine]
    equipment: str | None = Field(description="the bay kind the work needs")
    source: EnumValue[BookingSource]
    parts: AppointmentParts
    flags: AppointmentFlags
    call_outcome: EnumValue[CallOutcome] | None
    no_show_at: DateTime | None
    cancel_reason: str | None
    rebooked_as: int | None = Field(description="the appointment a no-show was rebooked as")
    notes: str
    overridden: bool = Field(description="booked or moved against a rule, with a logged reason")


# -- the boards' rows ------------------------------------------------------------------------------------------

class AdvisorState(Payload):
    """A member of staff. Those with role advisor are the rows of the appointment board."""

    schema_: Schema = Field(alias="schema")
    version: Version
    site: str
    id: int
    name: str
    code: str = Field(description="row letter on the appointment board: A, B, C…")
    active: bool
    roles: list[EnumValue[StaffRole]] = Field(description="every role the person holds, sorted")
    role: EnumValue[StaffRole] = Field(description="advisor for a row of the appointment board, else the first "
                                                   "role held")


class TimeSpan(Payload):
    start: DateTime
    end: DateTime


class TechnicianFigures(Payload):
    """A technician's day so far, as of `TechnicianDay.as_of` (a board adds the time since for an open clocking)."""

    sold_hours: float = Field(description="share of the flat-rate hours of the lines given to them, open or "
                                          "finished today")
    worked_hours: float = Field(description="time clocked on jobs today")
    attended_hours: float = Field(description="clocked in: the shift's working time so far, plus job clockings "
                                              "outside it")
    finished_hours: float = Field(description="flat-rate hours of the lines they finished today")
    finished_worked_hours: float = Field(description="time worked on those finished lines")
    productivity: float | None = Field(description="worked_hours ÷ attended_hours; null before any attendance")
    efficiency: float | None = Field(description="finished_hours ÷ finished_worked_hours; null before a line "
                                                 "is finished")


class TechnicianDay(Payload):
    """Today's row of the job progress board: the shift as rostered and the figures."""

    day: Day
    as_of: DateTime = Field(description="when the figures were computed")
    shift: TimeSpan | None = Field(description="the shift as rostered; null on a day off or a closed day")
    working: list[TimeSpan] = Field(description="the shift less its break and leave")
    breaks: list[TimeSpan] = Field(description="greyed on the board")
    leave: list[TimeSpan] = Field(description="greyed on the board; the whole shift when on leave all day")
    figures: TechnicianFigures


class TechnicianState(Payload):
    """A technician: a row of the progress board."""

    schema_: Schema = Field(alias="schema")
    version: Version
    site: str
    id: int
    name: str
    skill: EnumValue[Skill]
    active: bool
    current_job: str | None = Field(default=None, description="the repair order the technician is clocked on")
    clocked_on_at: DateTime | None = Field(default=None, description="since when")
    today: TechnicianDay | None = Field(default=None, description="today's shift and figures (job progress board)")


# -- capacity ---------------------------------------------------------------------------------------------

class TechnicianHours(Payload):
    id: int
    name: str
    skill: EnumValue[Skill]
    available: float = Field(description="shift hours less breaks and leave")
    reserved: float = Field(description="the walk-in reserve's share of them")
    allocated: float = Field(description="planned: dispatched work stays, the rest spread by skill")
    free: float = Field(description="available − allocated (negative when overbooked)")


class SkillHours(Payload):
    available: float = Field(description="that class's technicians")
    reserved: float = Field(description="walk-in reserve")
    booked: float
    unplanned: float = Field(description="walk-ins and carried-over cars")
    allocated: float = Field(description="booked + unplanned")
    free: float = Field(description="hours still sellable to a booking of that class (maintenance may also go "
                                    "to skilled technicians)")


class SkillClasses(Payload):
    maintenance: SkillHours
    repair: SkillHours


class TotalHours(SkillHours):
    """The same over all technicians, plus what is left with the reserve included."""

    left: float


class GroupLeft(Payload):
    sellable_left: float = Field(description="hours a booking may still take")
    left: float = Field(description="hours left, the walk-in reserve included")


class CapacityGroups(Payload):
    """What is left for work that needs a skilled technician (repair) and for any work (total)."""

    repair: GroupLeft
    total: GroupLeft


class CarriedOverCar(Payload):
    number: str
    plate_display: str
    hours: float
    status: EnumValue[RoStatus]
    reason: EnumValue[HoldReason] | None


class CarriedOver(Payload):
    """Cars from earlier days still needing work: they hold today's hours."""

    hours: float
    cars: list[CarriedOverCar]


class WalkIns(Payload):
    """Today's repair orders without an appointment."""

    hours: float
    cars: int


class CapacityFigures(Payload):
    """One day's technician hours: what the capacity strip and the booking API show."""

    day: Day
    holiday: str | None
    reserve_share: float = Field(description="share of each class's hours kept from bookings")
    technicians: list[TechnicianHours]
    skills: SkillClasses
    total: TotalHours
    carried_over: CarriedOver
    walk_in: WalkIns
    appointments: int = Field(description="bookings that hold hours that day")
    groups: CapacityGroups


class CapacityState(CapacityFigures):
    """One day's technician hours (roles server and board)."""

    schema_: Schema = Field(alias="schema")
    version: Version
    site: str


# -- complaints (issue 12) ----------------------------------------------------------------------------------

class ComplaintState(Payload):
    """A customer's complaint as the service manager's screens follow it: status, owner, the deadlines counting
    down. No personal data (no name, phone or the complaint's words): the order number and masked plate only."""

    schema_: Schema = Field(alias="schema")
    version: Version
    site: str
    id: int
    status: EnumValue[ComplaintStatus]
    severity: EnumValue[Severity]
    important_because: EnumValue[ImportantReason] | None
    problem_class: EnumValue[ProblemClass] = Field(alias="class")
    source: EnumValue[ComplaintSource]
    ro_number: str | None
    plate_masked: str | None = Field(examples=["京A·***45"])
    owner: str | None = Field(description="the staff member who owns it (their name on the staff screens)")
    opened_at: DateTime
    acknowledge_by: DateTime
    acknowledged_at: DateTime | None
    investigate_by: DateTime
    investigated_at: DateTime | None
    resolved_at: DateTime | None
    closed_at: DateTime | None


class ComplaintEvent(Payload):
    """An important complaint was opened: the service manager's screens escalate it at once (never retained)."""

    version: Version
    id: int
    kind: Literal["important_opened"]
    severity: EnumValue[Severity]
    important_because: EnumValue[ImportantReason] | None
    problem_class: EnumValue[ProblemClass] = Field(alias="class")
    ro_number: str | None
    plate_masked: str | None
    acknowledge_by: DateTime
    at: DateTime


# the model of each kind's retained state: what a consumer checks a `…/<kind>/<id>/state` payload against
STATE_MODELS: dict[str, type[Payload]] = {
    topics.REPAIR_ORDERS: RepairOrderState,
    topics.APPOINTMENTS: AppointmentState,
    topics.ADVISORS: AdvisorState,
    topics.TECHNICIANS: TechnicianState,
    topics.LOUNGE: LoungeState,
    topics.CAPACITY: CapacityState,
    topics.COMPLAINTS: ComplaintState,
}
