"""Importing customers, vehicles and appointments from a DMS export: writing the rows that
shopfloor.services.dms_csv read (the file, its header mapping and each row's values come from there).

Vehicles are matched by VIN: a known VIN updates the fields the row gives (a newer last service or a higher
mileage only: the DMS may be behind this system); an unknown one creates the vehicle with a QR tag, for the
customer with the same phone and surname or a new one. A row with an appointment books it as the DMS did
(source "import", status "booked", no capacity check): the same external_ref, or the same vehicle and time when
there is none, updates the earlier import instead of booking twice. Each appointment created or changed leaves
one audit row.

Each row is all or nothing (a savepoint): a bad row is reported by its line in the file (header = line 1 when it
is the first line) and field, with every problem it has, and the other rows import.

Other writers go on meanwhile: the rows are written in batches, each its own write transaction of at most
BATCH_ROWS rows and BATCH_SECONDS, committed, then a pause so that the writes waiting for the lock (a check-in)
go first; the run reports its progress after each batch. Should a batch fail (the database gone, a lock timeout),
the run stops there and the report says which line it stopped at: every row before it is in, and the same file
imported again finishes the job (rows already in are matched, not added twice). A check-only run (dry_run) takes
no write lock at all: it reads in read transactions and plays the rows out in memory (services/dms_targets.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shopfloor import i18n
from shopfloor.domain.errors import DomainError
from shopfloor.domain.models import Advisor, LabourOperation
from shopfloor.services.audit import Actor
from shopfloor.services.booking import MAX_DAYS_AHEAD
from shopfloor.services.context import ServiceContext
from shopfloor.services.dms_csv import ParsedRow, read_header, read_rows, suggest_mapping
from shopfloor.services.dms_targets import DatabaseTarget, MemoryTarget

# the mapping screen and the API read the file's header through here as well
__all__ = ["DmsImportService", "ImportReport", "RowError", "read_header", "suggest_mapping"]

log = logging.getLogger(__name__)

BATCH_ROWS = 200  # rows per write transaction at most
BATCH_SECONDS = 0.2  # and no longer than this: the write lock is never held for more (a row takes milliseconds)
PAUSE_SECONDS = 0.01  # after each batch: the writers that waited meanwhile go first
CHECK_ROWS = 1000  # rows per read transaction of a check-only run
WAITING = ("booked", "confirmed", "late")

Progress = Callable[[int, int], None]  # (rows done, rows in the file), after each batch


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
    rows_done: int = 0              # data rows gone through (written, or refused), from the first on
    stopped_at_line: int | None = None  # the run stopped before the end: the first line not gone through
    stopped_reason: str | None = None   # and why, in the language asked for

    @property
    def failed_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def add(self, other: ImportReport) -> None:
        """A committed batch's outcome."""
        for name in ("customers", "vehicles", "appointments", "updated", "rows_done"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
        self.warnings += other.warnings
        self.days |= other.days
        self.appointment_ids += other.appointment_ids

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "customers": self.customers, "vehicles": self.vehicles,
                "appointments": self.appointments, "updated": self.updated, "failed": len(self.failed_lines),
                "errors": [e._asdict() for e in self.errors], "warnings": [w._asdict() for w in self.warnings],
                "days": sorted(d.isoformat() for d in self.days), "appointment_ids": self.appointment_ids,
                "dry_run": self.dry_run, "rows_done": self.rows_done, "stopped_at_line": self.stopped_at_line,
                "stopped_reason": self.stopped_reason}


Target = DatabaseTarget | MemoryTarget


@dataclass
class _Lookups:
    advisors: dict[str, Advisor]
    operations: dict[str, LabourOperation]


class DmsImportService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def import_csv(self, data: bytes, mapping: dict[str, str], actor: Actor | str, *, lang: str | None = None,
                   dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
        """Imports every good row; see the module docstring. Mapping errors (an unknown field, a column the
        file does not have, no VIN column) raise Invalid before anything is written. dry_run: everything is
        checked and counted, nothing is kept, no write lock is taken. progress(done, total) after each batch."""
        lang = i18n.normalize(lang or self.ctx.settings.site.language)
        rows = read_rows(data, mapping, self.ctx.tz)
        report = ImportReport(rows=len(rows), dry_run=dry_run)
        if dry_run:
            self._check(rows, actor, report, lang, progress)
        else:
            self._write(rows, actor, report, lang, progress)
        log.info("DMS import by %s: %d rows, %d new customers, %d new vehicles, %d new appointments, %d updated, "
                 "%d rows refused%s%s", actor, report.rows, report.customers, report.vehicles, report.appointments,
                 report.updated, len(report.failed_lines), " (dry run)" if dry_run else "",
                 f"; stopped at line {report.stopped_at_line}" if report.stopped_at_line is not None else "")
        return report

    def _write(self, rows: list[ParsedRow], actor: Actor | str, report: ImportReport, lang: str,
               progress: Progress | None) -> None:
        done = 0
        while done < len(rows):
            if done:
                time.sleep(PAUSE_SECONDS)
            batch = ImportReport()
            try:
                with self.ctx.db.write() as s:
                    target, lookups = DatabaseTarget(s, self.ctx), self._lookups(s)
                    started = time.monotonic()
                    for row in rows[done:done + BATCH_ROWS]:
                        self._import_row(target, row, lookups, actor, batch, lang)
                        batch.rows_done += 1
                        if time.monotonic() - started >= BATCH_SECONDS:
                            break
            except Exception as exc:  # whatever ended the batch: what was committed before it stays, and is said
                log.exception("DMS import by %s stopped at line %d", actor, rows[done].line)
                report.stopped_at_line = rows[done].line
                report.stopped_reason = i18n.t(lang, "dms_import.stopped", detail=type(exc).__name__)
                return
            report.add(batch)
            done += batch.rows_done
            if progress is not None:
                progress(done, len(rows))

    def _check(self, rows: list[ParsedRow], actor: Actor | str, report: ImportReport, lang: str,
               progress: Progress | None) -> None:
        target = MemoryTarget(self.ctx)
        for first in range(0, len(rows), CHECK_ROWS):
            with self.ctx.db.read() as s, target.reading(s):
                lookups = self._lookups(s)
                for row in rows[first:first + CHECK_ROWS]:
                    self._import_row(target, row, lookups, actor, report, lang)
                    report.rows_done += 1
            if progress is not None:
                progress(report.rows_done, len(rows))

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

    def _import_row(self, target: Target, row: ParsedRow, lookups: _Lookups, actor: Actor | str,
                    report: ImportReport, lang: str) -> None:
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
            with target.row():
                changed = self._write_row(target, row, lookups, op, actor, counts, warnings, days, ids, lang)
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

    def _write_row(self, target: Target, row: ParsedRow, lookups: _Lookups, op: LabourOperation | None,
                   actor: Actor | str, counts: dict[str, int], warnings: list[RowError], days: set[date],
                   ids: list[int], lang: str) -> bool:
        """Writes one parsed row; True if it changed anything that existed before. Whatever refuses the row raises
        before anything is changed (a check-only run has nothing to roll back)."""
        v = row.values
        changed = False
        vehicle: Any = target.vehicle(v["vin"])
        if vehicle is not None and vehicle.site_id != self.ctx.site:
            raise _RowFieldError("vin", "dms_import.vin_other_site", vin=v["vin"])
        if vehicle is None:
            if "plate" not in v:
                raise _RowFieldError("plate", "dms_import.plate_missing")
            customer = self._find_customer(target, v)
            if customer is None:
                if not v.get("surname"):
                    raise _RowFieldError("name", "dms_import.name_missing")
                customer = target.new_customer(
                    surname=v["surname"], given_name=v.get("given_name", ""), salutation=v.get("salutation", ""),
                    phone=v.get("phone", ""), preferred_channel=v.get("preferred_channel", "sms"), complaining=False,
                    address=v.get("address", ""))
                counts["customers"] += 1
            elif self._update_customer(customer, v):
                target.changed(customer)
                changed = True
            vehicle = target.new_vehicle(customer, vin=v["vin"], plate=v["plate"], model=v.get("model", ""))
            self._update_vehicle(vehicle, v)
            counts["vehicles"] += 1
        else:
            if self._update_vehicle(vehicle, v):
                target.changed(vehicle)
                changed = True
            customer = target.customer_of(vehicle)
            if self._update_customer(customer, v):
                target.changed(customer)
                changed = True
        target.flush()
        if "appointment_start" in v:
            changed |= self._appointment(target, row, vehicle, lookups, op, actor, counts, warnings, days, ids, lang)
        return changed

    @staticmethod
    def _find_customer(target: Target, v: dict[str, Any]) -> Any:
        """A new vehicle of a known customer: the same phone (and the same surname, when the row names one)."""
        if not v.get("phone"):
            return None
        for c in target.customers_with_phone(v["phone"]):
            if not v.get("surname") or c.surname == v["surname"]:
                return c
        return None

    @staticmethod
    def _update_customer(c: Any, v: dict[str, Any]) -> bool:
        changed = False
        for f in ("surname", "given_name", "salutation", "phone", "address", "preferred_channel"):
            if f in v and getattr(c, f) != v[f]:
                setattr(c, f, v[f])
                changed = True
        return changed

    def _update_vehicle(self, vehicle: Any, v: dict[str, Any]) -> bool:
        """The row's vehicle fields onto a vehicle (a new one's too); True if any changed."""
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
        return changed

    def _appointment(self, target: Target, row: ParsedRow, vehicle: Any, lookups: _Lookups,
                     op: LabourOperation | None, actor: Actor | str, counts: dict[str, int], warnings: list[RowError],
                     days: set[date], ids: list[int], lang: str) -> bool:
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
        appt = target.appointment(ref, vehicle, start)
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
            rebooked = target.rebook(appt, diff, vehicle, advisor, actor, row.line, ref)
            days.add(start.astimezone(self.ctx.tz).date())
            ids += [rebooked] if rebooked is not None else []
            return True
        booked = target.book(vehicle, advisor, wanted, ref, actor, row.line)
        counts["appointments"] += 1
        days.add(start.astimezone(self.ctx.tz).date())
        ids += [booked] if booked is not None else []
        return False


class _RowFieldError(Exception):
    """A row that cannot be written: which field, why."""

    def __init__(self, field: str, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.field, self.key, self.params = field, key, params

