"""Where a DMS import's rows go (services/dms_import.py decides what each row does, the same way for both):

- `DatabaseTarget`: a write session: rows become customers, vehicles with their QR tags and appointments, each
  appointment published and audited, as before;
- `MemoryTarget`: a check-only run. It reads the database in read transactions (never the write lock) and keeps
  what the rows would change in memory, as small copies of the rows it read or would create, so a later row of
  the same file finds what an earlier one would have made: a vehicle, a customer by phone, an appointment by its
  DMS reference. New rows get ids above every real id, in the order they would be made, as the database's would.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.identifiers import new_tag_token
from shopfloor.domain.models import Advisor, Appointment, Customer, QrTag, Vehicle
from shopfloor.services.audit import Actor, Entity, record, slot
from shopfloor.services.context import ServiceContext
from shopfloor.services.customers import repeat_repair_of
from shopfloor.services.publishing import publish_appointment

RELEASED = ("cancelled", "no_show")
# ids of what a check-only run would create: above any real id, increasing in the order they would be made
FIRST_NEW_ID = 1 << 62

CUSTOMER_FIELDS = ("id", "site_id", "surname", "given_name", "salutation", "phone", "preferred_channel", "complaining",
                   "address")
VEHICLE_FIELDS = ("id", "site_id", "customer_id", "vin", "plate", "model", "mileage_km", "mileage_at", "sold_on",
                  "last_service_on", "last_service_km", "insurance_expires_on", "inspection_due_on",
                  "warranty_expires_on")
APPOINTMENT_FIELDS = ("id", "site_id", "vehicle_id", "advisor_id", "start", "hours", "work", "skill", "equipment",
                      "job_lines", "notes", "status", "external_ref")


class DatabaseTarget:
    """Rows written in the caller's write session, each in a savepoint of its own."""

    def __init__(self, s: Session, ctx: ServiceContext) -> None:
        self.s, self.ctx = s, ctx

    def row(self) -> AbstractContextManager[Any]:
        return self.s.begin_nested()

    def vehicle(self, vin: str) -> Vehicle | None:
        return self.s.scalar(select(Vehicle).where(Vehicle.vin == vin))

    def customer_of(self, vehicle: Vehicle) -> Customer:
        return vehicle.customer

    def customers_with_phone(self, phone: str) -> list[Customer]:
        return list(self.s.scalars(select(Customer).where(Customer.site_id == self.ctx.site, Customer.phone == phone)
                                   .order_by(Customer.id)))

    def appointment(self, ref: str | None, vehicle: Vehicle, start: datetime) -> Appointment | None:
        query = select(Appointment).where(Appointment.site_id == self.ctx.site)
        if ref:
            query = query.where(Appointment.external_ref == ref)
        else:
            query = query.where(Appointment.vehicle_id == vehicle.id, Appointment.start == start,
                                Appointment.status.not_in(RELEASED))
        return self.s.scalars(query.order_by(Appointment.id).limit(1)).first()

    def new_customer(self, **fields: Any) -> Customer:
        customer = Customer(site_id=self.ctx.site, **fields)
        self.s.add(customer)
        return customer

    def new_vehicle(self, customer: Customer, **fields: Any) -> Vehicle:
        vehicle = Vehicle(site_id=self.ctx.site, customer=customer, **fields)
        self.s.add(vehicle)
        self.s.add(QrTag(token=new_tag_token(), vehicle=vehicle, issued_at=self.ctx.now()))
        return vehicle

    def changed(self, _obj: object) -> None:
        """The session tracks its entities itself."""

    def flush(self) -> None:
        self.s.flush()

    def book(self, vehicle: Vehicle, advisor: Advisor, wanted: dict[str, Any], ref: str | None,
             actor: Actor | str, line: int) -> int | None:
        ctx = self.ctx
        repeat = repeat_repair_of(self.s, ctx, vehicle.id) is not None
        appt = Appointment(site_id=ctx.site, vehicle=vehicle, advisor=advisor, status="booked", version=0,
                           source="import", external_ref=ref, created_at=ctx.now(), created_by=str(actor),
                           complaining_customer=vehicle.customer.complaining, repeat_repair=repeat,
                           parts_status="none", **wanted)
        self.s.add(appt)
        self.s.flush()
        publish_appointment(self.s, ctx, appt)
        record(self.s, ctx, actor, Entity.APPOINTMENT, appt.id, "imported",
               to_value=slot(wanted["start"], advisor.name, ctx.tz), detail={"line": line, "external_ref": ref})
        return appt.id

    def rebook(self, appt: Any, diff: dict[str, Any], vehicle: Vehicle, advisor: Advisor,
               actor: Actor | str, line: int, ref: str | None) -> int | None:
        ctx = self.ctx
        record(self.s, ctx, actor, Entity.APPOINTMENT, appt.id, "import_updated",
               from_value=slot(appt.start, appt.advisor.name, ctx.tz),
               to_value=slot(diff.get("start", appt.start), advisor.name, ctx.tz),
               detail={"line": line, "external_ref": ref, "changed": sorted(diff)})
        _apply(appt, diff)
        appt.vehicle, appt.advisor = vehicle, advisor
        publish_appointment(self.s, ctx, appt)
        return appt.id


def _apply(appt: Any, diff: dict[str, Any]) -> None:
    for k, val in diff.items():
        setattr(appt, k, val)
    if "start" in diff and appt.status == "late":
        appt.status = "booked"


class Copy:
    """A row's columns, as a check-only run read or would write them (attribute names as the model's)."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:  # only for a field it was not given; says what the fields are typed
        raise AttributeError(name)

    @classmethod
    def of(cls, entity: object, names: tuple[str, ...]) -> Copy:
        return cls(**{name: getattr(entity, name) for name in names})


class MemoryTarget:
    """A check-only run: reads in the read session it is given (set per chunk of rows), changes only in memory."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.s: Session | None = None
        self._ids = itertools.count(FIRST_NEW_ID)
        self.vehicles: dict[str, Copy] = {}           # by VIN: every vehicle read or made
        self.customers: dict[int, Copy] = {}          # by id: every customer read or made
        self.appointments: dict[int, Copy] = {}       # by id: those changed or made
        # and how a row finds them, as the database's indexes would (a scan per row made a check quadratic)
        self._by_phone: dict[str, set[int]] = defaultdict(set)
        self._phone_of: dict[int, str] = {}
        self._by_ref: dict[str, set[int]] = defaultdict(set)
        self._by_slot: dict[tuple[int, datetime], set[int]] = defaultdict(set)

    @contextmanager
    def reading(self, s: Session) -> Iterator[None]:
        self.s = s
        try:
            yield
        finally:
            self.s = None

    @property
    def session(self) -> Session:
        assert self.s is not None, "MemoryTarget used outside reading()"
        return self.s

    def row(self) -> AbstractContextManager[Any]:
        return nullcontext()  # a row raises before it changes anything (dms_import._write_row)

    def vehicle(self, vin: str) -> Copy | None:
        if vin not in self.vehicles:
            found = self.session.scalar(select(Vehicle).where(Vehicle.vin == vin))
            if found is None:
                return None
            self.vehicles[vin] = Copy.of(found, VEHICLE_FIELDS)
            self._customer(found.customer_id)
        return self.vehicles[vin]

    def _customer(self, customer_id: int) -> Copy:
        if customer_id not in self.customers:
            found = self.session.get(Customer, customer_id)
            assert found is not None
            self._keep_customer(Copy.of(found, CUSTOMER_FIELDS))
        return self.customers[customer_id]

    def _keep_customer(self, customer: Copy) -> None:
        """Keeps the copy, findable by its phone as it is now."""
        self.customers[customer.id] = customer
        was = self._phone_of.get(customer.id)
        if was is not None:
            self._by_phone[was].discard(customer.id)
        self._by_phone[customer.phone].add(customer.id)
        self._phone_of[customer.id] = customer.phone

    def _keep_appointment(self, appt: Copy, was: tuple[int, datetime] | None = None) -> None:
        self.appointments[appt.id] = appt
        if was is not None:
            self._by_slot[was].discard(appt.id)
        self._by_slot[(appt.vehicle_id, appt.start)].add(appt.id)
        if appt.external_ref:
            self._by_ref[appt.external_ref].add(appt.id)

    def customer_of(self, vehicle: Copy) -> Copy:
        return self._customer(vehicle.customer_id)

    def customers_with_phone(self, phone: str) -> list[Copy]:
        on_file = self.session.scalars(select(Customer.id).where(Customer.site_id == self.ctx.site,
                                                                Customer.phone == phone))
        candidates = {cid: self._customer(cid) for cid in on_file}
        # and those made or changed by earlier rows (a phone may have changed in memory)
        candidates.update({cid: self.customers[cid] for cid in self._by_phone.get(phone, ())})
        return [c for _, c in sorted(candidates.items()) if c.phone == phone]

    def appointment(self, ref: str | None, vehicle: Copy, start: datetime) -> Copy | None:
        if ref:
            on_file = list(self.session.scalars(select(Appointment).where(Appointment.site_id == self.ctx.site,
                                                                          Appointment.external_ref == ref)))
            mine = [self.appointments[i] for i in self._by_ref.get(ref, ())]
        else:
            on_file = list(self.session.scalars(select(Appointment).where(
                Appointment.site_id == self.ctx.site, Appointment.vehicle_id == vehicle.id,
                Appointment.start == start))) if vehicle.id < FIRST_NEW_ID else []
            mine = [a for a in (self.appointments[i] for i in self._by_slot.get((vehicle.id, start), ()))
                    if a.status not in RELEASED]
        found = {a.id: self.appointments.get(a.id) or Copy.of(a, APPOINTMENT_FIELDS) for a in on_file}
        found.update({a.id: a for a in mine})
        if not ref:  # as read now, with what earlier rows changed
            found = {i: a for i, a in found.items() if a.start == start and a.status not in RELEASED}
        return found[min(found)] if found else None

    def new_customer(self, **fields: Any) -> Copy:
        customer = Copy(id=next(self._ids), site_id=self.ctx.site, **fields)
        self._keep_customer(customer)
        return customer

    def new_vehicle(self, customer: Copy, **fields: Any) -> Copy:
        vehicle = Copy(id=next(self._ids), site_id=self.ctx.site, customer_id=customer.id, mileage_km=None,
                       mileage_at=None, sold_on=None, last_service_on=None, last_service_km=None,
                       insurance_expires_on=None, inspection_due_on=None, warranty_expires_on=None, **fields)
        self.vehicles[vehicle.vin] = vehicle
        return vehicle

    def changed(self, obj: object) -> None:
        """Vehicles and customers are kept as they were read; a customer may have a new phone."""
        if isinstance(obj, Copy) and obj.id in self.customers and self.customers[obj.id] is obj:
            self._keep_customer(obj)

    def flush(self) -> None:
        """Nothing to write."""

    def book(self, vehicle: Copy, advisor: Advisor, wanted: dict[str, Any], ref: str | None,
             actor: Actor | str, line: int) -> int | None:
        appt = Copy(id=next(self._ids), site_id=self.ctx.site, status="booked", external_ref=ref, **wanted)
        self._keep_appointment(appt)
        return None  # no id: nothing was booked

    def rebook(self, appt: Any, diff: dict[str, Any], vehicle: Copy, advisor: Advisor, actor: Actor | str,
               line: int, ref: str | None) -> int | None:
        was = (appt.vehicle_id, appt.start)
        _apply(appt, diff)
        self._keep_appointment(appt, was)
        return appt.id if appt.id < FIRST_NEW_ID else None
