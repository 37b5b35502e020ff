"""The repair order's documents: the A4 PDF (维修工单 / 任务委托书) and the estimate slip's content for the
reception printer. What they show is read through the reception's services (the estimate as it stands and its
signed versions, the handover record's signed versions, the walkaround, the customer's link) and the order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor.documents import repair_order_pdf
from shopfloor.documents.data import (
    CustomerInfo,
    EstimateInfo,
    MarkInfo,
    PricedLine,
    RepairOrderDocument,
    SignatureInfo,
    VehicleInfo,
    WalkaroundInfo,
)
from shopfloor.domain.errors import NotFound
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import RepairOrder, Site, Vehicle
from shopfloor.i18n import Translator
from shopfloor.printer.estimate_slip import EstimateSlipData, SlipLine
from shopfloor.services.context import ServiceContext
from shopfloor.services.reception.customer_page import CustomerPageService
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.reception.handover import HandoverService, customer_leaves
from shopfloor.services.reception.photos import OrderPhotoService
from shopfloor.services.reception.walkaround import WalkaroundService

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from shopfloor.services.reception.estimate import EstimateView
    from shopfloor.services.reception.walkaround import WalkaroundView


@dataclass(frozen=True)
class _Order:
    site_name: str
    number: str
    status: str
    advisor: str
    opened_at: datetime
    promised_at: datetime | None
    complaint: str
    customer: CustomerInfo
    addressed: str
    vehicle: VehicleInfo
    keep_replaced_parts: bool | None
    followup_channel: str | None
    customer_leaves_car: bool | None


class DocumentService:
    def __init__(self, ctx: ServiceContext, server_url: str, *, estimate: EstimateService | None = None,
                 walkaround: WalkaroundService | None = None, handover: HandoverService | None = None,
                 customer_page: CustomerPageService | None = None, photos: OrderPhotoService | None = None
                 ) -> None:
        """`server_url` is what the customer's link starts with; the services are the server's own when given.
        Without `photos` the PDF names the marks that have a photo but does not show it."""
        self.ctx, self.photos = ctx, photos
        self.estimate = estimate or EstimateService(ctx)
        self.walkaround = walkaround or WalkaroundService(ctx)
        self.handover = handover or HandoverService(ctx)
        self.customer_page = customer_page or CustomerPageService(ctx, server_url, estimate=self.estimate)

    # -- the A4 repair order -------------------------------------------------------------------------------
    def repair_order_pdf(self, number: str) -> bytes:
        return repair_order_pdf.render(self.repair_order(number))

    def repair_order(self, number: str) -> RepairOrderDocument:
        """Everything the PDF shows. The estimate is read as it stands (a change since its latest version stores
        a new, unsigned one, as the estimate page would)."""
        order = self._order(number)  # first: an unknown number is refused before anything is stored
        estimate = self.estimate.current(order.number, lang=self.ctx.settings.site.language)
        walk = self.walkaround.get(order.number)
        return RepairOrderDocument(
            site_name=order.site_name, number=order.number, status=order.status, advisor=order.advisor,
            opened_at=order.opened_at, promised_at=order.promised_at, complaint=order.complaint,
            customer=order.customer, vehicle=order.vehicle, estimate=_estimate_info(estimate),
            keep_replaced_parts=_first(estimate.keep_replaced_parts, order.keep_replaced_parts),
            followup_channel=estimate.followup_channel or order.followup_channel,
            customer_leaves_car=order.customer_leaves_car,
            walkaround=self._walkaround_info(order.number, walk), customer_link=self.customer_page.link(order.number),
            made_at=self._local(self.ctx.now()), signatures=self._signatures(order.number),
            language=self.ctx.settings.site.language)

    def _signatures(self, number: str) -> tuple[SignatureInfo, ...]:
        """Every signed version of the estimate, then of the handover record, each with its signature."""
        out: list[SignatureInfo] = []
        for kind, service in (("estimate", self.estimate), ("handover", self.handover)):
            for info in service.versions(number):
                if info.signed_at is None or info.digest is None:
                    continue
                stored = service.document(number, info.version)
                out.append(SignatureInfo(
                    document=kind, version=info.version, signer=info.signer or "",
                    signed_at=self._local(info.signed_at), digest=info.digest, png=stored.signature_png,
                    total=info.customer_total if kind == "estimate" else None, witnessed_by=info.witnessed_by))
        return tuple(out)

    def _walkaround_info(self, number: str, walk: WalkaroundView | None) -> WalkaroundInfo | None:
        if walk is None:
            return None
        return WalkaroundInfo(
            protection_kit=walk.protection_kit, valuables_taken=walk.valuables_taken, explained=walk.explained,
            items={key: str(item["status"]) for key, item in walk.items.items() if item.get("status")},
            marks=tuple(MarkInfo(m.position, m.kind, m.x, m.y, m.note, m.photo_id is not None,
                                 self._photo(number, m.photo_id)) for m in walk.marks),
            recorded_at=self._local(walk.recorded_at) if walk.recorded_at else None, recorded_by=walk.recorded_by)

    def _photo(self, number: str, photo_id: int | None) -> bytes | None:
        if self.photos is None or photo_id is None:
            return None
        path = self.photos.file_of(number, photo_id)
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            log.warning("photo %s of %s is gone from the data folder: the PDF goes without it", photo_id, number)
            return None

    # -- the estimate slip ---------------------------------------------------------------------------------
    def estimate_slip(self, number: str) -> EstimateSlipData:
        """What the reception printer prints: the estimate as it stands, its signature if this version is signed,
        and the customer's link for the QR."""
        order = self._order(number)
        estimate = self.estimate.current(order.number)
        lines = tuple(SlipLine(line.kind, line.description, repair_order_pdf.quantity(line.quantity),
                               _plain(line.amount), line.payer) for line in estimate.lines)
        return EstimateSlipData(
            site_name=order.site_name, ro_number=order.number, plate=order.vehicle.plate, customer=order.addressed,
            advisor=order.advisor, version=estimate.version, lines=lines,
            labour_total=_plain(estimate.labour_total), parts_total=_plain(estimate.parts_total),
            discount=_plain(estimate.discount), total=_plain(estimate.total),
            customer_total=_plain(estimate.customer_total),
            signed_at=self._local(estimate.signed_at) if estimate.signed and estimate.signed_at else None,
            signer=estimate.signer if estimate.signed else None,
            digest=estimate.digest if estimate.signed else None,
            qr_text=self.customer_page.link(order.number), language=self.ctx.settings.site.language)

    # -- the order -----------------------------------------------------------------------------------------
    def _order(self, number: str) -> _Order:
        with self.ctx.db.read() as s:
            ro = self._load(s, number)
            site = s.get(Site, ro.site_id)
            vehicle, customer = ro.vehicle, ro.vehicle.customer
            t = Translator(self.ctx.settings.site.language)
            return _Order(
                site_name=site.name if site else ro.site_id, number=ro.number, status=t(f"status.{ro.status}"),
                advisor=ro.advisor.name, opened_at=self._local(ro.opened_at),
                promised_at=self._local(ro.promised_at) if ro.promised_at else None, complaint=ro.complaint,
                customer=CustomerInfo(customer.surname, customer.given_name, customer.salutation, customer.phone,
                                      customer.address, customer.preferred_channel),
                addressed=customer.addressed,
                vehicle=VehicleInfo(display_plate(vehicle.plate), vehicle.vin, vehicle.model,
                                    ro.mileage_km if ro.mileage_km is not None else vehicle.mileage_km,
                                    ro.fuel_eighths, vehicle.sold_on, vehicle.inspection_due_on,
                                    vehicle.warranty_expires_on),
                keep_replaced_parts=ro.keep_replaced_parts, followup_channel=ro.followup_channel,
                customer_leaves_car=customer_leaves(ro))

    def _load(self, s: Session, number: str) -> RepairOrder:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.site_id == self.ctx.site, RepairOrder.number == number)
                      .options(selectinload(RepairOrder.vehicle).selectinload(Vehicle.customer),
                               selectinload(RepairOrder.advisor), selectinload(RepairOrder.appointment)))
        if ro is None:
            raise NotFound("error.ro_unknown", number=number[:24])
        return ro

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(self.ctx.tz)


def _estimate_info(view: EstimateView) -> EstimateInfo:
    return EstimateInfo(
        version=view.version,
        lines=tuple(PricedLine(x.kind, x.description, x.quantity, x.unit_price, x.amount, x.payer, x.code,
                               x.job_line_id) for x in view.lines),
        labour_total=view.labour_total, parts_total=view.parts_total, discount=view.discount,
        discount_reason=view.discount_reason, total=view.total, customer_total=view.customer_total,
        currency=view.currency, signed=view.signed, terms=view.terms, changes=tuple(view.changes),
        consent=view.consent, consented_by=tuple(view.consented_by))


def _first(*values: bool | None) -> bool | None:
    return next((v for v in values if v is not None), None)


def _plain(amount: Decimal) -> str:
    return f"{amount:.2f}"
