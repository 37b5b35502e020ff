"""The estimate slip (估价单) printed at reception: the priced lines, the totals in CNY, whether and when the customer
signed with the signature's digest (short), and the customer's page as a QR code. One complete ESC/POS job laid
out by paper width like the job ticket (ticket.py), Chinese as GB18030 (or GBK)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopfloor.i18n import Translator
from shopfloor.printer.escpos_text import ALIGN_CENTER, CJK_ENCODINGS
from shopfloor.printer.ticket import TIME_FORMAT, PrinterProfile, _Job, qr_raster

DIGEST_SHOWN = 12  # hex characters: enough to compare with the PDF and the customer's page by eye


@dataclass(frozen=True)
class SlipLine:
    kind: str  # labour, part
    description: str
    quantity: str  # as printed: hours for labour ("1.25"), a count for parts
    amount: str  # "450.00"
    payer: str  # customer, warranty, insurance, internal


@dataclass(frozen=True)
class EstimateSlipData:
    """What the slip prints, as text and plain values: kept with the print job so a reprint (a person's decision
    on a job whose fate is unknown) prints the same slip, marked REPRINT."""

    site_name: str
    ro_number: str
    plate: str
    customer: str  # the display form (王先生)
    advisor: str
    version: int
    lines: tuple[SlipLine, ...]
    labour_total: str
    parts_total: str
    discount: str  # "0.00" when none
    total: str
    customer_total: str
    signed_at: datetime | None
    signer: str | None
    digest: str | None
    qr_text: str  # the customer's page
    language: str = "zh-CN"

    def __post_init__(self) -> None:
        if not self.qr_text:
            raise ValueError("an estimate slip needs the customer's link for its QR")
        for value in (self.labour_total, self.parts_total, self.discount, self.total, self.customer_total):
            Decimal(value)  # raises on anything that is not an amount

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["signed_at"] = self.signed_at.isoformat() if self.signed_at else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EstimateSlipData:
        values = dict(data)
        values["lines"] = tuple(SlipLine(**line) for line in values["lines"])
        values["signed_at"] = datetime.fromisoformat(values["signed_at"]) if values["signed_at"] else None
        return cls(**values)


def render_estimate_slip(data: EstimateSlipData, profile: PrinterProfile, *, reprint: bool = False,
                         reprinted_at: datetime | None = None) -> bytes:
    if profile.encoding not in CJK_ENCODINGS and data.language != "en":
        raise ValueError(f"printer {profile.name} prints ASCII only: its slips need language 'en'")
    t = Translator(data.language)
    job = _Job(profile)

    if reprint:
        job.wrapped(t("documents.slip.reprint"), size=2, strong=True, alignment=ALIGN_CENTER)
        when = reprinted_at or datetime.now()
        job.line(f"{t('documents.slip.reprinted_at')} {when.strftime(TIME_FORMAT)}", alignment=ALIGN_CENTER)
        job.rule("=")

    job.wrapped(data.site_name, size=2, strong=True, alignment=ALIGN_CENTER)
    job.wrapped(t("documents.slip.title"), strong=True, alignment=ALIGN_CENTER)
    job.rule()
    job.big_field(t("documents.number"), data.ro_number)
    job.big_field(t("documents.plate"), data.plate)
    job.pair(t("documents.slip.customer"), data.customer)
    job.pair(t("documents.advisor"), data.advisor)
    job.pair(t("documents.slip.version"), str(data.version))
    job.rule()

    job.pair(t("documents.slip.lines"), t("documents.slip.amount"), strong=True)
    for kind in ("labour", "part"):
        lines = [line for line in data.lines if line.kind == kind]
        if not lines:
            continue
        job.line(t("documents.labour" if kind == "labour" else "documents.parts"), strong=True)
        for line in lines:
            job.wrapped(line.description)
            unit = t("documents.col_hours") if kind == "labour" else "×"
            detail = f"  {line.quantity} {unit}" if kind == "labour" else f"  {unit}{line.quantity}"
            if line.payer != "customer":
                detail += f"  [{t(f'documents.payer.{line.payer}')}]"
            job.pair(detail, line.amount)
    job.rule()
    job.pair(t("documents.labour_total"), data.labour_total)
    job.pair(t("documents.parts_total"), data.parts_total)
    if Decimal(data.discount):
        job.pair(t("documents.discount"), f"-{data.discount}")
    job.pair(t("documents.total"), data.total)
    job.pair(f"{t('documents.customer_total')} CNY", data.customer_total, strong=True)
    job.rule()

    if data.signed_at and data.digest:
        job.line(t("documents.slip.signed"), strong=True)
        if data.signer:
            job.pair(t("documents.slip.signer"), data.signer)
        job.pair(t("documents.slip.signed_at"), data.signed_at.strftime(TIME_FORMAT))
        job.pair(t("documents.slip.digest"), data.digest[:DIGEST_SHOWN])
    else:
        job.line(t("documents.slip.unsigned"), strong=True)
    job.rule()
    job.image(qr_raster(data.qr_text, profile))
    job.wrapped(t("documents.slip.scan"), alignment=ALIGN_CENTER)
    return job.finish()
