"""The service KPIs over a mega-store's year (issue 12: 300 repair orders a day): GET /api/v1/kpis and the
/manager/figures page's data calls for a month. Figures, never timed asserts.

    python bench/kpis.py --store /tmp/kpis.sqlite3                  # built first if the file is missing (~3 min)
    python bench/kpis.py --database postgresql+psycopg://postgres@127.0.0.1:5432/shopfloor_kpis --build

The store: bench/history_store.py's history (a year at 300 orders a day: vehicles, appointments, orders, job lines,
their moves) and on top of it, in bulk statements, what steps 9–12 leave: every line finished and clocked (one
clocking per order over its lines), a part per line, the order settled and paid, the 3-day call (with a retry for
one in five, a problem for one in twelve) and a complaint for 1 % of the orders.

Measured (`--repeat` times, median and slowest), for the month ending 15 days before the demo's today:
- service: KpiService.report(month, by=day | week | month);
- api: GET /api/v1/kpis?from&to (by day) through the API's app in-process (FastAPI's TestClient);
- page: what /manager/figures asks for a month: FiguresService.report (its closed days cached after the first
  call) and the KPI section's KpiService.report(by=week).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import history_store
from sqlalchemy import Connection, func, select, text

from shopfloor.db import Database, sqlite_url
from shopfloor.domain.aftersales_models import Complaint, FollowUpAttempt, FollowUpCall
from shopfloor.domain.models import RepairOrder
from shopfloor.services.figures import FiguresService
from shopfloor.services.kpis import KpiService

CLASSES = ("facilities", "attitude", "workmanship", "process", "price", "other")
TOKEN = "bench-token"


def timed(fn: Callable[[], Any], repeat: int) -> list[tuple[float, float]]:
    """(wall, this process's CPU) in ms per run. On a shared machine the wall time is mostly waiting for a core;
    the CPU time is what the call costs (SQLite runs in this process; PostgreSQL's own work is not in it)."""
    out = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000))
    return out


def summary(times: list[tuple[float, float]]) -> dict[str, float]:
    wall = [w for w, _ in times]
    return {"median_ms": round(statistics.median(wall), 1), "max_ms": round(max(wall), 1),
            "cpu_median_ms": round(statistics.median(c for _, c in times), 1), "n": len(times)}


def aftersales(db: Database, rng: random.Random, say: Callable[[str], None]) -> dict[str, int]:
    """Steps 9–12 on every delivered order of the history, in bulk."""
    started = time.monotonic()
    ctx = history_store.context(db)
    site = ctx.site
    with db.write_engine.begin() as conn:
        conn.execute(text("UPDATE job_lines SET status = 'done', finished_at = (SELECT closed_at FROM repair_orders r "
                          "WHERE r.id = job_lines.repair_order_id) WHERE finished_at IS NULL AND repair_order_id IN "
                          "(SELECT id FROM repair_orders WHERE status = 'delivered')"))
        conn.execute(text("UPDATE repair_orders SET settled_at = closed_at WHERE status = 'delivered' "
                          "AND settled_at IS NULL"))
        conn.execute(text(
            "INSERT INTO clockings (site_id, technician_id, repair_order_id, started_at, ended_at, outcome, assumed, "
            "started_by) SELECT site_id, technician_id, id, opened_at, closed_at, 'finished', false, 'bench' "
            "FROM repair_orders r WHERE status = 'delivered' AND technician_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM clockings c WHERE c.repair_order_id = r.id)"))
        conn.execute(text(
            "INSERT INTO clocking_lines (clocking_id, job_line_id) SELECT c.id, j.id FROM clockings c "
            "JOIN job_lines j ON j.repair_order_id = c.repair_order_id WHERE c.started_by = 'bench' AND NOT EXISTS "
            "(SELECT 1 FROM clocking_lines x WHERE x.clocking_id = c.id)"))
        conn.execute(text(
            "INSERT INTO parts_lines (repair_order_id, job_line_id, number, name, quantity, unit_price, issued, "
            "returned, status, created_by, created_at) SELECT j.repair_order_id, j.id, 'P-' || j.operation_code, "
            "'part', 1, 180.00, 1, 0, 'issued', 'bench', r.opened_at FROM job_lines j "
            "JOIN repair_orders r ON r.id = j.repair_order_id WHERE r.status = 'delivered' AND NOT EXISTS "
            "(SELECT 1 FROM parts_lines p WHERE p.job_line_id = j.id)"))
        conn.execute(text(
            "INSERT INTO payments (site_id, repair_order_id, kind, method, amount, reference, reason, actor, at) "
            "SELECT site_id, id, 'payment', 'wechat', 560.00, '', '', 'bench', closed_at FROM repair_orders r "
            "WHERE status = 'delivered' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.repair_order_id = r.id)"))
        orders = list(conn.execute(select(RepairOrder.id, RepairOrder.number, RepairOrder.vehicle_id,
                                          RepairOrder.closed_at).where(
            RepairOrder.status == "delivered", RepairOrder.id.not_in(
                select(FollowUpCall.repair_order_id).where(FollowUpCall.repair_order_id.is_not(None))))))
        calls, attempts, complaints = _calls(conn, site, ctx.tz, orders, rng)
        for model, rows in ((FollowUpCall, calls), (FollowUpAttempt, attempts), (Complaint, complaints)):
            for i in range(0, len(rows), 5000):
                conn.execute(model.__table__.insert(), rows[i:i + 5000])
        if conn.dialect.name == "postgresql":
            for table in ("follow_up_calls", "follow_up_attempts", "complaints"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    if db.write_engine.dialect.name == "postgresql":
        with db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    say(f"steps 9–12 on {len(orders)} orders in {time.monotonic() - started:.0f} s")
    return {"orders": len(orders), "calls": len(calls), "attempts": len(attempts), "complaints": len(complaints)}


def _calls(conn: Connection, site: str, tz: Any, orders: list[Any], rng: random.Random
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    next_call = int(conn.scalar(select(func.coalesce(func.max(FollowUpCall.id), 0))) or 0) + 1
    next_complaint = int(conn.scalar(select(func.coalesce(func.max(Complaint.id), 0))) or 0) + 1
    calls, attempts, complaints = [], [], []
    for ro_id, number, vehicle_id, closed in orders:
        due = closed.astimezone(tz).date() + timedelta(days=3)
        first = datetime.combine(due, datetime.min.time(), tzinfo=tz) + timedelta(hours=10, minutes=rng.randrange(400))
        tries = [first]
        if rng.random() < 0.2:
            attempts.append({"follow_up_id": next_call, "at": first, "by": "bench", "outcome": "unreachable",
                             "note": ""})
            tries.append(first + timedelta(days=1))
        r = rng.random()
        outcome = "problem" if r < 0.08 else "satisfied"
        at = tries[-1]
        attempts.append({"follow_up_id": next_call, "at": at, "by": "bench", "outcome": outcome, "note": ""})
        calls.append({"id": next_call, "site_id": site, "kind": "3dc", "dedup_key": f"3dc:{number}",
                      "vehicle_id": vehicle_id, "repair_order_id": ro_id, "due_on": due, "first_due_on": due,
                      "status": "done", "attempts": len(tries), "outcome": outcome,
                      "score": rng.choice([7, 8, 9, 9, 10, 10]) if outcome == "satisfied" else None,
                      "problem_class": rng.choice(CLASSES) if outcome == "problem" else None, "note": "",
                      "called_by": "bench", "called_at": at, "created_at": closed})
        if rng.random() < 0.01:
            complaints.append({"id": next_complaint, "site_id": site, "repair_order_id": ro_id,
                               "vehicle_id": vehicle_id, "source": "call", "problem_class": rng.choice(CLASSES),
                               "severity": "normal", "description": "bench", "status": "resolved", "opened_at": at,
                               "opened_by": "bench", "acknowledge_by": at + timedelta(hours=24),
                               "acknowledged_at": at + timedelta(hours=rng.randrange(1, 30)),
                               "investigate_by": at + timedelta(hours=48),
                               "investigated_at": at + timedelta(hours=rng.randrange(10, 60)),
                               "findings": "", "resolution": "", "version": 1})
            next_complaint += 1
        next_call += 1
    return calls, attempts, complaints


def _complete(db: Database) -> None:
    """A store whose steps 9–12 were not written (an interrupted build): written now."""
    try:
        with db.read() as s:
            done = s.scalar(select(func.count()).select_from(FollowUpCall).where(FollowUpCall.called_by == "bench"))
        if not done:
            aftersales(db, random.Random(13), print)
    finally:
        db.dispose()


def build(db: Database, days: int, per_day: int, say: Callable[[str], None]) -> None:
    history_store.build(db, days=days, per_day=per_day, outbox_days=0, say=say)
    aftersales(db, random.Random(13), say)


def measure(db: Database, repeat: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from shopfloor.testing.api_fixtures import api_app

    ctx = history_store.context(db)
    kpis, figures = KpiService(ctx), FiguresService(ctx)
    last = ctx.today() - timedelta(days=15)
    first = last - timedelta(days=30)
    out: dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat()}
    with db.read() as s:
        out["orders_in_month"] = int(s.scalar(select(func.count()).select_from(RepairOrder).where(
            RepairOrder.opened_at >= ctx.day_bounds(first)[0], RepairOrder.opened_at < ctx.day_bounds(last)[1]))
            or 0)
    for by in ("day", "week", "month"):
        out[f"service_by_{by}"] = summary(timed(lambda by=by: kpis.report(first, last, by), repeat))
    client = TestClient(api_app(ctx, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})

    def api() -> None:
        r = client.get("/api/v1/kpis", params={"from": first.isoformat(), "to": last.isoformat()})
        assert r.status_code == 200, r.text

    out["api_by_day"] = summary(timed(api, repeat))
    out["page_figures_cold"] = summary(timed(lambda: figures.report(first, last), 1))
    out["page_figures"] = summary(timed(lambda: figures.report(first, last), repeat))
    out["page_kpis_by_week"] = summary(timed(lambda: kpis.report(first, last, "week"), repeat))
    year_first = last - timedelta(days=364)
    out["service_year_by_month"] = summary(timed(lambda: kpis.report(year_first, last, "month"), max(1, repeat // 2)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="SQLite store (built when missing; measured on a copy)")
    parser.add_argument("--database", help="or a database URL (PostgreSQL: measured in place)")
    parser.add_argument("--build", action="store_true", help="build the database first")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if (args.store is None) == (args.database is None):
        parser.error("give --store FILE or --database URL")
    if args.store is not None:
        if args.build or not args.store.exists():
            db = history_store.fresh_database(sqlite_url(args.store))
            try:
                build(db, args.days, args.per_day, print)
            finally:
                db.dispose()
        else:
            _complete(Database(sqlite_url(args.store)))
        work = Path(tempfile.mkdtemp()) / "kpis.sqlite3"
        shutil.copy(args.store, work)
        db = Database(sqlite_url(work))
    else:
        db = history_store.fresh_database(args.database) if args.build else Database(args.database)
        if args.build:
            build(db, args.days, args.per_day, print)
    try:
        result = {"backend": db.write_engine.dialect.name, **measure(db, args.repeat)}
    finally:
        db.dispose()
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()



