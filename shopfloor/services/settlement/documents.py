"""The settlement list: on the reception printer and as an A4 PDF with the fields of the national maintenance
settlement list (JT/T 1133); the settled orders as the regional health-record platform takes them (JT/T 1132)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from shopfloor.documents import settlement_pdf
from shopfloor.documents.settlement_data import ListItem, ListPart, ListPayment, SettlementList
from shopfloor.domain.aftersales_models import Payment
from shopfloor.domain.capacity import MAINTENANCE
from shopfloor.domain.errors import Invalid
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import RepairOrder, Site, Vehicle
from shopfloor.printer import settlement_list
from shopfloor.printer.escpos_text import CJK_ENCODINGS
from shopfloor.services.audit import Actor
from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import SETTLEMENT_LIST, PrintJobInfo, PrintService
from shopfloor.services.reception.estimate import live_lines, priced_lines
from shopfloor.services.repair_orders import load_ro
from shopfloor.services.settlement import jtt1132
from shopfloor.services.settlement.settlement import SettlementService, SettlementView

log = logging.getLogger(__name__)

STAMP = "%Y-%m-%d %H:%M"
EXPORT_MAX_DAYS = 366


def _quantity(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _category(ro: RepairOrder) -> str:
    """维修类别: a visit of maintenance work only is 维护; anything a skilled technician must do makes it a repair."""
    skills = {line.skill for line in live_lines(ro)}
    return "maintenance" if skills <= {MAINTENANCE} else "repair"


class SettlementDocuments:
    def __init__(self, ctx: ServiceContext, settlement: SettlementService, printing: PrintService,
                 server_url: str) -> None:
        self.ctx = ctx
        self.settlement = settlement
        self.printing = printing
        self.server_url = server_url
        # here rather than in SettlementServices.on: whoever makes the documents service gets the list printable
        printing.register_document(SETTLEMENT_LIST, settlement_list.render)

    def _local(self, at: datetime | None) -> datetime | None:
        return at.astimezone(self.ctx.tz).replace(tzinfo=None) if at else None

    def document(self, number: str) -> SettlementList:
        """The list as it stands: the bill and its payments from the settlement, the rest from the order."""
        view = self.settlement.summary(number)
        with self.ctx.db.read() as s:
            ro = load_ro(s, number)
            site = s.get(Site, ro.site_id)
            vehicle = ro.vehicle
            return self._document(view, ro, site.name if site else ro.site_id, vehicle)

    def _document(self, view: SettlementView, ro: RepairOrder, site_name: str, vehicle: Vehicle) -> SettlementList:
        conf = self.ctx.settings.settlement
        items = tuple(ListItem(x.description, x.code or "", _quantity(x.quantity), f"{x.unit_price:.2f}",
                               f"{x.amount:.2f}", x.payer) for x in view.lines if x.kind == "labour")
        parts = tuple(ListPart(x.description, x.code or "", _quantity(x.quantity), f"{x.unit_price:.2f}",
                               f"{x.amount:.2f}", x.payer) for x in view.lines if x.kind == "part")
        payments = tuple(ListPayment(p.kind, p.method, f"{p.amount:.2f}", p.reference,
                                     p.at.astimezone(self.ctx.tz).strftime(STAMP)) for p in view.payments)
        date_in = self._local(ro.opened_at)
        assert date_in is not None
        return SettlementList(
            language=self.ctx.settings.site.language, site_name=site_name, licence_number=conf.licence_number,
            address=conf.address, phone=conf.phone, number=ro.number, customer=vehicle.customer.full_name,
            customer_phone=vehicle.customer.phone, plate=display_plate(vehicle.plate), vin=vehicle.vin,
            model=vehicle.model, mileage_km=ro.mileage_km, date_in=date_in, date_out=self._local(ro.closed_at),
            settled_at=self._local(view.settled_at), category=_category(ro), advisor=ro.advisor.name,
            cashier=view.payments[-1].actor if view.payments else "", items=items, parts=parts,
            labour_total=f"{view.labour:.2f}", parts_total=f"{view.parts:.2f}", other_total="0.00",
            discount=f"{view.discount:.2f}", discount_reason=view.discount_reason, total=f"{view.total:.2f}",
            payer_totals=tuple((k, f"{v:.2f}") for k, v in view.payer_totals.items() if k != "customer" and v),
            to_pay=f"{view.to_pay:.2f}", paid=f"{view.paid:.2f}", left=f"{view.left:.2f}", payments=payments,
            warranty_days=conf.warranty_days, warranty_km=conf.warranty_km, currency=view.currency)

    def list_pdf(self, number: str) -> bytes:
        made_at = self._local(self.ctx.now())
        assert made_at is not None
        return settlement_pdf.render(self.document(number), made_at)

    def print_list(self, number: str, printer: str, *, actor: Actor | str) -> PrintJobInfo:
        """The list on a receipt printer. Its version is the list's content: asked for again unchanged it is a
        REPRINT; after a payment (or a changed line) it is a new paper."""
        profile = self.printing.profile(printer)  # an unknown printer is refused before anything is read
        document = self.document(number)
        if profile.encoding not in CJK_ENCODINGS and document.language != "en":
            raise Invalid("settlement_list.error.ascii_printer", printer=printer)
        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            return self.printing.print_order_document(s, ro, printer, SETTLEMENT_LIST, document.to_json(),
                                                      actor=actor, version=document.digest())

    def export(self, first: date, last: date, fmt: str) -> bytes:
        """The orders settled on the site's days first..last (by settled_at), one JT/T 1132 record each, oldest first:
        "json" (a UTF-8 list of records) or "csv" (UTF-8 with a BOM, the lists as JSON in their columns)."""
        if fmt not in ("json", "csv"):
            raise Invalid("settlement_list.error.format")
        refused = Invalid("settlement_list.error.range", first=first.isoformat(), last=last.isoformat(),
                          days=EXPORT_MAX_DAYS)
        if last < first or (last - first).days + 1 > EXPORT_MAX_DAYS:
            raise refused
        try:  # the site's midnights in UTC: year 1 or 9999 has none
            start = datetime.combine(first, time(), tzinfo=self.ctx.tz).astimezone(UTC)
            end = datetime.combine(last + timedelta(days=1), time(), tzinfo=self.ctx.tz).astimezone(UTC)
        except OverflowError:
            raise refused from None
        records = [jtt1132.record(x, self.ctx.tz) for x in self._settled(start, end)]
        log.info("JT/T 1132 export %s..%s as %s: %d records", first, last, fmt, len(records))
        return jtt1132.as_json(records) if fmt == "json" else jtt1132.as_csv(records)

    def _settled(self, start: datetime, end: datetime) -> list[jtt1132.Settled]:
        conf = self.ctx.settings.settlement
        signed = case((Payment.kind == "refund", -Payment.amount), else_=Payment.amount)
        with self.ctx.db.read() as s:
            site = s.get(Site, self.ctx.site)
            company = site.name if site else self.ctx.site
            orders = list(s.scalars(
                select(RepairOrder).where(RepairOrder.site_id == self.ctx.site, RepairOrder.settled_at >= start,
                                          RepairOrder.settled_at < end)
                .options(selectinload(RepairOrder.job_lines),
                         joinedload(RepairOrder.vehicle))
                .order_by(RepairOrder.settled_at, RepairOrder.id)))
            paid: dict[int, Decimal] = {}
            ids = [ro.id for ro in orders]
            for chunk in range(0, len(ids), 1000):  # an IN list of bounded length
                for ro_id, amount in s.execute(select(Payment.repair_order_id, func.sum(signed))
                                               .where(Payment.repair_order_id.in_(ids[chunk:chunk + 1000]))
                                               .group_by(Payment.repair_order_id)):
                    paid[ro_id] = Decimal(amount or 0)
            out = []
            for ro in orders:
                assert ro.settled_at is not None
                lines = priced_lines(ro, self.ctx)
                labour = sum((Decimal(x["amount"]) for x in lines if x["kind"] == "labour"), Decimal(0))
                parts = sum((Decimal(x["amount"]) for x in lines if x["kind"] == "part"), Decimal(0))
                customer = sum((Decimal(x["amount"]) for x in lines if x["payer"] == "customer"), Decimal(0))
                # as the estimate and the settlement cap it: never more than the customer's own lines
                discount = min(ro.discount or Decimal(0), customer)
                out.append(jtt1132.Settled(
                    number=ro.number, company=company, licence_number=conf.licence_number,
                    plate=display_plate(ro.vehicle.plate), vin=ro.vehicle.vin, model=ro.vehicle.model,
                    opened_at=ro.opened_at, settled_at=ro.settled_at, mileage_km=ro.mileage_km,
                    complaint=ro.complaint, category=_category(ro), lines=lines, labour=labour, parts=parts,
                    discount=discount, customer_cost=customer - discount,
                    paid=Decimal(paid.get(ro.id) or 0).quantize(Decimal("0.01"))))
            return out
