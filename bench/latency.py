"""End-to-end latency from a committed check-in to the update arriving at N connected appointment-board pages,
beside the raw broker's latency for the same fan-out, on the embedded amqtt broker and on Mosquitto; plus the
server's memory per connected page (200-card day) and its CPU while 50 pages sit idle.

    python bench/latency.py [--pages 1,25,100] [--samples 50] [--brokers embedded,mosquitto]
                            [--memory-pages 50,100] [--idle-pages 50] [--idle-seconds 30] [--json FILE]

Everything runs on 127.0.0.1. For each broker: a fresh data directory with a 200-card day
(bench/e2e_setup.py), the real server as a subprocess (`shopfloor demo`, through bench/e2e_serve.py, which
only adds timing probes), then in this order

1. pair 100 simulated wall screens (bench/e2e_pages.py), open one page, warm up with 3 check-ins, and wait
   until NiceGUI has pruned the never-connected clients the pairing redirects leave behind (~70 s);
2. up from 1 page to 100: server RSS at 1, 50 and 100 pages; idle CPU at 1 and 50 pages; at N = 1, 25 and
   100 pages the latency: each sample checks in one more of today's appointments through the API and waits
   until every page has the card's update;
3. raw fan-out: N paho subscribers and one publisher on the same broker (bench/e2e_raw.py).

Figures, never asserts; docs/benchmarks.md explains the method and the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_pages import Pages
from e2e_raw import RawFanout
from e2e_setup import MOSQUITTO, Mosquitto, Probe, Server, free_ports, prepare_data_dir, remove_tree

from shopfloor.contract.access import Role

HOST = "127.0.0.1"
SITE = "demo"
BOARD_PATH = "/board/appointments"
ARRIVABLE = ("booked", "confirmed", "late")
WARMUP = 3
SAMPLE_TIMEOUT = 10.0
# NiceGUI prunes a client that never connected once it is 60 s old, checking every 10 s (Client.prune_instances)
PRUNED_AFTER = 60 + 10 + 2
SEGMENTS = ("commit -> publish", "publish -> apply", "apply -> applied", "applied -> last page")

Log = Any


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50": percentile(ms, 0.5), "p99": percentile(ms, 0.99), "max": max(ms),
            "mean": statistics.fmean(ms)}


@dataclass
class RawResult:
    subscribers: int
    samples: int
    lost: int
    last: dict[str, float]       # publish -> the last of N subscribers, per message (ms)
    every: dict[str, float]      # publish -> each subscriber, all deliveries pooled (ms)
    other_load_percent: float


@dataclass
class LatencyResult:
    pages: int
    samples: int
    lost: int                    # samples where some page never got the update (within SAMPLE_TIMEOUT)
    last_page: dict[str, float]  # commit -> update at the last of the N pages, per check-in (ms)
    every_page: dict[str, float]  # commit -> update at each page, all deliveries pooled (ms)
    from_response: dict[str, float]  # API response received -> last page (ms; may be < 0)
    commit_to_response: dict[str, float]  # commit -> API response received (ms)
    unmatched_commits: int       # samples without exactly one probe commit inside [request, response]
    server_cpu_ms_per_sample: float
    segments: dict[str, dict[str, float]]  # the way there, from the server's probes (ms)
    samples_with_gc: int         # samples during which the server ran a generation-2 (or > 5 ms) collection
    other_load_percent: float    # CPU busy on the machine outside server, broker and bench (% of one core)
    slowest: list[str] = field(default_factory=list)


@dataclass
class BrokerResult:
    broker: str
    cards: int
    ro_state_bytes: int
    appointment_state_bytes: int
    page_html_bytes: int
    raw: list[RawResult] = field(default_factory=list)
    latency: list[LatencyResult] = field(default_factory=list)
    rss_mb: dict[int, float] = field(default_factory=dict)       # connected pages -> server RSS (MB)
    idle: dict[int, dict[str, float]] = field(default_factory=dict)  # connected pages -> CPU figures
    notes: list[str] = field(default_factory=list)


class Cpu:
    """CPU seconds of a process between two points."""

    def __init__(self, proc: psutil.Process) -> None:
        self.proc = proc
        self.start = self._now()

    def _now(self) -> float:
        times = self.proc.cpu_times()
        return float(times.user + times.system)

    def seconds(self) -> float:
        return self._now() - self.start


class SystemCpu:
    """Busy CPU of the whole machine between two points, in % of one core (2 busy cores = 200 %)."""

    def __init__(self) -> None:
        self.start = psutil.cpu_times()
        self.wall = time.monotonic()

    def percent(self) -> float:
        end = psutil.cpu_times()
        idle = (end.idle + getattr(end, "iowait", 0)) - (self.start.idle + getattr(self.start, "iowait", 0))
        total = sum(end) - sum(self.start)
        return (total - idle) / total * psutil.cpu_count() * 100 if total > 0 else float("nan")


class Load:
    """CPU used by the machine outside the processes we know (server, broker, this bench) over a phase."""

    def __init__(self, known: list[psutil.Process]) -> None:
        self.system = SystemCpu()
        self.known = [Cpu(p) for p in known]

    def others_percent(self) -> float:
        wall = time.monotonic() - self.system.wall
        ours = sum(c.seconds() for c in self.known) / wall * 100
        return self.system.percent() - ours


def rss_mb(proc: psutil.Process) -> float:
    return float(proc.memory_info().rss) / 2**20


async def settled_rss(proc: psutil.Process, seconds: float = 3.0) -> float:
    """RSS after the server had `seconds` to finish what a change started (median of five readings)."""
    await asyncio.sleep(seconds)
    readings = []
    for _ in range(5):
        readings.append(rss_mb(proc))
        await asyncio.sleep(0.2)
    return statistics.median(readings)


def payload_sizes(db_path: Path) -> tuple[int, int]:
    """Median bytes of the repair-order and appointment state payloads the outbox has sent so far."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        def median(kind: str) -> int:
            rows = conn.execute("SELECT length(payload) FROM outbox WHERE topic LIKE ?", (f"%/{kind}/%/state",))
            sizes = [int(r[0]) for r in rows]
            return int(statistics.median(sizes)) if sizes else 0
        return median("repair-orders"), median("appointments")


def first(probes: list[Probe], event: str, after: float, detail: str = "") -> float | None:
    return next((p.at for p in probes if p.event == event and p.at >= after and detail in p.detail), None)


class Checkins:
    """Arrivable appointments of today, checked in one at a time through the API."""

    def __init__(self, api: httpx.AsyncClient, appointments: list[dict[str, Any]]) -> None:
        self.api = api
        self.queue = [a for a in appointments if a["status"] in ARRIVABLE and not a.get("ro_number") and a.get("tag")]
        random.Random(7).shuffle(self.queue)

    def __len__(self) -> int:
        return len(self.queue)

    def next(self) -> dict[str, Any]:
        if not self.queue:
            raise RuntimeError("no appointment left to check in: run with more --cards")
        return self.queue.pop()

    async def check_in(self, appointment: dict[str, Any]) -> tuple[float, float]:
        """(request sent, response received) wall-clock times."""
        sent = time.time()
        response = await self.api.post("/api/v1/checkins", json={"tag": appointment["tag"]})
        received = time.time()
        if response.status_code != 201:
            raise RuntimeError(f"check-in of {appointment['plate']}: {response.status_code} {response.text[:200]}")
        return sent, received


@contextlib.contextmanager
def no_bench_gc() -> Iterator[None]:
    """No garbage collection in this bench while it measures: its pauses would count as latency."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def marker(appointment: dict[str, Any]) -> str:
    """What the awaited run_javascript message carries: `runMethod(…, "upsert", [{"key":"<id>","status":…`."""
    return f'"key":"{appointment["id"]}","status":"arrived"'


async def measure_pages(pages: Pages, checkins: Checkins, server: Server, n: int, samples: int,
                        known: list[psutil.Process], log: Log) -> LatencyResult:
    assert len(pages) == n
    cpu = Cpu(psutil.Process(server.pid))
    load = Load(known)
    taken: list[tuple[dict[str, Any], float, float, dict[int, float]]] = []
    lost = 0
    with no_bench_gc():
        for _ in range(samples):
            appointment = checkins.next()
            pages.expect(marker(appointment))
            sent, received = await checkins.check_in(appointment)
            arrivals = await pages.arrivals(SAMPLE_TIMEOUT)
            if len(arrivals) < n:
                lost += 1
            taken.append((appointment, sent, received, arrivals))
            await asyncio.sleep(random.uniform(0.05, 0.15))  # no lock-step with the server's periodic work
        cpu_seconds = cpu.seconds()
        other_load = load.others_percent()
    await asyncio.sleep(0.5)  # the probes' last lines
    probes = server.probes()
    # the check-in's own commit: the one that wrote the appointment's state (the capacity refresher commits too)
    commits = [(p.at, set(p.detail.split())) for p in probes if p.event == "commit"]
    gcs = [(p.at, float(p.detail.split()[1])) for p in probes if p.event == "gc"]
    last, every, from_response, to_response = [], [], [], []
    segments: dict[str, list[float]] = {name: [] for name in SEGMENTS}
    unmatched = gc_hit = 0
    worst: list[tuple[float, str]] = []
    for appointment, sent, received, arrivals in taken:
        topic = f"/appointments/{appointment['id']}/state"
        inside = [at for at, written in commits if sent <= at <= received
                  and (not written or any(t.endswith(topic) for t in written))]
        if len(inside) != 1:
            unmatched += 1
        if not inside or not arrivals:
            continue
        commit = inside[-1]
        every += [at - commit for at in arrivals.values()]
        to_response.append(received - commit)
        if len(arrivals) < n:
            continue
        end = max(arrivals.values())
        last.append(end - commit)
        from_response.append(end - received)
        marks = {"commit": commit, "publish": first(probes, "publish", commit),
                 "apply": first(probes, "apply", commit, topic), "applied": first(probes, "applied", commit, topic),
                 "last page": end}
        parts = []
        for a, b in itertools.pairwise(marks):
            start, stop = marks[a], marks[b]
            if start is not None and stop is not None:
                segments[f"{a} -> {b}"].append(stop - start)
                parts.append(f"{a} -> {b} {(stop - start) * 1000:.1f}")
        pauses = [ms for at, ms in gcs if commit - ms / 1000 <= at <= end]
        if pauses:
            gc_hit += 1
            parts.append(f"GC {' + '.join(f'{ms:.0f}' for ms in pauses)} ms")
        worst.append((end - commit, ", ".join(parts)))
    result = LatencyResult(pages=n, samples=samples, lost=lost, last_page=summary(last), every_page=summary(every),
                           from_response=summary(from_response), commit_to_response=summary(to_response),
                           unmatched_commits=unmatched, server_cpu_ms_per_sample=cpu_seconds * 1000 / samples,
                           segments={name: summary(values) for name, values in segments.items()},
                           samples_with_gc=gc_hit, other_load_percent=other_load,
                           slowest=[f"{total * 1000:.1f} ms: {parts}" for total, parts in sorted(worst)[::-1][:3]])
    log(f"  {n:>3} pages: commit -> last page p50 {result.last_page.get('p50', 0):6.1f} ms, "
        f"p99 {result.last_page.get('p99', 0):6.1f} ms (lost {lost}, unmatched {unmatched}, "
        f"server CPU {result.server_cpu_ms_per_sample:.1f} ms per check-in, other load {other_load:.0f} %)")
    log("        medians: " + ", ".join(f"{name} {result.segments[name].get('p50', 0):.1f}" for name in SEGMENTS))
    for line in result.slowest:
        log(f"        slow: {line}")
    return result


async def measure_raw(raw: RawFanout, n: int, samples: int, size: int, seq0: int, known: list[psutil.Process],
                      log: Log) -> RawResult:
    load = Load(known)
    last, every = [], []
    lost = 0
    with no_bench_gc():
        for i in range(samples):
            sent, arrivals = await asyncio.to_thread(raw.sample, n, seq0 + i, size, SAMPLE_TIMEOUT)
            if len(arrivals) < n:
                lost += 1
            else:
                last.append(max(arrivals.values()) - sent)
            every += [at - sent for at in arrivals.values()]
            await asyncio.sleep(random.uniform(0.05, 0.15))
    result = RawResult(subscribers=n, samples=samples, lost=lost, last=summary(last), every=summary(every),
                       other_load_percent=load.others_percent())
    log(f"  {n:>3} raw subscribers: publish -> last p50 {result.last.get('p50', 0):6.1f} ms, "
        f"p99 {result.last.get('p99', 0):6.1f} ms (lost {lost}, other load {result.other_load_percent:.0f} %)")
    return result


async def measure_idle(server: psutil.Process, broker: psutil.Process | None, seconds: float) -> dict[str, float]:
    await asyncio.sleep(2)
    server_cpu, bench_cpu = Cpu(server), Cpu(psutil.Process())
    broker_cpu = Cpu(broker) if broker else None
    system = SystemCpu()
    started = time.monotonic()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - started
    out = {"seconds": wall, "server_cpu_percent": server_cpu.seconds() / wall * 100,
           "bench_cpu_percent": bench_cpu.seconds() / wall * 100, "machine_cpu_percent": system.percent()}
    if broker_cpu is not None:
        out["mosquitto_cpu_percent"] = broker_cpu.seconds() / wall * 100
    return out


async def wait_for_full_board(server: Server, token: str, cards: int, timeout: float = 60) -> int:
    """The board feed has every card once a fresh page shows them all."""
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        probe = Pages(server.base, BOARD_PATH, token)
        await probe.grow(1)
        seen = probe.pages[0].cards
        await probe.close()
        if seen >= cards:
            return seen
        await asyncio.sleep(1)
    raise TimeoutError(f"the board shows {seen} of {cards} cards after {timeout:.0f} s")


async def run_broker(kind: str, args: argparse.Namespace, root: Path, log: Log) -> BrokerResult:
    run_dir = root / kind
    data_dir = run_dir / "data"
    run_dir.mkdir(parents=True)
    http_port, mqtt_port, tls_port = free_ports(3)
    needed = WARMUP + args.samples * len(args.pages)
    credentials, day = prepare_data_dir(data_dir, mqtt_port, args.cards)
    if day.arrivable < needed:  # more samples than a 200-card day can give: a bigger day
        remove_tree(run_dir)
        run_dir.mkdir(parents=True)
        credentials, day = prepare_data_dir(data_dir, mqtt_port, args.cards + needed - day.arrivable)
    log(f"[{kind}] data: {day.cards} appointments today ({day.arrivable} can be checked in)")
    mosquitto = None
    if kind == "mosquitto":
        mosquitto = Mosquitto(run_dir / "mosquitto", mqtt_port, tls_port, SITE, credentials)
        mosquitto.start()
    extra_env = {}
    if "gc-freeze" in args.what_if:
        extra_env["SHOPFLOOR_BENCH_GC_FREEZE"] = "1"
    if "outbox-no-poll" in args.what_if:
        extra_env["SHOPFLOOR_BENCH_OUTBOX_NO_POLL"] = "1"
    for what_if in args.what_if:
        if what_if.startswith("reconnect-timeout="):
            extra_env["SHOPFLOOR_BENCH_RECONNECT_TIMEOUT"] = what_if.split("=", 1)[1]
        if what_if.startswith("gc-threshold="):
            extra_env["SHOPFLOOR_BENCH_GC_THRESHOLD"] = what_if.split("=", 1)[1]
    server = Server(run_dir, data_dir, http_port, mqtt_port, external_broker=mosquitto is not None,
                    extra_env=extra_env)
    pages: Pages | None = None
    raw: RawFanout | None = None
    api = httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {credentials.api_token}"},
                            timeout=30)
    try:
        server.start()
        proc = psutil.Process(server.pid)
        broker_proc = psutil.Process(mosquitto.proc.pid) if mosquitto and mosquitto.proc else None
        known = [proc, psutil.Process(), *([broker_proc] if broker_proc else [])]
        shown = await wait_for_full_board(server, credentials.board_token, day.cards)
        checkins = Checkins(api, (await api.get("/api/v1/appointments")).json())
        pages = Pages(server.base, BOARD_PATH, credentials.board_token)
        await pages.pair(max(*args.pages, *args.memory_pages, args.idle_pages))
        paired = time.monotonic()
        result = BrokerResult(broker=kind, cards=shown, ro_state_bytes=0, appointment_state_bytes=0, page_html_bytes=0)
        if mosquitto is not None:
            version = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True).stdout.splitlines()[0]
            result.notes.append(f"{version}, configured by {mosquitto.generated_by}")
            log(f"[{kind}] {result.notes[-1]}")

        # 1. one page, warm; then wait until NiceGUI has pruned the clients the pairing redirects left behind
        await pages.grow(1)
        result.page_html_bytes = pages.pages[0].html_bytes
        for _ in range(WARMUP):  # every cache and code path once
            appointment = checkins.next()
            pages.expect(marker(appointment))
            await checkins.check_in(appointment)
            await pages.arrivals(SAMPLE_TIMEOUT)
        if "gc-freeze" in args.what_if:
            os.kill(server.pid, signal.SIGUSR1)
        wait = max(1.0, PRUNED_AFTER - (time.monotonic() - paired))
        log(f"[{kind}] waiting {wait:.0f} s for NiceGUI to prune the pairing requests' clients")
        cpu = Cpu(proc)
        await asyncio.sleep(wait)
        result.notes.append(f"server CPU in the {wait:.0f} s after {len(pages) + len(pages.paired)} screens paired "
                            f"(1 page open): {cpu.seconds() / wait * 100:.2f} %")
        log(f"[{kind}] {result.notes[-1]}")

        # 2. up from 1 page to the most: memory, idle CPU and latency at each stage
        for count in sorted({1, *args.pages, *args.memory_pages, args.idle_pages}):
            if count > 1:
                started = time.monotonic()
                await pages.grow(count)
                log(f"[{kind}] {count} pages connected ({time.monotonic() - started:.1f} s)")
            if count == 1 or count in args.memory_pages:
                result.rss_mb[count] = await settled_rss(proc)
                per_page = (result.rss_mb[count] - result.rss_mb[1]) / (count - 1) if count > 1 else 0
                log(f"[{kind}] server RSS with {count} pages: {result.rss_mb[count]:.1f} MB"
                    + (f" ({per_page:.3f} MB per added page)" if count > 1 else ""))
            if (count == 1 or count == args.idle_pages) and args.idle_seconds > 0:
                # the 1-page baseline for half as long: it only tells the pages' share apart
                seconds = args.idle_seconds if count == args.idle_pages else args.idle_seconds / 2
                result.idle[count] = await measure_idle(proc, broker_proc, seconds)
                log(f"[{kind}] idle with {count} pages: server {result.idle[count]['server_cpu_percent']:.2f} % CPU")
            if count in args.pages:
                result.latency.append(await measure_pages(pages, checkins, server, count, args.samples, known, log))

        # 3. the raw broker, the server idle with its pages still connected; payloads of a repair-order state's size
        ro_bytes, appt_bytes = payload_sizes(data_dir / "shopfloor.sqlite3")
        result.ro_state_bytes, result.appointment_state_bytes = ro_bytes, appt_bytes
        raw = RawFanout(HOST, mqtt_port, SITE, credentials.account(Role.SERVER), credentials.account(Role.BOARD),
                        args.pages)
        await asyncio.to_thread(raw.connect)
        for i, n in enumerate(sorted(args.pages, reverse=True)):
            result.raw.append(await measure_raw(raw, n, args.samples, ro_bytes, i * 100_000, known, log))
        await asyncio.to_thread(raw.close)
        raw = None

        result.latency.sort(key=lambda r: r.pages)
        result.raw.sort(key=lambda r: r.subscribers)
        gcs = [p for p in server.probes() if p.event == "gc"]
        result.notes.append(f"server GC pauses recorded: {len(gcs)}, longest "
                            f"{max((float(p.detail.split()[1]) for p in gcs), default=0):.0f} ms")
        return result
    finally:
        if raw is not None:
            await asyncio.to_thread(raw.close)
        if pages is not None:
            await pages.close()
        await api.aclose()
        server.stop()
        if mosquitto is not None:
            mosquitto.stop()


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}f}"


def report(results: list[BrokerResult], args: argparse.Namespace, wall: float) -> str:
    load = os.getloadavg()
    lines = [f"machine: {psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
             f"{platform.platform()}, Python {platform.python_version()}; run took {wall:.0f} s, "
             f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; nice {args.nice}"
             + (f"; WHAT-IF (not the product): {', '.join(args.what_if)}" if args.what_if else ""), ""]
    lines += ["Latency: commit -> update at the last of N pages (e2e), publish -> the last of N subscribers (raw).",
              "| broker | N | samples | e2e p50 ms | e2e p99 ms | raw p50 ms | raw p99 ms | e2e p99 / raw p99 |"
              " server CPU ms per check-in | other load % (e2e / raw) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for res in results:
        raw_by_n = {r.subscribers: r for r in res.raw}
        for r in res.latency:
            raw = raw_by_n.get(r.pages)
            raw_p99 = raw.last.get("p99", float("nan")) if raw else float("nan")
            ratio = r.last_page.get("p99", float("nan")) / raw_p99 if raw_p99 else float("nan")
            lost = f" ({r.lost} lost)" if r.lost else ""
            lines.append(f"| {res.broker} | {r.pages} | {r.last_page.get('n', 0)}{lost} | "
                         f"{fmt(r.last_page.get('p50'))} | {fmt(r.last_page.get('p99'))} | "
                         f"{fmt(raw.last.get('p50') if raw else None)} | {fmt(raw_p99)} | {fmt(ratio, 2)}× | "
                         f"{fmt(r.server_cpu_ms_per_sample)} | {fmt(r.other_load_percent, 0)} / "
                         f"{fmt(raw.other_load_percent if raw else None, 0)} |")
    lines += ["", "Where the time goes (medians, ms; from the server's probes):",
              "| broker | N | " + " | ".join(SEGMENTS) + " | samples with a GC pause |",
              "|---|---:|" + "---:|" * len(SEGMENTS) + "---:|"]
    for res in results:
        for r in res.latency:
            lines.append(f"| {res.broker} | {r.pages} | "
                         + " | ".join(fmt(r.segments[name].get("p50")) for name in SEGMENTS)
                         + f" | {r.samples_with_gc} |")
    top = max(args.memory_pages)
    lines += ["", "Memory and idle CPU (server process; RSS in MB; CPU in % of one core):",
              "| broker | cards | RSS 1 page | " + " | ".join(f"RSS {m} pages" for m in args.memory_pages)
              + f" | MB per page (1 -> {top}) | idle CPU 1 page | idle CPU {args.idle_pages} pages |",
              "|---|---:|---:|" + "---:|" * len(args.memory_pages) + "---:|---:|---:|"]
    for res in results:
        per_page = (res.rss_mb[top] - res.rss_mb[1]) / (top - 1) if top in res.rss_mb else float("nan")
        idle = {n: res.idle.get(n, {}) for n in (1, args.idle_pages)}
        broker = {n: f" (+ Mosquitto {v['mosquitto_cpu_percent']:.2f})" if "mosquitto_cpu_percent" in v else ""
                  for n, v in idle.items()}
        lines.append(f"| {res.broker} | {res.cards} | {fmt(res.rss_mb.get(1))} | "
                     + " | ".join(fmt(res.rss_mb.get(m)) for m in args.memory_pages)
                     + f" | {fmt(per_page, 3)} | {fmt(idle[1].get('server_cpu_percent'), 2)}{broker[1]} | "
                     f"{fmt(idle[args.idle_pages].get('server_cpu_percent'), 2)}{broker[args.idle_pages]} |")
    lines += ["", "Detail (ms): every = each page's / subscriber's delivery pooled; from API response = response "
              "received -> last page.",
              "| broker | N | e2e every p50 / p99 | from API response p50 / p99 | commit -> API response p50 |"
              " raw every p50 / p99 | payload bytes (RO / appointment) |", "|---|---:|---|---|---:|---|---|"]
    for res in results:
        raw_by_n = {r.subscribers: r for r in res.raw}
        for r in res.latency:
            raw = raw_by_n.get(r.pages)
            lines.append(f"| {res.broker} | {r.pages} | {fmt(r.every_page.get('p50'))} / "
                         f"{fmt(r.every_page.get('p99'))} | {fmt(r.from_response.get('p50'))} / "
                         f"{fmt(r.from_response.get('p99'))} | {fmt(r.commit_to_response.get('p50'))} | "
                         f"{fmt(raw.every.get('p50') if raw else None)} / {fmt(raw.every.get('p99') if raw else None)}"
                         f" | {res.ro_state_bytes} / {res.appointment_state_bytes} |")
    for res in results:
        lines += [f"{res.broker}: {note}" for note in res.notes]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)

    def ints(text: str) -> list[int]:
        return sorted({int(x) for x in text.split(",") if x})

    parser.add_argument("--pages", type=ints, default=[1, 25, 100], help="board-page fan-outs N (default 1,25,100)")
    parser.add_argument("--samples", type=int, default=50, help="check-ins (and raw messages) per N (default 50)")
    parser.add_argument("--brokers", default="embedded,mosquitto", help="embedded, mosquitto or both (in this order)")
    parser.add_argument("--cards", type=int, default=200, help="appointments today (more if --samples needs them)")
    parser.add_argument("--memory-pages", type=ints, default=[50, 100], help="page counts for the RSS figure")
    parser.add_argument("--idle-pages", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=30, help="0 skips the idle measurement")
    parser.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
                        help="scheduling priority of this bench, the server and Mosquitto, which inherit it "
                             "(default -10 as root: ahead of other work on a shared machine; 0 leaves it)")
    parser.add_argument("--what-if", action="append", default=[], metavar="CHANGE",
                        help="try a server change the product does not have (repeatable): gc-freeze "
                             "(gc.freeze() once the day is loaded), gc-threshold=A,B,C (gc.set_threshold), "
                             "outbox-no-poll (NiceGUI's per-page outbox loop without its 1-s poll), "
                             "reconnect-timeout=S (ui.run(reconnect_timeout=S))")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs, probes, data)")
    args = parser.parse_args()
    brokers = [b.strip() for b in args.brokers.split(",") if b.strip()]
    if not brokers or any(b not in ("embedded", "mosquitto") for b in brokers):
        parser.error("--brokers: embedded and/or mosquitto")
    if any(w not in ("gc-freeze", "outbox-no-poll") and not w.startswith(("reconnect-timeout=", "gc-threshold="))
           for w in args.what_if):
        parser.error("--what-if: gc-freeze, gc-threshold=A,B,C, outbox-no-poll or reconnect-timeout=S")
    if min(args.pages) < 1 or min(args.memory_pages) < 2 or args.samples < 1:
        parser.error("--pages >= 1, --memory-pages >= 2, --samples >= 1")

    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # before any thread or child: they inherit it
    root = Path(tempfile.mkdtemp(prefix="shopfloor-latency-"))
    root.chmod(0o711)  # Mosquitto, once it dropped to its own user, must reach its files below
    started = time.monotonic()

    def log(text: str) -> None:
        print(f"{time.monotonic() - started:6.1f}s {text}", flush=True)

    log(f"run directory {root}")
    results = []
    try:
        for broker in brokers:
            results.append(asyncio.run(run_broker(broker, args, root, log)))
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            remove_tree(root)
    text = report(results, args, time.monotonic() - started)
    print("\n" + text)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: (str(v) if isinstance(v, Path) else v)
                                                  for k, v in vars(args).items()},
                                         "results": [asdict(r) for r in results]}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    os.environ.pop("PYTEST_CURRENT_TEST", None)
    main()
