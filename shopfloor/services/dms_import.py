"""Importing customers, vehicles and appointments from a DMS export: writing the rows that
shopfloor.services.dms_csv read (the file, its header mapping and each row's values come from there).

Vehicles are matched by VIN: a known VIN updates the fields the row gives (a newer last service or a higher
mileage only: the DMS may be behind this system); an unknown one creates the vehicle with a QR tag, for the
customer with the same phone and surname or a new one. A row with an appointment books it as the DMS did
(source "import", status "booked", no capacity check): the same external_ref, or the same vehicle and time when
there is none, updates the earlier import instead of booking twice. Each appointment created or changed leaves
one audit row.

Each row is all or nothing (a savepoint, in write transactions of BATCH rows so the write lock is never held
long): a bad row is reported by its line in the file (header = line 1 when it is the first line) and field,
with every problem it has, and the other rows import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shopfloor import i18n
from shopfloor.domain.errors import DomainError
from shopfloor.domain.identifiers import new_tag_token
from shopfloor.domain.models import Advisor, Appointment, Customer, LabourOperation, QrTag, Vehicle
from shopfloor.services.audit import Actor, Entity, record, slot
from shopfloor.services.booking import MAX_DAYS_AHEAD
from shopfloor.services.context import ServiceContext
from shopfloor.services.customers import repeat_repair_of
from shopfloor.services.dms_csv import ParsedRow, read_header, read_rows, suggest_mapping
from shopfloor.services.publishing import publish_appointment

# the mapping screen and the API read the file's header through here as well
__all__ = ["DmsImportService", "ImportReport", "RowError", "read_header", "suggest_mapping"]

log = logging.getLogger(__name__)

BATCH = 200
WAITING = ("booked", "confirmed", "late")
RELEASED = ("cancelled", "no_show")


# --- the report ------------------------------------------------------------------------------------------

class RowError(NamedTuple):
    line: int     # in the file, as an editor shows it
    field: str    # our field name (dms_csv.FIELDS); "" for the row as a whole
    message: str  # in the language asked for


@dataclass
class ImportReport:
    rows: int = 0                   # data rows read (blank lines not counted)
    customers: int = 0              # new customers
    vehicles: int = 0               # new vehicles (each with a new QR tag)
    appointments: int = 0           # new appointments
    updated: int = 0                # rows that changed an existing customer, vehicle or appointment
    errors: list[RowError] = field(default_factory=list)    # rows not imported (one entry per problem)
    warnings: list[RowError] = field(default_factory=list)  # imported, with a part left out (a past appointment)
    days: set[date] = field(default_factory=set)            # days whose bookings changed (capacity to refresh)
    appointment_ids: list[int] = field(default_factory=list)
    dry_run: bool = False

    @property
    def failed_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "customers": self.customers, "vehicles": self.vehicles,
                "appointments": self.appointments, "updated": self.updated, "failed": len(self.failed_lines),
                "errors": [e._asdict() for e in self.errors], "warnings": [w._asdict() for w in self.warnings],
                "days": sorted(d.isoformat() for d in self.days), "appointment_ids": self.appointment_ids,
                "dry_run": self.dry_run}


class _Rollback(Exception):
    """Ends a dry run's transaction without committing it."""


@dataclass
class _Lookups:
    advisors: dict[str, Advisor]
    operations: dict[str, LabourOperation]


class DmsImportService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def import_csv(self, data: bytes, mapping: dict[str, str], actor: Actor | str, *, lang: str | None = None,
                   dry_run: bool = False) -> ImportReport:
        """Imports every good row; see the module docstring. Mapping errors (an unknown field, a column the
        file does not have, no VIN column) raise Invalid before anything is written. dry_run: everything is
        checked and counted, nothing is kept."""
        lang = i18n.normalize(lang or self.ctx.settings.site.language)
        rows = read_rows(data, mapping, self.ctx.tz)
        report = ImportReport(rows=len(rows), dry_run=dry_run)
        batch = len(rows) if dry_run else BATCH
        for first in range(0, len(rows), max(batch, 1)):
            try:
                with self.ctx.db.write() as s:
                    lookups = self._lookups(s)
                    for row in rows[first:first + batch]:
                        self._import_row(s, row, lookups, actor, report, lang)
                    if dry_run:
                        raise _Rollback
            except _Rollback:
                pass
        log.info("DMS import by %s: %d rows, %d new customers, %d new vehicles, %d new appointments, %d updated, "
                 "%d rows refused%s", actor, report.rows, report.customers, report.vehicles, report.appointments,
                 report.updated, len(report.failed_lines), " (dry run)" if dry_run else "")
        return report

    # --- writing ---

    def _lookups(self, s: Session) -> _Lookups:
        advisors: dict[str, Advisor] = {}
        for a in s.scalars(select(Advisor).where(Advisor.site_id == self.ctx.site, Advisor.active)
                           .order_by(Advisor.id.desc())):
            advisors[a.name.lower()] = a
            advisors.setdefault(a.code.lower(), a)
        ops: dict[str, LabourOperation] = {}
        for op in s.scalars(select(LabourOperation).where(LabourOperation.site_id == self.ctx.site)
                            .order_by(LabourOperation.id.desc())):
            for key in (op.code, op.name_zh, op.name_en):
                ops[key.strip().lower()] = op
        return _Lookups(advisors, ops)

    def _import_row(self, s: Session, row: ParsedRow, lookups: _Lookups, actor: Actor | str, report: ImportReport,
                    lang: str) -> None:
        v = row.values
        if "advisor" in v and v["advisor"].lower() not in lookups.advisors:
            row.errors.append(("advisor", "dms_import.advisor_unknown", {"advisor": v["advisor"]}))
        op = lookups.operations.get(v.get("appointment_work", "").strip().lower())
        if "appointment_work" in v and "appointment_hours" not in v and op is None:
            row.errors.append(("appointment_hours", "dms_import.hours_missing", {"work": v["appointment_work"]}))
        if row.errors:
            report.errors += [RowError(row.line, f, i18n.t(lang, key, **params)) for f, key, params in row.errors]
            return
        counts = {"customers": 0, "vehicles": 0, "appointments": 0}
        warnings: list[RowError] = []
        days: set[date] = set()
        ids: list[int] = []
        try:
            with s.begin_nested():
                changed = self._write_row(s, row, lookups, op, actor, counts, warnings, days, ids, lang)
        except _RowFieldError as exc:
            report.errors.append(RowError(row.line, exc.field, i18n.t(lang, exc.key, **exc.params)))
            return
        except DomainError as exc:
            report.errors.append(RowError(row.line, "", exc.message(lang)))
            return
        except SQLAlchemyError as exc:
            log.warning("DMS import line %d: %s", row.line, exc)
            report.errors.append(RowError(row.line, "", i18n.t(lang, "dms_import.row_failed",
                                                              detail=type(exc).__name__)))
            return
        report.customers += counts["customers"]
        report.vehicles += counts["vehicles"]
        report.appointments += counts["appointments"]
        report.updated += 1 if changed else 0
        report.warnings += warnings
        report.days |= days
        report.appointment_ids += ids

    def _write_row(self, s: Session, row: ParsedRow, lookups: _Lookups, op: LabourOperation | None, actor: Actor | str,
                   counts: dict[str, int], warnings: list[RowError], days: set[date], ids: list[int],
                   lang: str) -> bool:
        """Writes one parsed row; True if it changed anything that existed before."""
        v = row.values
        now = self.ctx.now()
        changed = False
        vehicle = s.scalar(select(Vehicle).where(Vehicle.vin == v["vin"]))
        if vehicle is not None and vehicle.site_id != self.ctx.site:
            raise _RowFieldError("vin", "dms_import.vin_other_site", vin=v["vin"])
        if vehicle is None:
            if "plate" not in v:
                raise _RowFieldError("plate", "dms_import.plate_missing")
            customer = self._find_customer(s, v)
            if customer is None:
                if not v.get("surname"):
                    raise _RowFieldError("name", "dms_import.name_missing")
                customer = Customer(site_id=self.ctx.site, surname=v["surname"],
                                    given_name=v.get("given_name", ""), salutation=v.get("salutation", ""),
                                    phone=v.get("phone", ""), preferred_channel=v.get("preferred_channel", "sms"),
                                    complaining=False, address=v.get("address", ""))
                s.add(customer)
                counts["customers"] += 1
            else:
                changed |= self._update_customer(customer, v)
            vehicle = Vehicle(site_id=self.ctx.site, customer=customer, vin=v["vin"], plate=v["plate"],
                              model=v.get("model", ""))
            self._update_vehicle(vehicle, v)
            s.add(vehicle)
            s.add(QrTag(token=new_tag_token(), vehicle=vehicle, issued_at=now))
            counts["vehicles"] += 1
        else:
            changed |= self._update_vehicle(vehicle, v)
            changed |= self._update_customer(vehicle.customer, v)
        s.flush()
        if "appointment_start" in v:
            changed |= self._appointment(s, row, vehicle, lookups, op, actor, counts, warnings, days, ids, lang)
        return changed

    def _find_customer(self, s: Session, v: dict[str, Any]) -> Customer | None:
        """A new vehicle of a known customer: the same phone (and the same surname, when the row names one)."""
        if not v.get("phone"):
            return None
        found = s.scalars(select(Customer).where(Customer.site_id == self.ctx.site, Customer.phone == v["phone"])
                          .order_by(Customer.id))
        for c in found:
            if not v.get("surname") or c.surname == v["surname"]:
                return c
        return None

    @staticmethod
    def _update_customer(c: Customer, v: dict[str, Any]) -> bool:
        changed = False
        for f in ("surname", "given_name", "salutation", "phone", "address", "preferred_channel"):
            if f in v and getattr(c, f) != v[f]:
                setattr(c, f, v[f])
                changed = True
        return changed

    def _update_vehicle(self, vehicle: Vehicle, v: dict[str, Any]) -> bool:
        changed = False
        for f in ("plate", "model", "sold_on", "insurance_expires_on", "inspection_due_on", "warranty_expires_on"):
            if f in v and getattr(vehicle, f) != v[f]:
                setattr(vehicle, f, v[f])
                changed = True
        # The DMS may be behind this system: only a higher mileage, only a later service.
        if "mileage_km" in v and (vehicle.mileage_km is None or v["mileage_km"] > vehicle.mileage_km):
            vehicle.mileage_km, vehicle.mileage_at = v["mileage_km"], self.ctx.today()
            changed = True
        last_on = vehicle.last_service_on
        if "last_service_on" in v and (last_on is None or v["last_service_on"] > last_on):
            vehicle.last_service_on = v["last_service_on"]
            vehicle.last_service_km = v.get("last_service_km", vehicle.last_service_km)
            changed = True
        elif "last_service_km" in v and "last_service_on" not in v and vehicle.last_service_km is None:
            vehicle.last_service_km = v["last_service_km"]
            changed = True
        return changed and vehicle.id is not None

    def _appointment(self, s: Session, row: ParsedRow, vehicle: Vehicle, lookups: _Lookups, op: LabourOperation | None,
                     actor: Actor | str, counts: dict[str, int], warnings: list[RowError], days: set[date],
                     ids: list[int], lang: str) -> bool:
        v = row.values
        start: datetime = v["appointment_start"]
        if start - self.ctx.now() > timedelta(days=MAX_DAYS_AHEAD + 1):  # as far as a booking may be
            warnings.append(RowError(row.line, "appointment_start", i18n.t(
                lang, "dms_import.appointment_far", start=start.astimezone(self.ctx.tz).strftime("%Y-%m-%d %H:%M"),
                days=MAX_DAYS_AHEAD)))
            return False
        today_start, _ = self.ctx.day_bounds(self.ctx.today())
        if start < today_start:
            warnings.append(RowError(row.line, "appointment_start", i18n.t(
                lang, "dms_import.appointment_past", start=start.astimezone(self.ctx.tz).strftime("%Y-%m-%d %H:%M"))))
            return False
        advisor = lookups.advisors[v["advisor"].lower()]
        hours: Decimal = v.get("appointment_hours") or (op.hours if op is not None else Decimal("1"))
        skill = v.get("skill") or (op.skill if op is not None else "maintenance")
        work = v["appointment_work"]
        equipment = op.equipment if op is not None else None
        lines: list[dict[str, object]] = [{"code": op.code if op is not None else None, "description": work,
                                           "hours": float(hours), "skill": skill, "equipment": equipment}]
        ref = v.get("external_ref")
        query = select(Appointment).where(Appointment.site_id == self.ctx.site)
        if ref:
            query = query.where(Appointment.external_ref == ref)
        else:
            query = query.where(Appointment.vehicle_id == vehicle.id, Appointment.start == start,
                                Appointment.status.not_in(RELEASED))
        appt = s.scalars(query.order_by(Appointment.id).limit(1)).first()
        wanted: dict[str, Any] = {"vehicle_id": vehicle.id, "advisor_id": advisor.id, "start": start,
                                  "hours": hours, "work": work, "skill": skill, "equipment": equipment,
                                  "job_lines": lines}
        if "notes" in v:
            wanted["notes"] = v["notes"]
        if appt is not None:
            if appt.status not in WAITING:
                return False  # arrived, cancelled, no-show: what happened here stands
            diff = {k: val for k, val in wanted.items() if getattr(appt, k) != val}
            if not diff:
                return False
            days.add(appt.start.astimezone(self.ctx.tz).date())
            record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "import_updated",
                   from_value=slot(appt.start, appt.advisor.name, self.ctx.tz),
                   to_value=slot(start, advisor.name, self.ctx.tz),
                   detail={"line": row.line, "external_ref": ref, "changed": sorted(diff)})
            for k, val in diff.items():
                setattr(appt, k, val)
            if "start" in diff and appt.status == "late":
                appt.status = "booked"
            appt.vehicle, appt.advisor = vehicle, advisor
            publish_appointment(s, self.ctx, appt)
            days.add(start.astimezone(self.ctx.tz).date())
            ids.append(appt.id)
            return True
        repeat = repeat_repair_of(s, self.ctx, vehicle.id) is not None
        appt = Appointment(site_id=self.ctx.site, vehicle=vehicle, advisor=advisor, status="booked", version=0,
                           source="import", external_ref=ref, created_at=self.ctx.now(), created_by=str(actor),
                           complaining_customer=vehicle.customer.complaining, repeat_repair=repeat,
                           parts_status="none", **wanted)
        s.add(appt)
        s.flush()
        publish_appointment(s, self.ctx, appt)
        record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "imported",
               to_value=slot(start, advisor.name, self.ctx.tz), detail={"line": row.line, "external_ref": ref})
        counts["appointments"] += 1
        days.add(start.astimezone(self.ctx.tz).date())
        ids.append(appt.id)
        return False


class _RowFieldError(Exception):
    """A row that cannot be written: which field, why."""

    def __init__(self, field: str, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.field, self.key, self.params = field, key, params

