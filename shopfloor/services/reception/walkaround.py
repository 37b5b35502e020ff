"""The six-position walkaround (环车检查六方位, domain.md §3): readings, items, damage marks; proposals from red and
yellow items; last visit's marks.

Items are the keys of shopfloor.domain.walkaround.ITEMS (checked at each position) and the measured items of
MEASURED_ITEMS (tyre tread per wheel, brake pads per axle, in millimetres): a measured value sets its item's status
from the [reception] thresholds. A red or yellow item becomes a job line in one tap (propose), once."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.models import JobLine, LabourOperation, RepairOrder, Vehicle
from shopfloor.domain.reception_models import DamageMark, OrderPhoto, Walkaround
from shopfloor.domain.states import RoStatus
from shopfloor.domain.walkaround import ITEMS, MEASUREMENTS, ItemStatus, MarkKind, Position
from shopfloor.domain.workshop import LineStatus
from shopfloor.i18n import t
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_repair_order
from shopfloor.services.workshop import photos as photo_store
from shopfloor.services.workshop.order_status import follow_lines, load_order, require_open

log = logging.getLogger(__name__)

# The measured items per measurement (LabourOperation.measurements names the measurement): one reading a wheel for
# the tread (left/right, front/rear), one an axle for the pads.
MEASURED_ITEMS: dict[str, tuple[str, ...]] = {
    "tyre_tread": ("tyre_tread_lf", "tyre_tread_rf", "tyre_tread_lr", "tyre_tread_rr"),
    "brake_pad": ("brake_pad_front", "brake_pad_rear"),
}
assert tuple(MEASURED_ITEMS) == MEASUREMENTS
CHECKED_ITEMS: tuple[str, ...] = tuple(key for keys in ITEMS.values() for key in keys)
ALL_ITEMS: tuple[str, ...] = CHECKED_ITEMS + tuple(key for keys in MEASURED_ITEMS.values() for key in keys)
MAX_MARKS = 100
MAX_NOTE = 200
MAX_MM = 30.0  # a new brake pad is 10–12 mm, a new tyre's tread 8–10 mm: more is a typo
MAX_KM = 2_000_000


def measurement_of(item: str) -> str | None:
    """"tyre_tread" for "tyre_tread_lf"; None for an item that is only looked at."""
    return next((m for m, keys in MEASURED_ITEMS.items() if item in keys), None)


@dataclass(frozen=True)
class ItemInput:
    status: str | None = None  # green | yellow | red; a measured item's value decides it
    value: float | None = None  # millimetres, measured items only
    note: str = ""


@dataclass(frozen=True)
class MarkInput:
    position: str  # shopfloor.domain.walkaround.Position
    kind: str  # MarkKind
    x: float  # 0..1 of the diagram from the left (driver's side)
    y: float  # 0..1 from the top (the front)
    note: str = ""
    photo: int | None = None  # an OrderPhoto of the same order


@dataclass(frozen=True)
class WalkaroundInput:
    mileage_km: int | None = None  # None: as read at check-in
    fuel_eighths: int | None = None
    protection_kit: bool = False  # the three-piece kit (seat, wheel, floor) fitted
    valuables_taken: bool = False  # the customer took their valuables
    items: Mapping[str, ItemInput | Mapping[str, Any]] = field(default_factory=dict)
    marks: list[MarkInput] = field(default_factory=list)  # all of the order's marks: what is not here is removed
    explained: bool = False  # the findings explained to the customer
    mileage_confirmed: bool = False  # a reading below the last recorded one, confirmed (a replaced odometer)


@dataclass(frozen=True)
class MarkView:
    id: int
    position: str
    kind: str
    x: float
    y: float
    note: str
    photo_id: int | None
    photo_url: str | None


@dataclass(frozen=True)
class WalkaroundView:
    mileage_km: int | None
    fuel_eighths: int | None
    protection_kit: bool
    valuables_taken: bool
    items: dict[str, dict[str, Any]]  # {key: {"status", "value"?, "note"?, "job_line"?}}
    marks: list[MarkView]
    explained: bool
    recorded_at: datetime
    recorded_by: str
    measured: list[str]  # the items the order's operations ask to be measured


@dataclass(frozen=True)
class EarlierMark:
    position: str
    kind: str
    x: float
    y: float
    note: str
    on: date  # the day of that walkaround
    repair_order: str


@dataclass(frozen=True)
class ProposedLine:
    job_line_id: int
    description: str
    hours: float
    amount: Decimal  # hours × [reception] labour rate of its skill, 2 places
    item: str = ""
    operation_code: str | None = None
    skill: str = "maintenance"


def status_for(ctx: ServiceContext, item: str, value: float) -> ItemStatus:
    """Red below the red threshold, yellow below the yellow one, else green ([reception] thresholds)."""
    settings = ctx.settings.reception
    red, yellow = ((settings.tyre_tread_red_below, settings.tyre_tread_yellow_below)
                   if measurement_of(item) == "tyre_tread"
                   else (settings.brake_pad_red_below, settings.brake_pad_yellow_below))
    return ItemStatus.RED if value < red else ItemStatus.YELLOW if value < yellow else ItemStatus.GREEN


def _note(value: object, where: str) -> str:
    text = str(value or "").strip()
    if len(text) > MAX_NOTE:
        raise Invalid("walkaround.error.text_too_long", field=where, most=MAX_NOTE)
    return text


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def checked_items(ctx: ServiceContext, items: Mapping[str, ItemInput | Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The items as stored, {key: {"status", "value"?, "note"?}}; Invalid naming the field (items.<key>.status)."""
    out: dict[str, dict[str, Any]] = {}
    for key, raw in items.items():
        where = f"items.{key}"
        if key not in ALL_ITEMS:
            raise Invalid("walkaround.error.item", field="items", value=str(key)[:40])
        given = raw if isinstance(raw, ItemInput) else ItemInput(
            raw.get("status"), raw.get("value"), str(raw.get("note") or ""))
        entry: dict[str, Any] = {}
        if given.value is not None:
            value = _number(given.value)
            if measurement_of(key) is None:
                raise Invalid("walkaround.error.unmeasured", field=f"{where}.value")
            if value is None or not 0 <= value <= MAX_MM:
                raise Invalid("walkaround.error.value", field=f"{where}.value", most=MAX_MM)
            entry["status"], entry["value"] = status_for(ctx, key, value).value, round(value, 1)
        elif given.status is not None:
            try:
                entry["status"] = ItemStatus(given.status).value
            except ValueError:
                raise Invalid("walkaround.error.status", field=f"{where}.status", value=str(given.status)[:20]) \
                    from None
        note = _note(given.note, f"{where}.note")
        if note:
            entry["note"] = note
        if entry:
            out[key] = entry
    return out


def checked_marks(marks: list[MarkInput]) -> list[MarkInput]:
    """The marks with their text trimmed; Invalid naming the field (marks[2].x) for an unknown position or kind
    and a place off the diagram."""
    if len(marks) > MAX_MARKS:
        raise Invalid("walkaround.error.too_many_marks", most=MAX_MARKS)
    out = []
    for i, mark in enumerate(marks):
        where = f"marks[{i}]"
        if mark.position not in tuple(Position):
            raise Invalid("walkaround.error.position", field=f"{where}.position", value=str(mark.position)[:20])
        if mark.kind not in tuple(MarkKind):
            raise Invalid("walkaround.error.kind", field=f"{where}.kind", value=str(mark.kind)[:20])
        for name, raw in (("x", mark.x), ("y", mark.y)):
            value = _number(raw)
            if value is None or not 0 <= value <= 1:
                raise Invalid("walkaround.error.coordinate", field=f"{where}.{name}", value=str(raw)[:20])
        if mark.photo is not None and (isinstance(mark.photo, bool) or not isinstance(mark.photo, int)):
            raise Invalid("walkaround.error.photo", field=f"{where}.photo", photo=str(mark.photo)[:20])
        out.append(MarkInput(Position(mark.position).value, MarkKind(mark.kind).value, float(mark.x), float(mark.y),
                             _note(mark.note, f"{where}.note"), mark.photo))
    return out


def _same(row: DamageMark, mark: MarkInput) -> bool:
    return (row.position, row.kind, row.x, row.y, row.note, row.photo_id) == (
        mark.position, mark.kind, mark.x, mark.y, mark.note, mark.photo)


def _readings(walk: Walkaround) -> dict[str, Any]:
    """What the audit compares besides items and marks, by the names the card history reads."""
    return {"mileage_km": walk.mileage_km, "fuel_eighths": walk.fuel_eighths, "protection_kit": walk.protection_kit,
            "valuables_taken": walk.valuables_taken, "explained": walk.explained}


def _plain_item(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An item as the advisor sets it (its link to a proposed job line is the service's, not a change)."""
    return {k: v for k, v in entry.items() if k != "job_line"}


def customer_leaves_car(ro: RepairOrder) -> bool:
    """As the advisor recorded it, else as the booking said; a car that came without a booking: leaves (the safer
    guess: its handover record is made)."""
    if ro.customer_leaves_car is not None:
        return ro.customer_leaves_car
    return not ro.appointment.waiting_customer if ro.appointment is not None else True


class WalkaroundService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- reading ---------------------------------------------------------------------------------------------
    def get(self, number: str) -> WalkaroundView | None:
        """The order's walkaround as recorded; None before the first one."""
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            walk = s.scalar(select(Walkaround).where(Walkaround.repair_order_id == ro.id))
            return self._view(s, ro, walk) if walk is not None else None

    def measured_items(self, number: str) -> list[str]:
        """The items the order's operations ask to be measured (LabourOperation.measurements), in a fixed order."""
        with self.ctx.db.read() as s:
            return self._measured(s, load_order(s, number))

    def earlier_marks(self, number: str) -> list[EarlierMark]:
        """The car's marks from its last earlier visit with a walkaround: damage already there, shown faded."""
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            found = s.execute(select(Walkaround, RepairOrder.number).join(
                RepairOrder, RepairOrder.id == Walkaround.repair_order_id).where(
                RepairOrder.site_id == self.ctx.site, RepairOrder.vehicle_id == ro.vehicle_id,
                RepairOrder.id != ro.id, RepairOrder.opened_at < ro.opened_at,
                RepairOrder.status != RoStatus.CANCELLED.value).order_by(
                RepairOrder.opened_at.desc(), RepairOrder.id.desc()).limit(1)).first()
            if found is None:
                return []
            walk, earlier = found
            on = walk.recorded_at.astimezone(self.ctx.tz).date()
            return [EarlierMark(m.position, m.kind, m.x, m.y, m.note, on, earlier) for m in s.scalars(
                select(DamageMark).where(DamageMark.repair_order_id == walk.repair_order_id).order_by(DamageMark.id))]

    def handover_required(self, number: str) -> bool:
        """The handover record (交接车登记) is made for work over [reception] handover_hours, or when the customer
        leaves the car."""
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            hours = sum((line.hours for line in ro.job_lines if line.status != LineStatus.CANCELLED), Decimal(0))
            return float(hours) > self.ctx.settings.reception.handover_hours or customer_leaves_car(ro)

    # -- recording -------------------------------------------------------------------------------------------
    def record(self, number: str, data: WalkaroundInput, *, actor: Actor | str) -> WalkaroundView:
        """Store the walkaround of the open order `number`: its readings (also the order's and the car's, as at
        check-in), items and marks (`data.marks` are all of them). Audited, and the order goes out again."""
        if data.mileage_km is not None and not (_whole(data.mileage_km) and 0 <= data.mileage_km <= MAX_KM):
            raise Invalid("error.mileage_range")
        if data.fuel_eighths is not None and not (_whole(data.fuel_eighths) and 0 <= data.fuel_eighths <= 8):
            raise Invalid("error.fuel_range")
        items = checked_items(self.ctx, data.items)
        marks = checked_marks(list(data.marks))
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro)
            self._check_photos(s, ro, marks)
            mileage_from, lower = ro.mileage_km, False
            if data.mileage_km is not None:
                lower = self._read_odometer(s, ro, data.mileage_km, data.mileage_confirmed, actor)
            if data.fuel_eighths is not None:
                ro.fuel_eighths = data.fuel_eighths
            walk = s.scalar(select(Walkaround).where(Walkaround.repair_order_id == ro.id))
            first = walk is None
            if walk is None:
                walk = Walkaround(repair_order_id=ro.id, items={}, recorded_at=now, recorded_by=str(actor)[:80])
                s.add(walk)
            before = _readings(walk) if not first else {}
            was_items = {k: _plain_item(v) for k, v in (walk.items or {}).items()}
            for key, entry in (walk.items or {}).items():  # an item proposed as a job line keeps its link to it
                if "job_line" in entry:
                    items[key] = {**items[key], "job_line": entry["job_line"]} if key in items else dict(entry)
            walk.mileage_km, walk.fuel_eighths = ro.mileage_km, ro.fuel_eighths
            walk.protection_kit, walk.valuables_taken = bool(data.protection_kit), bool(data.valuables_taken)
            walk.items, walk.explained = items, bool(data.explained)
            added, removed = self._replace_marks(s, ro, marks, now, actor)
            changed = [k for k, v in _readings(walk).items() if first or before.get(k) != v]
            items_changed = {k: [(was_items.get(k) or {}).get("status"), (items.get(k) or {}).get("status")]
                             for k in sorted(set(was_items) | set(items))
                             if was_items.get(k) != _plain_item(items.get(k) or {})}
            # the page saves as the advisor goes (each field left, each tick): a save that changes nothing is
            # no event in the order's history
            if not (first or changed or items_changed or added or removed):
                return self._view(s, ro, walk)
            walk.recorded_at, walk.recorded_by = now, str(actor)[:80]
            mileage_changed = mileage_from != ro.mileage_km
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "walkaround_recorded",
                   from_value=mileage_from if mileage_changed else None,
                   to_value=ro.mileage_km if mileage_changed else None,
                   reason="mileage below the last recorded, confirmed" if lower else None,
                   detail={"first": first, "changed": changed, "items_changed": items_changed,
                           "fuel_eighths": ro.fuel_eighths, "protection_kit": walk.protection_kit,
                           "valuables_taken": walk.valuables_taken, "explained": walk.explained,
                           "red": sorted(k for k, v in items.items() if v.get("status") == ItemStatus.RED),
                           "yellow": sorted(k for k, v in items.items() if v.get("status") == ItemStatus.YELLOW),
                           "marks": len(marks), "marks_added": len(added), "marks_removed": len(removed),
                           # what was taken off the diagram, should anyone ask later whether it was ever there
                           "removed": [{"id": m.id, "position": m.position, "kind": m.kind, "x": m.x, "y": m.y,
                                        "note": m.note, "photo": m.photo_id, "by": m.created_by} for m in removed]})
            publish_repair_order(s, self.ctx, ro)
            return self._view(s, ro, walk)

    def _check_photos(self, s: Session, ro: RepairOrder, marks: list[MarkInput]) -> None:
        wanted = {m.photo for m in marks if m.photo is not None}
        ours = set(s.scalars(select(OrderPhoto.id).where(
            OrderPhoto.repair_order_id == ro.id, OrderPhoto.id.in_([p for p in wanted if 0 < p < 2**31]))))
        for i, mark in enumerate(marks):
            if mark.photo is not None and mark.photo not in ours:
                raise Invalid("walkaround.error.photo", field=f"marks[{i}].photo", photo=mark.photo)

    def _read_odometer(self, s: Session, ro: RepairOrder, km: int, confirmed: bool, actor: Actor | str) -> bool:
        """As check-in: a reading below the car's last one needs confirming (True: it was). The car's reading may be
        this order's own (taken at check-in): then the last one is of the car's earlier visits."""
        vehicle = s.get(Vehicle, ro.vehicle_id)
        assert vehicle is not None
        last = vehicle.mileage_km
        if last is not None and last == ro.mileage_km:
            last = s.scalar(select(func.max(RepairOrder.mileage_km)).where(
                RepairOrder.vehicle_id == vehicle.id, RepairOrder.id != ro.id,
                RepairOrder.status != RoStatus.CANCELLED.value))
        lower = last is not None and km < last
        if lower:
            if not confirmed:
                raise Refused("error.mileage_lower", km=km, last=last)
            log.warning("%s: walkaround mileage %s below the last recorded %s, confirmed by %s", vehicle.plate, km,
                        last, actor)
        ro.mileage_km = km
        vehicle.mileage_km, vehicle.mileage_at = km, self.ctx.today()  # the date of the reading: the call lists'
        return lower

    def _replace_marks(self, s: Session, ro: RepairOrder, marks: list[MarkInput], now: datetime,
                       actor: Actor | str) -> tuple[list[MarkInput], list[DamageMark]]:
        """The order's marks become `marks`: one unchanged keeps its row (who placed it, when), the rest are
        removed or added. (added, removed)."""
        rows = list(s.scalars(select(DamageMark).where(DamageMark.repair_order_id == ro.id).order_by(DamageMark.id)))
        left = list(rows)
        new = []
        for mark in marks:
            same = next((r for r in left if _same(r, mark)), None)
            if same is not None:
                left.remove(same)
            else:
                new.append(mark)
        for row in left:
            s.delete(row)
        s.add_all(DamageMark(repair_order_id=ro.id, vehicle_id=ro.vehicle_id, position=m.position, kind=m.kind,
                             x=m.x, y=m.y, note=m.note, photo_id=m.photo, created_at=now, created_by=str(actor)[:80])
                  for m in new)
        s.flush()
        return new, left

    # -- proposals -------------------------------------------------------------------------------------------
    def propose(self, number: str, item: str, *, actor: Actor | str) -> ProposedLine:
        """A red or yellow item as a job line of the order (origin "walkaround"): the operation [reception]
        proposals names for it (or for its measurement), else a free line of proposal_hours. Once per item."""
        if item not in ALL_ITEMS:
            raise Invalid("walkaround.error.item", field="item", value=str(item)[:40])
        settings = self.ctx.settings
        lang = settings.site.language
        label = self._label(lang, item)
        with self.ctx.db.write() as s:
            ro = load_order(s, number)
            require_open(ro)
            walk = s.scalar(select(Walkaround).where(Walkaround.repair_order_id == ro.id))
            entry = dict((walk.items or {}).get(item) or {}) if walk is not None else {}
            status = entry.get("status")
            if walk is None or status is None:
                raise Refused("walkaround.error.not_recorded", item=label)
            if status not in (ItemStatus.RED, ItemStatus.YELLOW):
                raise Refused("walkaround.error.green", item=label)
            earlier = s.get(JobLine, entry["job_line"]) if entry.get("job_line") else None
            if earlier is not None and earlier.repair_order_id == ro.id and earlier.status != LineStatus.CANCELLED:
                raise Refused("walkaround.error.proposed", item=label, line=earlier.position, number=ro.number)
            op = self._operation(s, item)
            hours = op.hours if op is not None else Decimal(str(settings.reception.proposal_hours))
            skill = op.skill if op is not None else "maintenance"
            note = entry.get("note")
            description = (op.name(lang) if op is not None
                           else f"{label}{'：' if lang.startswith('zh') else ': '}{note}" if note else label)[:200]
            rate = Decimal(str(settings.reception.labour_rate(skill, settings.workshop.labour_rate)))
            amount = (hours * rate).quantize(Decimal("0.01"))
            position = (s.scalar(select(func.max(JobLine.position)).where(JobLine.repair_order_id == ro.id)) or 0) + 1
            line = JobLine(repair_order_id=ro.id, position=position, operation_code=op.code if op else None,
                           description=description, hours=hours, skill=skill, status=LineStatus.WAITING.value,
                           origin="walkaround", payer="customer")
            s.add(line)
            s.flush()
            walk.items = {**walk.items, item: {**entry, "job_line": line.id}}
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "walkaround_proposal", to_value=description,
                   detail={"item": item, "status": status, "value": entry.get("value"), "job_line": line.id,
                           "operation": line.operation_code, "hours": str(hours), "skill": skill,
                           "amount": str(amount)})
            event = follow_lines(s, self.ctx, ro, actor)
            publish_repair_order(s, self.ctx, ro, event)
            return ProposedLine(line.id, description, float(hours), amount, item, line.operation_code, skill)

    def _operation(self, s: Session, item: str) -> LabourOperation | None:
        proposals = self.ctx.settings.reception.proposals
        measurement = measurement_of(item)
        code = proposals.get(item) or (proposals.get(measurement) if measurement else None)
        if not code:
            return None
        op = s.scalar(select(LabourOperation).where(LabourOperation.site_id == self.ctx.site,
                                                    LabourOperation.code == code))
        if op is None:  # a site's typo should not keep the advisor from proposing the work
            log.warning("[reception] proposals: %s names %s, which is not in the labour catalogue; a free line is "
                        "proposed instead", item, code)
        return op

    @staticmethod
    def _label(lang: str, item: str) -> str:
        key = f"walkaround.item.{item}"
        text = t(lang, key)
        return item.replace("_", " ") if text == key else text

    # -- views -----------------------------------------------------------------------------------------------
    def _measured(self, s: Session, ro: RepairOrder) -> list[str]:
        codes = {line.operation_code for line in ro.job_lines
                 if line.operation_code and line.status != LineStatus.CANCELLED}
        asked: set[str] = set()
        if codes:
            for text in s.scalars(select(LabourOperation.measurements).where(
                    LabourOperation.site_id == self.ctx.site, LabourOperation.code.in_(codes))):
                asked.update(m.strip() for m in (text or "").split(","))
        return [key for m, keys in MEASURED_ITEMS.items() if m in asked for key in keys]

    def _view(self, s: Session, ro: RepairOrder, walk: Walkaround) -> WalkaroundView:
        rows = s.execute(select(DamageMark, OrderPhoto.name).outerjoin(
            OrderPhoto, OrderPhoto.id == DamageMark.photo_id).where(
            DamageMark.repair_order_id == ro.id).order_by(DamageMark.id))
        marks = [MarkView(m.id, m.position, m.kind, m.x, m.y, m.note, m.photo_id, photo_store.url(name))
                 for m, name in rows]
        return WalkaroundView(walk.mileage_km, walk.fuel_eighths, walk.protection_kit, walk.valuables_taken,
                              {k: dict(v) for k, v in (walk.items or {}).items()}, marks, walk.explained,
                              walk.recorded_at, walk.recorded_by, self._measured(s, ro))
