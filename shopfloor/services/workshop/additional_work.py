"""Additional work (增项): a technician finds work beyond the order (a catalogue operation or their own words, hours,
parts); the advisor asks the customer and records the decision, how it was given, who recorded it and when.
Approved work joins the order as a job line (the finder's, when they may do it) and moves the projected finish;
declined work stays on the vehicle as declined work, which booking and the call lists show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS, SKILLS, qualified
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import JobLine, LabourOperation, RepairOrder, VehicleItem
from shopfloor.domain.parts_models import Part as CataloguePart
from shopfloor.domain.states import RoStatus
from shopfloor.domain.workshop import DecisionMethod, FindingStatus, LineStatus
from shopfloor.domain.workshop_models import AdditionalWork
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages import triggers as messages
from shopfloor.services.parts.counter import parts_for_finding
from shopfloor.services.repair_orders import resolve_technician
from shopfloor.services.workshop.dispatch import give
from shopfloor.services.workshop.order_status import follow_lines, load_order, publish, require_open
from shopfloor.services.workshop.photos import check_name
from shopfloor.services.workshop.working_time import WorkingTime

MAX_DESCRIPTION = 200
MAX_PARTS = 30
MAX_REASON = 200


@dataclass(frozen=True)
class Part:
    number: str = ""
    name: str = ""
    quantity: float = 1.0
    unit_price: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "name": self.name, "quantity": self.quantity, "unit_price": self.unit_price}


@dataclass(frozen=True)
class FindingInfo:
    id: int
    repair_order: str
    description: str
    operation_code: str | None
    hours: float
    skill: str
    parts: list[Part]
    technician_id: int
    technician: str
    status: str
    reported_by: str
    reported_at: datetime
    decision_method: str | None
    decision_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    job_line_id: int | None
    labour_price: float  # the site's labour rate × hours
    parts_price: float  # the parts with a price
    price: float
    photo: str | None = None  # a file name under data_dir/photos/ (services/workshop/photos.py)


def _typed(text: str) -> Part:
    """A part typed as text: a bare part number, or words (a number and a name, or a name alone)."""
    text = " ".join(text.split())
    return Part(number=text) if " " not in text and len(text) <= 40 else Part(name=text)


def parts_of(raw: Sequence[Part | str | Mapping[str, Any]]) -> list[Part]:
    """Parts as given: a part number (or name) alone, or {number, name, quantity, unit_price}."""
    if len(raw) > MAX_PARTS:
        raise Invalid("workshop.error.too_many_parts", limit=MAX_PARTS)
    out = []
    for item in raw:
        part = item if isinstance(item, Part) else _typed(item) if isinstance(item, str) else Part(
            number=str(item.get("number") or "").strip(), name=str(item.get("name") or "").strip(),
            quantity=float(item.get("quantity") or 1), unit_price=None if item.get("unit_price") is None else float(
                item["unit_price"]))
        if not (part.number or part.name) or len(part.number) > 40 or len(part.name) > 80:
            raise Invalid("workshop.error.part_invalid")
        if not 0 < part.quantity <= 1000 or (part.unit_price is not None and not 0 <= part.unit_price <= 1_000_000):
            raise Invalid("workshop.error.part_invalid")
        out.append(part)
    return out


def _info(f: AdditionalWork, number: str, labour_rate: float) -> FindingInfo:
    parts = [Part(str(p.get("number") or ""), str(p.get("name") or ""), float(p.get("quantity") or 1),
                  None if p.get("unit_price") is None else float(p["unit_price"])) for p in f.parts or []]
    labour = round(labour_rate * float(f.hours), 2)
    parts_price = round(sum(p.quantity * p.unit_price for p in parts if p.unit_price is not None), 2)
    return FindingInfo(f.id, number, f.description, f.operation_code, float(f.hours), f.skill, parts,
                       f.technician_id, f.technician.name, f.status, f.reported_by, f.reported_at, f.decision_method,
                       f.decision_reason, f.decided_by, f.decided_at, f.job_line_id, labour, parts_price,
                       round(labour + parts_price, 2), f.photo)


class AdditionalWorkService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @property
    def _rate(self) -> float:
        return self.ctx.settings.workshop.labour_rate

    def report(self, number: str, *, technician: int | str, actor: Actor | str, description: str = "",
               hours: float | None = None, parts: Sequence[Part | str | Mapping[str, Any]] = (),
               skill: str | None = None, operation: str | None = None, photo: str | None = None) -> FindingInfo:
        """Work found on an open order not yet ready, waiting for the customer's decision; `photo`: the name
        PhotoStore.save gave the picture of it."""
        found = parts_of(parts)
        if photo is not None:
            check_name(photo)
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro, RoStatus.READY)
            tech = resolve_technician(s, self.ctx.site, technician)
            if tech is None:
                raise Invalid("workshop.error.finding_needs_technician")
            op = self._operation(s, operation) if operation else None
            text = description.strip() or (op.name(self.ctx.settings.site.language) if op else "")
            if not text or len(text) > MAX_DESCRIPTION:
                raise Invalid("workshop.error.finding_description")
            how_long = Decimal(str(hours)) if hours is not None else op.hours if op else None
            if how_long is None or not Decimal(str(MIN_LINE_HOURS)) <= how_long <= Decimal(str(MAX_LINE_HOURS)):
                raise Invalid("workshop.error.finding_hours", least=MIN_LINE_HOURS, most=MAX_LINE_HOURS)
            kind = skill or (op.skill if op else "maintenance")
            if kind not in SKILLS:
                raise Invalid("booking.error.skill", skill=kind)
            found = [self._from_catalogue(s, p) for p in found]
            finding = AdditionalWork(
                repair_order_id=ro.id, description=text, operation_code=op.code if op else None,
                hours=how_long.quantize(Decimal("0.01")), skill=kind, parts=[p.as_json() for p in found],
                technician_id=tech.id, status=FindingStatus.PENDING.value, reported_by=str(actor)[:80],
                reported_at=self.ctx.now(), photo=photo)
            s.add(finding)
            s.flush()
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "additional_work", to_value=text,
                   detail={"finding": finding.id, "hours": float(finding.hours), "technician": tech.name,
                           "parts": [p.as_json() for p in found], "photo": photo})
            info = _info(finding, ro.number, self._rate)
            messages.additional_work_reported(s, self.ctx, ro, finding.id, text, Decimal(str(info.price)), actor)
            publish(s, self.ctx, ro, None)
            return info

    def _from_catalogue(self, s: Session, part: Part) -> Part:
        """A part typed at the bay ("04465-02220", "04465-02220 前刹车片" or a name) as the catalogue knows it, with
        its price, so the customer is quoted what it costs; one the catalogue does not know keeps the words, without
        a price (a number typed is never swapped for another part of the same name)."""
        if part.unit_price is not None:
            return part
        text = (part.number or part.name).strip()
        first = text.split()[0] if text.split() else ""
        numbered = any(ch.isdigit() for ch in first) and first.isascii()
        if numbered:
            known = s.scalar(select(CataloguePart).where(CataloguePart.site_id == self.ctx.site,
                                                         func.upper(CataloguePart.number) == first.upper()))
        else:
            known = s.scalars(select(CataloguePart).where(CataloguePart.site_id == self.ctx.site,
                                                          CataloguePart.name == text)).first()
        if known is None:
            words = text[len(first):].strip() if numbered else text
            return Part(number=first if numbered else "", name=(words or part.name)[:80], quantity=part.quantity)
        return Part(number=known.number, name=known.name, quantity=part.quantity, unit_price=float(known.price))

    def _operation(self, s: Session, code: str) -> LabourOperation:
        op = s.scalar(select(LabourOperation).where(LabourOperation.site_id == self.ctx.site,
                                                    LabourOperation.code == code))
        if op is None:
            raise Invalid("error.operation_unknown", code=code[:20])
        return op

    def decide(self, finding_id: int, decision: str, method: str, *, actor: Actor | str,
               reason: str | None = None, shown: Sequence[str] | None = None) -> FindingInfo:
        """The customer's decision. Approved: a job line of the order (given to the finder when they qualify and
        are at work today); declined: declined work on the vehicle. `shown`: the lines the customer read when they
        decided on their own page, kept in the audit row as they saw them."""
        try:
            verdict = FindingStatus(decision)
            how = DecisionMethod(method)
        except ValueError:
            raise Invalid("workshop.error.decision_invalid", decision=decision[:20], method=method[:20]) from None
        if verdict == FindingStatus.PENDING:
            raise Invalid("workshop.error.decision_invalid", decision=decision, method=method)
        reason = reason.strip() if reason and reason.strip() else None
        if reason is not None and len(reason) > MAX_REASON:
            raise Invalid("error.reason_too_long")
        with self.ctx.db.write() as s:
            finding = s.get(AdditionalWork, finding_id) if 0 < finding_id < 2**31 else None
            ro = s.get(RepairOrder, finding.repair_order_id) if finding is not None else None
            if finding is None or ro is None or ro.site_id != self.ctx.site:
                raise NotFound("workshop.error.finding_unknown", finding=finding_id)
            if finding.status != FindingStatus.PENDING:
                raise Refused("workshop.error.finding_decided", finding=finding_id, status=finding.status)
            ro = load_order(s, ro.number)
            now = self.ctx.now()
            finding.status, finding.decision_method, finding.decision_reason = verdict.value, how.value, reason
            finding.decided_by, finding.decided_at = str(actor)[:80], now
            event = None
            if verdict == FindingStatus.APPROVED:
                require_open(ro)
                self._join(s, ro, finding, actor)
                event = follow_lines(s, self.ctx, ro, actor)
            else:
                item = VehicleItem(vehicle_id=ro.vehicle_id, kind="declined", description=finding.description,
                                   part_numbers=", ".join(p["number"] for p in finding.parts if p.get("number")),
                                   created_on=self.ctx.today())
                s.add(item)
                s.flush()
                finding.vehicle_item_id = item.id
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "additional_work_decision",
                   from_value=FindingStatus.PENDING.value, to_value=verdict.value, reason=reason,
                   detail={"finding": finding.id, "method": how.value, "description": finding.description,
                           **({"shown": list(shown)} if shown is not None else {})})
            publish(s, self.ctx, ro, event)
            return _info(finding, ro.number, self._rate)

    def _join(self, s: Session, ro: RepairOrder, finding: AdditionalWork, actor: Actor | str) -> None:
        position = (s.scalar(select(func.max(JobLine.position)).where(JobLine.repair_order_id == ro.id)) or 0) + 1
        line = JobLine(repair_order_id=ro.id, position=position, operation_code=finding.operation_code,
                       description=finding.description, hours=finding.hours, skill=finding.skill,
                       status=LineStatus.WAITING.value, origin="additional")
        s.add(line)
        s.flush()
        finding.job_line_id = line.id
        parts_for_finding(s, self.ctx, line, finding.parts or [], actor)  # on the parts counter's pick list
        if ro.status in (RoStatus.QUALITY_CHECK, RoStatus.READY):
            ro.qc_round += 1  # the checks passed so far did not see this work
        tech = finding.technician
        today = self.ctx.today()
        if qualified(tech.skill, finding.skill) and tech.active and WorkingTime(s, self.ctx, today, days=1).present(
                tech.id, today):
            give(s, self.ctx, [line], tech, actor)

    def for_order(self, number: str) -> list[FindingInfo]:
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            return [_info(f, ro.number, self._rate) for f in s.scalars(
                select(AdditionalWork).where(AdditionalWork.repair_order_id == ro.id).order_by(AdditionalWork.id))]

    def pending(self) -> list[FindingInfo]:
        """Every finding still waiting for a customer's decision, oldest first: the advisors' list."""
        with self.ctx.db.read() as s:
            rows = s.execute(select(AdditionalWork, RepairOrder.number).join(
                RepairOrder, RepairOrder.id == AdditionalWork.repair_order_id).where(
                RepairOrder.site_id == self.ctx.site, AdditionalWork.status == FindingStatus.PENDING.value)
                .order_by(AdditionalWork.reported_at, AdditionalWork.id))
            return [_info(f, number, self._rate) for f, number in rows]
