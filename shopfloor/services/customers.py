"""Customers and their vehicles: the look-up at the front desk and on the phone (plate, phone, name or VIN,
typed in part), the vehicle's overview before booking or at reception (visit history, upcoming appointments,
open campaigns, declined work, parts on order; repeat-repair and complaining flags, domain.md §2–3), and
keeping the records: a new customer or vehicle, contact preferences, open items."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, false, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import display_plate, new_tag_token, normalize_plate, normalize_vin
from shopfloor.domain.models import (
    Appointment,
    Customer,
    QrTag,
    RepairOrder,
    Vehicle,
    VehicleItem,
)
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.text import has_control_characters
from shopfloor.services import views
from shopfloor.services.audit import Actor
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import ro_number_for_appointment

log = logging.getLogger(__name__)

CHANNELS = ("sms", "wechat", "email", "phone", "letter")
ITEM_KINDS = ("recall", "campaign", "declined", "parts_order")
# appointment statuses that no longer hold a booking
RELEASED = ("cancelled", "no_show")
WAITING = ("booked", "confirmed", "late")
MAX_SEARCH = 100
_OPEN_RO = [s.value for s in OPEN_STATUSES]

_PLATE_SEPARATORS = re.compile(r"[\s·.\-]")
_PHONE_ALLOWED = re.compile(r"^\+?[\d\s\-()]+$")
_LATIN = re.compile(r"[A-Za-z]")
# an address a mail server accepts without surprises: no spaces, one @, a dot in the domain
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
# a WeChat official account's openid for this customer (28 characters today: letters, digits, - and _)
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_Text = ColumnElement[str] | InstrumentedAttribute[str]


# --- validation shared with the DMS import ---------------------------------------------------------------

def normalize_phone(raw: str) -> str:
    """'+86 138-0013-8000' -> '13800138000' (a Chinese mobile as dialled at home); '+44 20 7946 0958' ->
    '+442079460958'; '010-6552 1234' -> '01065521234'. 7 to 15 digits (E.164); digits, spaces, dashes and
    brackets only (an Excel cell showing 1.38001E+10 is refused, not guessed)."""
    text = raw.strip()
    if not _PHONE_ALLOWED.match(text):
        raise Invalid("customer_error.phone_invalid", phone=raw)
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        raise Invalid("customer_error.phone_invalid", phone=raw)
    # a Chinese mobile with the country code is stored as dialled at home: 13800138000
    mobile = re.fullmatch(r"(?:\+86|0086)(1\d{10})", re.sub(r"[^\d+]", "", text))
    if mobile:
        return mobile.group(1)
    return ("+" if text.startswith("+") else "") + digits


def check_channel(channel: str) -> str:
    value = channel.strip().lower()
    if value not in CHANNELS:
        raise Invalid("customer_error.channel_unknown", channel=channel, channels=", ".join(CHANNELS))
    return value


def check_email(raw: str) -> str:
    """An e-mail address for the customer's messages, or "" for none."""
    text = raw.strip()
    if text and (len(text) > 200 or not _EMAIL.match(text)):
        raise Invalid("customer_error.email_invalid", email=raw[:80])
    return text


def check_openid(raw: str) -> str:
    """The customer's openid with the site's WeChat official account (from the account's follower list), or ""."""
    text = raw.strip()
    if text and not _OPENID.match(text):
        raise Invalid("customer_error.openid_invalid")
    return text


def check_names(surname: str, given_name: str, salutation: str) -> tuple[str, str, str]:
    surname, given_name, salutation = surname.strip(), given_name.strip(), salutation.strip()
    if not surname:
        raise Invalid("customer_error.surname_empty")
    if len(surname) > 20 or len(given_name) > 40 or len(salutation) > 10:
        raise Invalid("customer_error.name_too_long")
    if any(has_control_characters(part) for part in (surname, given_name, salutation)):
        raise Invalid("customer_error.name_control")
    return surname, given_name, salutation


def full_name(c: Customer) -> str:
    """王建国; a Latin name stored as surname 'Smith', given name 'John' reads 'John Smith'."""
    if _LATIN.search(c.surname) or _LATIN.search(c.given_name):
        return f"{c.given_name} {c.surname}".strip()
    return f"{c.surname}{c.given_name}"


def active_tag(vehicle: Vehicle) -> str | None:
    tags = sorted((t for t in vehicle.tags if t.revoked_at is None), key=lambda t: t.issued_at, reverse=True)
    return tags[0].token if tags else None


def hit(vehicle: Vehicle, match: str | None = None) -> dict[str, Any]:
    """One search result: a vehicle with its owner (the shape create() also returns)."""
    c = vehicle.customer
    return {
        "vehicle_id": vehicle.id,
        "plate": vehicle.plate,
        "plate_display": display_plate(vehicle.plate),
        "vin": vehicle.vin,
        "model": vehicle.model,
        "customer_id": c.id,
        "customer": full_name(c),
        "addressed": c.addressed,
        "phone": c.phone,
        "preferred_channel": c.preferred_channel,
        "complaining": c.complaining,
        "tag": active_tag(vehicle),
        "match": match,
    }


def customer_dict(c: Customer) -> dict[str, Any]:
    return {"id": c.id, "surname": c.surname, "given_name": c.given_name, "salutation": c.salutation,
            "name": full_name(c), "addressed": c.addressed, "phone": c.phone,
            "preferred_channel": c.preferred_channel, "complaining": c.complaining, "address": c.address,
            "email": c.email, "wechat_openid": c.wechat_openid}


def item_dict(item: VehicleItem) -> dict[str, Any]:
    if item.closed_on is not None:
        state = "closed"
    elif item.kind == "parts_order":
        state = "arrived" if item.arrived_on is not None else "on_order"
    else:
        state = "open"
    return {"id": item.id, "vehicle_id": item.vehicle_id, "kind": item.kind, "description": item.description,
            "part_numbers": item.part_numbers, "created_on": _d(item.created_on), "eta": _d(item.eta),
            "arrived_on": _d(item.arrived_on), "closed_on": _d(item.closed_on), "state": state}


def _d(day: date | None) -> str | None:
    return day.isoformat() if day else None


def last_visit(s: Session, vehicle_id: int) -> RepairOrder | None:
    """The vehicle's last finished visit: the newest repair order that is neither open (that is this visit)
    nor cancelled."""
    return s.scalar(select(RepairOrder).where(
        RepairOrder.vehicle_id == vehicle_id, RepairOrder.status.not_in([*_OPEN_RO, RoStatus.CANCELLED.value]))
        .order_by(RepairOrder.opened_at.desc(), RepairOrder.id.desc()).limit(1))


def repeat_repair_of(s: Session, ctx: ServiceContext, vehicle_id: int) -> RepairOrder | None:
    """The earlier visit that makes this one a repeat repair: the last finished repair order, if it was opened
    within settings.booking.repeat_repair_days days."""
    last = last_visit(s, vehicle_id)
    days = ctx.settings.booking.repeat_repair_days
    if last is not None and last.opened_at >= ctx.now() - timedelta(days=days):
        return last
    return None


def _like(column: _Text, text: str, *, where: str = "contains") -> ColumnElement[bool]:
    """LIKE with the user's % and _ taken literally, case-insensitive on both databases."""
    col = func.lower(column)
    value = text.lower()
    if where == "startswith":
        return col.startswith(value, autoescape=True)
    if where == "endswith":
        return col.endswith(value, autoescape=True)
    return col.contains(value, autoescape=True)


def _stored_phone(column: _Text) -> ColumnElement[str]:
    """The stored phone without the separators older records may carry."""
    return func.replace(func.replace(func.replace(column, " ", ""), "-", ""), "+", "")


class CustomerService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # --- search -------------------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Vehicles with their owners by plate (京A1, A12, 'a 12'), phone (1380013, last digits), name (王, 王建,
        'smith', 'john smith') or VIN (any part). Best first: exact plate/VIN/phone, then plates, phones and
        names that start with the input, then the rest."""
        query = query.strip()[:60]
        # "王先生" as the customer is addressed: the surname is what is stored
        for salutation in ("先生", "女士", "小姐"):
            if query.endswith(salutation) and len(query) > len(salutation):
                query = query[: -len(salutation)].strip()
        if not query:
            return []
        limit = max(1, min(limit, MAX_SEARCH))
        whole = self._conditions(query)
        tokens = query.split()
        if len(tokens) > 1:
            # "王 A12": every word matches something (name and plate, say)
            every = and_(*(or_(*(cond for cond, _ in self._conditions(tok))) for tok in tokens))
            whole.append((every, 3))
        matched = or_(*(cond for cond, _ in whole))
        rank = case(*((cond, literal(r)) for cond, r in sorted(whole, key=lambda x: x[1])), else_=literal(9))
        with self.ctx.db.read() as s:
            rows = s.execute(
                select(Vehicle, rank.label("rank")).join(Customer, Customer.id == Vehicle.customer_id)
                .where(Vehicle.site_id == self.ctx.site, matched)
                .options(selectinload(Vehicle.tags), selectinload(Vehicle.customer))
                .order_by(rank, Vehicle.plate, Vehicle.id).limit(limit)).all()
            return [hit(v, self._match_kind(v, query)) for v, _ in rows]

    def _conditions(self, text: str) -> list[tuple[ColumnElement[bool], int]]:
        """(condition, rank) pairs for one piece of input: 0 exact, 1 starts with, 2 contains."""
        out: list[tuple[ColumnElement[bool], int]] = []
        compact = _PLATE_SEPARATORS.sub("", text).upper()
        if compact and len(compact) <= 17:
            out += [(Vehicle.plate == compact, 0), (Vehicle.plate.startswith(compact, autoescape=True), 1)]
            # without the province: "A12345" is the part people read out
            out += [(func.substr(Vehicle.plate, 2, type_=String).startswith(compact, autoescape=True), 1),
                    (Vehicle.plate.contains(compact, autoescape=True), 2)]
            if compact.isascii() and compact.isalnum():
                out += [(Vehicle.vin == compact, 0), (Vehicle.vin.endswith(compact, autoescape=True), 1)]
                if len(compact) >= 4:
                    out.append((Vehicle.vin.contains(compact, autoescape=True), 2))
        digits = re.sub(r"[\s\-()+]", "", text)
        if digits.isdigit() and len(digits) >= 3:
            phone = _stored_phone(Customer.phone)
            out += [(phone == digits, 0), (phone.endswith("86" + digits), 0), (phone.startswith(digits), 1),
                    (phone.endswith(digits), 1), (phone.contains(digits), 2)]
        if not digits.isdigit():
            name = text.strip()
            spaced = " ".join(name.split())
            joined = Customer.surname + Customer.given_name
            western = Customer.given_name + " " + Customer.surname
            eastern = Customer.surname + " " + Customer.given_name
            out += [(func.lower(joined) == name.lower(), 1), (func.lower(western) == spaced.lower(), 1),
                    (_like(Customer.surname, name, where="startswith"), 1),
                    (_like(joined, name, where="startswith"), 1),
                    (_like(Customer.given_name, name, where="startswith"), 2), (_like(joined, name), 2),
                    (_like(western, spaced), 2), (_like(eastern, spaced), 2)]
        return out or [(false(), 9)]

    @staticmethod
    def _match_kind(v: Vehicle, query: str) -> str:
        compact = _PLATE_SEPARATORS.sub("", query).upper()
        digits = re.sub(r"\D", "", query)
        if compact and compact in v.plate:
            return "plate"
        if compact and compact.isalnum() and compact in v.vin:
            return "vin"
        if digits and len(digits) >= 3 and digits in re.sub(r"\D", "", v.customer.phone):
            return "phone"
        return "name"

    # --- overview -----------------------------------------------------------------------------------------

    def overview(self, vehicle_id: int) -> dict[str, Any]:
        """Everything to see before booking or at reception. Dates are ISO strings, times ISO with the site's
        offset. Upcoming appointments: not cancelled or no-show and not yet begun, plus today's still waiting
        (booked, confirmed, late)."""
        tz = self.ctx.tz
        now = self.ctx.now()
        today_start, _ = self.ctx.day_bounds(self.ctx.today())
        with self.ctx.db.read() as s:
            v = self._vehicle(s, vehicle_id)
            c = v.customer
            ros = list(s.scalars(select(RepairOrder).where(RepairOrder.vehicle_id == v.id)
                                 .options(selectinload(RepairOrder.job_lines), selectinload(RepairOrder.advisor))
                                 .order_by(RepairOrder.opened_at.desc(), RepairOrder.id.desc())))
            visits = [{
                "number": ro.number, "status": ro.status,
                "opened_at": views.iso(ro.opened_at, tz), "closed_at": views.iso(ro.closed_at, tz),
                "opened_on": ro.opened_at.astimezone(tz).date().isoformat(),
                "closed_on": ro.closed_at.astimezone(tz).date().isoformat() if ro.closed_at else None,
                "mileage_km": ro.mileage_km, "advisor": ro.advisor.name, "complaint": ro.complaint,
                "work": [{"code": line.operation_code, "description": line.description, "hours": float(line.hours),
                          "skill": line.skill} for line in ro.job_lines],
                "total_hours": float(ro.total_hours),
            } for ro in ros]
            appts = s.scalars(select(Appointment).where(
                Appointment.vehicle_id == v.id, Appointment.status.not_in(RELEASED),
                or_(Appointment.start >= now,
                    and_(Appointment.start >= today_start, Appointment.status.in_(WAITING))))
                .order_by(Appointment.start))
            upcoming = [views.appointment_state(a, tz, ro_number_for_appointment(s, a.id)).to_dict() for a in appts]
            items = s.scalars(select(VehicleItem).where(VehicleItem.vehicle_id == v.id,
                                                        VehicleItem.closed_on.is_(None))
                              .order_by(VehicleItem.created_on, VehicleItem.id))
            repeat = repeat_repair_of(s, self.ctx, v.id)
            others = s.scalars(select(Vehicle).where(Vehicle.customer_id == c.id, Vehicle.id != v.id)
                               .options(selectinload(Vehicle.tags)).order_by(Vehicle.id))
            return {
                "customer": customer_dict(c),
                "vehicle": self._vehicle_dict(v),
                "visits": visits,
                "appointments": upcoming,
                "open_items": [item_dict(i) for i in items],
                "last_service": self._last_service(s, v),
                "repeat_repair": repeat is not None,
                "repeat_repair_of": repeat.number if repeat is not None else None,
                "complaining": c.complaining,
                "open_ro": next((ro.number for ro in ros if ro.status in _OPEN_RO), None),
                "other_vehicles": [hit(o) for o in others],
            }

    def _last_service(self, s: Session, v: Vehicle) -> dict[str, Any]:
        """The later of what the vehicle record says (from the DMS) and the last finished visit here."""
        on, km = v.last_service_on, v.last_service_km
        last = last_visit(s, v.id)
        if last is not None:
            seen = (last.closed_at or last.opened_at).astimezone(self.ctx.tz).date()
            if on is None or seen >= on:
                on, km = seen, last.mileage_km if last.mileage_km is not None else km
        return {"on": _d(on), "km": km}

    def _vehicle_dict(self, v: Vehicle) -> dict[str, Any]:
        return {"id": v.id, "vin": v.vin, "plate": v.plate, "plate_display": display_plate(v.plate),
                "model": v.model, "mileage_km": v.mileage_km, "mileage_at": _d(v.mileage_at),
                "sold_on": _d(v.sold_on), "last_service_on": _d(v.last_service_on),
                "last_service_km": v.last_service_km, "insurance_expires_on": _d(v.insurance_expires_on),
                "inspection_due_on": _d(v.inspection_due_on), "warranty_expires_on": _d(v.warranty_expires_on),
                "tag": active_tag(v)}

    def _vehicle(self, s: Session, vehicle_id: int) -> Vehicle:
        v = s.get(Vehicle, vehicle_id, options=[selectinload(Vehicle.tags)]) if 0 < vehicle_id < 2**31 else None
        if v is None or v.site_id != self.ctx.site:
            raise NotFound("customer_error.vehicle_unknown", vehicle=vehicle_id)
        return v

    def _customer(self, s: Session, customer_id: int) -> Customer:
        c = s.get(Customer, customer_id) if 0 < customer_id < 2**31 else None
        if c is None or c.site_id != self.ctx.site:
            raise NotFound("customer_error.customer_unknown", customer=customer_id)
        return c

    # --- records ------------------------------------------------------------------------------------------

    def create(self, *, plate: str, vin: str, model: str = "", customer_id: int | None = None,
               surname: str = "", given_name: str = "", salutation: str = "", phone: str = "",
               preferred_channel: str = "sms", address: str = "", mileage_km: int | None = None,
               sold_on: date | None = None, actor: Actor | str = "", email: str = "",
               wechat_openid: str = "") -> dict[str, Any]:
        """A new vehicle with a new QR tag, for a new customer (surname and phone required) or for an existing
        one (customer_id; the name fields are then ignored). A VIN already on file is refused, naming its plate.
        Returns the search-hit dict."""
        plate_n = normalize_plate(plate)
        vin_n = normalize_vin(vin)
        model = model.strip()
        if len(model) > 60:
            raise Invalid("customer_error.model_too_long")
        if mileage_km is not None and not 0 <= mileage_km <= 2_000_000:
            raise Invalid("error.mileage_range")
        if customer_id is None:
            surname, given_name, salutation = check_names(surname, given_name, salutation)
            if not phone.strip():
                raise Invalid("customer_error.phone_missing")
            phone_n = normalize_phone(phone)
            channel = check_channel(preferred_channel)
            email, wechat_openid = check_email(email), check_openid(wechat_openid)
            if channel == "email" and not email:
                raise Invalid("customer_error.email_missing")
            address = address.strip()
            if len(address) > 200:
                raise Invalid("customer_error.address_too_long")
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            taken = s.scalar(select(Vehicle).where(Vehicle.vin == vin_n))
            if taken is not None:
                raise Refused("customer_error.vin_taken", vin=vin_n, plate=display_plate(taken.plate))
            if customer_id is not None:
                customer = self._customer(s, customer_id)
            else:
                customer = Customer(site_id=self.ctx.site, surname=surname, given_name=given_name,
                                    salutation=salutation, phone=phone_n, preferred_channel=channel,
                                    complaining=False, address=address, email=email,
                                    wechat_openid=wechat_openid)
                s.add(customer)
            vehicle = Vehicle(site_id=self.ctx.site, customer=customer, vin=vin_n, plate=plate_n, model=model,
                              mileage_km=mileage_km, mileage_at=self.ctx.today() if mileage_km is not None else None,
                              sold_on=sold_on)
            s.add(vehicle)
            s.add(QrTag(token=new_tag_token(), vehicle=vehicle, issued_at=now))
            s.flush()
            s.refresh(vehicle)
            log.info("new vehicle %s (%s) for customer %s by %s", plate_n, vin_n, customer.id, actor or "?")
            return hit(vehicle)

    def update_customer(self, customer_id: int, *, preferred_channel: str | None = None,
                        complaining: bool | None = None, phone: str | None = None, address: str | None = None,
                        surname: str | None = None, given_name: str | None = None,
                        salutation: str | None = None, email: str | None = None,
                        wechat_openid: str | None = None) -> dict[str, Any]:
        """Changes the fields given (None: unchanged; "" clears an e-mail or openid). Returns customer_dict()."""
        channel = check_channel(preferred_channel) if preferred_channel is not None else None
        email = check_email(email) if email is not None else None
        wechat_openid = check_openid(wechat_openid) if wechat_openid is not None else None
        phone_n = normalize_phone(phone) if phone is not None else None
        if address is not None and len(address.strip()) > 200:
            raise Invalid("customer_error.address_too_long")
        with self.ctx.db.write() as s:
            c = self._customer(s, customer_id)
            if surname is not None or given_name is not None or salutation is not None:
                c.surname, c.given_name, c.salutation = check_names(
                    c.surname if surname is None else surname, c.given_name if given_name is None else given_name,
                    c.salutation if salutation is None else salutation)
            if channel is not None:
                c.preferred_channel = channel
            if complaining is not None:
                c.complaining = bool(complaining)
            if phone_n is not None:
                c.phone = phone_n
            if address is not None:
                c.address = address.strip()
            if email is not None:
                c.email = email
            if wechat_openid is not None:
                c.wechat_openid = wechat_openid
            return customer_dict(c)

    def add_item(self, vehicle_id: int, kind: str, description: str, part_numbers: str = "",
                 eta: date | None = None) -> dict[str, Any]:
        """An open item on the vehicle: recall, campaign, declined (work the customer put off) or parts_order
        (parts ordered for the customer, with their ETA). Returns item_dict()."""
        if kind not in ITEM_KINDS:
            raise Invalid("customer_error.item_kind", kind=kind, kinds=", ".join(ITEM_KINDS))
        description, part_numbers = description.strip(), part_numbers.strip()
        if not description:
            raise Invalid("customer_error.item_description")
        if len(description) > 200 or len(part_numbers) > 200:
            raise Invalid("customer_error.item_too_long")
        with self.ctx.db.write() as s:
            self._vehicle(s, vehicle_id)
            item = VehicleItem(vehicle_id=vehicle_id, kind=kind, description=description, part_numbers=part_numbers,
                               created_on=self.ctx.today(), eta=eta)
            s.add(item)
            s.flush()
            return item_dict(item)

    def close_item(self, item_id: int) -> dict[str, Any]:
        """Done (recall carried out, declined work done, parts fitted). Closing twice keeps the first date."""
        with self.ctx.db.write() as s:
            item = self._item(s, item_id)
            if item.closed_on is None:
                item.closed_on = self.ctx.today()
            return item_dict(item)

    def mark_parts_arrived(self, item_id: int, day: date | None = None) -> dict[str, Any]:
        """The parts of a parts_order item came in (day: default today; not in the future): the customer can
        now be called for an appointment."""
        day = day or self.ctx.today()
        if day > self.ctx.today():
            raise Invalid("customer_error.arrived_future")
        with self.ctx.db.write() as s:
            item = self._item(s, item_id)
            if item.kind != "parts_order":
                raise Refused("customer_error.not_parts_order", item=item_id)
            if item.closed_on is not None:
                raise Refused("customer_error.item_closed", item=item_id)
            item.arrived_on = day
            return item_dict(item)

    def items(self, vehicle_id: int, *, include_closed: bool = False) -> list[dict[str, Any]]:
        with self.ctx.db.read() as s:
            self._vehicle(s, vehicle_id)
            stmt = select(VehicleItem).where(VehicleItem.vehicle_id == vehicle_id)
            if not include_closed:
                stmt = stmt.where(VehicleItem.closed_on.is_(None))
            return [item_dict(i) for i in s.scalars(stmt.order_by(VehicleItem.created_on, VehicleItem.id))]

    def _item(self, s: Session, item_id: int) -> VehicleItem:
        item = s.get(VehicleItem, item_id) if 0 < item_id < 2**31 else None
        if item is None:
            raise NotFound("customer_error.item_unknown", item=item_id)
        vehicle = s.get(Vehicle, item.vehicle_id)
        if vehicle is None or vehicle.site_id != self.ctx.site:
            raise NotFound("customer_error.item_unknown", item=item_id)
        return item
