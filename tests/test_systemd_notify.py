"""systemd's notify protocol against a real unix datagram socket as $NOTIFY_SOCKET: the helper itself, then each
process a unit starts with Type=notify (the server, `shopfloor broker`, a printer agent)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopfloor import credentials as creds_mod
from shopfloor import systemd_notify
from shopfloor.mqtt import BrokerAddress
from shopfloor.ports import free_port
from shopfloor.printer.runner import run_agent
from shopfloor.settings import PrinterSettings
from shopfloor.testing.plugin import start_server


class Manager:
    """The service manager's end: a bound datagram socket that collects what arrives."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.2)
        self.received: list[str] = []

    def wait_for(self, state: str, timeout: float = 30.0) -> list[str]:
        """Every datagram until one holds the line `state` (fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.received.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
            if state in self.received[-1].split("\n"):
                return self.received
        raise AssertionError(f"no {state} within {timeout:g} s; got {self.received}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Manager]:
    path = tmp_path / "notify.sock"
    m = Manager(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield m
    m.close()


def test_without_a_notify_socket_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd_notify.notify(systemd_notify.READY) is False


def test_states_travel_as_one_datagram(manager: Manager) -> None:
    assert systemd_notify.notify(systemd_notify.READY, "STATUS=serving")
    assert manager.wait_for(systemd_notify.READY, timeout=2) == ["READY=1\nSTATUS=serving"]


def test_an_abstract_socket_is_named_with_an_at_sign(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"shopfloor-test-{secrets.token_hex(6)}"
    m = Manager(b"\0" + name.encode())
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd_notify.notify(systemd_notify.WATCHDOG)
        assert m.wait_for(systemd_notify.WATCHDOG, timeout=2) == ["WATCHDOG=1"]
    finally:
        m.close()


def test_a_socket_nobody_listens_on_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert systemd_notify.notify(systemd_notify.READY) is False
    monkeypatch.setenv("NOTIFY_SOCKET", "relative/path")
    assert systemd_notify.notify(systemd_notify.READY) is False


def test_watchdog_seconds_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert systemd_notify.watchdog_seconds() is None
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    assert systemd_notify.watchdog_seconds() == 4.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd_notify.watchdog_seconds() == 4.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # meant for another process of the unit
    assert systemd_notify.watchdog_seconds() is None
    monkeypatch.delenv("WATCHDOG_PID")
    for bad in ("0", "soon", ""):
        monkeypatch.setenv("WATCHDOG_USEC", bad)
        assert systemd_notify.watchdog_seconds() is None


def test_the_server_is_ready_once_it_answers_pings_the_watchdog_and_says_when_it_stops(
        tmp_path: Path, manager: Manager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # a ping every second
    server = start_server(tmp_path, "demo")
    try:
        got = manager.wait_for(systemd_notify.READY)
        assert not any("WATCHDOG=1" in g for g in got)  # READY first
        # the web server was answering when READY=1 was sent (start_server saw /kiosk, so it answers now anyway)
        manager.wait_for(systemd_notify.WATCHDOG, timeout=10)
        before = len(manager.received)
        manager.wait_for(systemd_notify.WATCHDOG, timeout=10)
        assert len(manager.received) > before
    finally:
        assert server.stop()
    manager.wait_for(systemd_notify.STOPPING, timeout=5)


def test_the_standalone_broker_is_ready_once_it_listens(tmp_path: Path, manager: Manager) -> None:
    port = free_port()
    creds_mod.load_or_create(tmp_path, ["张伟"], "127.0.0.1", port)
    process = subprocess.Popen([sys.executable, "-m", "shopfloor.cli", "broker", "--data-dir", str(tmp_path),
                                "--port", str(port), "--no-tls"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
    try:
        manager.wait_for(systemd_notify.READY)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # listening when it said so
        process.send_signal(signal.SIGTERM)
        manager.wait_for(systemd_notify.STOPPING, timeout=10)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_a_printer_agent_is_ready_once_started_even_without_the_broker(tmp_path: Path, manager: Manager) -> None:
    creds = creds_mod.generate([], ["workshop"])
    stop = threading.Event()
    settings = PrinterSettings(name="workshop", transport="file", path="tickets")
    nowhere = BrokerAddress("127.0.0.1", free_port())
    agent = threading.Thread(target=run_agent, args=(settings, "demo", "workshop", tmp_path, nowhere,
                                                     creds.printer_account("workshop")),
                             kwargs={"stop": stop, "probe_interval": None, "connect_wait": 0.3})
    agent.start()
    try:
        got = manager.wait_for(systemd_notify.READY, timeout=10)
        assert "broker not reachable yet" in got[-1]
    finally:
        stop.set()
        agent.join(10)
    manager.wait_for(systemd_notify.STOPPING, timeout=5)


def test_a_waiting_process_pings_only_while_its_work_goes_on(manager: Manager, monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """keep_watchdog, as the broker and a printer agent use it: pings while healthy, none while not, none after
    the stop, and no thread at all without a watchdog."""
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert systemd_notify.keep_watchdog(threading.Event(), lambda: True, "nothing") is None
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # a ping every 0.2 s
    working = threading.Event()
    working.set()
    stop = threading.Event()
    thread = systemd_notify.keep_watchdog(stop, working.is_set, "the test's worker")
    assert thread is not None
    manager.wait_for(systemd_notify.WATCHDOG, timeout=5)
    working.clear()
    time.sleep(0.5)  # a ping already on its way when the work stopped may still arrive: read and dropped
    with contextlib.suppress(TimeoutError):
        while True:
            manager.sock.recv(4096)
    with pytest.raises(AssertionError):
        manager.wait_for(systemd_notify.WATCHDOG, timeout=1.0)
    assert "the test's worker is not working: no watchdog ping" in caplog.text
    working.set()
    manager.wait_for(systemd_notify.WATCHDOG, timeout=5)
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive()


def test_the_embedded_broker_answers_while_it_runs() -> None:
    from shopfloor.broker.embedded import EmbeddedBroker

    broker = EmbeddedBroker("127.0.0.1", 0, "t1", creds_mod.generate([], ["reception"]))
    assert not broker.answers()
    broker.start()
    try:
        assert broker.answers()
    finally:
        broker.stop()
    assert not broker.answers()
