"""SQLAlchemy 2 typed models: the database is the source of truth. Schema changes go through Alembic."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


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
    pin_hash: Mapped[str] = mapped_column(String(200))
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Technician(Base):
    __tablename__ = "technicians"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(60))
    skill: Mapped[str] = mapped_column(String(20))  # "maintenance" (semi-skilled) or "repair" (skilled)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Bay(Base):
    __tablename__ = "bays"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))  # "reception", "lift", "alignment"…


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    # Stored apart so screens can say 王先生 / 欧阳女士 and the lounge never shows a full name.
    surname: Mapped[str] = mapped_column(String(20))
    given_name: Mapped[str] = mapped_column(String(40), default="")
    salutation: Mapped[str] = mapped_column(String(10), default="")  # 先生, 女士
    phone: Mapped[str] = mapped_column(String(30), default="")

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

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_site_start", "site_id", "start"),)
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

    vehicle: Mapped[Vehicle] = relationship()
    advisor: Mapped[Advisor] = relationship()
    bay: Mapped[Bay | None] = relationship()


class RepairOrder(Base):
    __tablename__ = "repair_orders"
    __table_args__ = (Index("ix_repair_orders_site_status", "site_id", "status"),)
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

    vehicle: Mapped[Vehicle] = relationship()
    advisor: Mapped[Advisor] = relationship()
    technician: Mapped[Technician | None] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    job_lines: Mapped[list[JobLine]] = relationship(back_populates="repair_order", order_by="JobLine.position",
                                                    cascade="all, delete-orphan")
    events: Mapped[list[RoEvent]] = relationship(back_populates="repair_order", order_by="RoEvent.id")

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

    repair_order: Mapped[RepairOrder] = relationship(back_populates="job_lines")


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


class PrintJob(Base):
    __tablename__ = "print_jobs"
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
