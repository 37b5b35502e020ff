"""What the delivery sheet prints, as the JSON document kept with its print job (printer/delivery_sheet.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import PaymentKind
from shopfloor.domain.aftersales_models import Payment
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import RepairOrder
from shopfloor.domain.workshop import LineStatus
from shopfloor.services.context import ServiceContext
from shopfloor.services.settlement.next_service import next_service


def paid_by(s: Session, ro: RepairOrder) -> list[dict[str, str]]:
    """How the bill was paid: each method with what it took less what it gave back, in the order first used (a
    method refunded in full is left out)."""
    by: dict[str, Decimal] = {}
    for p in s.scalars(select(Payment).where(Payment.repair_order_id == ro.id).order_by(Payment.at, Payment.id)):
        by[p.method] = by.get(p.method, Decimal(0)) + (p.amount if p.kind == PaymentKind.PAYMENT else -p.amount)
    return [{"method": method, "amount": f"{amount:,.2f}"} for method, amount in by.items() if amount]


def sheet_document(s: Session, ctx: ServiceContext, ro: RepairOrder) -> dict[str, Any]:
    from shopfloor.services.settlement.settlement import balance

    _to_pay, paid = balance(s, ctx, ro)
    lang = ctx.settings.site.language
    basis = ""
    if ro.next_service_on is not None:
        again = next_service(s, ctx, ro)  # the reasoning, when it still gives what the delivery stored
        if (again.on, again.km) == (ro.next_service_on, ro.next_service_km):
            basis = again.explain(lang)
    delivered = ro.closed_at or ctx.now()
    return {
        "site_name": ctx.settings.site.name, "ro_number": ro.number, "plate": display_plate(ro.vehicle.plate),
        "customer": ro.vehicle.customer.addressed, "delivered_at": delivered.astimezone(ctx.tz).isoformat(),
        "delivered_by": ro.delivered_by or "",
        "work": [line.description for line in ro.job_lines if line.status == LineStatus.DONE],
        "paid": f"{paid:,.2f}", "payments": paid_by(s, ro),
        "odometer_km": f"{ro.mileage_km:,}" if ro.mileage_km is not None else "",
        "next_service_on": ro.next_service_on.isoformat() if ro.next_service_on else "",
        "next_service_km": f"{ro.next_service_km:,}" if ro.next_service_km is not None else "",
        "basis": basis, "hotline": ctx.settings.booking.hotline, "language": lang,
    }
