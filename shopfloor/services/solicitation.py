"""The 招揽 call lists (domain.md §1 step 1, §2, §5): who customer service should call, and why.

Generated on demand from the vehicles' dates, the visit history (repair orders) and open vehicle items:

- first_service: new cars (sold within the last 90 days) due their first service three weeks after the sale,
  with no visit since the sale;
- maintenance_due: periodic maintenance due within `booking.call_ahead_days`: `service_interval_days` after the
  last service, or the day the projected mileage reaches the last service's km + `service_interval_km`,
  whichever comes first (overdue cars stay on it until they count as lapsed);
- insurance_renewal, annual_inspection, warranty_expiring: the date falls within the call-ahead window;
- lapsed_6, lapsed_12: the customer has not been in for 6 months (but less than 12) / 12 months or more;
- parts_arrived: parts ordered for the customer have arrived and the order is not closed.

A vehicle that already has an appointment from today on (or is in the workshop) stays on its lists, marked
`booked`, so nobody calls twice. Every list is sorted by its due date.

"Generated at the start of each month": `write_monthly` writes each list as a CSV (UTF-8 with BOM, which Excel
opens correctly in China) under DATA_DIR/call-lists/YYYY-MM/, once.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from shopfloor.domain.errors import Invalid
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import (
    Appointment,
    Customer,
    JobLine,
    LabourOperation,
    RepairOrder,
    Vehicle,
    VehicleItem,
)
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.i18n import normalize, t
from shopfloor.services.context import ServiceContext

log = logging.getLogger(__name__)

KINDS = ("first_service", "maintenance_due", "insurance_renewal", "annual_inspection", "warranty_expiring",
         "lapsed_6", "lapsed_12", "parts_arrived")
# a new car: sold this recently
NEW_CAR_DAYS = 90
# the first service falls this long after the sale (domain.md §1: "3 weeks after a new-car sale")
FIRST_SERVICE_AFTER = timedelta(weeks=3)
LAPSED_MONTHS = (6, 12)
# appointments in these states mean the customer is coming
COMING = ("booked", "confirmed", "late")
CSV_COLUMNS = ("kind", "due", "plate", "model", "customer", "phone", "channel", "detail", "suggested_work",
               "booked")
CALL_LISTS_DIR = "call-lists"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative), kept inside the month: 31 Aug + 6 → 28/29 Feb."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))


def days_after(day: date, days: int) -> date:
    """`day` + `days`; past the calendar's end (a service date typed as 9999-12-31, a car that barely moves)
    the last day, which no list's horizon reaches."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max


def months_between(earlier: date, later: date) -> int:
    """Whole months from `earlier` to `later`."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - 1 if add_months(earlier, months) > later else months


@dataclass(frozen=True)
class _Package:
    code: str
    name_zh: str
    name_en: str
    hours: float
    skill: str
    interval_km: int

    def work(self, lang: str) -> dict[str, Any]:
        return {"code": self.code, "description": self.name_zh if lang.startswith("zh") else self.name_en,
                "hours": self.hours, "skill": self.skill}


@dataclass(frozen=True, slots=True)
class _Car:
    """The vehicle's columns the lists read (columns, not entities: a store has tens of thousands of cars)."""

    id: int
    plate: str
    model: str
    sold_on: date | None
    mileage_at: date | None
    mileage_km: int | None
    last_service_on: date | None
    last_service_km: int | None
    insurance_expires_on: date | None
    inspection_due_on: date | None
    warranty_expires_on: date | None


@dataclass(frozen=True, slots=True)
class _Owner:
    id: int
    surname: str
    salutation: str
    phone: str
    preferred_channel: str
    complaining: bool

    @property
    def addressed(self) -> str:
        return f"{self.surname}{self.salutation}"


_CAR_COLUMNS = [getattr(Vehicle, name) for name in _Car.__slots__]
_OWNER_COLUMNS = [getattr(Customer, name) for name in _Owner.__slots__]


@dataclass
class _Facts:
    """What the lists need to know about one vehicle, gathered in one read."""

    vehicle: _Car
    customer: _Owner
    last_ro: date | None = None  # the last visit: a repair order opened (not cancelled)
    service: tuple[date, int | None] | None = None  # the last maintenance: vehicle record or a delivered order
    reading: tuple[date, int] | None = None  # the latest odometer reading and its day
    booked_on: date | None = None  # the next appointment from today on
    in_workshop: bool = False


def _fmt_km(km: int) -> str:
    return f"{km:,}"


class SolicitationService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- public -------------------------------------------------------------------------------------------------
    def lists(self, today: date | None = None, lang: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Every call list as of `today` (default: the clock's day): {kind: [entry, …]} in KINDS order."""
        return self._compute(today or self.ctx.today(), normalize(lang or self.ctx.settings.site.language))

    def entries(self, kind: str, today: date | None = None, lang: str | None = None) -> list[dict[str, Any]]:
        """One call list. Each entry: kind, vehicle_id, customer_id, plate, plate_display, model, customer
        (王先生), phone, preferred_channel, complaining, due (ISO date), detail (in `lang`, default the site's
        language), suggested_work ({code, description, hours, skill} or None), booked (an appointment from today
        on, or the car is in the workshop), booked_on (ISO date of that appointment or None), item_id (the
        vehicle item behind a parts_arrived entry, else None)."""
        if kind not in KINDS:
            raise Invalid("solicitation.error.kind", kind=kind)
        return self.lists(today, lang)[kind]

    @staticmethod
    def to_csv(entries: list[dict[str, Any]], lang: str) -> bytes:
        """The entries as CSV for Excel: UTF-8 with a BOM, CRLF lines, translated headers and values."""
        lang = normalize(lang)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow([t(lang, f"solicitation.column.{c}") for c in CSV_COLUMNS])
        for e in entries:
            work = e.get("suggested_work")
            row = [
                t(lang, f"solicitation.kind.{e['kind']}"), e["due"], e["plate_display"], e.get("model", ""),
                e["customer"], e["phone"], t(lang, f"solicitation.channel.{e['preferred_channel']}"), e["detail"],
                f"{work['code']} {work['description']} ({work['hours']:g} h)" if work else "",
                t(lang, "solicitation.booked_yes") if e["booked"] else "",
            ]
            writer.writerow([_cell(str(v)) for v in row])
        return buf.getvalue().encode("utf-8-sig")

    def write_monthly(self, data_dir: Path, month_start: date) -> list[Path]:
        """The month's call lists, as of `month_start`, to DATA_DIR/call-lists/YYYY-MM/<kind>.csv in the site's
        language. A list already written for that month is left alone (it is what the staff were given);
        returns the paths written by this call (empty when every list was there already)."""
        folder = data_dir / CALL_LISTS_DIR / f"{month_start:%Y-%m}"
        missing = [k for k in KINDS if not (folder / f"{k}.csv").exists()]
        if not missing:
            return []
        lang = normalize(self.ctx.settings.site.language)
        lists = self._compute(month_start, lang)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for kind in missing:
            path = folder / f"{kind}.csv"
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(self.to_csv(lists[kind], lang))
            try:
                os.link(tmp, path)  # fails if another writer got there first: never overwrite
            except FileExistsError:
                continue
            finally:
                tmp.unlink(missing_ok=True)
            written.append(path)
        log.info("call lists for %s: wrote %d file(s) to %s", f"{month_start:%Y-%m}", len(written), folder)
        return written

    # -- the lists ----------------------------------------------------------------------------------------------
    def _compute(self, today: date, lang: str) -> dict[str, list[dict[str, Any]]]:
        cfg = self.ctx.settings.booking
        horizon = today + timedelta(days=cfg.call_ahead_days)
        facts, packages, parts = self._load(today)
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
        smallest = min(packages, key=lambda p: p.interval_km) if packages else None
        lapsed_cut = {m: add_months(today, -m) for m in LAPSED_MONTHS}
        # a customer's last visit with any of their cars: a lapsed customer is lapsed as a whole
        customer_last: dict[int, date] = {}
        for f in facts.values():
            last = self._last_visit(f)
            if last is not None and (f.customer.id not in customer_last or last > customer_last[f.customer.id]):
                customer_last[f.customer.id] = last

        def add(kind: str, f: _Facts, due: date, detail: str, work: dict[str, Any] | None,
                item_id: int | None = None) -> None:
            out[kind].append(self._entry(kind, f, due, detail, work, item_id))

        for f in facts.values():
            v = f.vehicle
            visited_since_sale = v.sold_on is not None and (
                (f.last_ro is not None and f.last_ro >= v.sold_on)
                or (f.service is not None and f.service[0] >= v.sold_on))
            # first service: a new car not yet back
            if v.sold_on is not None and today - timedelta(days=NEW_CAR_DAYS) <= v.sold_on <= today \
                    and not visited_since_sale:
                due = v.sold_on + FIRST_SERVICE_AFTER
                if due <= horizon:
                    add("first_service", f, due, t(lang, "solicitation.detail.first_service",
                                                   sold_on=v.sold_on.isoformat(), due=due.isoformat()),
                        smallest.work(lang) if smallest else None)
            # lapsed customers (the 12-month list first: a car on it is not also on the 6-month one)
            last_seen = customer_last.get(f.customer.id)
            lapsed = False
            if last_seen is not None:
                for months, kind in ((12, "lapsed_12"), (6, "lapsed_6")):
                    if last_seen <= lapsed_cut[months]:
                        # never seen since the sale: the sale is the last contact
                        key = "lapsed" if f.last_ro is not None or f.service is not None else "never_back"
                        add(kind, f, add_months(last_seen, months),
                            t(lang, f"solicitation.detail.{key}", last=last_seen.isoformat(),
                              months=months_between(last_seen, today)),
                            self._package_for(f, packages, smallest, lang))
                        lapsed = True
                        break
            # periodic maintenance (a lapsed customer is called from the lapsed lists instead)
            if f.service is not None and not lapsed:
                due, detail, work = self._maintenance(f, lang, packages, smallest)
                if due <= horizon:
                    add("maintenance_due", f, due, detail, work)
            # dates on the vehicle
            for kind, when, key in (("insurance_renewal", v.insurance_expires_on, "insurance"),
                                    ("annual_inspection", v.inspection_due_on, "inspection"),
                                    ("warranty_expiring", v.warranty_expires_on, "warranty")):
                if when is not None and today <= when <= horizon:
                    add(kind, f, when, t(lang, f"solicitation.detail.{key}", due=when.isoformat(),
                                         days=(when - today).days), None)
        for item, vehicle_id in parts:
            owner = facts.get(vehicle_id)
            if owner is None or item.arrived_on is None:
                continue
            add("parts_arrived", owner, item.arrived_on,
                t(lang, "solicitation.detail.parts_arrived", description=item.description,
                  parts=item.part_numbers or "-", arrived=item.arrived_on.isoformat()), None, item.id)
        for kind in KINDS:
            out[kind].sort(key=lambda e: (e["due"], e["plate"], e["item_id"] or 0))
        return out

    def _maintenance(self, f: _Facts, lang: str, packages: list[_Package], smallest: _Package | None
                     ) -> tuple[date, str, dict[str, Any] | None]:
        """(due date, detail, suggested work) of the next periodic maintenance: the day interval or the projected
        mileage, whichever comes first."""
        cfg = self.ctx.settings.booking
        assert f.service is not None
        last_day, last_km = f.service
        by_days = days_after(last_day, cfg.service_interval_days)
        by_km: date | None = None
        due_km = last_km + cfg.service_interval_km if last_km is not None else None
        if last_km is not None and due_km is not None and f.reading is not None:
            read_day, read_km = f.reading
            elapsed = (read_day - last_day).days
            if elapsed > 0 and read_km > last_km:
                per_day = (read_km - last_km) / elapsed
                by_km = days_after(last_day, math.ceil((due_km - last_km) / per_day))
        work = self._package_for(f, packages, smallest, lang)
        if by_km is not None and due_km is not None and last_km is not None and by_km < by_days:
            detail = t(lang, "solicitation.detail.maintenance_km", last=last_day.isoformat(), last_km=_fmt_km(last_km),
                       due=by_km.isoformat(), due_km=_fmt_km(due_km))
            return by_km, detail, work
        if last_km is not None:
            detail = t(lang, "solicitation.detail.maintenance_days", last=last_day.isoformat(),
                       last_km=_fmt_km(last_km), due=by_days.isoformat(), days=cfg.service_interval_days)
        else:
            detail = t(lang, "solicitation.detail.maintenance_days_no_km", last=last_day.isoformat(),
                       due=by_days.isoformat(), days=cfg.service_interval_days)
        return by_days, detail, work

    def _package_for(self, f: _Facts, packages: list[_Package], smallest: _Package | None, lang: str
                     ) -> dict[str, Any] | None:
        """The maintenance package for the next service: the next due km rounded to the service interval (the
        milestone, e.g. 20,000 km), then the package with the largest interval that divides it (40,000 km:
        the 40,000 km service; 25,000 km: the 5,000 km one). Without a km record: the smallest package."""
        if not packages:
            return None
        interval = self.ctx.settings.booking.service_interval_km
        if f.service is None or f.service[1] is None:
            return smallest.work(lang) if smallest else None
        due_km = f.service[1] + interval
        milestone = max(round(due_km / interval), 1) * interval
        for p in sorted(packages, key=lambda p: -p.interval_km):
            if p.interval_km > 0 and milestone % p.interval_km == 0:
                return p.work(lang)
        return smallest.work(lang) if smallest else None

    @staticmethod
    def _last_visit(f: _Facts) -> date | None:
        """The last time the car was seen: a repair order or the recorded last service; a car never seen after
        its sale counts from the sale."""
        seen = [d for d in (f.last_ro, f.service[0] if f.service else None) if d is not None]
        if seen:
            return max(seen)
        return f.vehicle.sold_on

    def _entry(self, kind: str, f: _Facts, due: date, detail: str, work: dict[str, Any] | None,
               item_id: int | None) -> dict[str, Any]:
        v, c = f.vehicle, f.customer
        return {
            "kind": kind, "vehicle_id": v.id, "customer_id": c.id, "plate": v.plate,
            "plate_display": display_plate(v.plate), "model": v.model, "customer": c.addressed, "phone": c.phone,
            "preferred_channel": c.preferred_channel or "sms", "complaining": bool(c.complaining),
            "due": due.isoformat(), "detail": detail, "suggested_work": work,
            "booked": f.booked_on is not None or f.in_workshop,
            "booked_on": f.booked_on.isoformat() if f.booked_on else None, "item_id": item_id,
        }

    # -- reading ------------------------------------------------------------------------------------------------
    def _load(self, today: date) -> tuple[dict[int, _Facts], list[_Package], list[tuple[VehicleItem, int]]]:
        site, tz = self.ctx.site, self.ctx.tz
        day_start, _ = self.ctx.day_bounds(today)
        size = len(_CAR_COLUMNS)
        dialect = self.ctx.db.read_engine.dialect.name
        with self.ctx.db.read() as s:
            facts = {row[0]: _Facts(_Car(*row[:size]), _Owner(*row[size:])) for row in s.execute(
                select(*_CAR_COLUMNS, *_OWNER_COLUMNS).join(Customer, Customer.id == Vehicle.customer_id)
                .where(Vehicle.site_id == site).order_by(Vehicle.id))}
            packages = [_Package(op.code, op.name_zh, op.name_en, float(op.hours), op.skill, op.interval_km)
                        for op in s.scalars(select(LabourOperation).where(
                            LabourOperation.site_id == site, LabourOperation.active,
                            LabourOperation.interval_km.is_not(None),
                            LabourOperation.interval_km > 0))
                        if op.interval_km is not None]
            visits = s.execute(select(RepairOrder.vehicle_id, func.max(RepairOrder.opened_at)).where(
                RepairOrder.site_id == site, RepairOrder.status != RoStatus.CANCELLED.value,
                RepairOrder.opened_at < day_start + timedelta(days=1))
                .group_by(RepairOrder.vehicle_id))
            for vehicle_id, opened in visits:
                if vehicle_id in facts and opened is not None:
                    facts[vehicle_id].last_ro = opened.astimezone(tz).date()
            # odometer readings taken at reception (a cancelled order is a mistake): each car's latest (the database
            # picks it, one row per car)
            ro_reading: dict[int, tuple[date, int]] = {}
            for vehicle_id, opened, km in s.execute(_latest_per_vehicle(
                    dialect, RepairOrder.site_id == site, RepairOrder.mileage_km.is_not(None),
                    RepairOrder.opened_at < day_start + timedelta(days=1))):
                if km is not None:
                    ro_reading[vehicle_id] = (opened.astimezone(tz).date(), km)
            # maintenance done here: each car's latest delivered order with a maintenance package on it
            codes = [p.code for p in packages]
            ro_service: dict[int, tuple[date, int | None]] = {}
            if codes:
                for vehicle_id, opened, km in s.execute(_latest_per_vehicle(
                        dialect, RepairOrder.site_id == site, RepairOrder.status == RoStatus.DELIVERED.value,
                        RepairOrder.id.in_(select(JobLine.repair_order_id).where(JobLine.operation_code.in_(codes))),
                        RepairOrder.opened_at < day_start + timedelta(days=1))):
                    ro_service[vehicle_id] = (opened.astimezone(tz).date(), km)
            for vehicle_id, f in facts.items():
                v = f.vehicle
                record = (v.last_service_on, v.last_service_km) if v.last_service_on is not None else None
                ours = ro_service.get(vehicle_id)
                f.service = ours if ours is not None and (record is None or ours[0] >= record[0]) else record
                own = (v.mileage_at, v.mileage_km) if v.mileage_at is not None and v.mileage_km is not None else None
                ro_read = ro_reading.get(vehicle_id)
                f.reading = ro_read if ro_read is not None and (own is None or ro_read[0] > own[0]) else own
            # the appointments from today on (a range of the start index; grouped here, not by the database, whose
            # GROUP BY would walk every appointment in vehicle order)
            coming: dict[int, date] = {}
            for vehicle_id, start in s.execute(select(Appointment.vehicle_id, Appointment.start).where(
                    Appointment.site_id == site, Appointment.start >= day_start, Appointment.status.in_(COMING))):
                day = start.astimezone(tz).date()
                if vehicle_id not in coming or day < coming[vehicle_id]:
                    coming[vehicle_id] = day
            for vehicle_id, day in coming.items():
                if vehicle_id in facts:
                    facts[vehicle_id].booked_on = day
            for vehicle_id in s.scalars(select(RepairOrder.vehicle_id).where(
                    RepairOrder.site_id == site, RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))):
                if vehicle_id in facts:
                    facts[vehicle_id].in_workshop = True
            parts = [(item, item.vehicle_id) for item in s.scalars(
                select(VehicleItem).join(Vehicle, Vehicle.id == VehicleItem.vehicle_id).where(
                    Vehicle.site_id == site, VehicleItem.kind == "parts_order", VehicleItem.arrived_on.is_not(None),
                    VehicleItem.arrived_on <= today, VehicleItem.closed_on.is_(None)).order_by(VehicleItem.id))]
        return facts, packages, parts


def _latest_per_vehicle(dialect: str, *where: ColumnElement[bool]) -> Select[int, datetime, int | None]:
    """(vehicle id, opened_at, mileage_km) of each vehicle's latest repair order (not cancelled) matching `where`:
    one row per vehicle, picked by the database walking the index of each car's visits in order
    (ix_repair_orders_vehicle_visits): PostgreSQL by DISTINCT ON, SQLite by max() with bare columns, which come
    from the row holding the max."""
    ro = RepairOrder
    where = (ro.status != RoStatus.CANCELLED.value, *where)
    if dialect == "postgresql":
        return select(ro.vehicle_id, ro.opened_at, ro.mileage_km).where(*where).distinct(ro.vehicle_id).order_by(
            ro.vehicle_id, ro.opened_at.desc(), ro.id.desc())
    if dialect == "sqlite":
        return select(ro.vehicle_id, func.max(ro.opened_at), ro.mileage_km).where(*where).group_by(ro.vehicle_id)
    ranked = select(ro.vehicle_id, ro.opened_at, ro.mileage_km, func.row_number().over(
        partition_by=ro.vehicle_id, order_by=(ro.opened_at.desc(), ro.id.desc())).label("newest")).where(
        *where).subquery()
    return select(ranked.c.vehicle_id, ranked.c.opened_at, ranked.c.mileage_km).where(ranked.c.newest == 1)


def _cell(value: str) -> str:
    """A cell Excel will not run as a formula (CSV injection: a name typed as =HYPERLINK(…))."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value

