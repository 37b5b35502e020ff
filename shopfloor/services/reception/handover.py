"""The vehicle handover record (交接车登记, domain.md §3): the car's condition as handed over — the walkaround's
damage marks, fuel, odometer, valuables and the protection kit — and the promise, signed by the customer. Needed
for long jobs ([reception] handover_hours) or when the customer leaves the car; stored in versions like the
estimate (signed_documents.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Refused
from shopfloor.domain.models import RepairOrder
from shopfloor.domain.reception_models import DamageMark, Walkaround
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.walkaround import DocumentKind
from shopfloor.domain.workshop import LineStatus
from shopfloor.services import views
from shopfloor.services.audit import SYSTEM, Actor
from shopfloor.services.context import ServiceContext
from shopfloor.services.reception import signed_documents as docs
from shopfloor.services.reception.signed_documents import SignatureResult, StoredDocument, VersionInfo
from shopfloor.services.workshop.order_status import load_order, require_open
from shopfloor.settings import Settings

__all__ = ["HandoverService", "HandoverView", "SignatureResult", "StoredDocument", "VersionInfo",
           "handover_required"]

KIND = DocumentKind.HANDOVER.value


def customer_leaves(ro: RepairOrder) -> bool:
    """As the advisor said at reception, else as the appointment said (a walk-in is taken to leave the car)."""
    if ro.customer_leaves_car is not None:
        return ro.customer_leaves_car
    return not (ro.appointment is not None and ro.appointment.waiting_customer)


def handover_required(ro: RepairOrder, settings: Settings) -> bool:
    """More work than [reception] handover_hours, or the customer leaves the car: an oil change while they wait
    needs no handover record."""
    hours = sum((line.hours for line in ro.job_lines if line.status != LineStatus.CANCELLED), Decimal(0))
    return hours > Decimal(str(settings.reception.handover_hours)) or customer_leaves(ro)


@dataclass(frozen=True)
class HandoverView:
    version: int
    required: bool
    content: dict[str, Any]  # as stored: marks, fuel, odometer, valuables, protection kit, the promise
    signed: bool
    signed_at: datetime | None
    signer: str | None
    digest: str | None
    recorded: bool = False  # the walkaround it is made from has been recorded
    content_digest: str = ""
    last_signed_version: int | None = None


def content_of(s: Session, ro: RepairOrder, ctx: ServiceContext) -> dict[str, Any]:
    """The record exactly as the customer is shown it, from the walkaround's rows."""
    walk = s.scalar(select(Walkaround).where(Walkaround.repair_order_id == ro.id))
    marks = list(s.scalars(select(DamageMark).where(DamageMark.repair_order_id == ro.id).order_by(DamageMark.id)))
    return {
        "kind": KIND, **docs.header(ro, ctx), "walkaround": walk is not None,
        "mileage_km": walk.mileage_km if walk and walk.mileage_km is not None else ro.mileage_km,
        "fuel_eighths": walk.fuel_eighths if walk and walk.fuel_eighths is not None else ro.fuel_eighths,
        "protection_kit": bool(walk and walk.protection_kit), "valuables_taken": bool(walk and walk.valuables_taken),
        "explained": bool(walk and walk.explained),
        "items": {k: v for k, v in sorted((walk.items or {}).items())} if walk else {},
        "marks": [{"position": m.position, "kind": m.kind, "x": round(m.x, 4), "y": round(m.y, 4), "note": m.note,
                   "photo_id": m.photo_id} for m in marks],
        "recorded_at": views.iso(walk.recorded_at, ctx.tz) if walk else None,
        "recorded_by": walk.recorded_by if walk else None,
        "customer_leaves_car": customer_leaves(ro), "changes": []}


def _view(doc: Any, required: bool, last_signed: int | None) -> HandoverView:
    return HandoverView(doc.version, required, dict(doc.content), doc.signed_at is not None, doc.signed_at,
                        doc.signer, doc.digest, bool(doc.content.get("walkaround")), doc.content_digest,
                        last_signed if last_signed != doc.version else None)


class HandoverService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _fresh(self, s: Session, ro: RepairOrder) -> bool:
        last = docs.latest(s, ro, KIND)
        return last is not None and (RoStatus(ro.status) not in OPEN_STATUSES or docs.substance(
            last.content) == docs.substance(content_of(s, ro, self.ctx)))

    def _materialize(self, s: Session, ro: RepairOrder, actor: Actor | str) -> HandoverView:
        last = docs.latest(s, ro, KIND)
        if last is None or not self._fresh(s, ro):
            last = docs.store(s, self.ctx, ro, KIND, content_of(s, ro, self.ctx), actor)
        signed = docs.last_signed(s, ro, KIND)
        return _view(last, handover_required(ro, self.ctx.settings), signed.version if signed else None)

    def current(self, number: str, *, actor: Actor | str = SYSTEM) -> HandoverView:
        """The record as it stands; a new version is stored when the walkaround changed since the latest one."""
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            if self._fresh(s, ro):
                last = docs.latest(s, ro, KIND)
                signed = docs.last_signed(s, ro, KIND)
                assert last is not None
                return _view(last, handover_required(ro, self.ctx.settings), signed.version if signed else None)
        with self.ctx.db.write() as s:
            return self._materialize(s, load_order(s, number), actor)

    def required(self, number: str) -> bool:
        with self.ctx.db.read() as s:
            return handover_required(load_order(s, number), self.ctx.settings)

    def sign(self, number: str, version: int, signer: str, signature_png: bytes, *,
             actor: Actor | str) -> SignatureResult:
        """The customer's signature on `version`, the record as it stands now (Refused "estimate.error.stale"
        otherwise); refused before the walkaround is recorded."""
        png = docs.checked_png(signature_png)
        name = docs.checked_signer(signer)
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro)
            view = self._materialize(s, ro, actor)
            if not view.recorded:
                raise Refused("estimate.error.handover_no_walkaround", number=ro.number)
            return docs.sign(s, self.ctx, ro, KIND, version, name, png, actor)

    def versions(self, number: str) -> list[VersionInfo]:
        self.current(number)
        with self.ctx.db.read() as s:
            rows = docs.all_versions(s, load_order(s, number), KIND)
            return [docs.version_info(d, rows[-1].version) for d in rows]

    def document(self, number: str, version: int) -> StoredDocument:
        with self.ctx.db.read() as s:
            return docs.stored(docs.existing_version(s, load_order(s, number), KIND, version))

    def verify(self, number: str, version: int) -> bool:
        with self.ctx.db.read() as s:
            return docs.verifies(docs.existing_version(s, load_order(s, number), KIND, version))
