"""The labour-operation catalogue from /setup and the API: code, names, flat-rate hours, skill class, the bay kind
it needs and a maintenance package's interval. Bookings and orders copy what they use (description, hours,
skill), so an edit changes what is sold from now on, never a booked car. An operation nothing refers to can be
removed; one a job line, a finding or the walkaround's proposals name stays, and is taken out of use instead: kept
for the history, no longer offered by the booking desk, reception (except to the car booked with it), the
station's findings, the API's catalogue or the call lists' due packages (site.toml's walkaround proposals still
propose what they name; a booking naming its code is refused, a check-in or a finding naming it is served)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS, SKILLS
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import JobLine, LabourOperation
from shopfloor.domain.workshop_models import AdditionalWork
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, RowProblem, import_rows, read_rows, write_csv
from shopfloor.services.setup.people_common import parse_active, row_columns

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
EQUIPMENT = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
MAX_NAME = 80
MAX_INTERVAL_KM = 500_000
COLUMNS = ("code", "name_zh", "name_en", "hours", "skill", "equipment", "interval_km", "active")
REQUIRED = ("code", "name_zh", "hours", "skill")


@dataclass(frozen=True)
class OperationView:
    code: str
    name_zh: str
    name_en: str
    hours: float
    skill: str
    equipment: str | None
    interval_km: int | None
    in_use: bool  # named by a job line, a finding or [reception] proposals: it cannot be removed
    active: bool  # False: out of use, offered for no new work


@dataclass(frozen=True)
class OperationInput:
    code: str
    name_zh: str
    name_en: str
    hours: Decimal
    skill: str
    equipment: str | None
    interval_km: int | None


def clean(code: object, name_zh: object, name_en: object, hours: object, skill: object,
          equipment: object = None, interval_km: object = None) -> OperationInput:
    """The values checked one by one; RowProblem names the column at fault (the form and the CSV show it)."""
    text = str(code or "").strip().upper()
    if not CODE.match(text):
        raise RowProblem("code", "setup_catalogue.operations.error.code", value=text[:30])
    zh = " ".join(str(name_zh or "").split())
    en = " ".join(str(name_en or "").split()) or zh
    for column, name in (("name_zh", zh), ("name_en", en)):
        if not name or len(name) > MAX_NAME:
            raise RowProblem(column, "setup_catalogue.operations.error.name", most=MAX_NAME)
    try:
        amount = Decimal(str(hours).strip().replace(",", "."))
    except InvalidOperation:
        raise RowProblem("hours", "setup_catalogue.operations.error.hours", value=str(hours)[:20],
                         least=MIN_LINE_HOURS, most=MAX_LINE_HOURS) from None
    if not amount.is_finite() or not Decimal(str(MIN_LINE_HOURS)) <= amount <= Decimal(str(MAX_LINE_HOURS)):
        raise RowProblem("hours", "setup_catalogue.operations.error.hours", value=str(hours)[:20],
                         least=MIN_LINE_HOURS, most=MAX_LINE_HOURS)
    kind = str(skill or "").strip().lower()
    if kind not in SKILLS:
        raise RowProblem("skill", "setup_catalogue.operations.error.skill", value=kind[:20], known=", ".join(SKILLS))
    bay = str(equipment or "").strip().lower() or None
    if bay is not None and not EQUIPMENT.match(bay):
        raise RowProblem("equipment", "setup_catalogue.operations.error.equipment", value=bay[:20])
    km: int | None = None
    raw = str(interval_km if interval_km is not None else "").strip().replace(",", "")
    if raw:
        try:
            km = int(raw)
        except ValueError:
            km = -1
        if not 0 < km <= MAX_INTERVAL_KM:
            raise RowProblem("interval_km", "setup_catalogue.operations.error.interval", value=raw[:20],
                             most=MAX_INTERVAL_KM)
    return OperationInput(text, zh, en, amount.quantize(Decimal("0.01")), kind, bay, km)


def _as_invalid(problem: RowProblem) -> Invalid:
    return Invalid(problem.key, field=problem.column, **problem.params)


class OperationsService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def entries(self) -> list[OperationView]:
        with self.ctx.db.read() as s:
            used = self._used(s)
            ops = s.scalars(select(LabourOperation).where(LabourOperation.site_id == self.ctx.site)
                            .order_by(LabourOperation.code))
            return [self._view(o, o.code in used) for o in ops]

    def get(self, code: str) -> OperationView:
        with self.ctx.db.read() as s:
            op = self._find(s, code.strip().upper())
            return self._view(op, op.code in self._used(s))

    def save(self, code: object, name_zh: object, name_en: object, hours: object, skill: object,
             equipment: object = None, interval_km: object = None, *, active: bool | None = None,
             actor: Actor | str) -> OperationView:
        """Add the operation, or change the one of this code; `active` None leaves it in or out of use as it is
        (a new one: in use)."""
        try:
            value = clean(code, name_zh, name_en, hours, skill, equipment, interval_km)
        except RowProblem as problem:
            raise _as_invalid(problem) from None
        with self.ctx.db.write() as s:
            self._store(s, value, active, actor)
            op = self._find(s, value.code)
            return self._view(op, op.code in self._used(s))

    def remove(self, code: str, *, actor: Actor | str) -> OperationView:
        """Only an operation nothing names: orders and findings keep their code for the history. Returns it as
        it was."""
        with self.ctx.db.write() as s:
            op = self._find(s, code.strip().upper())
            if op.code in self._used(s):
                raise Refused("setup_catalogue.operations.error.in_use", code=op.code)
            record(s, self.ctx, actor, Entity.OPERATION, op.code, "operation_removed",
                   from_value=f"{op.name_zh} {op.hours}h {op.skill}")
            removed = self._view(op, False)
            s.delete(op)
            return removed

    def export_csv(self) -> bytes:
        return write_csv(COLUMNS, ([o.code, o.name_zh, o.name_en, f"{o.hours:g}", o.skill, o.equipment,
                                    o.interval_km, "yes" if o.active else "no"] for o in self.entries()))

    def import_csv(self, data: bytes, *, actor: Actor | str) -> CsvImport:
        """Every good row added or changed, each bad one reported with its line; one audit row for the import
        besides each operation's own."""
        rows = read_rows(data, COLUMNS, REQUIRED)
        with self.ctx.db.write() as s:
            def apply(row: CsvRow) -> str:
                cells = row.cells
                value = clean(cells.get("code"), cells.get("name_zh"), cells.get("name_en"), cells.get("hours"),
                              cells.get("skill"), cells.get("equipment"), cells.get("interval_km"))
                with row_columns():  # an empty cell (or a file from before the column) leaves it as it is
                    active = parse_active("active", cells.get("active") or "")
                return self._store(s, value, active, actor)

            report = import_rows(rows, apply)
            record(s, self.ctx, actor, Entity.OPERATION, "csv", "operations_imported",
                   detail={"rows": report.rows, "added": report.added, "updated": report.updated,
                           "failed": len({e.line for e in report.errors})})
        return report

    # -- inside a transaction -------------------------------------------------------------------------------
    def _store(self, s: Session, v: OperationInput, active: bool | None, actor: Actor | str) -> str:
        op = s.scalar(select(LabourOperation).where(LabourOperation.site_id == self.ctx.site,
                                                    LabourOperation.code == v.code))
        if op is None:
            s.add(LabourOperation(site_id=self.ctx.site, code=v.code, name_zh=v.name_zh, name_en=v.name_en,
                                  hours=v.hours, skill=v.skill, equipment=v.equipment, interval_km=v.interval_km,
                                  active=active is not False))
            s.flush()
            record(s, self.ctx, actor, Entity.OPERATION, v.code, "operation_added",
                   to_value=f"{v.name_zh} {v.hours}h {v.skill}", detail={"active": active is not False})
            return "added"
        before = {"name_zh": op.name_zh, "name_en": op.name_en, "hours": Decimal(op.hours), "skill": op.skill,
                  "equipment": op.equipment, "interval_km": op.interval_km, "active": op.active}
        after = {"name_zh": v.name_zh, "name_en": v.name_en, "hours": v.hours, "skill": v.skill,
                 "equipment": v.equipment, "interval_km": v.interval_km,
                 "active": op.active if active is None else active}
        changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
        if not changed:
            return "unchanged"
        for key, (_old, new) in changed.items():
            setattr(op, key, new)
        s.flush()
        record(s, self.ctx, actor, Entity.OPERATION, v.code, "operation_changed",
               from_value=", ".join(f"{k}={old}" for k, (old, _new) in changed.items()),
               to_value=", ".join(f"{k}={new}" for k, (_old, new) in changed.items()),
               detail={"changed": sorted(changed)})
        return "updated"

    def _find(self, s: Session, code: str) -> LabourOperation:
        op = s.scalar(select(LabourOperation).where(LabourOperation.site_id == self.ctx.site,
                                                    LabourOperation.code == code))
        if op is None:
            raise NotFound("error.operation_unknown", code=code[:20])
        return op

    def _used(self, s: Session) -> set[str]:
        """The codes something refers to: job lines (any site's orders here are this site's), findings, and the
        walkaround's proposals in the site configuration."""
        used = set(s.scalars(select(JobLine.operation_code).where(JobLine.operation_code.is_not(None))
                             .group_by(JobLine.operation_code)))
        used |= set(s.scalars(select(AdditionalWork.operation_code).where(AdditionalWork.operation_code.is_not(None))
                              .group_by(AdditionalWork.operation_code)))
        used |= set(self.ctx.settings.reception.proposals.values())
        return {str(c) for c in used if c}

    def count(self) -> int:
        with self.ctx.db.read() as s:
            return s.scalar(select(func.count()).select_from(LabourOperation)
                            .where(LabourOperation.site_id == self.ctx.site)) or 0

    @staticmethod
    def _view(o: LabourOperation, in_use: bool) -> OperationView:
        return OperationView(o.code, o.name_zh, o.name_en, float(o.hours), o.skill, o.equipment, o.interval_km,
                             in_use, o.active)
