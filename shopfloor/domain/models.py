"""SQLAlchemy 2 typed models: the database is the source of truth. Schema changes go through Alembic."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from shopfloor.contract.staff import StaffRole, parse_roles
from shopfloor.domain.workshop import new_badge_token


def new_customer_token() -> str:
    """The key of an order's customer page: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)

if TYPE_CHECKING:
    from shopfloor.domain.parts_models import PartsLine
    from shopfloor.domain.workshop_models import AdditionalWork, Clocking, JobLineTechnician, Promise, QcResult


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite keeps no zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: shopfloor stores aware datetimes only")
        from datetime import UTC

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Advisor(Base):
    __tablename__ = "advisors"
    __table_args__ = (UniqueConstraint("site_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(8))  # the row letter on the appointment board: A, B, C…
    # A staff member (the table keeps its first name): the roles they hold, comma-separated, as named in
    # shopfloor/contract/staff.py. Those holding "advisor" are the rows of the appointment board (rev 0004).
    roles: Mapped[str] = mapped_column(String(120), default="advisor", server_default="advisor")
    pin_hash: Mapped[str] = mapped_column(String(200))
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # rev 0013: a PIN someone else gave (`shopfloor init`, a reset at /setup) works once, then asks for the
    # person's own
    pin_must_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    @property
    def role_set(self) -> frozenset[StaffRole]:
        return parse_roles(self.roles)

    @property
    def is_advisor(self) -> bool:
        return StaffRole.ADVISOR in self.role_set


StaffMember = Advisor  # the name for what a row is; the table and foreign keys keep "advisor"


class Technician(Base):
    __tablename__ = "technicians"
    __table_args__ = (Index("ux_technicians_badge", "badge", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(60))
    skill: Mapped[str] = mapped_column(String(20))  # "maintenance" (semi-skilled) or "repair" (skilled)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # the text the technician's QR badge carries (shopfloor.domain.workshop.new_badge_token), rev 0007
    badge: Mapped[str] = mapped_column(String(40), default=new_badge_token, server_default=text("''"))

    shifts: Mapped[list[Shift]] = relationship(back_populates="technician", cascade="all, delete-orphan")
    # the job the technician is clocked on now, if any (at most one: a partial unique index says so)
    open_clocking: Mapped[Clocking | None] = relationship(
        primaryjoin="and_(Clocking.technician_id == Technician.id, Clocking.ended_at.is_(None))", viewonly=True,
        uselist=False)


class Shift(Base):
    """A technician's working hours on one weekday (0 = Monday), with an unpaid break inside them."""

    __tablename__ = "shifts"
    __table_args__ = (UniqueConstraint("technician_id", "weekday"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    break_minutes: Mapped[int] = mapped_column(Integer, default=60)

    technician: Mapped[Technician] = relationship(back_populates="shifts")


class Leave(Base):
    """Hours a technician is away on one day (training, sick, holiday); None = the whole day."""

    __tablename__ = "technician_leave"
    __table_args__ = (Index("ix_leave_day", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    reason: Mapped[str] = mapped_column(String(80), default="")


class Holiday(Base):
    """A day the workshop is closed."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("site_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(80), default="")


class Bay(Base):
    __tablename__ = "bays"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(16))
    # what the bay is equipped for: "lift" (general work), "alignment" (rack), "paint" (booth)…
    kind: Mapped[str] = mapped_column(String(20))
    # rev 0013: a bay taken out of use at /setup keeps its rows' history
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")


class Customer(Base):
    __tablename__ = "customers"
    # a DMS import finds the customer of a new vehicle by phone (rev 0005)
    __table_args__ = (Index("ix_customers_site_phone", "site_id", "phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    # Stored apart so screens can say 王先生 / 欧阳女士 and the lounge never shows a full name.
    surname: Mapped[str] = mapped_column(String(20))
    given_name: Mapped[str] = mapped_column(String(40), default="")
    salutation: Mapped[str] = mapped_column(String(10), default="")  # 先生, 女士
    phone: Mapped[str] = mapped_column(String(30), default="")
    # how the customer wants to be reached: sms, wechat, phone, letter (rev 0003)
    preferred_channel: Mapped[str] = mapped_column(String(10), default="sms", server_default="sms")
    # flagged to the service manager, who should be at reception when the customer comes
    complaining: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    address: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    # rev 0012: the other channels a customer may choose (preferred_channel: sms, wechat, email, phone, letter)
    email: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    wechat_openid: Mapped[str] = mapped_column(String(64), default="", server_default=text("''"))
    # rev 0013: when the person's data was erased on request (PIPL); the row stays for the orders' accounts
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="customer")

    @property
    def addressed(self) -> str:
        return f"{self.surname}{self.salutation}"

    @property
    def full_name(self) -> str:
        return f"{self.surname}{self.given_name}"


class Vehicle(Base):
    __tablename__ = "vehicles"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    vin: Mapped[str] = mapped_column(String(17), unique=True)
    plate: Mapped[str] = mapped_column(String(10), index=True)
    model: Mapped[str] = mapped_column(String(60), default="")
    mileage_km: Mapped[int | None] = mapped_column(Integer)
    # The dates the solicitation lists run on (rev 0003).
    sold_on: Mapped[date | None] = mapped_column(Date)
    mileage_at: Mapped[date | None] = mapped_column(Date)  # when mileage_km was read: projects the mileage
    last_service_on: Mapped[date | None] = mapped_column(Date)
    last_service_km: Mapped[int | None] = mapped_column(Integer)
    insurance_expires_on: Mapped[date | None] = mapped_column(Date)
    inspection_due_on: Mapped[date | None] = mapped_column(Date)
    warranty_expires_on: Mapped[date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="vehicles")
    tags: Mapped[list[QrTag]] = relationship(back_populates="vehicle")


class QrTag(Base):
    __tablename__ = "qr_tags"
    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    vehicle: Mapped[Vehicle] = relationship(back_populates="tags")


class LabourOperation(Base):
    """The labour-operation catalogue: flat-rate hours per job."""

    __tablename__ = "labour_operations"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    skill: Mapped[str] = mapped_column(String(20))
    # a bay kind the job cannot run without ("alignment", "paint"); None: any lift (rev 0003)
    equipment: Mapped[str | None] = mapped_column(String(20))
    # maintenance packages by interval: the km this package is due at (5,000 / 10,000 …)
    interval_km: Mapped[int | None] = mapped_column(Integer)
    # rev 0011: what the walkaround measures for this job ("tyre_tread,brake_pad"): red/yellow/green per item
    measurements: Mapped[str] = mapped_column(String(100), default="", server_default=text("''"))
    # rev 0013: out of use — kept for the orders that name it, no longer offered for new work
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_site_start", "site_id", "start"),
                      Index("ix_appointments_site_external_ref", "site_id", "external_ref"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    bay_id: Mapped[int | None] = mapped_column(ForeignKey("bays.id"))
    start: Mapped[datetime] = mapped_column(UtcDateTime)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    work: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="booked")
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # rev 0003: what capacity booking needs
    # [{"code", "description", "hours", "skill", "equipment"}]: the hours the booking sells, per skill class
    job_lines: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    skill: Mapped[str] = mapped_column(String(20), default="maintenance", server_default="maintenance")
    equipment: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default="passive", server_default="passive")  # active, import
    parts_status: Mapped[str] = mapped_column(String(12), default="none", server_default="none")
    parts_eta: Mapped[date | None] = mapped_column(Date)
    parts_numbers: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    waiting_customer: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    road_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    repeat_repair: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    complaining_customer: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    notes: Mapped[str] = mapped_column(String(500), default="", server_default=text("''"))
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80), default="", server_default=text("''"))
    # the day-before confirmation call: confirmed, rescheduled, cancelled, unreachable
    call_outcome: Mapped[str | None] = mapped_column(String(20))
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    called_by: Mapped[str | None] = mapped_column(String(80))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    no_show_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rebooked_as_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id",
                                                                  name="fk_appointments_rebooked_as"))
    external_ref: Mapped[str | None] = mapped_column(String(60))  # the DMS's id, from an import

    vehicle: Mapped[Vehicle] = relationship()
    advisor: Mapped[Advisor] = relationship()
    bay: Mapped[Bay | None] = relationship()
    overrides: Mapped[list[BookingOverride]] = relationship(back_populates="appointment",
                                                           order_by="BookingOverride.id")


class BookingOverride(Base):
    """A booking rule deliberately broken: which rule, by whom, why. Rows are never updated."""

    __tablename__ = "booking_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    rule: Mapped[str] = mapped_column(String(20))  # capacity, reserve, stagger, bay
    detail: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(300))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    appointment: Mapped[Appointment] = relationship(back_populates="overrides")


class VehicleItem(Base):
    """Something open on a vehicle to see before booking: a recall or campaign, work the customer declined,
    parts ordered for them (arrived_at set when they come in)."""

    __tablename__ = "vehicle_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # recall, campaign, declined, parts_order
    description: Mapped[str] = mapped_column(String(200))
    part_numbers: Mapped[str] = mapped_column(String(200), default="")
    created_on: Mapped[date] = mapped_column(Date)
    eta: Mapped[date | None] = mapped_column(Date)
    arrived_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)


# Indexes over orders by opening time cover the orders not cancelled only (rev 0008): SQLite, which has no
# statistics on how few orders are open, otherwise read a range of them for `status IN (open…) AND opened_at < …`
# (the capacity's walk-ins and carried-over cars, on every move) instead of the status index. A read that wants
# them says `status != 'cancelled'`.
NOT_CANCELLED = text("status != 'cancelled'")


class RepairOrder(Base):
    __tablename__ = "repair_orders"
    # rev 0005: the figures and call lists read orders by when they opened, the republish by when they closed and
    # the order of an appointment
    __table_args__ = (Index("ix_repair_orders_site_status", "site_id", "status"),
                      # rev 0008: partial, not cancelled (see NOT_CANCELLED)
                      Index("ix_repair_orders_site_opened", "site_id", "opened_at", sqlite_where=NOT_CANCELLED,
                            postgresql_where=NOT_CANCELLED),
                      Index("ix_repair_orders_site_closed", "site_id", "closed_at"),
                      Index("ix_repair_orders_appointment", "appointment_id"),
                      # each car's visits in order, with what the call lists read of them (the index covers it)
                      Index("ix_repair_orders_vehicle_visits", "site_id", "vehicle_id", "opened_at", "status",
                            "mileage_km", sqlite_where=NOT_CANCELLED, postgresql_where=NOT_CANCELLED))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    number: Mapped[str] = mapped_column(String(24), unique=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    status: Mapped[str] = mapped_column(String(20))
    hold_reason: Mapped[str | None] = mapped_column(String(30))
    complaint: Mapped[str] = mapped_column(Text, default="")
    mileage_km: Mapped[int | None] = mapped_column(Integer)
    fuel_eighths: Mapped[int | None] = mapped_column(Integer)  # fuel gauge in eighths: 0 empty … 8 full
    promised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # rev 0007, kept current by shopfloor.services.workshop.projection: when the work is projected to be done,
    # and on_time | at_risk | late against the promise
    projected_ready_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    risk: Mapped[str] = mapped_column(String(10), default="on_time", server_default="on_time")
    # quality checks count in rounds: work reopened (a failed stage, approved additional work) starts a new one
    qc_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # rev 0009: a comeback (返修) of an earlier visit for the same concern, marked at check-in; first-time fix counts it
    comeback_of_id: Mapped[int | None] = mapped_column(ForeignKey("repair_orders.id"))
    comeback_marked_by: Mapped[str | None] = mapped_column(String(80))
    # rev 0011, reception (domain.md §3): the customer's own page is /c/<customer_token> (≥ 128 random bits); what
    # the estimate carries besides its lines
    customer_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True,
                                                       default=new_customer_token)
    discount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0), server_default="0")
    discount_reason: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    keep_replaced_parts: Mapped[bool | None] = mapped_column(Boolean)
    followup_channel: Mapped[str | None] = mapped_column(String(12))  # sms, wechat, phone, email, none
    customer_leaves_car: Mapped[bool | None] = mapped_column(Boolean)  # None: as the appointment said
    # rev 0012, steps 9–11 (domain.md §4): the advisor's completion check (完工检查), the customer told, the bill
    # settled, the car handed over with the next service's date and mileage
    wash_ordered: Mapped[bool | None] = mapped_column(Boolean)  # None: not asked (the completion check asks)
    completion: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {item: True/False/None, …} as checked
    completion_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completion_checked_by: Mapped[str | None] = mapped_column(String(80))
    customer_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when nothing was left to pay
    delivery_walk: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the delivery list as walked
    delivered_by: Mapped[str | None] = mapped_column(String(80))  # who handed the car over (closed_at: when)
    next_service_on: Mapped[date | None] = mapped_column(Date)
    next_service_km: Mapped[int | None] = mapped_column(Integer)

    vehicle: Mapped[Vehicle] = relationship()
    advisor: Mapped[Advisor] = relationship()
    technician: Mapped[Technician | None] = relationship()  # the lead: the technician of the first dispatched line
    appointment: Mapped[Appointment | None] = relationship()
    job_lines: Mapped[list[JobLine]] = relationship(back_populates="repair_order", order_by="JobLine.position",
                                                    cascade="all, delete-orphan")
    events: Mapped[list[RoEvent]] = relationship(back_populates="repair_order", order_by="RoEvent.id")
    promises: Mapped[list[Promise]] = relationship(order_by="Promise.id", viewonly=True)
    qc_results: Mapped[list[QcResult]] = relationship(order_by="QcResult.id", viewonly=True)
    # every state published carries them: loaded with the orders, not one query per order
    additional_work: Mapped[list[AdditionalWork]] = relationship(order_by="AdditionalWork.id", viewonly=True,
                                                                 lazy="selectin")

    @property
    def total_hours(self) -> Decimal:
        return sum((line.hours for line in self.job_lines), Decimal("0"))


class JobLine(Base):
    __tablename__ = "job_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    operation_code: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    skill: Mapped[str] = mapped_column(String(20))
    # rev 0007: each line is worked on its own (shopfloor.domain.workshop.LineStatus, PauseReason)
    status: Mapped[str] = mapped_column(String(20), default="waiting", server_default="waiting")
    pause_reason: Mapped[str | None] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(12), default="checkin", server_default="checkin")  # or additional
    # rev 0011: who pays the line (customer, warranty, insurance, internal): the estimate prices it to its payer
    payer: Mapped[str] = mapped_column(String(12), default="customer", server_default="customer")
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    repair_order: Mapped[RepairOrder] = relationship(back_populates="job_lines")
    # its technicians, in the order they were given the line (several: a helper joined)
    assignments: Mapped[list[JobLineTechnician]] = relationship(
        back_populates="job_line", order_by="JobLineTechnician.id", cascade="all, delete-orphan", lazy="selectin")
    # rev 0010: the parts the line needs (the parts counter); every published state carries their status
    parts: Mapped[list[PartsLine]] = relationship(back_populates="job_line", order_by="PartsLine.id", lazy="selectin")


class RoEvent(Base):
    """Append-only history of a repair order: every move, with who and when. Rows are never updated."""

    __tablename__ = "ro_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(30))  # "checked_in", "transition", "reprint"…
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    reason: Mapped[str | None] = mapped_column(String(200))

    repair_order: Mapped[RepairOrder] = relationship(back_populates="events")


class AuditEntry(Base):
    """One change to an appointment or repair order (or a refused sign-in): who, when, from, to, why.
    Written in the same transaction as the change; rows are never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "site_id", "entity", "entity_id", "at"),
                      Index("ix_audit_log_at", "site_id", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(80))  # the signed-in person's name, the API token's name, "system"
    actor_kind: Mapped[str] = mapped_column(String(10))  # staff, api, system
    actor_id: Mapped[int | None] = mapped_column(Integer)  # the staff member's id when actor_kind is staff
    entity: Mapped[str] = mapped_column(String(20))  # appointment, repair_order, staff
    entity_id: Mapped[str] = mapped_column(String(40))  # the appointment's id, the repair order's number
    action: Mapped[str] = mapped_column(String(30))  # booked, moved, cancelled, call, checked_in, transition…
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: what else the change carried


class OutboxMessage(Base):
    """A message to publish, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    retain: Mapped[bool] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CapacityChange(Base):
    """A day whose capacity changed (services/capacity.py publish_capacity), written in the transaction of the
    change; the capacity refresher puts the day's new state in the outbox and deletes the marks it covered in
    one transaction, so a change is never left unpublished, whenever the server stops (rev 0006)."""

    __tablename__ = "capacity_changes"
    __table_args__ = (Index("ix_capacity_changes_site_day", "site_id", "day"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)


class PrintJob(Base):
    __tablename__ = "print_jobs"
    # the jobs still waiting (republish) and the finished ones old enough to prune (rev 0005)
    __table_args__ = (Index("ix_print_jobs_site_status", "site_id", "status", "finished_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    printer: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))  # "ticket"
    repair_order_id: Mapped[int | None] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    reprint: Mapped[bool] = mapped_column(default=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20))  # pending, printed, uncertain, failed
    detail: Mapped[str] = mapped_column(String(200), default="")
    requested_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A job whose fate was unknown is settled by a person: who, and when (rev 0002).
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    meta: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class FiguresDay(Base):
    """The manager's figures of one closed day (services/figures.py), kept so that a report over months reads a
    row per day instead of every order again. A change that touches a closed day deletes its row (and bumps
    FiguresEpoch) in the same transaction; `basis` names the settings the row was computed with (rev 0005)."""

    __tablename__ = "figures_days"
    site_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    basis: Mapped[str] = mapped_column(String(64))
    repair_orders: Mapped[int] = mapped_column(Integer)
    by_appointment: Mapped[int] = mapped_column(Integer)
    appointments: Mapped[int] = mapped_column(Integer)
    arrived: Mapped[int] = mapped_column(Integer)
    no_show: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    # floats as the figures add them up (double precision on both databases, so a row gives back the same sums)
    hours_maintenance: Mapped[float] = mapped_column(Double)
    hours_repair: Mapped[float] = mapped_column(Double)
    sold: Mapped[float] = mapped_column(Double)
    available: Mapped[float] = mapped_column(Double)
    # levelling: per count of arrivals in one advisor's quarter hour, how many such cells and the first of them
    levels: Mapped[dict[str, list[object]]] = mapped_column(JSON)  # {"2": [cells, advisor id, "hh:mm"], …}
    profile: Mapped[dict[str, int]] = mapped_column(JSON)  # {"hh:mm": arrivals}
    carried: Mapped[dict[str, int]] = mapped_column(JSON)  # {cause: cars}
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FiguresEpoch(Base):
    """Counts the changes that touched a closed day's figures: a report that computed days stores them only if
    no such change committed meanwhile (rev 0005)."""

    __tablename__ = "figures_epochs"
    site_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)


# The workshop's tables (clockings, promises, quality checks …) and the parts counter's live in their own modules;
# imported here so that every user of these models has them mapped.
from shopfloor.domain import (  # noqa: E402, F401
    aftersales_models,
    parts_models,
    reception_models,
    site_models,
    workshop_models,
)
