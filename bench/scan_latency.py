"""A technician's scan at the bay station until every workshop wall shows it: the ticket scan (POST
/api/v1/clockings with the badge and the ticket's QR text, what /workshop/station sends) → the progress board
(/board/progress) on N connected wall screens has the update, beside the raw broker's fan-out to N subscribers.

    python bench/scan_latency.py [--pages 10] [--scans 500] [--broker embedded|mosquitto] [--json FILE]

Setup: the demo site with today's appointments (bench/e2e_setup.py), the real server as a subprocess, one order
checked in and dispatched per technician pair; then each scan clocks a technician onto the other of its two
orders (which ends the clocking before), so every scan changes what the walls draw. The latency of a scan is
from the request sent to the first message carrying that order's number at the last wall (the request's own
time included: a station waits for it too), and from the scan's commit (the server's probe) to the last wall,
which is what compares with the raw broker. Figures, never asserts: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_pages import Pages
from e2e_raw import RawFanout
from e2e_setup import Mosquitto, Server, free_ports, prepare_data_dir, remove_tree
from latency import percentile

from shopfloor.contract.access import Role

HOST = "127.0.0.1"
SITE = "demo"
BOARD_PATH = "/board/progress"
SAMPLE_TIMEOUT = 10.0


def summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {}
    return {"n": len(ms), "p50": statistics.median(ms), "p90": percentile(ms, 0.9), "p99": percentile(ms, 0.99),
            "max": max(ms)}


async def jobs_for_technicians(api: httpx.AsyncClient) -> list[tuple[dict[str, Any], list[str]]]:
    """Each technician present today with two orders dispatched to them (checked in here if needed)."""
    technicians = (await api.get("/api/v1/technicians")).json()
    appointments = [a for a in (await api.get("/api/v1/appointments")).json()
                    if a["status"] in ("booked", "confirmed", "late") and not a.get("ro_number") and a.get("tag")]
    random.Random(7).shuffle(appointments)
    plan: list[tuple[dict[str, Any], list[str]]] = []
    for tech in technicians:
        numbers: list[str] = []
        while len(numbers) < 2 and appointments:
            appointment = appointments.pop()
            checked = await api.post("/api/v1/checkins", json={"tag": appointment["tag"]})
            if checked.status_code != 201:
                continue
            number = checked.json()["repair_order"]["number"]
            given = await api.post(f"/api/v1/repair-orders/{number}/dispatch",
                                   json={"technician": tech["id"], "override": {"reason": "benchmark"}})
            if given.status_code == 200:
                numbers.append(number)
        if len(numbers) == 2:
            plan.append((tech, numbers))
    return plan


async def measure_scans(api: httpx.AsyncClient, pages: Pages, server: Server,
                        plan: list[tuple[dict[str, Any], list[str]]], scans: int) -> dict[str, Any]:
    base = server.base
    last: list[float] = []
    response: list[float] = []
    taken: list[tuple[float, float, float]] = []
    lost = refused = 0
    for i in range(scans):
        tech, numbers = plan[i % len(plan)]
        number = numbers[(i // len(plan)) % 2]
        pages.expect(number)
        sent = time.time()
        answer = await api.post("/api/v1/clockings", json={"badge": tech["badge"], "scan": f"{base}/ro/{number}"})
        received = time.time()
        if answer.status_code != 201:
            refused += 1
            if refused == 1:
                print(f"first refused scan: {answer.status_code} {answer.text[:300]}", file=sys.stderr)
            await pages.arrivals(0.01)
            continue
        arrivals = await pages.arrivals(SAMPLE_TIMEOUT)
        response.append(received - sent)
        if len(arrivals) < len(pages):
            lost += 1
            continue
        last.append(max(arrivals.values()) - sent)
        taken.append((sent, received, max(arrivals.values())))
        await asyncio.sleep(random.uniform(0.02, 0.08))
    await asyncio.sleep(0.5)  # the probes' last lines
    # the scan's own commit (bench/e2e_serve.py's probe): the last commit inside the request
    commits = sorted(p.at for p in server.probes() if p.event == "commit")
    from_commit = []
    for sent, received, end in taken:
        inside = [at for at in commits if sent <= at <= received]
        if inside:
            from_commit.append(end - inside[-1])
    return {"scan_to_last_wall": summary(last), "commit_to_last_wall": summary(from_commit),
            "request": summary(response), "lost": lost, "refused": refused}


async def measure_raw(raw: RawFanout, n: int, samples: int, size: int) -> dict[str, Any]:
    last: list[float] = []
    for seq in range(samples):
        sent, arrivals = await asyncio.to_thread(raw.sample, n, seq, size, SAMPLE_TIMEOUT)
        if len(arrivals) == n:
            last.append(max(arrivals.values()) - sent)
    return summary(last)


async def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    http_port, mqtt_port, tls_port = free_ports(3)
    data_dir = root / "data"
    credentials, day = prepare_data_dir(data_dir, mqtt_port, args.cards)
    mosquitto = None
    if args.broker == "mosquitto":
        mosquitto = Mosquitto(root / "mosquitto", mqtt_port, tls_port, SITE, credentials)
        mosquitto.start()
    server = Server(root, data_dir, http_port, mqtt_port, external_broker=mosquitto is not None)
    api = httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {credentials.api_token}"},
                            timeout=30)
    pages: Pages | None = None
    try:
        server.start()
        plan = await jobs_for_technicians(api)
        if not plan:
            raise RuntimeError("no technician could be given two orders: see server.log")
        pages = Pages(server.base, BOARD_PATH, credentials.board_token)
        await pages.pair(args.pages)
        await pages.grow(args.pages)
        await asyncio.sleep(12)  # the walls' resync after connecting (board/feed.py) settles first
        for i in range(len(plan) * 2):  # warm every path once
            tech, numbers = plan[i % len(plan)]
            pages.expect(numbers[i // len(plan)])
            await api.post("/api/v1/clockings", json={"badge": tech["badge"], "scan": numbers[i // len(plan)]})
            await pages.arrivals(SAMPLE_TIMEOUT)
        proc = psutil.Process(server.pid)
        cpu_before = sum(proc.cpu_times()[:2])
        scans = await measure_scans(api, pages, server, plan, args.scans)
        scans["server_cpu_ms_per_scan"] = (sum(proc.cpu_times()[:2]) - cpu_before) * 1000 / args.scans
        scans["stray_messages"] = pages.stray
        await pages.close()
        pages = None
        raw = RawFanout(HOST, mqtt_port, SITE, credentials.account(Role.SERVER), credentials.account(Role.BOARD),
                        [args.pages])
        await asyncio.to_thread(raw.connect)
        try:
            scans["raw_broker"] = await measure_raw(raw, args.pages, min(args.scans, 200), 2000)
        finally:
            await asyncio.to_thread(raw.close)
        scans.update(broker=args.broker, pages=args.pages, technicians=len(plan), appointments=day.cards,
                     python=platform.python_version(), load_average=list(psutil.getloadavg()))
        return scans
    finally:
        if pages is not None:
            await pages.close()
        await api.aclose()
        server.stop()
        if mosquitto is not None:
            mosquitto.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10, help="connected wall screens")
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--cards", type=int, default=80, help="today's appointments (orders come from them)")
    parser.add_argument("--broker", choices=("embedded", "mosquitto"), default="embedded")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="shopfloor-scan-bench-"))
    root.chmod(0o755)  # Mosquitto reads its files there as its own user
    try:
        result = asyncio.run(run(args, root))
    finally:
        with contextlib.suppress(Exception):
            remove_tree(root)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
