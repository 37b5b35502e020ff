"""GET /healthz: 200 with the database's, the broker's and the backlogs' state on SQLite and PostgreSQL; 503 (still
JSON) when the database does not answer, also when it hangs; the broker's state from a real Mosquitto; and the
whole server answering it without a session."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopfloor import backup
from shopfloor import settings as settings_mod
from shopfloor.clock import FixedClock
from shopfloor.contract.access import Role
from shopfloor.credentials import Credentials
from shopfloor.db import Database, sqlite_url
from shopfloor.mqtt import MqttLink
from shopfloor.ports import free_port
from shopfloor.services import outbox
from shopfloor.services.context import ServiceContext
from shopfloor.services.health import HealthService
from shopfloor.testing.broker_fixtures import MosquittoBroker, start_broker
from shopfloor.testing.plugin import DEMO_NOW, ON_BOTH_DATABASES, Services, start_server
from shopfloor.testing.polling import wait_until
from shopfloor.web import health as health_route
from shopfloor.web.security import SECURITY_HEADERS

pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL

KEYS = {"status", "problems", "database", "broker", "broker_address", "outbox_pending", "outbox_oldest_at",
        "messages_pending", "printers", "last_backup", "last_backup_kind", "version", "checked_at"}


def _client(health: HealthService) -> TestClient:
    app = FastAPI()
    health_route.register(app, health)
    return TestClient(app)


def _health(ctx: ServiceContext, *, connected: bool = True, printers: dict[str, str] | None = None,
            data_dir: Path | None = None, db_timeout: float = 3.0) -> HealthService:
    return HealthService(ctx, broker_connected=lambda: connected, printers=lambda: dict(printers or {}),
                         data_dir=data_dir, db_timeout=db_timeout)


def _unreachable_ctx(url: str) -> ServiceContext:
    return ServiceContext(Database(url), settings_mod.load(settings_mod.demo_config_path()), FixedClock(DEMO_NOW))


def test_healthz_reports_the_database_the_backlog_and_the_printers(services: Services, tmp_path: Path) -> None:
    health = _health(services.ctx, printers={"workshop": "paper_out"}, data_dir=tmp_path)
    try:
        first = _client(health).get("/healthz")
        assert first.status_code == 200
        body = first.json()
        assert set(body) == KEYS  # counts, states, times and the version: nothing about anyone
        assert body["database"] is True and body["broker"] is True
        assert isinstance(body["outbox_pending"], int) and isinstance(body["messages_pending"], int)
        # every configured printer, "unknown" until its agent speaks; the one that spoke as it said
        configured = {p.name for p in services.ctx.settings.printers}
        assert set(body["printers"]) == configured | {"workshop"}
        assert body["printers"]["workshop"] == "paper_out"
        assert {body["printers"][n] for n in configured - {"workshop"}} <= {"unknown"}
        assert body["status"] == "degraded"  # a printer out of paper
        # the reasons, as codes naming printers and nobody else
        assert "printer_paper_out:workshop" in body["problems"]
        assert "broker_disconnected" not in body["problems"]
        assert body["last_backup"] is None  # none made in this data dir
        assert ("no_backup" in body["problems"]) == services.db.url.startswith("sqlite")
        assert first.headers["cache-control"] == "no-store"
        _assert_security_headers(dict(first.headers))

        with services.db.write() as s:  # a change the publisher has not sent yet
            outbox.put_raw(s, DEMO_NOW, "shopfloor/v1/demo/test/healthz", b"{}", False)
        second = _client(health).get("/healthz").json()
        assert second["outbox_pending"] == body["outbox_pending"] + 1
        assert second["outbox_oldest_at"] is not None
    finally:
        health.close()


def test_the_last_backup_is_the_newest_copy_in_the_data_dir(services: Services, tmp_path: Path) -> None:
    source = Database(sqlite_url(tmp_path / "source.sqlite3"))
    source.migrate()
    source.dispose()
    older = backup.backup_sqlite(tmp_path / "source.sqlite3",
                                 backup.backups_dir(tmp_path) / f"nightly-20261120T020000Z{backup.SUFFIX}")
    newer = backup.backup_sqlite(tmp_path / "source.sqlite3",
                                 backup.backups_dir(tmp_path) / f"nightly-20261121T020000Z{backup.SUFFIX}")
    for made, at in ((older, DEMO_NOW - timedelta(days=3)), (newer, DEMO_NOW - timedelta(days=2))):
        os.utime(made.path, (at.timestamp(), at.timestamp()))
    health = _health(services.ctx, data_dir=tmp_path)
    try:
        body = _client(health).get("/healthz").json()
    finally:
        health.close()
    assert body["last_backup"] == (DEMO_NOW - timedelta(days=2)).isoformat()
    assert body["last_backup_kind"] == "nightly"


def test_the_automatic_copies_before_a_restore_or_a_migration_are_not_the_last_backup(services: Services,
                                                                                       tmp_path: Path) -> None:
    source = Database(sqlite_url(tmp_path / "source.sqlite3"))
    source.migrate()
    source.dispose()
    folder = backup.backups_dir(tmp_path)
    made = [backup.backup_sqlite(tmp_path / "source.sqlite3", folder / f"{name}{backup.SUFFIX}")
            for name in ("nightly-2026-11-20", "before-restore-20261121T020000Z", "pre-migration-0012-x")]
    for days, info in zip((3, 2, 1), made, strict=True):
        at = DEMO_NOW - timedelta(days=days)
        os.utime(info.path, (at.timestamp(), at.timestamp()))
    assert backup.last_backup(tmp_path) == backup.list_backups(tmp_path)[-1]  # the nightly, the oldest file
    health = _health(services.ctx, data_dir=tmp_path)
    try:
        body = _client(health).get("/healthz").json()
    finally:
        health.close()
    assert body["last_backup"] == (DEMO_NOW - timedelta(days=3)).isoformat()
    assert body["last_backup_kind"] == "nightly"
    assert "no_backup" not in body["problems"]


def test_a_postgresql_server_that_refuses_gives_503_with_the_same_keys() -> None:
    ctx = _unreachable_ctx(f"postgresql+psycopg://shopfloor@127.0.0.1:{free_port()}/shopfloor")
    health = _health(ctx)
    try:
        answer = _client(health).get("/healthz")
    finally:
        health.close()
        ctx.db.dispose()
    assert answer.status_code == 503
    body = answer.json()
    assert set(body) == KEYS
    assert body["database"] is False and body["status"] == "unavailable"
    assert body["outbox_pending"] is None and body["messages_pending"] is None
    assert "database_error" not in body  # the reason goes to the log and /status, not to anyone asking


def test_a_sqlite_file_that_cannot_be_opened_gives_503(tmp_path: Path) -> None:
    ctx = _unreachable_ctx(sqlite_url(tmp_path / "no-such-folder" / "shopfloor.sqlite3"))
    health = _health(ctx)
    try:
        answer = _client(health).get("/healthz")
    finally:
        health.close()
        ctx.db.dispose()
    assert answer.status_code == 503 and answer.json()["database"] is False


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word: a database host that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


def test_a_hung_database_answers_503_within_the_timeout_and_does_not_pile_up_threads(silent_server: int) -> None:
    ctx = _unreachable_ctx(f"postgresql+psycopg://shopfloor@127.0.0.1:{silent_server}/shopfloor")
    before = set(threading.enumerate())
    health = _health(ctx, db_timeout=1.0)
    client = _client(health)
    try:
        for _ in range(3):
            started = time.monotonic()
            answer = client.get("/healthz")
            assert answer.status_code == 503
            assert time.monotonic() - started < 3.0
        # the three requests waited for the one probe still hanging, none started another thread
        assert len([t for t in set(threading.enumerate()) - before if t.name.startswith("health-db")]) == 1
    finally:
        health.close()


def test_broker_state_follows_a_real_mosquitto(services: Services, credentials: Credentials) -> None:
    broker = start_broker("mosquitto", credentials, "demo")
    assert isinstance(broker, MosquittoBroker)
    link = MqttLink(address=broker.address, account=credentials.account(Role.SERVER), site="demo",
                    role=Role.SERVER, client_id="server-demo")
    health = HealthService(services.ctx, broker_connected=link.connected.is_set, printers=dict, data_dir=None)
    client = _client(health)
    try:
        assert link.start(wait=10)
        assert client.get("/healthz").json()["broker"] is True
        broker.stop()
        wait_until(lambda: client.get("/healthz").json()["broker"] is False, what="broker reported down")
        answer = client.get("/healthz")
        assert answer.status_code == 200  # the database answers: degraded, not unavailable
        assert answer.json()["status"] == "degraded"
        broker.restart()
        wait_until(lambda: client.get("/healthz").json()["broker"] is True, timeout=20, what="broker back")
    finally:
        link.stop()
        health.close()
        broker.close()


def test_the_running_server_answers_healthz_without_a_session(tmp_path: Path) -> None:
    server = start_server(tmp_path, "demo")
    try:
        with urllib.request.urlopen(server.base + "/healthz", timeout=10) as response:
            assert response.status == 200
            assert response.headers.get("Set-Cookie") is None  # no session for a monitor's poll
            # the same security headers as every other answer, though /healthz is in front of their middleware
            _assert_security_headers(dict(response.headers))
            body = json.load(response)
        assert set(body) == KEYS
        assert body["database"] is True
        assert body["broker"] is True  # the demo's embedded broker
        assert str(body["broker_address"]).startswith("mqtt://127.0.0.1:")
        assert isinstance(body["outbox_pending"], int)
        # the demo runs its printers' agents: each says "online" over the broker the server's board feed reads
        wait_until(lambda: set(_get(server.base)["printers"].values()) == {"online"}, what="printers online")
    finally:
        assert server.stop()


def _assert_security_headers(headers: dict[str, str]) -> None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, value in SECURITY_HEADERS:
        assert lowered.get(name.decode()) == value.decode(), name
    assert "frame-ancestors 'none'" in lowered["content-security-policy"]
    assert lowered["x-frame-options"] == "DENY"


def _get(base: str) -> dict[str, object]:
    with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
        result: dict[str, object] = json.load(response)
        return result
