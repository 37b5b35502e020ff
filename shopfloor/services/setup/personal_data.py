"""Customers' personal data under China's PIPL (个人信息保护法): who has not come for [retention]
personal_data_years, an access request's export, and erasure on request — audited, without the person's data in
the audit.

A **visit** is any sign the customer still deals with the site, the latest of: a repair order opened (not
cancelled), an appointment (not cancelled, not a no-show; a future one counts), a follow-up call that reached them
(done, not unreachable), a complaint they made, and the DMS's dates on their vehicles (sold on, last service on).
A customer with none of these has no last visit and is listed too: nothing says the site still needs their data.

**Erasure** anonymises the person and keeps the orders' accounts (settlement records are kept for tax):
- the customer: surname → the erased marker ("已删除" / "(erased)" in the site's language), given name, salutation,
  phone, e-mail, WeChat openid and address emptied, no longer flagged complaining, `erased_at` set;
- vehicles: the plate keeps its last 2 characters behind asterisks (*****20: a plate identifies its owner in China);
  the VIN likewise, behind the vehicle's row id (#372***********72) because VINs are unique; QR tags revoked. The
  model, mileage and dates stay: they describe the car the accounts are about;
- the messages sent to them: recipient, subject, text and template fields emptied; those still queued or to send by
  hand are cancelled; the follow-up calls' notes and attempts' notes emptied, calls still due given up; the
  complaints' text in the customer's words emptied (the site's findings and resolution stay); appointments' notes
  emptied;
- signed documents (estimate, handover record): the signature's PNG deleted, the signer's name and the customer's
  name, plate and VIN in the signed content replaced as above — such a document no longer verifies, since what was
  signed held the person's data; its digests and moments stay as the record that it was signed. The signer's name
  in those signatures' audit rows is replaced too (the one audit detail that holds it);
- photos taken at reception and of additional work on their orders: the rows deleted and the files removed from
  DATA_DIR/photos (after the commit, so no row ever points to a missing file).
- copies: the finished or failed print jobs of their orders (the tickets' and lists' bytes name them) and the sent
  bus messages about their orders and appointments are deleted; what the boards may still show (appointments from
  yesterday on, orders closed since yesterday) is published again with the masked data. Files outside the database
  (a file printer's tickets, a printer agent's journal) are not touched.
Repair orders, their lines, parts, payments, refunds, staff names and every figure stay as they were.
On SQLite the erasing transaction overwrites what it frees (secure_delete) and the WAL is checkpointed and truncated
afterwards, so the data does not linger in the file; PostgreSQL's autovacuum removes the old row versions. Backups
keep it until they rotate out ([backup] keep).

Refused (409) while the customer has an open repair order or an appointment still to come: erase after the visit."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Select, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from shopfloor.contract import topics
from shopfloor.domain.aftersales import FollowUpOutcome, FollowUpStatus, MessageState
from shopfloor.domain.aftersales_models import Complaint, CustomerMessage, FollowUpAttempt, FollowUpCall
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import (
    Appointment,
    AuditEntry,
    Customer,
    OutboxMessage,
    PrintJob,
    QrTag,
    RepairOrder,
    Vehicle,
)
from shopfloor.domain.reception_models import DamageMark, OrderPhoto, SignedDocument
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.text import has_control_characters
from shopfloor.domain.workshop_models import AdditionalWork
from shopfloor.i18n import t
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.customers import CustomerService, full_name
from shopfloor.services.pruning import FINISHED_JOBS
from shopfloor.services.publishing import publish_appointment, publish_orders
from shopfloor.services.setup.personal_data_export import FORMAT, VERSION, export_customer
from shopfloor.services.workshop.photos import PhotoStore

log = logging.getLogger(__name__)

RELEASED = ("cancelled", "no_show")  # appointments that never were a visit
WAITING = ("booked", "confirmed", "late")  # appointments still to come
SIGNED_ACTIONS = ("estimate_signed", "handover_signed")
MAX_REASON = 300
MAX_EXPORT = 100  # customers in one export
CHUNK = 500  # topics per IN (...): below SQLite's limit of bound parameters


@dataclass(frozen=True)
class InactiveCustomer:
    id: int
    name: str
    phone: str
    plates: list[str]
    last_visit: date | None  # None: no visit recorded at all


@dataclass(frozen=True)
class CustomerMatch:
    """A customer found for a request (by phone or plate), with their last visit and whether they are erased."""

    id: int
    name: str
    phone: str
    plates: list[str]
    last_visit: date | None
    erased: bool


@dataclass
class Erased:
    """What an erasure changed (counts only: the report holds no personal data)."""

    customer_id: int
    erased_at: datetime
    vehicles: int = 0
    appointments: int = 0
    repair_orders: int = 0  # kept, with their accounts; their signed documents and photos changed
    messages: int = 0
    messages_cancelled: int = 0
    follow_up_calls: int = 0
    complaints: int = 0
    signatures: int = 0
    photos: int = 0
    photo_files_removed: int = 0
    print_jobs: int = 0  # finished or failed tickets and lists of their orders, deleted (their bytes name them)
    bus_messages: int = 0  # sent messages of the bus about their orders and appointments, deleted
    photo_files: list[str] = field(default_factory=list, repr=False)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int) and k != "customer_id"}


def mask_plate(plate: str) -> str:
    """京NA1520 → *****20: the last 2 characters, the length kept."""
    return "*" * max(len(plate) - 2, 0) + plate[-2:]


def mask_vin(vin: str, vehicle_id: int) -> str:
    """LVGCCWK10PA100372 → #372***********72: the last 2 characters behind the row id (VINs are unique)."""
    return f"#{vehicle_id}".ljust(15, "*")[:15] + vin[-2:]


def _local_day(value: datetime | date | None, ctx: ServiceContext) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(ctx.tz).date()
    return value


def _changed(s: Session, statement: Executable) -> int:
    """The rows an UPDATE changed."""
    return cast("CursorResult[Any]", s.execute(statement)).rowcount


def cutoff(today: date, years: int) -> date:
    """The same day `years` years ago (28 February for a 29th that year has not)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


class PersonalDataService:
    def __init__(self, ctx: ServiceContext, data_dir: Path | None = None) -> None:
        """`data_dir`: where the photos are kept (without it, erasure deletes the photos' rows and reports their
        files as not removed)."""
        self.ctx = ctx
        self.photos = PhotoStore(data_dir) if data_dir is not None else None

    @property
    def years(self) -> int:
        return self.ctx.settings.retention.personal_data_years

    # -- who has not come ------------------------------------------------------------------------------------
    def last_visits(self, s: Session, customer_ids: list[int] | None = None) -> dict[int, date]:
        """Each customer's last visit as a local day (see the module's docstring); customers without one absent."""
        site = self.ctx.site
        sources: list[Select[Any, Any]] = [
            select(Vehicle.customer_id, func.max(RepairOrder.opened_at)).join(Vehicle, Vehicle.id ==
                                                                             RepairOrder.vehicle_id)
            .where(RepairOrder.site_id == site, RepairOrder.status != RoStatus.CANCELLED.value),
            select(Vehicle.customer_id, func.max(Appointment.start)).join(Vehicle, Vehicle.id == Appointment.vehicle_id)
            .where(Appointment.site_id == site, Appointment.status.not_in(RELEASED)),
            select(Vehicle.customer_id, func.max(FollowUpCall.called_at)).join(
                Vehicle, Vehicle.id == FollowUpCall.vehicle_id)
            .where(FollowUpCall.site_id == site, FollowUpCall.status == FollowUpStatus.DONE.value,
                   FollowUpCall.outcome != FollowUpOutcome.UNREACHABLE.value),
            select(Complaint.customer_id, func.max(Complaint.opened_at))
            .where(Complaint.site_id == site, Complaint.customer_id.is_not(None)),
            select(Vehicle.customer_id, func.max(Vehicle.last_service_on)).where(Vehicle.site_id == site),
            select(Vehicle.customer_id, func.max(Vehicle.sold_on)).where(Vehicle.site_id == site),
        ]
        out: dict[int, date] = {}
        for query in sources:
            who = query.selected_columns[0]
            if customer_ids is not None:
                query = query.where(who.in_(customer_ids))
            for customer_id, moment in s.execute(query.group_by(who)):
                day = _local_day(moment, self.ctx)
                if customer_id is not None and day is not None and (customer_id not in out or day > out[customer_id]):
                    out[customer_id] = day
        return out

    def inactive(self, years: int | None = None) -> list[InactiveCustomer]:
        """Customers not erased yet whose last visit is before the same day `years` ago (default: [retention]
        personal_data_years), the longest gone first; those without any visit first of all."""
        years = self.years if years is None else years
        if not 1 <= years <= 30:
            raise Invalid("privacy.error.years", most=30)
        before = cutoff(self.ctx.today(), years)
        with self.ctx.db.read() as s:
            visits = self.last_visits(s)
            customers = list(s.scalars(select(Customer).where(Customer.site_id == self.ctx.site,
                                                              Customer.erased_at.is_(None))))
            gone = [c for c in customers if visits.get(c.id) is None or visits[c.id] < before]
            plates = self._plates(s, [c.id for c in gone])
            rows = [InactiveCustomer(c.id, full_name(c), c.phone, plates.get(c.id, []), visits.get(c.id))
                    for c in gone]
        return sorted(rows, key=lambda r: (r.last_visit or date.min, r.id))

    def find(self, query: str) -> list[CustomerMatch]:
        """The customers a request names, by phone, plate, name or VIN (as the front desk's search), erased ones
        included (they are found by what is left: the plate's last characters)."""
        ids: list[int] = []
        for hit in CustomerService(self.ctx).search(query, limit=50):
            if hit["customer_id"] not in ids:
                ids.append(hit["customer_id"])
        if not ids:
            return []
        with self.ctx.db.read() as s:
            visits = self.last_visits(s, ids)
            plates = self._plates(s, ids)
            found = {c.id: c for c in s.scalars(select(Customer).where(Customer.id.in_(ids)))}
            return [CustomerMatch(i, full_name(found[i]), found[i].phone, plates.get(i, []), visits.get(i),
                                  found[i].erased_at is not None) for i in ids if i in found]

    def customer(self, customer_id: int) -> CustomerMatch:
        with self.ctx.db.read() as s:
            c = self._customer(s, customer_id)
            return CustomerMatch(c.id, full_name(c), c.phone, self._plates(s, [c.id]).get(c.id, []),
                                 self.last_visits(s, [c.id]).get(c.id), c.erased_at is not None)

    # -- access request --------------------------------------------------------------------------------------
    def export(self, customer_ids: list[int], *, actor: Actor | str) -> dict[str, Any]:
        """The people's data as one JSON-ready document (audited per customer, without their data)."""
        ids = list(dict.fromkeys(customer_ids))
        if not ids or len(ids) > MAX_EXPORT:
            raise Invalid("privacy.error.export_count", most=MAX_EXPORT)
        with self.ctx.db.write() as s:
            people = []
            for customer_id in ids:
                c = self._customer(s, customer_id)
                entry = export_customer(s, c, self.ctx.tz)
                people.append(entry)
                record(s, self.ctx, actor, Entity.CUSTOMER, c.id, "personal_data_exported",
                       detail={"vehicles": len(entry["vehicles"]), "repair_orders": len(entry["repair_orders"]),
                               "messages": len(entry["messages"])})
        return {"format": FORMAT, "version": VERSION, "site": self.ctx.site,
                "exported_at": self.ctx.now().astimezone(self.ctx.tz).isoformat(), "customers": people}

    # -- erasure ---------------------------------------------------------------------------------------------
    def erase(self, customer_id: int, reason: str, *, actor: Actor | str) -> Erased:
        """Anonymise the customer (see the module's docstring). Invalid without a reason; NotFound for an unknown
        customer; Refused when already erased, with an open repair order or with an appointment still to come."""
        why = " ".join((reason or "").split())
        if not why or len(why) > MAX_REASON or has_control_characters(why):
            raise Invalid("privacy.error.reason", most=MAX_REASON)
        sqlite = self.ctx.db.write_engine.dialect.name == "sqlite"
        with self.ctx.db.write() as s:
            if sqlite:  # what this transaction frees is overwritten with zeros, not left in the file
                s.execute(text("PRAGMA secure_delete = ON"))
            try:
                done = self._erase(s, customer_id, why, actor)
            finally:
                if sqlite:
                    s.execute(text("PRAGMA secure_delete = OFF"))
        done.photo_files_removed = self._remove_files(done.photo_files)
        if sqlite:
            self._checkpoint()
        log.info("personal data of customer %s erased by %s: %s", customer_id, actor, done.counts())
        return done

    def _erase(self, s: Session, customer_id: int, why: str, actor: Actor | str) -> Erased:
        c = self._customer(s, customer_id)
        if c.erased_at is not None:
            raise Refused("privacy.error.already_erased", id=c.id)
        vehicles = list(s.scalars(select(Vehicle).where(Vehicle.customer_id == c.id).order_by(Vehicle.id)))
        vehicle_ids = [v.id for v in vehicles]
        open_order = s.scalar(select(RepairOrder.number).where(
            RepairOrder.vehicle_id.in_(vehicle_ids), RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
            .limit(1))
        if open_order is not None:
            raise Refused("privacy.error.open_order", number=open_order)
        start_of_today = datetime.combine(self.ctx.today(), time(0), tzinfo=self.ctx.tz)
        coming = s.scalar(select(Appointment.start).where(
            Appointment.vehicle_id.in_(vehicle_ids), Appointment.status.in_(WAITING),
            Appointment.start >= start_of_today).order_by(Appointment.start).limit(1))
        if coming is not None:
            raise Refused("privacy.error.future_appointment", start=f"{coming.astimezone(self.ctx.tz):%Y-%m-%d %H:%M}")
        now = self.ctx.now()
        marker = t(self.ctx.settings.site.language, "privacy.erased_name")[:20]
        done = Erased(c.id, now, vehicles=len(vehicles))
        c.surname, c.given_name, c.salutation = marker, "", ""
        c.phone = c.email = c.wechat_openid = c.address = ""
        c.complaining, c.erased_at = False, now
        masked = {v.id: (mask_plate(v.plate), mask_vin(v.vin, v.id)) for v in vehicles}
        for v in vehicles:
            v.plate, v.vin = masked[v.id]
        s.execute(update(QrTag).where(QrTag.vehicle_id.in_(vehicle_ids), QrTag.revoked_at.is_(None))
                  .values(revoked_at=now))
        done.appointments = _changed(s, update(Appointment).where(Appointment.vehicle_id.in_(vehicle_ids))
                                      .values(notes=""))
        orders = list(s.execute(select(RepairOrder.id, RepairOrder.number, RepairOrder.vehicle_id)
                                .where(RepairOrder.vehicle_id.in_(vehicle_ids))))
        done.repair_orders = len(orders)
        self._messages(s, c.id, done)
        self._aftercare(s, c.id, vehicle_ids, done)
        self._documents(s, orders, masked, marker, done)
        self._photos(s, [o.id for o in orders], done)
        self._printed_and_published(s, orders, vehicle_ids, done)
        s.flush()
        record(s, self.ctx, actor, Entity.CUSTOMER, c.id, "personal_data_erased", reason=why, detail=done.counts())
        return done

    def _messages(self, s: Session, customer_id: int, done: Erased) -> None:
        done.messages_cancelled = _changed(
            s, update(CustomerMessage).where(CustomerMessage.customer_id == customer_id,
                                          CustomerMessage.state.in_([MessageState.QUEUED.value,
                                                                     MessageState.MANUAL.value]))
            .values(state=MessageState.CANCELLED.value, provider_reason="personal data erased",
                    updated_at=self.ctx.now()))
        done.messages = _changed(
            s, update(CustomerMessage).where(CustomerMessage.customer_id == customer_id)
            .values(recipient="", subject="", body="", params={}))

    def _aftercare(self, s: Session, customer_id: int, vehicle_ids: list[int], done: Erased) -> None:
        call_ids = list(s.scalars(select(FollowUpCall.id).where(FollowUpCall.vehicle_id.in_(vehicle_ids))))
        done.follow_up_calls = len(call_ids)
        s.execute(update(FollowUpCall).where(FollowUpCall.id.in_(call_ids), FollowUpCall.status ==
                                             FollowUpStatus.DUE.value).values(status=FollowUpStatus.GAVE_UP.value))
        s.execute(update(FollowUpCall).where(FollowUpCall.id.in_(call_ids)).values(note=""))
        s.execute(update(FollowUpAttempt).where(FollowUpAttempt.follow_up_id.in_(call_ids)).values(note=""))
        done.complaints = _changed(s, update(Complaint).where(or_(Complaint.customer_id == customer_id,
                                                               Complaint.vehicle_id.in_(vehicle_ids)))
                                    .values(description=""))

    def _documents(self, s: Session, orders: list[Any], masked: dict[int, tuple[str, str]], marker: str,
                   done: Erased) -> None:
        """Signed documents change through a plain UPDATE: the ORM's guard refuses any change to a signed row, and
        this is the one change the law asks for."""
        vehicle_of = {o.id: o.vehicle_id for o in orders}
        for doc_id, order_id, content, signed in s.execute(select(
                SignedDocument.id, SignedDocument.repair_order_id, SignedDocument.content, SignedDocument.signed_at)
                .where(SignedDocument.repair_order_id.in_(list(vehicle_of)))):
            plate, vin = masked[vehicle_of[order_id]]
            new = {**content, "customer": marker, "salutation": "", "plate": plate, "vin": vin}
            values: dict[str, Any] = {"content": new}
            if signed is not None:
                values |= {"signer": marker, "signature_png": None}
                done.signatures += 1
            s.execute(update(SignedDocument).where(SignedDocument.id == doc_id).values(**values)
                      .execution_options(synchronize_session=False))
        numbers = [o.number for o in orders]
        for entry in s.scalars(select(AuditEntry).where(
                AuditEntry.site_id == self.ctx.site, AuditEntry.entity == Entity.REPAIR_ORDER.value,
                AuditEntry.entity_id.in_(numbers), AuditEntry.action.in_(SIGNED_ACTIONS))):
            detail = json.loads(entry.detail) if entry.detail else {}
            if "signer" in detail:
                detail["signer"] = marker
                entry.detail = json.dumps(detail, ensure_ascii=False)

    def _photos(self, s: Session, order_ids: list[int], done: Erased) -> None:
        photos = list(s.execute(select(OrderPhoto.id, OrderPhoto.name).where(
            OrderPhoto.repair_order_id.in_(order_ids))))
        s.execute(update(DamageMark).where(DamageMark.photo_id.in_([p.id for p in photos])).values(photo_id=None))
        s.execute(delete(OrderPhoto).where(OrderPhoto.id.in_([p.id for p in photos]))
                  .execution_options(synchronize_session=False))
        extra = [n for n in s.scalars(select(AdditionalWork.photo).where(
            AdditionalWork.repair_order_id.in_(order_ids), AdditionalWork.photo.is_not(None))) if n]
        s.execute(update(AdditionalWork).where(AdditionalWork.repair_order_id.in_(order_ids))
                  .values(photo=None))
        done.photo_files = [p.name for p in photos] + extra
        done.photos = len(done.photo_files)

    def _printed_and_published(self, s: Session, orders: list[Any], vehicle_ids: list[int], done: Erased) -> None:
        """Papers and bus messages are copies of the person's data: the finished print jobs of their orders go (a
        job still pending or uncertain waits for its printer or a person and stays), and so do the sent bus
        messages about their orders and appointments (the publisher never reads a sent row again). What the boards
        may still show (appointments from yesterday on, orders closed since yesterday) goes out again, masked."""
        done.print_jobs = _changed(s, delete(PrintJob).where(
            PrintJob.repair_order_id.in_([o.id for o in orders]), PrintJob.status.in_((*FINISHED_JOBS, "failed")))
            .execution_options(synchronize_session=False))
        site = self.ctx.site
        appointment_ids = list(s.scalars(select(Appointment.id).where(Appointment.vehicle_id.in_(vehicle_ids))))
        names = [topic for o in orders for topic in (
            topics.state(site, topics.REPAIR_ORDERS, o.number), topics.state(site, topics.LOUNGE, o.number),
            topics.event(site, topics.REPAIR_ORDERS, o.number))]
        names += [topics.state(site, topics.APPOINTMENTS, i) for i in appointment_ids]
        names += [topics.event(site, topics.APPOINTMENTS, i) for i in appointment_ids]
        for start in range(0, len(names), CHUNK):
            done.bus_messages += _changed(s, delete(OutboxMessage).where(
                OutboxMessage.topic.in_(names[start:start + CHUNK]), OutboxMessage.sent_at.is_not(None))
                .execution_options(synchronize_session=False))
        since = datetime.combine(self.ctx.today() - timedelta(days=1), time(0), tzinfo=self.ctx.tz)
        s.flush()
        s.expire_all()  # the masked plates and the erased name, as the states are built from them
        recent = list(s.scalars(select(RepairOrder).where(RepairOrder.vehicle_id.in_(vehicle_ids),
                                                          RepairOrder.closed_at >= since).order_by(RepairOrder.id)))
        publish_orders(s, self.ctx, recent)
        for appointment in s.scalars(select(Appointment).where(Appointment.vehicle_id.in_(vehicle_ids),
                                                               Appointment.start >= since)):
            publish_appointment(s, self.ctx, appointment)

    def _remove_files(self, names: list[str]) -> int:
        if self.photos is None:
            return 0
        removed = 0
        for name in names:
            path = self.photos.path(name)
            if path is None:
                continue
            try:
                path.unlink()
                removed += 1
            except OSError as exc:
                log.error("photo %s of an erased customer could not be removed: %s", name, exc)
        return removed

    def _checkpoint(self) -> None:
        """The WAL still holds the pages as they were before: copy it into the file and empty it."""
        try:
            # on the driver's connection: the engine's connections begin a transaction, where a checkpoint fails
            raw = self.ctx.db.write_engine.raw_connection()
            try:
                cursor = raw.cursor()
                busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                cursor.close()
            finally:
                raw.close()
            if busy and busy[0]:
                log.warning("the WAL could not be emptied after an erasure (readers busy): the next checkpoint does")
        except Exception as exc:  # the erasure is committed; the checkpoint only hurries what SQLite does anyway
            log.warning("checkpoint after an erasure failed: %s", exc)

    # -- helpers ---------------------------------------------------------------------------------------------
    def _customer(self, s: Session, customer_id: int) -> Customer:
        c = s.get(Customer, customer_id) if 0 < customer_id < 2**31 else None
        if c is None or c.site_id != self.ctx.site:
            raise NotFound("privacy.error.customer_unknown", id=customer_id)
        return c

    @staticmethod
    def _plates(s: Session, customer_ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for customer_id, plate in s.execute(select(Vehicle.customer_id, Vehicle.plate).where(
                Vehicle.customer_id.in_(customer_ids)).order_by(Vehicle.id)):
            out.setdefault(customer_id, []).append(plate)
        return out
