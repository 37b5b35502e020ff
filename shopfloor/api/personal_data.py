"""Customers' personal data under China's PIPL (shopfloor/services/setup/personal_data.py): who has not come for
[retention] personal_data_years, one customer's data for an access request, and erasure on request. The orders and
payments stay (settlement records are kept for tax); the person's name, contacts, signatures and photos go, and
the plates and VINs keep their last 2 characters."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import ApiServices, Services
from shopfloor.api.errors import BODY_ERRORS, ERRORS, unprocessable
from shopfloor.api.fields import Id, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services.setup.personal_data import MAX_REASON, PersonalDataService, cutoff

router = APIRouter(route_class=GuardedRoute, tags=["personal data"])
ERASE_REFUSED = {409: {**ERRORS[409], "description": (
    "the customer has a repair order still open or an appointment still to come, or is erased already")}}


def _service(api: ApiServices) -> PersonalDataService:
    # the photos are where reception keeps them: erasing removes the files of the customer's orders
    return PersonalDataService(api.ctx, api.reception.photos.data_dir)


class InactiveOut(Shape):
    id: int
    name: str
    phone: str
    plates: list[str]
    last_visit: str | None = Field(description="YYYY-MM-DD, the site's day of the last visit (a repair order, an "
                                               "appointment, a follow-up call that reached them, a complaint, the "
                                               "DMS's sale or last-service date); null: none recorded")


class InactiveList(Shape):
    years: int = Field(description="the years without a visit the list was made for")
    before: str = Field(description="YYYY-MM-DD: listed when the last visit is before this day")
    customers: list[InactiveOut]


class ExportCustomer(Shape):
    id: int
    surname: str
    given_name: str
    salutation: str
    phone: str
    email: str
    wechat_openid: str
    address: str
    preferred_channel: str
    complaining: bool
    erased_at: str | None


class ExportItem(Shape):
    kind: str
    description: str
    created_on: str | None
    closed_on: str | None


class ExportVehicle(Shape):
    id: int
    plate: str
    vin: str
    model: str
    mileage_km: int | None
    mileage_at: str | None
    sold_on: str | None
    last_service_on: str | None
    last_service_km: int | None
    insurance_expires_on: str | None
    inspection_due_on: str | None
    warranty_expires_on: str | None
    items: list[ExportItem]


class ExportAppointment(Shape):
    id: int
    plate: str
    start: str | None
    hours: str
    work: str
    status: str
    notes: str
    waiting_customer: bool
    source: str
    created_at: str | None
    call_outcome: str | None
    called_at: str | None
    cancel_reason: str | None


class ExportPart(Shape):
    number: str
    name: str
    quantity: str
    unit_price: str | None
    status: str


class ExportLine(Shape):
    description: str
    operation_code: str | None
    hours: str
    payer: str
    status: str
    parts: list[ExportPart]


class ExportPayment(Shape):
    kind: str = Field(description="payment | refund")
    method: str
    amount: str
    at: str | None
    reference: str
    reason: str


class ExportDocument(Shape):
    kind: str = Field(description="estimate | handover")
    version: int
    signed_at: str | None
    signer: str | None
    has_signature_image: bool = Field(description="the drawn signature is kept (not copied into the export)")


class ExportOrder(Shape):
    number: str
    plate: str
    status: str
    opened_at: str | None
    closed_at: str | None
    promised_at: str | None
    mileage_km: int | None
    complaint: str
    advisor: str
    discount: str | None
    discount_reason: str
    settled_at: str | None
    next_service_on: str | None
    next_service_km: int | None
    lines: list[ExportLine]
    payments: list[ExportPayment]
    signed_documents: list[ExportDocument]
    photos: list[str] = Field(description="the photos' file names under DATA_DIR/photos")


class ExportMessage(Shape):
    id: int
    template: str
    channel: str
    recipient: str
    subject: str
    body: str
    state: str
    created_at: str | None
    sent_at: str | None


class ExportAttempt(Shape):
    at: str | None
    outcome: str
    note: str


class ExportFollowUp(Shape):
    id: int
    kind: str
    due_on: str | None
    status: str
    outcome: str | None
    score: int | None
    problem_class: str | None
    note: str
    called_at: str | None
    attempts: list[ExportAttempt]


class ExportComplaint(Shape):
    id: int
    opened_at: str | None
    source: str
    problem_class: str
    severity: str
    text: str
    status: str
    findings: str
    resolution: str
    closed_at: str | None


class ExportPerson(Shape):
    customer: ExportCustomer
    vehicles: list[ExportVehicle]
    appointments: list[ExportAppointment]
    repair_orders: list[ExportOrder]
    messages: list[ExportMessage]
    follow_up_calls: list[ExportFollowUp]
    complaints: list[ExportComplaint]
    photos: list[str] = Field(description="every photo's file name, of all the orders")


class PersonalDataExport(Shape):
    format: str = Field(description='"shopfloor personal data"')
    version: int
    site: str
    exported_at: str = Field(description="ISO 8601 with the site's offset")
    customers: list[ExportPerson] = Field(description="one entry: the customer asked for")


class EraseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=MAX_REASON, description=(
        "why: the person's request and how it came (kept in the audit trail; put no personal data in it)"))


class ErasedOut(Shape):
    customer_id: int
    erased_at: str
    vehicles: int = Field(description="vehicles whose plate and VIN were masked to their last 2 characters")
    appointments: int = Field(description="appointments whose notes were emptied")
    repair_orders: int = Field(description="orders kept with their lines and payments")
    messages: int = Field(description="messages whose recipient and text were emptied")
    messages_cancelled: int = Field(description="of those, still queued or to send by hand: cancelled")
    follow_up_calls: int
    complaints: int
    signatures: int = Field(description="signed documents whose signature image and signer were removed")
    photos: int = Field(description="photo rows deleted")
    photo_files_removed: int = Field(description="photo files removed from DATA_DIR/photos")
    print_jobs: int = Field(description="finished or failed print jobs of their orders deleted (tickets, lists)")
    bus_messages: int = Field(description="sent bus messages about their orders and appointments deleted")


@router.get("/personal-data/inactive", summary="Customers without a visit for years (PIPL)",
            dependencies=[allowed(Permission.PERSONAL_DATA)], responses=unprocessable("years outside 1–30"))
def get_inactive(api: Services, years: Annotated[int | None, Query(
        ge=1, le=30, description="default: [retention] personal_data_years")] = None) -> InactiveList:
    """Not erased yet, the longest gone first (those with no visit recorded at all first of all)."""
    service = _service(api)
    chosen = years or service.years
    rows = service.inactive(chosen)
    return InactiveList(years=chosen, before=cutoff(api.ctx.today(), chosen).isoformat(), customers=[
        InactiveOut(id=r.id, name=r.name, phone=r.phone, plates=r.plates,
                    last_visit=r.last_visit.isoformat() if r.last_visit else None) for r in rows])


@router.get("/customers/{customer_id}/personal-data", summary="A customer's personal data (PIPL access request)",
            responses=unprocessable())
def get_personal_data(api: Services, caller: Annotated[Caller, allowed(Permission.PERSONAL_DATA)],
                      customer_id: Id) -> PersonalDataExport:
    """Everything the site keeps about the person, as JSON (audited: personal_data_exported)."""
    return PersonalDataExport.model_validate(_service(api).export([customer_id], actor=caller.actor))


@router.post("/customers/{customer_id}/erase", summary="Erase a customer's personal data on request (PIPL)",
             responses=BODY_ERRORS | ERASE_REFUSED | unprocessable("an empty reason"))
def post_erase(api: Services, caller: Annotated[Caller, allowed(Permission.PERSONAL_DATA)], customer_id: Id,
               body: EraseBody) -> ErasedOut:
    """Anonymises the person: name, phone, e-mail, WeChat openid, address, the messages' recipients and texts,
    notes, signatures and photos go; plates and VINs keep their last 2 characters. The repair orders, their lines
    and payments stay (settlement records are kept for tax). Audited (personal_data_erased), without personal data
    in the audit."""
    done = _service(api).erase(customer_id, body.reason, actor=caller.actor)
    return ErasedOut(erased_at=done.erased_at.astimezone(api.ctx.tz).isoformat(), customer_id=done.customer_id,
                     **done.counts())
