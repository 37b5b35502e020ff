"""Sustained load and a burst against the real server with N connected board pages (issue 9, "Headroom").

    python bench/sustained.py [--rates 20,40,60] [--seconds 20] [--pages 100] [--board appointments]
                              [--broker mosquitto|embedded] [--burst 20000] [--json FILE]

The load is the service lane's own traffic through the API, open loop: events start at Poisson-distributed
times at the step's rate, whether or not earlier requests have been answered (as cars and staff do). Each car
is checked in (`POST /api/v1/checkins` with its QR tag) and then moved dispatched -> in_progress ->
quality_check -> ready -> delivered (`POST /api/v1/repair-orders/{number}/transitions`; what is left of the bill
paid first with `POST …/payments`, untimed, as the server delivers no unpaid car), one move at a time
per car; where the server has quality checks (issue 10), ready comes from passing the self, foreman and final
checks (`POST …/qc`) instead. The next event is a check-in while fewer than `--lane` cars are in the lane, else
a move of a random free car: once the lane is full, one event in six (eight with the checks) is a check-in.

1. A day of appointments (bench/e2e_setup.py; enough to check in for every step), the real server
   (bench/e2e_serve.py, with its timing probes), `--pages` wall screens paired; while NiceGUI prunes the
   pairing redirects' clients (~70 s, see bench/latency.py) the lane fills at a low rate, unmeasured.
2. `--pages` board pages connected (socket.io clients as in bench/latency.py). Each step runs `--seconds` at
   its rate. Per event: the API's answer (status, time), its commit (the probe whose topics include the
   event's state topic), the board store taking it (the `apply` probe), and for what the pages draw (check-ins
   on the appointment board; every event on the progress board) the arrival at each page.
   **board latency = commit -> the update at the last of the N pages.**
3. The raw broker's fan-out to N subscribers (bench/e2e_raw.py), one message at a time, as bench/latency.py
   measures it: the "3x the raw broker" yardstick.
4. The burst: `--burst` moves as fast as the server takes them (`--burst-clients` requests in flight, each
   toggling its own car between in_progress and on_hold). A subscriber on the repair orders' event topic counts
   every event (each move publishes exactly one, with the order's new version): lost = a version the API
   answered with that never arrived. Afterwards each car's retained state must carry its last version (or a
   newer one, where the server republishes orders by itself).

Figures, never asserts; docs/benchmarks.md has the method's limits and the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import psutil
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_pages import Pages
from e2e_raw import RawFanout
from e2e_setup import Mosquitto, Probe, Server, free_ports, prepare_data_dir, remove_tree
from latency import PRUNED_AFTER, Cpu, Load, measure_raw, no_bench_gc, payload_sizes, summary, wait_for_full_board

from shopfloor.contract import topics
from shopfloor.contract.access import Role

HOST = "127.0.0.1"
SITE = "demo"
FLOW = ("checked_in", "dispatched", "in_progress", "quality_check", "ready", "delivered")
# where the server has quality checks (POST …/qc, issue 10), ready comes from passing the last one
FLOW_WITH_CHECKS = ("checked_in", "dispatched", "in_progress", "quality_check", "qc:self", "qc:foreman", "qc:final",
                    "delivered")
WARMUP_RATE = 5.0
SETTLE = 10.0  # after a step: how long its last updates may take to reach every page
# what the pages' run_javascript messages carry for a card (board/cards.py key order)
APPOINTMENT_ARRIVED = re.compile(r'"key":"(\d+)","status":"arrived"')
RO_CARD = re.compile(r'"key":"([^"]+)","number":"[^"]*","status":"([a-z_]+)"')

Log = Any


class Screens(Pages):
    """N board pages; every page's first sight of each card key (many updates in flight at once)."""

    def __init__(self, base: str, path: str, token: str) -> None:
        super().__init__(base, path, token)
        self.progress = path.endswith("progress")
        self.seen: dict[str, dict[int, float]] = defaultdict(dict)

    def _listen(self, index: int, at: float, code: str) -> None:
        if self.progress:
            keys = [f"{number}:{status}" for number, status in RO_CARD.findall(code)]
        else:
            keys = APPOINTMENT_ARRIVED.findall(code)
        for key in keys:
            self.seen[key].setdefault(index, at)


@dataclass
class Event:
    kind: str           # checkin | move
    topic: str          # the state topic whose commit is this event's
    page_key: str       # what the pages draw for it ("" if the board shows nothing of it)
    sent: float
    received: float = math.nan
    status: int = 0     # HTTP status; 0: no answer
    refusal: str = ""   # what a 4xx/5xx answer said (its start)


@dataclass
class StepResult:
    rate: float
    seconds: float
    events: int
    answered_per_second: float
    errors: dict[str, int]
    api: dict[str, float]             # request sent -> answer (ms)
    commit_to_store: dict[str, float]  # commit -> the server's board store has it (ms), every event
    board: dict[str, float]           # commit -> the last of N pages (ms), what the pages draw
    request_to_board: dict[str, float]  # request sent -> the last of N pages (ms)
    board_lost: int                   # drawn events some page never got within SETTLE s
    skipped: int                      # events due while every car had a request in flight (none sent)
    unmatched: int                    # answered events without their commit probe
    server_cpu_percent: float
    other_load_percent: float
    lane: int                         # cars in the lane at the end


@dataclass
class BurstResult:
    events: int
    accepted: int
    errors: dict[str, int]
    seconds: float
    accepted_per_second: float
    lost: int
    duplicates: int
    lag: dict[str, float]             # request sent -> the event at the subscriber (ms)
    drain_seconds: float              # last answer -> last event received
    stale_retained: int               # cars whose retained state is older than their last answered version
    server_cpu_percent: float


@dataclass
class RunResult:
    broker: str
    board: str
    pages: int
    cards: int
    steps: list[StepResult] = field(default_factory=list)
    raw: dict[str, float] = field(default_factory=dict)
    burst: BurstResult | None = None
    notes: list[str] = field(default_factory=list)


class Lane:
    """The cars between check-in and delivery, each moved one step at a time."""

    def __init__(self, api: httpx.AsyncClient, appointments: list[dict[str, Any]], technicians: list[int],
                 board: str, size: int, checks: bool = False, seed: int = 9) -> None:
        self.api = api
        self.size = size
        self.flow = FLOW_WITH_CHECKS if checks else FLOW
        self.rng = random.Random(seed)
        self.waiting = [a for a in appointments
                        if a["status"] in ("booked", "confirmed", "late") and not a.get("ro_number") and a.get("tag")]
        self.rng.shuffle(self.waiting)
        self.technicians = technicians
        self.progress = board == "progress"
        self.idle: dict[str, str] = {}   # repair order number -> status, cars no request is moving right now
        self.cars = 0                    # in the lane, idle or moving
        self.count = 0
        self.skipped = 0                 # events due when every car had a request in flight

    def __len__(self) -> int:
        return self.cars

    async def one(self, site: str, events: list[Event]) -> None:
        """The next event of the lane: a check-in while the lane is short of cars, else a move of a car no request
        is moving; none when every car waits for an answer (an overloaded server: counted as skipped)."""
        self.count += 1
        if self.cars < self.size and self.waiting:
            await self._check_in(site, events)
        elif self.idle:
            number = self.rng.choice(list(self.idle))
            await self._move(site, number, self.idle.pop(number), events)
        else:
            self.skipped += 1

    async def _check_in(self, site: str, events: list[Event]) -> str | None:
        """Check the next car in; its repair order's number (None if refused)."""
        if not self.waiting:
            raise RuntimeError("no appointment left to check in: run with more --cards")
        appointment = self.waiting.pop()
        # the appointment board draws the card turning 'arrived'; the progress board a new card (key unknown yet)
        event = Event("checkin", topics.state(site, topics.APPOINTMENTS, appointment["id"]),
                      "" if self.progress else str(appointment["id"]), time.time())
        events.append(event)
        self.cars += 1
        try:
            response = await self.api.post("/api/v1/checkins", json={"tag": appointment["tag"]})
        except httpx.HTTPError:
            event.received = time.time()
            self.cars -= 1
            return None
        event.received, event.status = time.time(), response.status_code
        if response.status_code not in (200, 201):
            event.refusal = f"check-in: {response.text[:120]}"
            self.cars -= 1
            return None
        number = str(response.json()["repair_order"]["number"])
        if self.progress:
            event.page_key = f"{number}:checked_in"
        self.idle[number] = "checked_in"
        return number

    async def _move(self, site: str, number: str, status: str, events: list[Event]) -> None:
        to = self.flow[self.flow.index(status) + 1]
        url, body = f"/api/v1/repair-orders/{number}/transitions", {"to": to}
        shown = "ready" if to == "qc:final" else to  # what the progress board's card then says
        if to.startswith("qc:"):
            url, body = f"/api/v1/repair-orders/{number}/qc", {"stage": to[3:], "passed": True}
        if to == "dispatched":
            body["technician"] = self.technicians[self.count % len(self.technicians)]
        if to == "delivered":
            await self._pay(number)
        drawn = self.progress and shown not in ("delivered", "qc:self", "qc:foreman")
        event = Event("move", topics.state(site, topics.REPAIR_ORDERS, number),
                      f"{number}:{shown}" if drawn else "", time.time())
        events.append(event)
        try:
            response = await self.api.post(url, json=body)
        except httpx.HTTPError:
            event.received = time.time()
            self.idle[number] = status
            return
        event.received, event.status = time.time(), response.status_code
        if response.status_code not in (200, 201):
            event.refusal = f"{to}: {response.text[:120]}"
            self.idle[number] = status
        elif to == "delivered":
            self.cars -= 1
        else:
            self.idle[number] = to

    async def _pay(self, number: str) -> None:
        """Pay what is left, as the cashier's system does before the car goes: the server refuses to deliver an
        unpaid order. Not timed (the move that follows is); a bill that could not be paid shows as that move's
        refusal (409 unpaid)."""
        with contextlib.suppress(httpx.HTTPError):
            bill = (await self.api.get(f"/api/v1/repair-orders/{number}/settlement")).json()
            if not bill.get("settled") and Decimal(bill.get("left", "0")) > 0:
                await self.api.post(f"/api/v1/repair-orders/{number}/payments",
                                    json={"method": "wechat", "amount": bill["left"]})

    async def run(self, site: str, rate: float, seconds: float) -> list[Event]:
        """Open loop: Poisson arrivals at `rate` for `seconds`; returns once every request has its answer."""
        events: list[Event] = []
        tasks: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        at = 0.0
        while True:
            at += self.rng.expovariate(rate)
            if at >= seconds:
                break
            delay = start + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self.one(site, events))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        return events


def ms(values: list[float]) -> dict[str, float]:
    return summary(values)


def measure_step(events: list[Event], probes: list[Probe], screens: Screens, n: int) -> tuple[
        dict[str, float], dict[str, float], dict[str, float], int, int]:
    """(commit -> store, commit -> last page, request -> last page, lost on the pages, unmatched commits)."""
    commits: dict[str, list[float]] = defaultdict(list)
    applies: dict[str, list[float]] = defaultdict(list)
    for probe in probes:
        if probe.event == "commit":
            for topic in probe.detail.split():
                commits[topic].append(probe.at)
        elif probe.event == "apply":
            applies[probe.detail].append(probe.at)
    to_store, to_board, request_to_board = [], [], []
    lost = unmatched = 0
    for event in events:
        if event.status not in (200, 201):
            continue
        commit = next((at for at in commits.get(event.topic, []) if event.sent <= at <= event.received), None)
        if commit is None:
            unmatched += 1
            continue
        applied = next((at for at in applies.get(event.topic, []) if at >= commit), None)
        if applied is not None:
            to_store.append(applied - commit)
        if event.page_key:
            arrivals = screens.seen.get(event.page_key, {})
            if len(arrivals) < n:
                lost += 1
                continue
            last = max(arrivals.values())
            to_board.append(last - commit)
            request_to_board.append(last - event.sent)
    return ms(to_store), ms(to_board), ms(request_to_board), lost, unmatched


async def run_step(lane: Lane, screens: Screens, server: Server, rate: float, seconds: float,
                   known: list[psutil.Process], log: Log) -> StepResult:
    cpu = Cpu(known[0])
    load = Load(known)
    started = time.monotonic()
    skipped = lane.skipped
    with no_bench_gc():
        events = await lane.run(SITE, rate, seconds)
        skipped = lane.skipped - skipped
        wall = time.monotonic() - started
        cpu_seconds, other = cpu.seconds(), load.others_percent()
        drawn = {e.page_key for e in events if e.page_key and e.status in (200, 201)}
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline and any(len(screens.seen.get(k, {})) < len(screens) for k in drawn):
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the probes' last lines
    to_store, board, request_to_board, lost, unmatched = measure_step(events, server.probes(), screens,
                                                                      len(screens))
    errors = Counter(str(e.status or "no answer") for e in events if e.status not in (200, 201))
    for refusal, count in Counter(e.refusal for e in events if e.refusal).most_common(3):
        log(f"        refused {count}×: {refusal}")
    answered = [e for e in events if e.status in (200, 201)]
    result = StepResult(rate=rate, seconds=seconds, events=len(events), answered_per_second=len(answered) / wall,
                        errors=dict(errors), api=ms([e.received - e.sent for e in answered]),
                        commit_to_store=to_store, board=board, request_to_board=request_to_board, board_lost=lost,
                        skipped=skipped, unmatched=unmatched, server_cpu_percent=cpu_seconds / wall * 100,
                        other_load_percent=other, lane=len(lane))
    log(f"  {rate:>5.0f}/s: {len(events)} events ({result.answered_per_second:.1f}/s answered, errors "
        f"{dict(errors) or 0}, {skipped} skipped: no car free), API p50 {result.api.get('p50', 0):.1f} "
        f"p99 {result.api.get('p99', 0):.1f} ms; "
        f"board p50 {board.get('p50', 0):.1f} p99 {board.get('p99', 0):.1f} max {board.get('max', 0):.1f} ms "
        f"(n {board.get('n', 0)}, lost {lost}); commit -> store p99 {to_store.get('p99', 0):.1f} ms; "
        f"server CPU {result.server_cpu_percent:.0f} %, other load {other:.0f} %, lane {len(lane)}")
    return result


class EventCounter:
    """A subscriber (server account: it may read everything) on every repair order's event topic."""

    def __init__(self, port: int, account: Any) -> None:
        self.arrivals: dict[tuple[str, int], float] = {}
        self.duplicates = 0
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"bench-burst-{os.getpid()}", protocol=paho.MQTTv311, clean_session=True)
        self.client.username_pw_set(account.username, account.password)
        self.client.on_connect = lambda c, *_: c.subscribe(topics.event(SITE, topics.REPAIR_ORDERS, "+"), qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(HOST, port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise TimeoutError("event subscriber did not subscribe")

    def _on_message(self, _c: object, _u: object, message: paho.MQTTMessage) -> None:
        at = time.time()
        event = json.loads(message.payload)
        key = (str(event["number"]), int(event["version"]))
        with self.lock:
            if key in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[key] = at

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained_versions(port: int, account: Any, numbers: set[str], timeout: float = 10) -> dict[str, int]:
    """The version in each car's retained repair-order state, as a board connecting now would get it."""
    got: dict[str, int] = {}
    done = threading.Event()
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"bench-retained-{os.getpid()}",
                         protocol=paho.MQTTv311, clean_session=True)
    client.username_pw_set(account.username, account.password)
    client.on_connect = lambda c, *_: c.subscribe(topics.state_filter(SITE, topics.REPAIR_ORDERS), qos=1)

    def on_message(_c: object, _u: object, message: paho.MQTTMessage) -> None:
        number = message.topic.split("/")[4]
        if number in numbers and message.payload:
            got[number] = int(json.loads(message.payload)["version"])
            if set(got) >= numbers:
                done.set()

    client.on_message = on_message
    client.connect(HOST, port, keepalive=30)
    client.loop_start()
    done.wait(timeout)
    client.disconnect()
    client.loop_stop()
    return got


async def run_burst(lane: Lane, api: httpx.AsyncClient, mqtt_port: int, server_account: Any, count: int,
                    clients: int, known: list[psutil.Process], log: Log) -> BurstResult:
    # one car per client, in progress: check in, dispatch and start fresh cars (not counted)
    cars = []
    while len(cars) < clients:
        events: list[Event] = []
        number = await lane._check_in(SITE, events)
        if number is None:
            raise RuntimeError(f"burst: a check-in failed ({events[-1].status})")
        for _ in range(2):
            await lane._move(SITE, number, lane.idle.pop(number), events)
        if lane.idle.pop(number) != "in_progress":
            raise RuntimeError(f"burst: {number} could not be started ({events[-1].status})")
        cars.append(number)
    counter = await asyncio.to_thread(EventCounter, mqtt_port, server_account)
    answers: list[tuple[str, int, float, float]] = []  # (number, version, sent, received)
    errors: Counter[str] = Counter()
    remaining = count
    cpu = Cpu(known[0])

    async def toggle(number: str) -> None:
        nonlocal remaining
        held = False
        while remaining > 0:
            remaining -= 1
            body = {"to": "in_progress"} if held else {"to": "on_hold", "reason": "waiting_parts"}
            sent = time.time()
            try:
                response = await api.post(f"/api/v1/repair-orders/{number}/transitions", json=body)
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                continue
            if response.status_code != 200:
                errors[str(response.status_code)] += 1
                continue
            answers.append((number, int(response.json()["repair_order"]["version"]), sent, time.time()))
            held = not held

    started = time.monotonic()
    with no_bench_gc():
        await asyncio.gather(*(toggle(number) for number in cars))
        seconds = time.monotonic() - started
        last_answer = max((a[3] for a in answers), default=time.time())
        expected = {(number, version) for number, version, _, _ in answers}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with counter.lock:
                missing = expected - counter.arrivals.keys()
            if not missing:
                break
            await asyncio.sleep(0.2)
    cpu_percent = cpu.seconds() / (time.monotonic() - started) * 100
    await asyncio.sleep(1)
    counter.close()
    arrivals = counter.arrivals
    lost = len(expected - arrivals.keys())
    received = [arrivals[(n, v)] for n, v, _, _ in answers if (n, v) in arrivals]
    lag = ms([arrivals[(n, v)] - sent for n, v, sent, _ in answers if (n, v) in arrivals])
    last_versions = {}
    for number, version, _, _ in answers:
        last_versions[number] = max(version, last_versions.get(number, 0))
    retained = await asyncio.to_thread(retained_versions, mqtt_port, server_account, set(last_versions))
    # older than the last answer is stale; newer is the server republishing the order since (issue 10's projection)
    stale = sum(1 for number, version in last_versions.items() if retained.get(number, 0) < version)
    result = BurstResult(events=count, accepted=len(answers), errors=dict(errors), seconds=seconds,
                         accepted_per_second=len(answers) / seconds, lost=lost, duplicates=counter.duplicates,
                         lag=lag, drain_seconds=max(received, default=last_answer) - last_answer,
                         stale_retained=stale, server_cpu_percent=cpu_percent)
    log(f"  burst: {len(answers)} of {count} moves accepted in {seconds:.1f} s ({result.accepted_per_second:.0f}/s; "
        f"errors {dict(errors) or 0}); events lost {lost}, duplicated {counter.duplicates}; lag p50 "
        f"{lag.get('p50', 0):.0f} p99 {lag.get('p99', 0):.0f} max {lag.get('max', 0):.0f} ms; drained "
        f"{result.drain_seconds:.1f} s after the last answer; stale retained states {stale}")
    return result


def unsent(db_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])


async def run(args: argparse.Namespace, root: Path, log: Log) -> RunResult:
    run_dir = root / args.broker
    data_dir = run_dir / "data"
    run_dir.mkdir(parents=True)
    http_port, mqtt_port, tls_port = free_ports(3)
    needed = int(sum(args.rates) * args.seconds / 6 * 1.2) + args.lane + args.burst_clients + 20
    credentials, day = prepare_data_dir(data_dir, mqtt_port, max(args.cards, needed))
    if day.arrivable < needed:
        remove_tree(run_dir)
        run_dir.mkdir(parents=True)
        credentials, day = prepare_data_dir(data_dir, mqtt_port, max(args.cards, needed) + needed - day.arrivable)
    log(f"[{args.broker}] data: {day.cards} appointments today ({day.arrivable} can be checked in)")
    mosquitto = None
    if args.broker == "mosquitto":
        mosquitto = Mosquitto(run_dir / "mosquitto", mqtt_port, tls_port, SITE, credentials)
        mosquitto.start()
    server = Server(run_dir, data_dir, http_port, mqtt_port, external_broker=mosquitto is not None)
    path = f"/board/{args.board}"
    screens: Screens | None = None
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    api = httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {credentials.api_token}"},
                            timeout=60, limits=limits)
    try:
        server.start()
        proc = psutil.Process(server.pid)
        broker_proc = psutil.Process(mosquitto.proc.pid) if mosquitto and mosquitto.proc else None
        known = [proc, psutil.Process(), *([broker_proc] if broker_proc else [])]
        shown = await wait_for_full_board(server, credentials.board_token, day.cards)
        result = RunResult(broker=args.broker, board=args.board, pages=args.pages, cards=shown)
        # repair technicians at work today (a dispatch to one on leave is refused where the server checks it)
        technicians = [t["id"] for t in (await api.get("/api/v1/capacity")).json()["technicians"]
                       if t["skill"] == "repair" and t["available"] > 0]
        checks = "/api/v1/repair-orders/{number}/qc" in (await api.get("/api/openapi.json")).json()["paths"]
        lane = Lane(api, (await api.get("/api/v1/appointments")).json(), technicians, args.board, args.lane, checks)
        if checks:
            log(f"[{args.broker}] this server has quality checks: each car's ready comes from passing them")
        screens = Screens(server.base, path, credentials.board_token)
        await screens.pair(args.pages)
        paired = time.monotonic()
        log(f"[{args.broker}] {args.pages} screens paired; the lane fills at {WARMUP_RATE:.0f}/s while NiceGUI "
            f"prunes the pairing requests' clients")
        await lane.run(SITE, WARMUP_RATE, max(1.0, PRUNED_AFTER - (time.monotonic() - paired)))
        await screens.grow(args.pages)
        log(f"[{args.broker}] {len(screens)} {args.board} pages connected; {len(lane)} cars in the lane")
        await asyncio.sleep(3)
        for rate in args.rates:
            result.steps.append(await run_step(lane, screens, server, rate, args.seconds, known, log))
            await asyncio.sleep(2)
        result.notes.append(f"outbox rows unsent after the steps: {unsent(data_dir / 'shopfloor.sqlite3')}")

        ro_bytes, _ = payload_sizes(data_dir / "shopfloor.sqlite3")
        raw = RawFanout(HOST, mqtt_port, SITE, credentials.account(Role.SERVER), credentials.account(Role.BOARD),
                        [args.pages])
        await asyncio.to_thread(raw.connect)
        try:
            raw_result = await measure_raw(raw, args.pages, args.raw_samples, ro_bytes, 0, known, log)
        finally:
            await asyncio.to_thread(raw.close)
        result.raw = raw_result.last

        if args.burst:
            result.burst = await run_burst(lane, api, mqtt_port, credentials.account(Role.SERVER), args.burst,
                                           args.burst_clients, known, log)
        return result
    finally:
        if screens is not None:
            await screens.close()
        await api.aclose()
        server.stop()
        if mosquitto is not None:
            mosquitto.stop()


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}f}"


def report(result: RunResult) -> str:
    raw_p99 = result.raw.get("p99", math.nan)
    lines = [f"{result.broker}, {result.pages} {result.board} pages, {result.cards} cards; raw broker to "
             f"{result.pages} subscribers p50 {fmt(result.raw.get('p50'))} / p99 {fmt(raw_p99)} ms", "",
             "| rate /s | events (skipped) | answered /s | errors | API p50 / p99 ms | commit -> store p50 / p99 ms | "
             "board p50 / p99 / max ms | board p99 / raw p99 | request -> board p99 ms | lost | server CPU % | "
             "other load % |", "|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---:|"]
    for s in result.steps:
        ratio = s.board.get("p99", math.nan) / raw_p99 if raw_p99 else math.nan
        lines.append(f"| {s.rate:.0f} | {s.events} ({s.skipped}) | {s.answered_per_second:.1f} | {s.errors or 0} | "
                     f"{fmt(s.api.get('p50'))} / {fmt(s.api.get('p99'))} | {fmt(s.commit_to_store.get('p50'))} / "
                     f"{fmt(s.commit_to_store.get('p99'))} | {fmt(s.board.get('p50'))} / {fmt(s.board.get('p99'))} / "
                     f"{fmt(s.board.get('max'))} | {fmt(ratio, 2)}× | {fmt(s.request_to_board.get('p99'))} | "
                     f"{s.board_lost} | {s.server_cpu_percent:.0f} | {s.other_load_percent:.0f} |")
    if result.burst is not None:
        b = result.burst
        lines += ["", f"burst: {b.accepted} of {b.events} moves accepted in {b.seconds:.1f} s "
                      f"({b.accepted_per_second:.0f}/s), errors {b.errors or 0}; events lost {b.lost}, duplicated "
                      f"{b.duplicates}; request -> event p50 {fmt(b.lag.get('p50'))} / p99 {fmt(b.lag.get('p99'))} / "
                      f"max {fmt(b.lag.get('max'))} ms; drained {b.drain_seconds:.1f} s after the last answer; "
                      f"stale retained states {b.stale_retained}; server CPU {b.server_cpu_percent:.0f} %"]
    lines += result.notes
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=lambda text: [float(x) for x in text.split(",") if x], default=[20, 40, 60],
                        help="events per second of each step (default 20,40,60)")
    parser.add_argument("--seconds", type=float, default=20, help="length of each step (default 20)")
    parser.add_argument("--pages", type=int, default=100, help="connected board pages (default 100)")
    parser.add_argument("--board", choices=("appointments", "progress"), default="appointments",
                        help="the pages' board: appointments (check-ins drawn) or progress (every event drawn)")
    parser.add_argument("--broker", choices=("mosquitto", "embedded"), default="mosquitto")
    parser.add_argument("--cards", type=int, default=200, help="appointments today, at least (more if needed)")
    parser.add_argument("--lane", type=int, default=60,
                        help="cars in the lane, between check-in and delivery (default 60: a 300-order day's peak)")
    parser.add_argument("--raw-samples", type=int, default=50)
    parser.add_argument("--burst", type=int, default=20_000, help="moves in the burst (0: none)")
    parser.add_argument("--burst-clients", type=int, default=32, help="burst requests in flight")
    parser.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
                        help="scheduling priority of the bench, the server and Mosquitto (default -10 as root)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs, probes, data)")
    args = parser.parse_args()
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server and Mosquitto on the way out
    root = Path(tempfile.mkdtemp(prefix="shopfloor-sustained-"))
    root.chmod(0o711)  # Mosquitto, once it dropped to its own user, must reach its files below
    started = time.monotonic()

    def log(text: str) -> None:
        print(f"{time.monotonic() - started:6.1f}s {text}", flush=True)

    log(f"run directory {root}")
    try:
        result = asyncio.run(run(args, root, log))
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            remove_tree(root)
    print("\n" + report(result))
    if args.json:
        args.json.write_text(json.dumps({"args": {k: (str(v) if isinstance(v, Path) else v)
                                                  for k, v in vars(args).items()}, "result": asdict(result)},
                                        indent=2), encoding="utf-8")


if __name__ == "__main__":
    os.environ.pop("PYTEST_CURRENT_TEST", None)
    main()
