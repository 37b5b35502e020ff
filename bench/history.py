"""A store with years of history (bench/history_store.py: 2 years at 300 repair orders a day): what the reads
that grow with it cost. Figures, never timed asserts.

    python bench/history.py --store /tmp/history.sqlite3            # built first if the file is missing
    python bench/history.py --database postgresql+psycopg://postgres@127.0.0.1:5432/shopfloor_history --build
    python bench/history.py --store FILE --only figures,pages --repeat 5 --json out.json

Measured, each `--repeat` times (median, and the slowest):
- figures: FiguresService.report for the default range (14 days back to this Sunday), 13 weeks, 190 days and
  2 years (what the service allows); the first call of each range separately (`cold`: nothing cached yet);
- solicitation: every call list as of today (SolicitationService.lists);
- republish: the retained messages the publisher sends after a (re)connect (SnapshotService.messages);
- pages: each staff page loaded in NiceGUI's simulated browser through the composition root (shopfloor/main.py),
  signed in as the service manager, until its content is there (the figures' table, the call lists' kinds); a
  page that takes more than NiceGUI's 3 s response timeout to build never renders.
  Meanwhile a probe on the event loop sleeps 5 ms at a time: how late it wakes is what the boards' updates
  (pushed from that loop) would wait (`loop lag`);
- outbox: sent rows and their bytes, and pruning them (and finished print jobs) by the server's own job, on a copy.

SQLite runs on a copy of the store (the store stays as built); PostgreSQL on the database itself (the outbox
part prunes it: rebuild with --build to measure it again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import history_store
from sqlalchemy import func, select

from shopfloor.db import Database, sqlite_url
from shopfloor.domain.models import OutboxMessage, PrintJob
from shopfloor.services.context import ServiceContext
from shopfloor.services.figures import FiguresService
from shopfloor.services.snapshot import SnapshotService
from shopfloor.services.solicitation import SolicitationService

MANAGER = "赵经理"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return times, result


def summary(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "n": len(times)}


def ranges(ctx: ServiceContext, figures: FiguresService) -> dict[str, tuple[date, date]]:
    today = ctx.today()
    sunday = today + timedelta(days=6 - today.weekday())
    out = {"default": figures.default_range(), "13 weeks": (today - timedelta(days=91), sunday),
           "190 days": (sunday - timedelta(days=189), sunday)}
    from shopfloor.services import figures as figures_module

    most = figures_module.MAX_DAYS
    if most > 190:
        out[f"{most} days"] = (sunday - timedelta(days=most - 1), sunday)
    return out


def bench_figures(ctx: ServiceContext, repeat: int) -> dict[str, Any]:
    figures = FiguresService(ctx)
    out: dict[str, Any] = {}
    if hasattr(figures, "fill"):  # what the server does in the background after an upgrade, once
        t = time.perf_counter()
        kept = figures.fill()
        out["fill"] = {"days": kept, "s": round(time.perf_counter() - t, 1)}
        print(f"  figures of closed days computed and kept: {kept} days in {out['fill']['s']} s")
    for name, (first, last) in ranges(ctx, figures).items():
        cold, _ = timed(lambda f=first, la=last: figures.report(f, la), 1)
        warm, report = timed(lambda f=first, la=last: figures.report(f, la), repeat)
        out[name] = {"days": len(report["days"]), "cold_ms": round(cold[0], 1), **summary(warm),
                     "repair_orders": report["total"]["repair_orders"]}
        print(f"  figures {name:>9} ({len(report['days'])} days, {report['total']['repair_orders']:,} orders): "
              f"first {cold[0]:.0f} ms, then median {out[name]['median_ms']:.0f} ms, max {out[name]['max_ms']:.0f} ms")
    return out


def bench_solicitation(ctx: ServiceContext, repeat: int) -> dict[str, Any]:
    service = SolicitationService(ctx)
    times, lists = timed(service.lists, repeat)
    sizes = {k: len(v) for k, v in lists.items()}
    print(f"  solicitation lists: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms; entries {sizes}")
    return {**summary(times), "entries": sizes}


def bench_republish(ctx: ServiceContext, repeat: int) -> dict[str, Any]:
    snapshot = SnapshotService(ctx)
    times, messages = timed(snapshot.messages, repeat)
    print(f"  republish: {len(messages)} messages, median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
    return {**summary(times), "messages": len(messages)}


def bench_outbox(ctx: ServiceContext) -> dict[str, Any]:
    with ctx.db.read() as s:
        rows, size = s.execute(select(func.count(), func.coalesce(func.sum(func.length(OutboxMessage.payload)), 0))
                               .where(OutboxMessage.sent_at.is_not(None))).one()
        jobs = s.scalar(select(func.count()).select_from(PrintJob).where(PrintJob.finished_at.is_not(None)))
    out: dict[str, Any] = {"sent_rows": int(rows), "sent_payload_mb": round(int(size) / 1e6, 1),
                           "finished_print_jobs": int(jobs or 0)}
    print(f"  outbox: {rows:,} sent rows, {int(size) / 1e6:.1f} MB of payload; {jobs:,} finished print jobs")
    try:
        from shopfloor.services.pruning import PruningService
    except ImportError:
        print("  (no pruning in this version)")
        return out
    t = time.perf_counter()
    pruned = PruningService(ctx).prune()
    seconds = time.perf_counter() - t
    out.update(pruned=pruned.to_dict(), prune_s=round(seconds, 1))
    print(f"  pruned {pruned.to_dict()} in {seconds:.1f} s")
    return out


async def _drawn(user: Any, *, figures: bool, seconds: float = 120.0) -> None:
    """Until the figures page has its table, or the call lists tab its list of kinds."""
    from nicegui import ui

    for _ in range(int(seconds / 0.05)):
        try:
            if figures and user.find(kind=ui.table).elements:
                return
            if not figures and list(user.find(marker="kinds").elements.pop().default_slot.children):
                return
        except AssertionError:  # not there yet
            pass
        await asyncio.sleep(0.05)


async def _lag_probe(samples: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.005)
        samples.append((loop.time() - t - 0.005) * 1000)


def bench_pages(url: str, repeat: int, ranges_: dict[str, tuple[date, date]]) -> dict[str, Any]:
    return asyncio.run(_pages(url, repeat, ranges_))


async def _pages(url: str, repeat: int, ranges_: dict[str, tuple[date, date]]) -> dict[str, Any]:
    from nicegui import Client, app
    from nicegui.storage import Storage
    from nicegui.testing.user_simulation import user_simulation

    from shopfloor import settings as settings_mod
    from shopfloor.clock import FixedClock
    from shopfloor.credentials import generate
    from shopfloor.main import Options, Shopfloor

    data_dir = Path(tempfile.mkdtemp(prefix="history-pages-"))
    Storage.path = data_dir / "storage"  # type: ignore[misc]
    settings = settings_mod.load(settings_mod.demo_config_path())
    system = Shopfloor(settings, generate([]), Options(data_dir=data_dir, database_url=url, embedded_broker=False,
                                                       printer_agents=False), clock=FixedClock(history_store.NOW))
    pages = {"/kiosk": None, "/booking": None, "/calls": None, "/calls?tab=solicitation": None,
             "/manager/board": None, "/data": None}
    for name, (first, last) in ranges_.items():
        pages[f"/manager/figures?first={first}&last={last}"] = name
    out: dict[str, Any] = {}
    try:
        async with user_simulation() as user:
            system.register_pages()
            try:
                from shopfloor.kiosk.common import sign_in as sign_in_route

                sign_in_route.register(app)
            except ImportError:
                pass
            manager = next(p for p in system.auth.advisors() if p.name == MANAGER)
            await user.open("/kiosk")
            user.find(marker=f"advisor-{manager.id}").click()
            for key in [*history_store.PINS[MANAGER], "OK"]:
                user.find(marker=f"pin-{key}").click()
            for _ in range(100):
                try:
                    await user.should_see(marker="signed-in", retries=1)
                    break
                except AssertionError:
                    await asyncio.sleep(0.05)
            for path, label in pages.items():
                times, lags, failed = [], [], 0
                for _ in range(repeat):
                    samples: list[float] = []
                    stop = asyncio.Event()
                    probe = asyncio.create_task(_lag_probe(samples, stop))
                    t = time.perf_counter()
                    try:
                        await user.open(path)
                        if label or "solicitation" in path:  # drawn once the report or the lists are read
                            await _drawn(user, figures=bool(label))
                    except Exception as exc:  # NiceGUI's TimeoutError after 3 s, reported as such
                        failed += 1
                        print(f"    {path}: {type(exc).__name__}: {str(exc)[:80]}")
                    times.append((time.perf_counter() - t) * 1000)
                    stop.set()
                    await probe
                    lags += samples
                key = f"/manager/figures ({label})" if label else path
                lags.sort()
                out[key] = {**summary(times), "failed": failed,
                            "loop_lag_p99_ms": round(lags[int(0.99 * (len(lags) - 1))], 1) if lags else None,
                            "loop_lag_max_ms": round(lags[-1], 1) if lags else None}
                print(f"  page {key:>32}: median {out[key]['median_ms']:.0f} ms, max {out[key]['max_ms']:.0f} ms"
                      f"{f', {failed} failed' if failed else ''}; loop lag p99 {out[key]['loop_lag_p99_ms']} ms, "
                      f"max {out[key]['loop_lag_max_ms']} ms")
            Client.page_routes.clear()
    finally:
        system.db.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="the SQLite store (built when missing or with --build)")
    parser.add_argument("--database", help="or a PostgreSQL URL holding the store")
    parser.add_argument("--build", action="store_true", help="build the store first")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="figures,solicitation,republish,pages,outbox")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if (args.store is None) == (args.database is None):
        parser.error("give --store FILE or --database URL")
    source = args.database or sqlite_url(args.store)
    if args.build or (args.store is not None and not args.store.exists()):
        db = history_store.fresh_database(source)
        try:
            built = history_store.build(db, days=args.days, per_day=args.per_day)
        finally:
            db.dispose()
        print(f"built: {built.counts} in {built.seconds:.0f} s")
    work_dir = None
    url = source
    if args.store is not None:
        work_dir = Path(tempfile.mkdtemp(prefix="history-bench-"))
        shutil.copyfile(args.store, work_dir / "store.sqlite3")
        url = sqlite_url(work_dir / "store.sqlite3")
    db = Database(url)
    db.migrate()  # a store built by an older version gets this version's schema (and its indexes)
    ctx = history_store.context(db)
    wanted = set(args.only.split(","))
    results: dict[str, Any] = {"database": db.write_engine.dialect.name}
    try:
        print(f"{results['database']}: {url}")
        if "figures" in wanted:
            results["figures"] = bench_figures(ctx, args.repeat)
        if "solicitation" in wanted:
            results["solicitation"] = bench_solicitation(ctx, args.repeat)
        if "republish" in wanted:
            results["republish"] = bench_republish(ctx, args.repeat)
        if "pages" in wanted:
            results["pages"] = bench_pages(url, args.repeat, ranges(ctx, FiguresService(ctx)))
        if "outbox" in wanted:
            results["outbox"] = bench_outbox(ctx)
    finally:
        db.dispose()
        if work_dir is not None:
            shutil.rmtree(work_dir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
