"""The figures of closed days, kept one row per day (table figures_days) so that a report over months reads those
rows instead of every order again. What a day's figures count is services/figures.py; this module keeps them
right:

- A day is cached only once it has closed (before today, in the site's time). Today and the days ahead are always
  computed from the orders.
- Any write that touches a closed day's figures deletes that day's row in its own transaction: a before-flush
  hook on the write sessions of every ServiceContext's database (`watch`) reads what the flush changes (repair
  orders, their job lines and history, appointments, leave, holidays; technicians and shifts touch every day) and
  deletes the rows of the closed days among them. It also bumps the site's epoch (figures_epochs).
- A report computes the days it lacks in a read transaction, after reading the epoch; it stores them in a short
  write transaction only if the epoch is unchanged, i.e. no change to a closed day committed meanwhile.
- `basis` names the settings a row was computed with (time zone, the default shift); a row of another basis is
  computed again.

Writes that bypass the ORM's unit of work (Core UPDATE/INSERT on those tables) are not seen: the services do not
use them (the demo seed writes history before any figures exist).
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Row, Table, delete, event, inspect, select
from sqlalchemy.orm import Session

from shopfloor.domain.capacity import MAINTENANCE, REPAIR
from shopfloor.domain.models import (
    Appointment,
    FiguresDay,
    FiguresEpoch,
    Holiday,
    JobLine,
    Leave,
    RepairOrder,
    RoEvent,
    Shift,
    Technician,
)
from shopfloor.domain.states import RoStatus
from shopfloor.services.context import ServiceContext

# Bump when what a day's figures count changes (services/figures.py): every cached day is computed again.
FORMAT = 1
CANCELLED_RO = RoStatus.CANCELLED.value
_IN_CHUNK = 500


def basis(ctx: ServiceContext) -> str:
    """The settings a day's figures depend on besides the rows: day boundaries and the default shift."""
    cfg = ctx.settings.booking
    key = json.dumps([FORMAT, ctx.settings.site.timezone, cfg.shift_start.isoformat(), cfg.shift_end.isoformat(),
                      cfg.break_minutes, sorted(cfg.workdays)])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


# --- reading and storing --------------------------------------------------------------------------------

def epoch(s: Session, site: str) -> int:
    return int(s.scalar(select(FiguresEpoch.epoch).where(FiguresEpoch.site_id == site)) or 0)


def load(s: Session, site: str, days: list[date], wanted_basis: str) -> dict[date, Row[Any]]:
    """The cached rows of these days (computed with `wanted_basis`), as rows of columns."""
    if not days:
        return {}
    columns = [c for c in FiguresDay.__table__.c if c.name not in ("site_id", "basis", "computed_at")]
    rows = s.execute(select(*columns).where(FiguresDay.site_id == site, FiguresDay.day >= min(days),
                                            FiguresDay.day <= max(days), FiguresDay.basis == wanted_basis))
    wanted = set(days)
    return {row.day: row for row in rows if row.day in wanted}


def store(ctx: ServiceContext, seen_epoch: int, rows: list[FiguresDay]) -> bool:
    """Keeps the days computed by a read that began at `seen_epoch`; False (nothing kept) if a change to a closed
    day committed since."""
    if not rows:
        return True
    with ctx.db.write() as s:
        if epoch(s, ctx.site) != seen_epoch:
            return False
        for part in _chunks([r.day for r in rows]):
            s.execute(delete(FiguresDay).where(FiguresDay.site_id == ctx.site, FiguresDay.day.in_(part)))
        s.add_all(rows)
    return True


def _chunks(values: list[date]) -> Iterable[list[date]]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i:i + _IN_CHUNK]


# --- keeping them right ---------------------------------------------------------------------------------

_watched: weakref.WeakKeyDictionary[Engine, weakref.ref[ServiceContext]] = weakref.WeakKeyDictionary()


def watch(ctx: ServiceContext) -> None:
    """From now on, writes through ctx.db delete the cached figures of the closed days they touch (idempotent: the
    first live context of a database is the one whose site and clock count)."""
    current = _watched.get(ctx.db.write_engine)
    if current is None or current() is None:
        _watched[ctx.db.write_engine] = weakref.ref(ctx)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: object, _instances: object) -> None:
    bind = session.bind
    if not isinstance(bind, Engine):
        return
    ref = _watched.get(bind)
    ctx = ref() if ref is not None else None
    if ctx is None:
        return
    touched = _Touched(ctx)
    for obj in session.new:
        touched.add(session, obj, new=True)
    for obj in session.deleted:
        touched.add(session, obj, new=True)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            touched.add(session, obj, new=False)
    touched.forget(session)


def _history(obj: Any, name: str) -> tuple[list[Any], bool]:
    """Every value the attribute had in this flush (old and new, None included) and whether it changed."""
    h = inspect(obj).attrs[name].history
    return [*h.added, *h.deleted, *h.unchanged], h.has_changes()


class _Touched:
    """The closed days (before today) whose figures a flush changes."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.today = ctx.today()
        self.days: set[date] = set()
        self.every_day = False

    def local(self, moment: datetime) -> date:
        return moment.astimezone(self.ctx.tz).date()

    def add(self, session: Session, obj: object, *, new: bool) -> None:
        if isinstance(obj, RepairOrder):
            self._repair_order(obj, new)
        elif isinstance(obj, JobLine):
            self._job_line(session, obj, new)
        elif isinstance(obj, RoEvent):
            self._ro_event(obj, new)
        elif isinstance(obj, Appointment):
            if new or self._changed(obj, "start", "status", "arrived_at", "hours", "job_lines", "skill", "site_id"):
                self._days(self.local(v) for v in _history(obj, "start")[0] if v is not None)
        elif isinstance(obj, Leave | Holiday):
            if new or self._changed(obj, "day", *(("hours", "technician_id") if isinstance(obj, Leave) else ())):
                self._days(v for v in _history(obj, "day")[0] if v is not None)
        elif isinstance(obj, Technician):
            self.every_day = self.every_day or new or self._changed(obj, "active", "skill", "site_id")
        elif isinstance(obj, Shift):
            self.every_day = True

    @staticmethod
    def _changed(obj: object, *names: str) -> bool:
        return any(_history(obj, name)[1] for name in names)

    def _days(self, days: Iterable[date]) -> None:
        self.days.update(d for d in days if d < self.today)

    def _after(self, first: date, last: date | None) -> None:
        """The days from `first` to `last` (open-ended: yesterday)."""
        end = min(last or self.today, self.today - timedelta(days=1))
        day = first
        while day <= end:
            self.days.add(day)
            day += timedelta(days=1)

    def _repair_order(self, ro: RepairOrder, new: bool) -> None:
        opened = [self.local(v) for v in _history(ro, "opened_at")[0] if v is not None]
        if not opened:
            return
        statuses, status_changed = _history(ro, "status")
        # the day it opened: counted unless cancelled (its advisor, appointment and hours are that day's)
        if new or self._changed(ro, "opened_at", "appointment_id", "advisor_id", "site_id") or (
                status_changed and CANCELLED_RO in statuses):
            self._days(opened)
        # every midnight it stood in the workshop: carried over, by its status then
        if new or self._changed(ro, "opened_at", "closed_at", "status", "hold_reason"):
            closed, _ = _history(ro, "closed_at")
            last = None if not closed or None in closed else max(self.local(v) for v in closed)
            self._after(min(opened) + timedelta(days=1), last)

    def _job_line(self, session: Session, line: JobLine, new: bool) -> None:
        if not (new or self._changed(line, "hours", "skill", "repair_order_id")):
            return
        orders = [line.__dict__.get("repair_order")] + [
            session.get(RepairOrder, rid) for rid in _history(line, "repair_order_id")[0] if rid is not None]
        self._days(self.local(ro.opened_at) for ro in orders if ro is not None and ro.opened_at is not None)

    def _ro_event(self, ev: RoEvent, new: bool) -> None:
        if new or self._changed(ev, "at", "to_status", "reason", "repair_order_id"):
            for at in _history(ev, "at")[0]:
                if at is not None:
                    self._after(self.local(at) + timedelta(days=1), None)

    def forget(self, session: Session) -> None:
        if not (self.days or self.every_day):
            return
        site = self.ctx.site
        # Core statements on the tables (the ORM's own bulk UPDATE/DELETE would synchronize the session mid-flush)
        days, epochs = cast(Table, FiguresDay.__table__), cast(Table, FiguresEpoch.__table__)
        with session.no_autoflush:
            conn = session.connection()
        if self.every_day:
            conn.execute(days.delete().where(days.c.site_id == site))
        else:
            for part in _chunks(sorted(self.days)):
                conn.execute(days.delete().where(days.c.site_id == site, days.c.day.in_(part)))
        bumped = conn.execute(epochs.update().where(epochs.c.site_id == site).values(epoch=epochs.c.epoch + 1))
        if not bumped.rowcount:
            conn.execute(epochs.insert().values(site_id=site, epoch=1))


# --- rows and tallies -----------------------------------------------------------------------------------

def row_of(site: str, day: date, tally: Any, wanted_basis: str, now: datetime) -> FiguresDay:
    """A figures.Tally of one day as its row."""
    return FiguresDay(
        site_id=site, day=day, basis=wanted_basis, repair_orders=tally.repair_orders,
        by_appointment=tally.by_appointment, appointments=tally.appointments, arrived=tally.arrived,
        no_show=tally.no_show, cancelled=tally.cancelled, pending=tally.pending,
        hours_maintenance=tally.hours.get(MAINTENANCE, 0.0), hours_repair=tally.hours.get(REPAIR, 0.0),
        sold=tally.sold, available=tally.available,
        levels={str(n): [cells, advisor_id, quarter] for n, (cells, _day, advisor_id, quarter) in tally.levels.items()},
        profile=dict(tally.profile), carried=dict(tally.carried), computed_at=now)


def tally_fields(row: Row[Any]) -> dict[str, Any]:
    """A row's fields as figures.Tally takes them."""
    day = row.day.isoformat()
    return {"days": 1, "repair_orders": row.repair_orders, "by_appointment": row.by_appointment,
            "appointments": row.appointments, "arrived": row.arrived, "no_show": row.no_show,
            "cancelled": row.cancelled, "pending": row.pending,
            "hours": {MAINTENANCE: row.hours_maintenance, REPAIR: row.hours_repair},
            "sold": row.sold, "available": row.available,
            "levels": {int(n): [int(cells), day, int(advisor_id), str(quarter)]
                       for n, (cells, advisor_id, quarter) in row.levels.items()},
            "profile": Counter({str(k): int(v) for k, v in row.profile.items()}),
            "carried": Counter({str(k): int(v) for k, v in row.carried.items()}), "carried_known": True}
