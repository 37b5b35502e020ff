"""What the repair order document shows, as plain values: gathered once by the reception's DocumentService, then
drawn by the A4 PDF (repair_order_pdf.py) and, in part, by the estimate slip on the reception printer.

The groups follow the seeds' reception form (domain.md §3): 客户信息 (customer), 车辆信息 (vehicle), 服务信息
(the visit: the customer's own words, the advisor, dates, the work and its price) and 额外信息 (extra: keep the
replaced parts, how to follow up, whether the customer leaves the car)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class CustomerInfo:
    surname: str
    given_name: str
    salutation: str
    phone: str
    address: str
    preferred_channel: str = ""  # how the customer's record says to reach them (sms, wechat, phone, letter)

    @property
    def full_name(self) -> str:
        return f"{self.surname}{self.given_name}"


@dataclass(frozen=True)
class VehicleInfo:
    plate: str  # as displayed (粤B·12345)
    vin: str
    model: str
    mileage_km: int | None  # read at this visit (the walkaround's, else the check-in's)
    fuel_eighths: int | None
    sold_on: date | None
    inspection_due_on: date | None
    warranty_expires_on: date | None


@dataclass(frozen=True)
class PricedLine:
    """A line of the estimate as the customer saw it: labour (quantity = flat-rate hours) or a part."""

    kind: str  # labour, part
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    payer: str  # customer, warranty, insurance, internal
    code: str | None = None
    job_line_id: int | None = None


@dataclass(frozen=True)
class EstimateInfo:
    version: int
    lines: tuple[PricedLine, ...]
    labour_total: Decimal
    parts_total: Decimal
    discount: Decimal
    discount_reason: str
    total: Decimal
    customer_total: Decimal  # what the customer pays: the lines warranty or insurance pay are not theirs
    currency: str
    signed: bool
    terms: str = ""
    changes: tuple[str, ...] = ()  # what differs from the last signed version
    # "decision": this version only adds work the customer approved (on their page, by phone …): their decision is
    # their consent, no signature is asked for; consented_by says which decisions
    consent: str | None = None
    consented_by: tuple[str, ...] = ()

    @property
    def consented(self) -> bool:
        return self.signed or self.consent == "decision"


@dataclass(frozen=True)
class MarkInfo:
    """A damage mark: x, y are fractions of the diagram's box (front at the top, driver's side on the left)."""

    position: str
    kind: str
    x: float
    y: float
    note: str = ""
    has_photo: bool = False
    photo: bytes | None = None  # the photo as stored (JPEG), when the document shows it


@dataclass(frozen=True)
class WalkaroundInfo:
    protection_kit: bool
    valuables_taken: bool
    explained: bool
    items: dict[str, str]  # item key -> green / yellow / red (only the items checked)
    marks: tuple[MarkInfo, ...]
    recorded_at: datetime | None
    recorded_by: str


@dataclass(frozen=True)
class SignatureInfo:
    """One signed version of a document (the estimate, the handover record): who signed, when, its digest and
    the signature as drawn (PNG)."""

    document: str  # estimate, handover
    version: int
    signer: str
    signed_at: datetime
    digest: str
    png: bytes | None
    total: Decimal | None = None
    witnessed_by: str | None = None


@dataclass(frozen=True)
class RepairOrderDocument:
    site_name: str
    number: str
    status: str
    advisor: str
    opened_at: datetime  # in the site's time zone, like every time here
    promised_at: datetime | None
    complaint: str  # the customer's own words
    customer: CustomerInfo
    vehicle: VehicleInfo
    estimate: EstimateInfo | None
    keep_replaced_parts: bool | None
    followup_channel: str | None
    customer_leaves_car: bool | None
    walkaround: WalkaroundInfo | None
    customer_link: str
    made_at: datetime
    signatures: tuple[SignatureInfo, ...] = field(default=())
    language: str = "zh-CN"

    @property
    def labour_hours(self) -> Decimal:
        if self.estimate is None:
            return Decimal(0)
        return sum((line.quantity for line in self.estimate.lines if line.kind == "labour"), Decimal(0))
