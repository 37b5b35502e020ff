"""The parts counter's tables (rev 0010): the catalogue with the stock on hand, and the parts lines of job lines
(what a job needs, what was issued, what came back, what is on back-order and when it is due)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.domain.models import Base, JobLine, UtcDateTime


class Part(Base):
    """A part of the site's catalogue: its number, name, selling price and the stock on hand."""

    __tablename__ = "parts"
    __table_args__ = (UniqueConstraint("site_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    stock: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))


class PartsLine(Base):
    """A part a job line needs. `issued` and `returned` count what crossed the counter; a shortage puts the rest on
    back-order with an ETA (the job line waits for it), and its arrival puts it back on the pick list. Number and
    name are kept as the line was made (a part may be missing from the catalogue: additional work names it)."""

    __tablename__ = "parts_lines"
    __table_args__ = (Index("ix_parts_lines_status", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    job_line_id: Mapped[int] = mapped_column(ForeignKey("job_lines.id"), index=True)
    part_id: Mapped[int | None] = mapped_column(ForeignKey("parts.id"))
    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    issued: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    returned: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    status: Mapped[str] = mapped_column(String(12))  # shopfloor.domain.parts.PartsLineStatus
    eta: Mapped[date | None] = mapped_column(Date)
    back_ordered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    job_line: Mapped[JobLine] = relationship(back_populates="parts")
    part: Mapped[Part | None] = relationship()
