"""What wakes an idle server: per thread, how often it is woken and how much CPU it uses while N board pages sit
connected and nothing happens (issue 9: idle CPU with 50 boards).

    python bench/idle_wakeups.py [--pages 50] [--seconds 30] [--broker mosquitto|embedded]

The real server as bench/latency.py runs it (bench/e2e_setup.py, a 200-card day), N paired and connected board
pages (bench/e2e_pages.py) after NiceGUI pruned the pairing requests' clients; then, over `--seconds`, from
/proc/<pid>/task/*: each thread's voluntary context switches (≈ wake-ups: a thread that sleeps and is woken
counts one) and its CPU time; thread names from `py-spy dump` when py-spy is on PATH (or --py-spy), else the
kernel's thread names. Also the whole process's CPU in % of one core, as bench/latency.py reports it.
`--census`: also what the event loop ran meanwhile, per second (bench/e2e_serve.py's loop census; the server
then runs on the stdlib's asyncio loop instead of uvloop). Figures, never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_pages import Pages
from e2e_setup import Mosquitto, Server, free_ports, prepare_data_dir, remove_tree
from latency import PRUNED_AFTER, wait_for_full_board

SITE = "demo"
TICKS = os.sysconf("SC_CLK_TCK")


def threads(pid: int) -> dict[int, tuple[str, int, float]]:
    """tid -> (kernel name, voluntary context switches, CPU seconds)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = re.search(r"^Name:\s*(.*)$", status, re.M)
        switches = re.search(r"^voluntary_ctxt_switches:\s*(\d+)$", status, re.M)
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        out[int(task.name)] = (name.group(1) if name else "?", int(switches.group(1)) if switches else 0, cpu)
    return out


def python_names(pid: int, py_spy: str | None) -> dict[int, str]:
    """tid -> where each Python thread sits (its name and innermost frames), from py-spy."""
    if not py_spy:
        return {}
    dump = subprocess.run([py_spy, "dump", "--pid", str(pid)], capture_output=True, text=True).stdout
    names: dict[int, str] = {}
    current: int | None = None
    for line in dump.splitlines():
        match = re.match(r'Thread (\d+) \(\w+\): "(.*)"', line)  # the native thread id, as in /proc
        if match:
            current = int(match.group(1))
            names[current] = match.group(2)
        elif current is not None and line.startswith("    ") and names[current].count(" < ") < 2:
            names[current] += " < " + line.strip().split(" (")[0]
    return names


async def run(args: argparse.Namespace, root: Path) -> None:
    http_port, mqtt_port, tls_port = free_ports(3)
    data_dir = root / "data"
    credentials, day = prepare_data_dir(data_dir, mqtt_port, 200)
    mosquitto = None
    if args.broker == "mosquitto":
        mosquitto = Mosquitto(root / "mosquitto", mqtt_port, tls_port, SITE, credentials)
        mosquitto.start()
    census = root / "census.json"
    server = Server(root, data_dir, http_port, mqtt_port, external_broker=mosquitto is not None,
                    extra_env={"SHOPFLOOR_BENCH_LOOP_CENSUS": str(census)} if args.census else None)
    pages = Pages(server.base, "/board/appointments", credentials.board_token)
    try:
        server.start()
        await wait_for_full_board(server, credentials.board_token, day.cards)
        await pages.pair(args.pages)
        print(f"{args.pages} screens paired; waiting {PRUNED_AFTER} s for NiceGUI to prune the pairing clients",
              flush=True)
        await asyncio.sleep(PRUNED_AFTER)
        await pages.grow(args.pages)
        await asyncio.sleep(5)
        proc = psutil.Process(server.pid)
        if args.census:
            os.kill(server.pid, signal.SIGUSR2)  # counting starts now
        before, cpu_before, started = threads(server.pid), proc.cpu_times(), time.monotonic()
        await asyncio.sleep(args.seconds)
        after, cpu_after, wall = threads(server.pid), proc.cpu_times(), time.monotonic() - started
        if args.census:
            os.kill(server.pid, signal.SIGUSR2)
        names = python_names(server.pid, args.py_spy)
        total = (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system) / wall * 100
        rows = []
        for tid, (name, switches, cpu) in after.items():
            was = before.get(tid, (name, 0, 0.0))
            rows.append(((switches - was[1]) / wall, (cpu - was[2]) / wall * 100, tid, names.get(tid, name)))
        print(f"\nserver, {args.pages} pages connected, {wall:.0f} s idle: {total:.2f} % of one core "
              f"({args.broker}); per thread (wake-ups/s, CPU %):")
        for wakeups, cpu, tid, name in sorted(rows, reverse=True):
            if wakeups >= 0.05 or cpu >= 0.01:
                print(f"  {wakeups:7.2f}/s  {cpu:5.2f} %  {tid:>7}  {name[:150]}")
        if args.census:
            await asyncio.sleep(1)
            counts = json.loads(census.read_text(encoding="utf-8"))
            print("the event loop, per second:")
            for what, count in list(counts.items())[:25]:
                print(f"  {count / wall:7.2f}/s  {what}")
    finally:
        await pages.close()
        server.stop()
        if mosquitto is not None:
            mosquitto.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--broker", choices=("mosquitto", "embedded"), default="mosquitto")
    parser.add_argument("--py-spy", default=shutil.which("py-spy"), help="py-spy executable for thread names")
    parser.add_argument("--census", action="store_true", help="also count what the event loop runs")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="shopfloor-idle-"))
    root.chmod(0o711)
    try:
        asyncio.run(run(args, root))
    finally:
        remove_tree(root)


if __name__ == "__main__":
    os.environ.pop("PYTEST_CURRENT_TEST", None)
    main()
