"""shopfloor's pytest fixtures, shipped as a plugin (entry point `pytest11`): a demo site on a fresh database
with a clock the test moves, and the embedded broker on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopfloor import settings as settings_mod
from shopfloor.broker.embedded import EmbeddedBroker
from shopfloor.clock import FixedClock
from shopfloor.credentials import Credentials, MqttAccount
from shopfloor.db import Database, sqlite_url
from shopfloor.demo import seed
from shopfloor.mqtt import BrokerAddress
from shopfloor.ports import free_port
from shopfloor.services.appointments import AppointmentService
from shopfloor.services.auth import AuthService
from shopfloor.services.booking import BookingService
from shopfloor.services.checkin import CheckinService
from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import PrintService
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.testing.broker_fixtures import (  # noqa: F401  (re-exported fixtures)
    any_broker,
    any_demo_broker,
    credentials,
    embedded_broker,
    mosquitto_broker,
)
from shopfloor.testing.browser_fixtures import driver, wall_driver  # noqa: F401  (re-exported fixtures)
from shopfloor.testing.printer_fixtures import printer_simulator  # noqa: F401

# The two-database fixtures (backend, database, db_services) and the simulated browser's (staff_app) import from
# this module, so they load as plugins.
pytest_plugins = ["shopfloor.testing.db_fixtures", "shopfloor.testing.simulated_browser",
                  "shopfloor.testing.message_fixtures"]

# 10:30 in Beijing on a weekday: inside opening hours, some demo appointments already past their time.
DEMO_NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
DEMO_PINS = {"张伟": "1111", "李娜": "2222", "王芳": "3333", "刘洋": "4444", "赵经理": "5555", "孙丽": "6666",
             "郑强": "8888", "陈刚": "9999", "林静": "1212",
             "钱进": "7777"}


def require_service(available: bool, what: str) -> None:
    """Skip a test whose real service is missing on a developer's machine; under CI=true, fail instead."""
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} not available")


@dataclass
class Services:
    ctx: ServiceContext
    clock: FixedClock
    auth: AuthService
    checkin: CheckinService
    repair_orders: RepairOrderService
    appointments: AppointmentService
    printing: PrintService
    booking: BookingService

    @property
    def db(self) -> Database:
        return self.ctx.db


def make_services(db: Database, clock: FixedClock | None = None, settings: settings_mod.Settings | None = None
                  ) -> Services:
    settings = settings or settings_mod.load(settings_mod.demo_config_path())
    clock = clock or FixedClock(DEMO_NOW)
    ctx = ServiceContext(db, settings, clock)
    return Services(ctx, clock, AuthService(ctx), CheckinService(ctx), RepairOrderService(ctx),
                    AppointmentService(ctx), PrintService(ctx), BookingService(ctx))


@pytest.fixture
def demo_settings() -> settings_mod.Settings:
    return settings_mod.load(settings_mod.demo_config_path())


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(sqlite_url(tmp_path / "shopfloor.sqlite3"))
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def seeded_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo site seeded once per session into a SQLite file that tests copy (seeding takes 1–2 s)."""
    path = tmp_path_factory.mktemp("seeded") / "shopfloor.sqlite3"
    db = Database(sqlite_url(path))
    try:
        db.migrate()
        seed.seed(make_services(db).ctx, DEMO_PINS)
    finally:
        db.dispose()
    # everything into the main file, so that copying that file alone copies the database
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def copy_sqlite(template: Path, folder: Path) -> Path:
    target = folder / "shopfloor.sqlite3"
    shutil.copyfile(template, target)
    return target


# `pytestmark = ON_BOTH_DATABASES`: each test of the module that uses `services` runs once on SQLite and once on
# PostgreSQL (the postgres mark on the second), as db_fixtures.db_services does.
ON_BOTH_DATABASES = pytest.mark.both_databases


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_databases: the module's `services` tests run on SQLite and PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "services" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        from shopfloor.testing.db_fixtures import BACKENDS

        metafunc.parametrize("services", BACKENDS, indirect=True)


@pytest.fixture
def services(request: pytest.FixtureRequest, tmp_path: Path, seeded_sqlite_template: Path) -> Iterator[Services]:
    """A seeded demo site (fixed clock at DEMO_NOW) on a database of its own: SQLite, or in a module marked
    ON_BOTH_DATABASES each backend in turn."""
    from shopfloor.testing.db_fixtures import seeded_site  # (db_fixtures imports this module)

    with seeded_site(getattr(request, "param", "sqlite"), tmp_path, request, seeded_sqlite_template) as site:
        yield site


@pytest.fixture
def demo_broker(credentials: Credentials) -> Iterator[EmbeddedBroker]:  # noqa: F811  (the fixture)
    """The embedded broker for the demo site ("demo") on a free port."""
    with EmbeddedBroker("127.0.0.1", 0, "demo", credentials) as broker:
        yield broker


class Collector:
    """A plain paho client that records what actually arrives (tests assert on that, not on SUBACKs)."""

    def __init__(self, address: BrokerAddress, account: MqttAccount | None, filters: list[str],
                 client_id: str = "collector") -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.refused = threading.Event()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv311)
        if account is not None:
            self.client.username_pw_set(account.username, account.password)
        self.filters = filters

        def on_connect(client: paho.Client, _u: object, _f: object, rc: object, _p: object) -> None:
            if getattr(rc, "is_failure", False):
                self.refused.set()
                return
            for f in self.filters:
                client.subscribe(f, qos=1)
            self.connected.set()

        def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
            with self._lock:
                self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_message = on_message
        self.client.connect(address.host, address.port, keepalive=10)
        self.client.loop_start()

    def wait_for(self, predicate: Callable[[list[tuple[str, bytes, bool]]], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                messages = list(self.messages)
            if predicate(messages):
                return True
            time.sleep(0.02)
        return False

    def latest(self) -> dict[str, bytes]:
        """The last payload per topic, as a subscriber that applied every message in order would hold it."""
        with self._lock:
            out: dict[str, bytes] = {}
            for topic, payload, _ in self.messages:
                out[topic] = payload
            return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class DemoServer:
    base: str
    data_dir: Path
    credentials: dict
    process: subprocess.Popen[bytes]
    tls: ssl.SSLContext | None = None  # under --https: trusts only DATA_DIR/tls/ca.crt

    def stop(self, timeout: float = 20.0, sig: signal.Signals = signal.SIGINT) -> bool:
        """Ctrl-C (or `sig`: SIGTERM as systemd stops it); True if it stopped in time."""
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            self.process.kill()
            return False

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def api(self, path: str) -> Any:
        return self.call("GET", path)[1]

    def call(self, method: str, path: str, body: object | None = None) -> tuple[int, Any]:
        """An API call with the demo's token: (status, decoded JSON), also for 4xx answers."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.credentials['api']['token']}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.tls) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


def start_server(data_dir: Path, command: str = "demo", *extra: str, http_port: int | None = None,
                 timeout: float = 60.0, cwd: Path | None = None) -> DemoServer:
    """`shopfloor <command>` in a subprocess on free ports, once it answers HTTP (HTTPS with `--https`, checked
    against the site's CA). Output goes to DATA_DIR/server.log; stop it with `.stop()` (Ctrl-C) or `.kill()`
    (SIGKILL, as a crash). `cwd`: the server's working directory (default: the test's)."""
    http_port = http_port or free_port()
    args = [sys.executable, "-m", "shopfloor.cli", command, "--data-dir", str(data_dir), "--host", "127.0.0.1",
            "--http-port", str(http_port), *extra]
    if command == "demo" and "--mqtt-port" not in extra and "--no-embedded-broker" not in extra:
        args += ["--mqtt-port", str(free_port())]
    log = (data_dir / "server.log").open("ab")
    process = subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
        # NiceGUI switches to its screen-test mode when it sees pytest's variable: the server must run as itself.
        env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
    log.close()
    https = "--https" in extra
    base = f"{'https' if https else 'http'}://127.0.0.1:{http_port}"
    tls: ssl.SSLContext | None = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"shopfloor {command} exited early:\n{(data_dir / 'server.log').read_text()}")
        if https and tls is None:
            ca = data_dir / "tls" / "ca.crt"
            if not ca.exists():  # the server makes the CA at its start
                time.sleep(0.3)
                continue
            tls = ssl.create_default_context(cafile=str(ca))
        try:
            with urllib.request.urlopen(base + "/kiosk", timeout=2, context=tls) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"shopfloor {command} did not answer:\n{(data_dir / 'server.log').read_text()}")
    creds = tomllib.loads((data_dir / "credentials.toml").read_text())
    return DemoServer(base, data_dir, creds, process, tls)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The whole demo (embedded broker, file printers) in a subprocess, shared by the system tests."""
    server = start_server(tmp_path_factory.mktemp("demo"))
    yield server
    if not server.stop():
        pytest.fail("demo did not stop on Ctrl-C within 20 s")


