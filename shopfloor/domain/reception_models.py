"""Reception's tables (rev 0011, domain.md §3, steps 3–5): the six-position walkaround with its damage marks, the
photos taken at reception, and the documents the customer signs (the estimate in versions, the handover record).

A signed document is never updated: a change after signing is a new version with its own signature."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.domain.models import Base, RepairOrder, UtcDateTime


class OrderPhoto(Base):
    """A photo taken at reception (a damage mark's, or of the car): re-encoded, resized and without EXIF, kept under
    data_dir/photos/ by its random name."""

    __tablename__ = "order_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(80))


class Walkaround(Base):
    """The walkaround (环车检查) of one order: one row, replaced in place while the order is at reception; the marks
    are rows of their own."""

    __tablename__ = "walkarounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), unique=True)
    mileage_km: Mapped[int | None] = mapped_column(Integer)
    fuel_eighths: Mapped[int | None] = mapped_column(Integer)
    protection_kit: Mapped[bool] = mapped_column(Boolean, default=False)
    valuables_taken: Mapped[bool] = mapped_column(Boolean, default=False)
    # {item key: {"status": "green" | "yellow" | "red", "value"?: number, "note"?: str}}
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    explained: Mapped[bool] = mapped_column(Boolean, default=False)  # the findings explained to the customer
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))

    repair_order: Mapped[RepairOrder] = relationship()
    marks: Mapped[list[DamageMark]] = relationship(
        primaryjoin="Walkaround.repair_order_id == foreign(DamageMark.repair_order_id)", order_by="DamageMark.id",
        viewonly=True)


class DamageMark(Base):
    """A mark on the top-view diagram: where (x, y in 0..1 of the diagram), which of the six positions, what kind."""

    __tablename__ = "damage_marks"
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)  # last visit's marks, faded
    position: Mapped[str] = mapped_column(String(20))  # shopfloor.domain.walkaround.Position
    kind: Mapped[str] = mapped_column(String(20))  # shopfloor.domain.walkaround.MarkKind
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(200), default="")
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("order_photos.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))

    photo: Mapped[OrderPhoto | None] = relationship()


class SignedDocument(Base):
    """One version of a document the customer signs: `content` is exactly what the customer was shown (lines,
    amounts, terms); `content_digest` its SHA-256. Once `signed_at` is set the row is never written again."""

    __tablename__ = "signed_documents"
    __table_args__ = (UniqueConstraint("repair_order_id", "kind", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # estimate, handover
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    signer: Mapped[str | None] = mapped_column(String(80))  # the customer's name as they gave it
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    # SHA-256 over content_digest, the signature's bytes, signer and signed_at: what the printout and PDF show
    digest: Mapped[str | None] = mapped_column(String(64))
    witnessed_by: Mapped[str | None] = mapped_column(String(80))  # the staff member who held the tablet
