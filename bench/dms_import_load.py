"""A big DMS import beside the day's work: how long a check-only run and a real import of an N-row export take,
and what a writer beside them (a check-in's write transaction, every 100 ms on another thread) waits meanwhile.

    python bench/dms_import_load.py --rows 100000           # a fresh demo site in a temp dir (SQLite)
    python bench/dms_import_load.py --rows 20000 --database postgresql+psycopg://postgres@127.0.0.1:5432/dms_bench

The export: `rows` new customers (one in five with a second car), each car with a booking by its DMS number in
the next days, one row in ten the same car again later in the file with a higher mileage and a moved booking.
Figures, never timed asserts.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import history_store
from sqlalchemy import text

from shopfloor.db import Database, sqlite_url
from shopfloor.demo import seed
from shopfloor.domain.identifiers import with_check_digit
from shopfloor.services.dms_import import DmsImportService, read_header, suggest_mapping

HEADER = "预约单号,客户姓名,手机,车牌号,车架号,车型,行驶里程,销售日期,保险到期日,预约时间,工时,维修项目,服务顾问"
PROBE_EVERY = 0.1


def export(count: int) -> bytes:
    rows = [HEADER]
    for i in range(count):
        car = i if i % 10 != 9 else i - 5
        customer = car - car % 5 if car % 5 == 1 else car  # one in five customers has a second car
        start = f"2026-11-{24 + i % 6} {8 + i % 10:02d}:{15 * (i % 4):02d}"
        rows.append(f"YY{car:06d},客户{customer},139{customer:08d},京H{car % 100000:05d},"
                    f"{with_check_digit(f'LFMB{car:013d}')},卡罗拉,{20000 + i},2023-05-18,2027-05-17,{start},1.5,"
                    f"更换机油机滤,{('张伟', '李娜', '王芳', '刘洋')[i % 4]}")
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


class WriterProbe:
    """A small write transaction every PROBE_EVERY seconds on its own thread: how long each waited."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.waits: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WriterProbe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(PROBE_EVERY):
            started = time.perf_counter()
            try:
                with self.db.write() as s:
                    s.execute(text("SELECT 1"))
            except Exception as exc:  # a lock timeout is what a check-in's HTTP 500 was
                self.failures.append(type(exc).__name__)
            self.waits.append((time.perf_counter() - started) * 1000)

    def summary(self) -> dict[str, Any]:
        waits = sorted(self.waits) or [0.0]
        return {"probes": len(self.waits), "failed": len(self.failures),
                "p50_ms": round(statistics.median(waits), 1), "p99_ms": round(waits[int(0.99 * (len(waits) - 1))], 1),
                "max_ms": round(waits[-1], 1)}


def run(db: Database, data: bytes, dry_run: bool) -> dict[str, Any]:
    ctx = history_store.context(db)
    importer = DmsImportService(ctx)
    mapping = suggest_mapping(read_header(data))
    with WriterProbe(db) as probe:
        started = time.perf_counter()
        report = importer.import_csv(data, mapping, actor="bench", lang="en", dry_run=dry_run)
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 1), "rows": report.rows, "vehicles": report.vehicles,
            "appointments": report.appointments, "updated": report.updated, "failed": len(report.failed_lines),
            "writer": probe.summary()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", help="a PostgreSQL URL (dropped and made anew); default: SQLite in a temp dir")
    args = parser.parse_args()
    folder = None if args.database else Path(tempfile.mkdtemp(prefix="dms-bench-"))
    url = args.database or sqlite_url(Path(str(folder)) / "bench.sqlite3")
    db = history_store.fresh_database(url)
    try:
        db.migrate()
        seed.seed(history_store.context(db), history_store.PINS)
        data = export(args.rows)
        print(f"{db.write_engine.dialect.name}: {args.rows:,}-row export, {len(data) / 1e6:.1f} MB")
        for dry_run in (True, False):
            result = run(db, data, dry_run)
            writer = result.pop("writer")
            print(f"  {'check only' if dry_run else 'import    '}: {result['seconds']:.1f} s {result}; a writer beside "
                  f"it waited p50 {writer['p50_ms']} ms, p99 {writer['p99_ms']} ms, max {writer['max_ms']} ms "
                  f"({writer['probes']} writes, {writer['failed']} failed)")
    finally:
        db.dispose()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
