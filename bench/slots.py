"""Slot proposal for one booking on a big site: 30 technicians, 8 advisors, 12 lifts and an alignment rack, a
month of 40 bookings a day already in the database. Times BookingService.propose_slots end to end (the day's
plan read from the database, the rules, the levelling) for random days and work, and book() likewise.

    python bench/slots.py [--database URL] [--proposals 500] [--bookings-per-day 40]

Default database: a fresh SQLite file in a temp dir. For PostgreSQL:
    --database postgresql+psycopg://postgres@127.0.0.1:5432/shopfloor_bench   (created if missing)
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shopfloor.clock import FixedClock
from shopfloor.db import Database, sqlite_url
from shopfloor.domain.identifiers import new_tag_token, with_check_digit
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    Bay,
    Customer,
    LabourOperation,
    QrTag,
    Site,
    Technician,
    Vehicle,
)
from shopfloor.domain.versions import next_version
from shopfloor.services.booking import BookingRefused, BookingRequest, BookingService
from shopfloor.services.context import ServiceContext
from shopfloor.settings import demo_config_path, load

NOW = datetime.fromisoformat("2026-11-23T07:30:00+08:00")
DAYS = 30
WORK = [("M10", 1.2, "maintenance", None), ("M20", 1.8, "maintenance", None), ("OIL", 0.5, "maintenance", None),
        ("BRK", 1.5, "repair", None), ("DGN", 1.0, "repair", None), ("ALN", 1.0, "repair", "alignment"),
        ("TBT", 3.0, "repair", None)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fresh_database(url: str | None) -> Database:
    if url is None:
        return Database(sqlite_url(Path(tempfile.mkdtemp(prefix="slots-bench-")) / "bench.sqlite3"))
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return Database(url)


def build_site(ctx: ServiceContext, per_day: int, rng: random.Random) -> int:
    """The site, then a month of bookings placed by the service's own proposals (so the month is levelled and
    within the rules, as a real one would be). Returns how many were booked."""
    with ctx.db.write() as s:
        s.add(Site(id=ctx.site, name="bench"))
        s.flush()
        s.add_all([Advisor(site_id=ctx.site, code=chr(65 + i), name=f"顾问{i}", pin_hash="x", version=next_version())
                   for i in range(8)])
        s.add_all([Technician(site_id=ctx.site, name=f"技师{i}", skill="repair" if i % 2 else "maintenance",
                              version=next_version()) for i in range(30)])
        s.add_all([Bay(site_id=ctx.site, code=str(i + 1), kind="lift") for i in range(12)])
        s.add(Bay(site_id=ctx.site, code="A1", kind="alignment"))
        s.add_all([LabourOperation(site_id=ctx.site, code=c, name_zh=c, name_en=c, hours=Decimal(str(h)), skill=sk,
                                   equipment=eq) for c, h, sk, eq in WORK])
        for i in range(400):
            customer = Customer(site_id=ctx.site, surname="王", given_name=f"{i}", salutation="先生")
            vehicle = Vehicle(site_id=ctx.site, customer=customer, vin=with_check_digit(f"LFMA0000{i:09d}"),
                              plate=f"京A{i:05d}", model="卡罗拉")
            s.add_all([customer, vehicle, QrTag(token=new_tag_token(), vehicle=vehicle, issued_at=NOW)])
    booking = BookingService(ctx)
    booked = 0
    for d in range(DAYS):
        day = NOW.date() + timedelta(days=d)
        for n in range(per_day):
            code = rng.choice(WORK)[0]
            lines = booking.lines(codes=[code])
            slots = booking.propose_slots(day, lines, limit=3)
            if not slots:
                continue
            slot = rng.choice(slots)
            booking.book(BookingRequest(start=datetime.fromisoformat(slot["start"]), lines=lines, actor="bench",
                                        plate=f"京A{(d * per_day + n) % 400:05d}",
                                        advisor_id=slot["advisor"]["id"]))
            booked += 1
    return booked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=None)
    parser.add_argument("--proposals", type=int, default=500)
    parser.add_argument("--bookings-per-day", type=int, default=40)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    db = fresh_database(args.database)
    db.migrate()
    ctx = ServiceContext(db, load(demo_config_path()), FixedClock(NOW))
    t0 = time.perf_counter()
    booked = build_site(ctx, args.bookings_per_day, rng)
    setup = time.perf_counter() - t0
    with db.read() as s:
        total = s.query(Appointment).count()
    booking = BookingService(ctx)
    times: list[float] = []
    empty = 0
    for _ in range(args.proposals):
        day = NOW.date() + timedelta(days=rng.randrange(DAYS))
        lines = booking.lines(codes=[rng.choice(WORK)[0]])
        t = time.perf_counter()
        slots = booking.propose_slots(day, lines)
        times.append((time.perf_counter() - t) * 1000)
        empty += not slots
    book_times: list[float] = []
    refused = 0
    for i in range(100):
        day = NOW.date() + timedelta(days=rng.randrange(DAYS))
        start = datetime.combine(day, datetime.min.time(), tzinfo=ctx.tz).replace(hour=rng.randrange(8, 18),
                                                                                  minute=15 * rng.randrange(4))
        t = time.perf_counter()
        try:
            booking.book(BookingRequest(start=start, lines=booking.lines(codes=["OIL"]), actor="bench",
                                        plate=f"京A{i:05d}"))
        except BookingRefused:
            refused += 1
        book_times.append((time.perf_counter() - t) * 1000)
    backend = "PostgreSQL" if args.database else "SQLite"
    print(f"{backend}: 30 technicians, 8 advisors, 13 bays; {booked} bookings placed over {DAYS} days "
          f"({total} in the database; setup {setup:.0f} s)")
    print(f"propose_slots, {len(times)} calls ({empty} found the day sold out): "
          f"p50 {statistics.median(times):.2f} ms, p95 {percentile(times, 0.95):.2f} ms, "
          f"p99 {percentile(times, 0.99):.2f} ms, max {max(times):.2f} ms")
    print(f"book (rules checked, appointment + capacity written to the outbox), {len(book_times)} calls "
          f"({refused} refused): p50 {statistics.median(book_times):.2f} ms, p99 {percentile(book_times, 0.99):.2f} ms")
    db.dispose()


if __name__ == "__main__":
    main()
