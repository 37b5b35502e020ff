"""The workshop's tables (rev 0007): who works which job line, the clockings, every promise given, additional work
found and the customer's decision, the quality checks, the rework register and the cars carried over.

Rows that record what happened (promises, QC results, rework, carry-overs, decisions) are never deleted; a
clocking is only ever closed, or confirmed by the foreman when the server closed it at the end of a shift."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from shopfloor.domain.models import Advisor, Base, JobLine, RepairOrder, Technician, UtcDateTime


class JobLineTechnician(Base):
    """A technician given a job line by dispatch. `sequence` orders the technician's queue of lines not yet
    started (lowest first): a dispatch without a position puts the line at the top, "do this next"."""

    __tablename__ = "job_line_technicians"
    __table_args__ = (UniqueConstraint("job_line_id", "technician_id"),
                      Index("ix_job_line_technicians_technician", "technician_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    job_line_id: Mapped[int] = mapped_column(ForeignKey("job_lines.id"))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    dispatched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dispatched_by: Mapped[str] = mapped_column(String(80))
    # a dispatch rule broken on purpose: which (skill, absent, promise; comma-separated) and the typed reason
    override_rules: Mapped[str | None] = mapped_column(String(40))
    override_reason: Mapped[str | None] = mapped_column(String(300))

    job_line: Mapped[JobLine] = relationship(back_populates="assignments")
    technician: Mapped[Technician] = relationship(lazy="joined")


class Clocking(Base):
    """A technician's time on a job: from the scan of the ticket to a stop (finished or paused), a switch to another
    job, or the end of the shift (then `assumed` until the foreman confirms it)."""

    __tablename__ = "clockings"
    __table_args__ = (
        # at most one open clocking per technician, whatever the code does
        Index("ux_clockings_open_per_technician", "technician_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("ix_clockings_technician_started", "technician_id", "started_at"),
        Index("ix_clockings_site_started", "site_id", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(10))  # finished, paused
    pause_reason: Mapped[str | None] = mapped_column(String(20))
    assumed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    started_by: Mapped[str] = mapped_column(String(80))
    ended_by: Mapped[str | None] = mapped_column(String(80))
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    technician: Mapped[Technician] = relationship()
    repair_order: Mapped[RepairOrder] = relationship()
    lines: Mapped[list[ClockingLine]] = relationship(cascade="all, delete-orphan", order_by="ClockingLine.job_line_id")


class ClockingLine(Base):
    """The job lines a clocking covers; its time is shared among them by their flat-rate hours."""

    __tablename__ = "clocking_lines"
    clocking_id: Mapped[int] = mapped_column(ForeignKey("clockings.id"), primary_key=True)
    job_line_id: Mapped[int] = mapped_column(ForeignKey("job_lines.id"), primary_key=True, index=True)

    job_line: Mapped[JobLine] = relationship()


class Promise(Base):
    """A time promised to the customer: the first at check-in, then every new one with its reason and whether the
    customer was told, so on-time delivery can be measured against the first promise and the last."""

    __tablename__ = "promises"
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    promised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(10))  # checkin, new
    reason: Mapped[str] = mapped_column(String(200), default="")
    customer_told: Mapped[bool] = mapped_column(Boolean, default=True)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AdditionalWork(Base):
    """Work a technician found beyond the order, waiting for the customer's decision. Approved, it joins the order
    as a job line; declined, it stays on the vehicle as declined work (a VehicleItem)."""

    __tablename__ = "additional_work"
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    operation_code: Mapped[str | None] = mapped_column(String(20))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    skill: Mapped[str] = mapped_column(String(20))
    # [{"number", "name", "quantity", "unit_price"}]: what the work needs from the parts counter
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, approved, declined
    reported_by: Mapped[str] = mapped_column(String(80))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decision_method: Mapped[str | None] = mapped_column(String(20))
    decision_reason: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    job_line_id: Mapped[int | None] = mapped_column(ForeignKey("job_lines.id"))
    vehicle_item_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle_items.id"))
    photo: Mapped[str | None] = mapped_column(String(120))  # rev 0009: a file under data_dir/photos/

    technician: Mapped[Technician] = relationship(lazy="joined")


class QcResult(Base):
    """One quality check of an order at one stage (self, foreman, final), in the order's current round."""

    __tablename__ = "qc_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    round: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(300))
    responsible_technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    found_by: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class Rework(Base):
    """The rework register: a job line sent back by a failed quality check, with the stage, the reason, who found
    it and who is responsible. Time lost is read from the line's clockings after `at`."""

    __tablename__ = "rework"
    __table_args__ = (Index("ix_rework_site_at", "site_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    job_line_id: Mapped[int] = mapped_column(ForeignKey("job_lines.id"))
    qc_result_id: Mapped[int] = mapped_column(ForeignKey("qc_results.id"))
    stage: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(300))
    found_by: Mapped[str] = mapped_column(String(80))
    responsible_technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    repair_order: Mapped[RepairOrder] = relationship()
    job_line: Mapped[JobLine] = relationship()
    qc_result: Mapped[QcResult] = relationship()
    responsible: Mapped[Technician | None] = relationship()


class CarryOver(Base):
    """An order still open, not ready, at the closing of `day`: why, and the flat-rate hours it still needs. It is
    reloaded first on the next day's dispatch board."""

    __tablename__ = "carry_overs"
    __table_args__ = (UniqueConstraint("repair_order_id", "day"), Index("ix_carry_overs_site_day", "site_id", "day"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))  # parts, approval, capacity, sublet, customer, other
    remaining_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)

    repair_order: Mapped[RepairOrder] = relationship()


@event.listens_for(RepairOrder, "after_insert")
def _first_promise(_mapper: Mapper[RepairOrder], connection: Connection, ro: RepairOrder) -> None:
    """The time promised at check-in is the first row of the order's promises, whoever opened the order (reception,
    the API, the demo): nothing that opens an order can forget it."""
    if ro.promised_at is None:
        return
    advisor = connection.scalar(select(Advisor.name).where(Advisor.id == ro.advisor_id)) or ""
    connection.execute(insert(Promise).values(
        repair_order_id=ro.id, promised_at=ro.promised_at, kind="checkin", reason="", customer_told=True,
        recorded_by=advisor, recorded_at=ro.opened_at))
