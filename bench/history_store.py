"""A store with years of history, written fast: the demo site as `shopfloor demo` seeds it (today, the 14 days
before, the days ahead), then 2 years before that at 300 repair orders a day, written with bulk inserts (Core
executemany, not the services one by one): customers and vehicles (each car back every ~4 months), appointments
(arrived, no-show, cancelled), repair orders with job lines and their history (ro_events), the audit trail, the
printed tickets and, for the last days, the outbox rows the publisher sent.

    python bench/history_store.py --out /tmp/history.sqlite3            # 730 days × 300 orders: ~3 minutes
    python bench/history_store.py --database postgresql+psycopg://postgres@127.0.0.1:5432/shopfloor_history

bench/history.py uses it (and keeps a built SQLite file to copy from). The history follows the figures' rules
(services/figures.py): an order opened for an appointment is linked to it and the appointment arrived; a few cars
stay overnight (some on hold for parts); no-shows and cancellations release their hours.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from shopfloor.clock import FixedClock
from shopfloor.db import Database, sqlite_url
from shopfloor.demo import seed
from shopfloor.demo.data import MAINTENANCE_MIX, MODELS, PAST_DAYS, REPAIR_MIX, SURNAMES
from shopfloor.demo.people import random_plate, random_vin, weighted
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    AuditEntry,
    Customer,
    JobLine,
    LabourOperation,
    OutboxMessage,
    PrintJob,
    QrTag,
    RepairOrder,
    RoEvent,
    Technician,
    Vehicle,
)
from shopfloor.services import site_setup
from shopfloor.services.context import ServiceContext
from shopfloor.services.solicitation import add_months
from shopfloor.settings import Settings, demo_config_path, load

# The demo's "now" (shopfloor/testing/plugin.py DEMO_NOW): Monday 2026-11-23 10:30 in Beijing.
NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
# Everybody who signs in, with the PIN the benches use.
PINS = {name: "5555" for name in seed.staff_names()}
EXTRA_ADVISORS = 8  # 12 advisor rows: 300 write-ups a day at one per advisor per quarter hour
EXTRA_TECHNICIANS = 44  # ~450 flat-rate hours a day
VISITS_PER_VEHICLE_YEAR = 3.0
OUTBOX_ROWS_PER_ORDER = 27  # what the issue measured (27 rows, 41.5 kB per order)
OUTBOX_PAYLOAD = 1536
TICKET_BYTES = 1400
CHUNK_DAYS = 10
BOOKED = 0.78  # share of the visits that were booked; the rest walk in
NOT_ARRIVED = 0.12  # of the bookings: cancelled (5 %) or no-show (7 %)


@dataclass
class Summary:
    days: int
    per_day: int
    customers: int = 0
    appointments: int = 0
    repair_orders: int = 0
    job_lines: int = 0
    ro_events: int = 0
    audit_rows: int = 0
    print_jobs: int = 0
    outbox_rows: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def settings() -> Settings:
    return load(demo_config_path())


def context(db: Database) -> ServiceContext:
    return ServiceContext(db, settings(), FixedClock(NOW))


def fresh_database(url: str) -> Database:
    """A new empty database at `url` (a PostgreSQL database is dropped and created)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    elif parsed.database:
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
    return Database(url)


class _Ids:
    """Explicit primary keys for the bulk rows (children refer to their parents without a round trip)."""

    def __init__(self, conn: Connection, *models: Any) -> None:
        self.next = {m: int(conn.scalar(select(func.coalesce(func.max(m.id), 0))) or 0) + 1 for m in models}

    def take(self, model: Any) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


@dataclass
class _Car:
    id: int
    customer_id: int
    km: float
    km_per_day: float
    last_service_on: date | None = None
    last_service_km: int | None = None


class HistoryWriter:
    def __init__(self, db: Database, ctx: ServiceContext, per_day: int, days: int, outbox_days: int,
                 rng: random.Random, say: Callable[[str], None]) -> None:
        self.db, self.ctx, self.per_day, self.days, self.outbox_days = db, ctx, per_day, days, outbox_days
        self.rng, self.say = rng, say
        self.tz = ctx.tz
        self.summary = Summary(days=days, per_day=per_day)
        self.first_day = ctx.today() - timedelta(days=PAST_DAYS + days)

    # -- the site -------------------------------------------------------------------------------------------
    def staff(self) -> None:
        with self.db.write() as s:
            for i in range(EXTRA_ADVISORS):
                site_setup.add_staff(s, self.ctx, chr(ord("E") + i), f"顾问{i + 1}", "advisor", "5555")
            for i in range(EXTRA_TECHNICIANS):
                site_setup.add_technician(s, self.ctx, f"技师{i + 1:02d}", "repair" if i % 3 == 0 else "maintenance")
        with self.db.read() as s:
            self.advisors = [(a.id, a.name) for a in s.scalars(
                select(Advisor).where(Advisor.site_id == self.ctx.site).order_by(Advisor.id)) if a.is_advisor]
            self.technicians = [(t.id, t.name, t.skill) for t in s.scalars(select(Technician).order_by(Technician.id))]
            self.ops = {op.code: op for op in s.scalars(select(LabourOperation))}

    def cars(self, conn: Connection, ids: _Ids) -> list[_Car]:
        count = int(self.per_day * 365 / VISITS_PER_VEHICLE_YEAR)
        rng, site = self.rng, self.ctx.site
        customers, vehicles, tags, cars = [], [], [], []
        for i in range(count):
            customer_id, vehicle_id = ids.take(Customer), ids.take(Vehicle)
            model, wmi = MODELS[i % len(MODELS)]
            sold = self.first_day - timedelta(days=rng.randrange(30, 2500))
            km_per_day = rng.uniform(20, 80)
            km = (self.first_day - sold).days * km_per_day
            customers.append({"id": customer_id, "site_id": site, "surname": SURNAMES[i % len(SURNAMES)],
                              "given_name": f"客{i}", "salutation": rng.choice(["先生", "女士"]),
                              "phone": f"13{i:09d}", "preferred_channel": rng.choice(["sms", "wechat", "phone"]),
                              "complaining": False, "address": ""})
            expires = self.ctx.today() + timedelta(days=rng.randrange(-30, 330))
            vehicles.append({"id": vehicle_id, "site_id": site, "customer_id": customer_id,
                             "vin": random_vin(rng, wmi, 300000 + i), "plate": f"{random_plate(rng, False)[:2]}"
                             f"H{i:05d}", "model": model, "mileage_km": int(km), "sold_on": sold,
                             "mileage_at": self.first_day, "insurance_expires_on": expires,
                             "inspection_due_on": add_months(sold, 72),
                             "warranty_expires_on": add_months(sold, 36)})
            tags.append({"token": f"H{vehicle_id:08d}", "vehicle_id": vehicle_id,
                         "issued_at": datetime.combine(self.first_day, clock_time(8), tzinfo=self.tz)})
            cars.append(_Car(vehicle_id, customer_id, km, km_per_day))
        for table, rows in ((Customer, customers), (Vehicle, vehicles), (QrTag, tags)):
            _insert(conn, table, rows)
        self.summary.customers = count
        return cars

    # -- the days -------------------------------------------------------------------------------------------
    def write(self) -> Summary:
        started = time.perf_counter()
        self.staff()
        with self.db.write_engine.begin() as conn:
            ids = _Ids(conn, Customer, Vehicle, Appointment, RepairOrder, JobLine, RoEvent, AuditEntry, PrintJob,
                       OutboxMessage)
            cars = self.cars(conn, ids)
        self.ids = ids
        days = [self.first_day + timedelta(days=i) for i in range(self.days)]
        for first in range(0, len(days), CHUNK_DAYS):
            with self.db.write_engine.begin() as conn:
                rows = _Rows()
                for day in days[first:first + CHUNK_DAYS]:
                    self._day(day, cars, rows)
                rows.insert(conn)
                self.summary.appointments += len(rows.tables[Appointment])
                self.summary.repair_orders += len(rows.tables[RepairOrder])
                self.summary.job_lines += len(rows.tables[JobLine])
                self.summary.ro_events += len(rows.tables[RoEvent])
                self.summary.audit_rows += len(rows.tables[AuditEntry])
                self.summary.print_jobs += len(rows.tables[PrintJob])
                self.summary.outbox_rows += len(rows.tables[OutboxMessage])
            self.say(f"  history up to {days[min(first + CHUNK_DAYS, len(days)) - 1]}: "
                     f"{self.summary.repair_orders:,} repair orders ({time.perf_counter() - started:.0f} s)")
        with self.db.write_engine.begin() as conn:
            vehicles = Vehicle.__table__
            conn.execute(update(vehicles).where(vehicles.c.id == bindparam("vehicle")), [
                {"vehicle": c.id, "mileage_km": int(c.km), "mileage_at": days[-1], "last_service_on": c.last_service_on,
                 "last_service_km": c.last_service_km} for c in cars if c.last_service_on is not None])
            if self.db.write_engine.dialect.name == "postgresql":
                _restart_sequences(conn)
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _day(self, day: date, cars: list[_Car], rows: _Rows) -> None:
        rng, site, tz, ids = self.rng, self.ctx.site, self.tz, self.ids
        # bookings and walk-ins so that about per_day orders are opened (no-shows and cancellations open none)
        count = max(1, int(rng.gauss(self.per_day, self.per_day * 0.08) / (1 - BOOKED * NOT_ARRIVED)))
        opening = datetime.combine(day, clock_time(8, 0), tzinfo=tz)
        with_outbox = (self.first_day + timedelta(days=self.days) - day).days <= self.outbox_days
        number = 0
        for n in range(count):
            car = cars[rng.randrange(len(cars))]
            advisor_id, advisor = self.advisors[n % len(self.advisors)]
            ops = self._job(rng)
            hours = sum((op.hours for op in ops), Decimal(0))
            skill = "repair" if any(op.skill == "repair" for op in ops) else "maintenance"
            quarter = (n // len(self.advisors)) % 44
            start = opening + timedelta(minutes=15 * quarter)
            lines = [{"code": op.code, "description": op.name_zh, "hours": float(op.hours), "skill": op.skill,
                      "equipment": op.equipment} for op in ops]
            booked = rng.random() < BOOKED
            appointment_id = None
            if booked:
                fate = rng.random()
                status = "cancelled" if fate < 0.05 else "no_show" if fate < NOT_ARRIVED else "arrived"
                appointment_id = ids.take(Appointment)
                arrived = start + timedelta(minutes=rng.randrange(-10, 12)) if status == "arrived" else None
                rows.add(Appointment, id=appointment_id, site_id=site, vehicle_id=car.id, advisor_id=advisor_id,
                         bay_id=None, start=start, hours=hours, work=" + ".join(op.name_zh for op in ops),
                         status=status, arrived_at=arrived, version=1, job_lines=lines, skill=skill,
                         equipment=next((op.equipment for op in ops if op.equipment), None), source="passive",
                         parts_status="none", parts_numbers="", waiting_customer=False, road_test=False,
                         repeat_repair=False, complaining_customer=False, notes="",
                         created_at=start - timedelta(days=rng.randrange(1, 10)), created_by=advisor,
                         cancel_reason="客户改期" if status == "cancelled" else None,
                         no_show_at=start + timedelta(hours=1) if status == "no_show" else None)
                self._audit(rows, start - timedelta(days=2), advisor, "appointment", str(appointment_id), "booked")
                if status != "arrived":
                    continue
                opened = arrived or start
            else:
                opened = opening + timedelta(minutes=rng.randrange(0, 11 * 60))
            number += 1
            self._order(rows, day, number, car, advisor_id, advisor, appointment_id, opened, ops, with_outbox)

    def _job(self, rng: random.Random) -> list[Any]:
        if rng.random() < 0.3:
            ops = [self.ops[weighted(rng, REPAIR_MIX)]]
            if rng.random() < 0.15:
                ops.append(self.ops["OIL"])
        else:
            ops = [self.ops[weighted(rng, MAINTENANCE_MIX)]]
            if rng.random() < 0.15:
                ops.append(self.ops["WSH"])
        return ops

    def _order(self, rows: _Rows, day: date, number: int, car: _Car, advisor_id: int, advisor: str,
               appointment_id: int | None, opened: datetime, ops: list[Any], with_outbox: bool) -> None:
        rng, site, ids = self.rng, self.ctx.site, self.ids
        ro_id = ids.take(RepairOrder)
        ro_number = f"RO{day:%Y%m%d}-{number:03d}"
        hours = float(sum((op.hours for op in ops), Decimal(0)))
        skill = "repair" if any(op.skill == "repair" for op in ops) else "maintenance"
        tech_id, tech, _ = rng.choice([t for t in self.technicians if skill == "maintenance" or t[2] == "repair"])
        car.km += max(0, (day - (car.last_service_on or self.first_day)).days) * car.km_per_day * 0.3
        km = int(car.km)
        # a few cars stay overnight, some of them waiting for parts
        overnight = rng.random() < 0.05
        hold = overnight and rng.random() < 0.5
        path = [("dispatched", rng.randrange(10, 30)), ("in_progress", rng.randrange(5, 20))]
        if hold:
            path.append(("on_hold", int(hours * 30)))
            path.append(("in_progress", 14 * 60))
        elif overnight:
            path.append(("in_progress", 16 * 60))
        path += [("quality_check", int(hours * 60) + rng.randrange(0, 20)), ("ready", rng.randrange(10, 25)),
                 ("delivered", rng.randrange(15, 80))]
        at, previous = opened, "checked_in"
        rows.add(RoEvent, id=ids.take(RoEvent), repair_order_id=ro_id, at=opened, actor=advisor, kind="checked_in",
                 from_status=None, to_status="checked_in", technician_id=None, reason=None)
        self._audit(rows, opened, advisor, "repair_order", ro_number, "checked_in")
        for step, (status, minutes) in enumerate(path):
            at = at + timedelta(minutes=max(minutes, 5))
            rows.add(RoEvent, id=ids.take(RoEvent), repair_order_id=ro_id, at=at, actor=tech, kind="transition",
                     from_status=previous, to_status=status, technician_id=tech_id if step == 0 else None,
                     reason="waiting_parts" if status == "on_hold" else None)
            self._audit(rows, at, tech, "repair_order", ro_number, "transition", previous, status)
            previous = status
        rows.add(RepairOrder, id=ro_id, site_id=site, number=ro_number, vehicle_id=car.id,
                 appointment_id=appointment_id, advisor_id=advisor_id, technician_id=tech_id, status="delivered",
                 hold_reason=None, complaint="按时保养", mileage_km=km, fuel_eighths=rng.randrange(1, 9),
                 promised_at=opened + timedelta(hours=hours + 1), opened_at=opened, closed_at=at, version=1)
        for pos, op in enumerate(ops):
            rows.add(JobLine, id=ids.take(JobLine), repair_order_id=ro_id, position=pos, operation_code=op.code,
                     description=op.name_zh, hours=op.hours, skill=op.skill)
        if any(op.interval_km for op in ops):
            car.last_service_on, car.last_service_km = day, km
        rows.add(PrintJob, id=ids.take(PrintJob), site_id=site, printer="reception", kind="ticket",
                 repair_order_id=ro_id, reprint=False, data=_ticket(ro_number), status="printed", detail="",
                 requested_by=advisor, created_at=opened, finished_at=opened + timedelta(seconds=4), decided_by=None,
                 decided_at=None, version=1, meta={})
        if with_outbox:
            payload = (b'{"schema":1,"number":"' + ro_number.encode() + b'"' + b" " * OUTBOX_PAYLOAD + b"}")
            for i in range(OUTBOX_ROWS_PER_ORDER):
                sent = opened + timedelta(seconds=30 * i)
                rows.add(OutboxMessage, id=ids.take(OutboxMessage),
                         topic=f"shopfloor/v1/{site}/state/repair_orders/{ro_number}", payload=payload,
                         retain=i % 5 != 4, created_at=sent, sent_at=sent + timedelta(milliseconds=8))

    def _audit(self, rows: _Rows, at: datetime, actor: str, entity: str, entity_id: str, action: str,
               from_value: str | None = None, to_value: str | None = None) -> None:
        rows.add(AuditEntry, id=self.ids.take(AuditEntry), site_id=self.ctx.site, at=at, actor=actor,
                 actor_kind="staff", actor_id=None, entity=entity, entity_id=entity_id, action=action,
                 from_value=from_value, to_value=to_value, reason=None, detail=None)


class _Rows:
    ORDER = (Appointment, RepairOrder, JobLine, RoEvent, AuditEntry, PrintJob, OutboxMessage)

    def __init__(self) -> None:
        self.tables: dict[Any, list[dict[str, Any]]] = {t: [] for t in self.ORDER}

    def add(self, model: Any, **values: Any) -> None:
        self.tables[model].append(values)

    def insert(self, conn: Connection) -> None:
        for model in self.ORDER:
            _insert(conn, model, self.tables[model])


def _insert(conn: Connection, model: Any, rows: list[dict[str, Any]], chunk: int = 5000) -> None:
    table = model.__table__
    for part in _chunks(rows, chunk):
        conn.execute(table.insert(), part)


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _ticket(number: str) -> bytes:
    body = ("\x1b@\x1b!\x30" + number + "\n").encode("ascii")
    return body + bytes(range(32, 127)) * (TICKET_BYTES // 95)


def _restart_sequences(conn: Connection) -> None:
    """Rows were written with explicit keys: move each serial sequence past them."""
    for model in (Customer, Vehicle, Appointment, RepairOrder, JobLine, RoEvent, AuditEntry, PrintJob,
                  OutboxMessage):
        table = model.__tablename__
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"(SELECT coalesce(max(id), 1) FROM {table}))"))


def build(db: Database, *, days: int = 730, per_day: int = 300, outbox_days: int = 30, rng_seed: int = 11,
          say: Callable[[str], None] = print) -> Summary:
    """The demo site plus `days` of history before its own 14 days, into an empty database."""
    ctx = context(db)
    db.migrate()
    seed.seed(ctx, PINS)
    writer = HistoryWriter(db, ctx, per_day, days, outbox_days, random.Random(rng_seed), say)
    summary = writer.write()
    if db.write_engine.dialect.name == "postgresql":
        # as autovacuum would after such a load: without statistics the planner walks the primary key backwards
        # for "the latest order of this appointment" (0.5 s for a day's board)
        with db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    with db.read() as s:
        for model in (RepairOrder, Appointment, RoEvent, AuditEntry, OutboxMessage):
            summary.counts[model.__tablename__] = int(s.scalar(select(func.count()).select_from(model)) or 0)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="SQLite file to write (replaced)")
    parser.add_argument("--database", help="or a database URL (a PostgreSQL database is dropped and made anew)")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--outbox-days", type=int, default=30, help="days whose sent outbox rows are kept")
    args = parser.parse_args()
    if (args.out is None) == (args.database is None):
        parser.error("give --out FILE or --database URL")
    db = fresh_database(args.database or sqlite_url(args.out))
    try:
        summary = build(db, days=args.days, per_day=args.per_day, outbox_days=args.outbox_days)
    finally:
        db.dispose()
    print(f"{summary.days} days × ~{summary.per_day} orders in {summary.seconds:.0f} s: {summary.counts}")


if __name__ == "__main__":
    main()
