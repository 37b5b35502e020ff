"""What an access request under China's PIPL gets (个人信息查阅、复制): everything the site keeps about one person, as
JSON — the customer's own fields, their vehicles, appointments, repair orders with their lines, parts and payments,
the signed documents (who signed when; the signature's picture is not copied out), the messages sent to them, the
follow-up calls, the complaints and the names of the photos taken of their cars."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.aftersales_models import Complaint, CustomerMessage, FollowUpCall, Payment
from shopfloor.domain.models import Appointment, Customer, JobLine, RepairOrder, Vehicle, VehicleItem
from shopfloor.domain.reception_models import OrderPhoto, SignedDocument
from shopfloor.domain.workshop_models import AdditionalWork

FORMAT = "shopfloor personal data"
VERSION = 1


def _at(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat() if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def customer_fields(c: Customer, tz: ZoneInfo) -> dict[str, Any]:
    return {"id": c.id, "surname": c.surname, "given_name": c.given_name, "salutation": c.salutation,
            "phone": c.phone, "email": c.email, "wechat_openid": c.wechat_openid, "address": c.address,
            "preferred_channel": c.preferred_channel, "complaining": c.complaining, "erased_at": _at(c.erased_at, tz)}


def _vehicle(v: Vehicle, items: list[VehicleItem]) -> dict[str, Any]:
    return {"id": v.id, "plate": v.plate, "vin": v.vin, "model": v.model, "mileage_km": v.mileage_km,
            "mileage_at": _day(v.mileage_at), "sold_on": _day(v.sold_on), "last_service_on": _day(v.last_service_on),
            "last_service_km": v.last_service_km, "insurance_expires_on": _day(v.insurance_expires_on),
            "inspection_due_on": _day(v.inspection_due_on), "warranty_expires_on": _day(v.warranty_expires_on),
            "items": [{"kind": i.kind, "description": i.description, "created_on": _day(i.created_on),
                       "closed_on": _day(i.closed_on)} for i in items]}


def _appointment(a: Appointment, tz: ZoneInfo) -> dict[str, Any]:
    return {"id": a.id, "plate": a.vehicle.plate, "start": _at(a.start, tz), "hours": str(a.hours), "work": a.work,
            "status": a.status, "notes": a.notes, "waiting_customer": a.waiting_customer, "source": a.source,
            "created_at": _at(a.created_at, tz), "call_outcome": a.call_outcome, "called_at": _at(a.called_at, tz),
            "cancel_reason": a.cancel_reason}


def _line(line: JobLine) -> dict[str, Any]:
    return {"description": line.description, "operation_code": line.operation_code, "hours": str(line.hours),
            "payer": line.payer, "status": line.status,
            "parts": [{"number": p.number, "name": p.name, "quantity": str(p.quantity),
                       "unit_price": _money(p.unit_price), "status": p.status} for p in line.parts]}


def _order(s: Session, ro: RepairOrder, tz: ZoneInfo) -> dict[str, Any]:
    payments = s.scalars(select(Payment).where(Payment.repair_order_id == ro.id).order_by(Payment.id))
    documents = s.scalars(select(SignedDocument).where(SignedDocument.repair_order_id == ro.id)
                          .order_by(SignedDocument.kind, SignedDocument.version))
    photos = list(s.scalars(select(OrderPhoto.name).where(OrderPhoto.repair_order_id == ro.id)
                            .order_by(OrderPhoto.id)))
    photos += [n for n in s.scalars(select(AdditionalWork.photo).where(
        AdditionalWork.repair_order_id == ro.id, AdditionalWork.photo.is_not(None)).order_by(AdditionalWork.id)) if n]
    return {"number": ro.number, "plate": ro.vehicle.plate, "status": ro.status, "opened_at": _at(ro.opened_at, tz),
            "closed_at": _at(ro.closed_at, tz), "promised_at": _at(ro.promised_at, tz), "mileage_km": ro.mileage_km,
            "complaint": ro.complaint, "advisor": ro.advisor.name, "discount": _money(ro.discount),
            "discount_reason": ro.discount_reason, "settled_at": _at(ro.settled_at, tz),
            "next_service_on": _day(ro.next_service_on), "next_service_km": ro.next_service_km,
            "lines": [_line(line) for line in ro.job_lines],
            "payments": [{"kind": p.kind, "method": p.method, "amount": _money(p.amount), "at": _at(p.at, tz),
                          "reference": p.reference, "reason": p.reason} for p in payments],
            "signed_documents": [{"kind": d.kind, "version": d.version, "signed_at": _at(d.signed_at, tz),
                                  "signer": d.signer, "has_signature_image": d.signature_png is not None}
                                 for d in documents],
            "photos": photos}


def _message(m: CustomerMessage, tz: ZoneInfo) -> dict[str, Any]:
    return {"id": m.id, "template": m.template, "channel": m.channel, "recipient": m.recipient, "subject": m.subject,
            "body": m.body, "state": m.state, "created_at": _at(m.created_at, tz), "sent_at": _at(m.sent_at, tz)}


def _follow_up(f: FollowUpCall, tz: ZoneInfo) -> dict[str, Any]:
    return {"id": f.id, "kind": f.kind, "due_on": _day(f.due_on), "status": f.status, "outcome": f.outcome,
            "score": f.score, "problem_class": f.problem_class, "note": f.note, "called_at": _at(f.called_at, tz),
            "attempts": [{"at": _at(a.at, tz), "outcome": a.outcome, "note": a.note} for a in f.attempts_made]}


def _complaint(c: Complaint, tz: ZoneInfo) -> dict[str, Any]:
    return {"id": c.id, "opened_at": _at(c.opened_at, tz), "source": c.source, "problem_class": c.problem_class,
            "severity": c.severity, "text": c.description, "status": c.status, "findings": c.findings,
            "resolution": c.resolution, "closed_at": _at(c.closed_at, tz)}


def export_customer(s: Session, c: Customer, tz: ZoneInfo) -> dict[str, Any]:
    """One person's data as the export's "customers" entry (Decimal amounts as text, moments in the site's time)."""
    vehicles = list(s.scalars(select(Vehicle).where(Vehicle.customer_id == c.id).order_by(Vehicle.id)))
    vehicle_ids = [v.id for v in vehicles]
    items: dict[int, list[VehicleItem]] = {v.id: [] for v in vehicles}
    for item in s.scalars(select(VehicleItem).where(VehicleItem.vehicle_id.in_(vehicle_ids)).order_by(VehicleItem.id)):
        items[item.vehicle_id].append(item)
    appointments = s.scalars(select(Appointment).where(Appointment.vehicle_id.in_(vehicle_ids))
                             .options(selectinload(Appointment.vehicle)).order_by(Appointment.start))
    orders = s.scalars(select(RepairOrder).where(RepairOrder.vehicle_id.in_(vehicle_ids))
                       .options(selectinload(RepairOrder.vehicle), selectinload(RepairOrder.job_lines))
                       .order_by(RepairOrder.opened_at))
    messages = s.scalars(select(CustomerMessage).where(CustomerMessage.customer_id == c.id)
                         .order_by(CustomerMessage.id))
    calls = s.scalars(select(FollowUpCall).where(FollowUpCall.vehicle_id.in_(vehicle_ids)).order_by(FollowUpCall.id))
    complaints = s.scalars(select(Complaint).where(or_(Complaint.customer_id == c.id,
                                                       Complaint.vehicle_id.in_(vehicle_ids))).order_by(Complaint.id))
    order_list = [_order(s, ro, tz) for ro in orders]
    return {"customer": customer_fields(c, tz), "vehicles": [_vehicle(v, items[v.id]) for v in vehicles],
            "appointments": [_appointment(a, tz) for a in appointments], "repair_orders": order_list,
            "messages": [_message(m, tz) for m in messages], "follow_up_calls": [_follow_up(f, tz) for f in calls],
            "complaints": [_complaint(x, tz) for x in complaints],
            "photos": [name for order in order_list for name in order["photos"]]}
