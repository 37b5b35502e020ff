"""pytest fixtures for real MQTT brokers (load as a plugin, or import the fixtures by name).

- `embedded_broker`: the embedded amqtt broker (site "test") as `EmbeddedBroker`.
- `mosquitto_broker`: a Mosquitto this test starts itself from `shopfloor.broker.mosquitto.write_config`.
- `any_broker` / `any_demo_broker`: one test run per broker ("embedded", "mosquitto"), site "test" / "demo".

The last three give a `RunningBroker`: `.address`, `.kill()`, `.restart()` (same port), `.stop()`,
`.retained_topics()`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from shopfloor.broker.embedded import EmbeddedBroker
from shopfloor.broker.files import make_dir, write_file
from shopfloor.broker.mosquitto import MosquittoConfig, password_line, write_config
from shopfloor.credentials import Credentials, MqttAccount, generate
from shopfloor.mqtt import BrokerAddress
from shopfloor.ports import free_port

TEST_SITE = "test"
DEMO_SITE = "demo"
MOSQUITTO = Path("/usr/sbin/mosquitto")
# A test-only account that may read every topic (never `$SYS`): the witness of what a broker retains.
WITNESS_USER = "shopfloor-test-witness"
# Printers with an account of their own in the `credentials` fixture: the demo site's and those tests make up.
TEST_PRINTERS = ("reception", "parts", "workshop", "front-desk", "p1", "p2")
BROKER_KINDS = ("embedded", "mosquitto")


def mosquitto_available() -> bool:
    return MOSQUITTO.is_file() and os.access(MOSQUITTO, os.X_OK)


class RunningBroker(Protocol):
    kind: str
    site: str

    @property
    def address(self) -> BrokerAddress: ...

    def kill(self) -> None:
        """End the broker abruptly (Mosquitto: SIGKILL; embedded: stop, closing every connection)."""

    def restart(self) -> None:
        """Start it again on the same port (killing it first if it still runs); retained state is gone."""

    def stop(self) -> None: ...

    def retained_topics(self, timeout: float = 5.0) -> list[str]:
        """Every topic the broker retains right now, sorted."""


class EmbeddedTestBroker:
    """The embedded broker behind the RunningBroker interface."""

    kind = "embedded"

    def __init__(self, credentials: Credentials, site: str) -> None:
        self.site = site
        self.broker = EmbeddedBroker("127.0.0.1", 0, site, credentials)

    @property
    def address(self) -> BrokerAddress:
        return self.broker.address

    def start(self) -> None:
        self.broker.start()

    # amqtt's shutdown under a loaded machine (a parallel test run) has taken more than the broker's own 10 s;
    # the thread holds the port until it ends, and a restart on that port must wait for it
    STOP_SECONDS = 60.0

    def kill(self) -> None:
        # A thread cannot be SIGKILLed: stop closes every connection at once, and retained state is lost.
        self.broker.stop(self.STOP_SECONDS)

    def restart(self) -> None:
        self.broker.stop(self.STOP_SECONDS)
        self.broker.start()  # the port chosen at the first start is kept

    def stop(self) -> None:
        self.broker.stop(self.STOP_SECONDS)

    def retained_topics(self, timeout: float = 5.0) -> list[str]:
        return self.broker.retained_topics(timeout)


class MosquittoStartError(RuntimeError):
    pass


class MosquittoBroker:
    """/usr/sbin/mosquitto on 127.0.0.1 with the configuration `write_config` generates (plus the test-only
    witness account), as a child process; a TLS listener on `tls_port` with a certificate for localhost."""

    kind = "mosquitto"

    def __init__(self, credentials: Credentials, site: str, workdir: Path | None = None, *,
                 tls_names: tuple[list[str], list[str]] = (["localhost"], ["127.0.0.1"])) -> None:
        self.site = site
        self.tls_names = tls_names
        self.credentials = credentials
        # Debian's Mosquitto reads its files as user mosquitto: pytest's 0700 tmp dirs are out of its reach.
        self.workdir = workdir or Path(tempfile.gettempdir()) / f"shopfloor-mosquitto-{secrets.token_hex(6)}"
        self.witness = MqttAccount(WITNESS_USER, secrets.token_urlsafe(18))
        self.port = 0
        self.tls_port = 0
        self.config: MosquittoConfig | None = None
        self.log_path = self.workdir / "mosquitto.log"
        self._log_offset = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress("127.0.0.1", self.port)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def returncode(self) -> int | None:
        """The process's exit status once it has ended (-9 after kill())."""
        return self._process.poll() if self._process else None

    def start(self, attempts: int = 3) -> None:
        """Configure on free ports and start; another process taking a port first costs a retry."""
        make_dir(self.workdir)
        for attempt in range(attempts):
            self.port, self.tls_port = free_port(), free_port()
            self.config = self._configure()
            try:
                self._launch()
                return
            except MosquittoStartError:
                if attempt == attempts - 1 or "in use" not in self._launch_log():
                    raise

    def _configure(self) -> MosquittoConfig:
        config = write_config(self.credentials, self.site, self.workdir, port=self.port, tls_port=self.tls_port,
                              tls_bind="127.0.0.1", hostnames=self.tls_names[0], addresses=self.tls_names[1])
        if config.warnings:
            raise MosquittoStartError("; ".join(config.warnings))
        write_file(config.passwd, (config.passwd.read_text() + password_line(*self.witness_login()) + "\n").encode(),
                   secret=True)
        write_file(config.acl, (config.acl.read_text() + f"user {WITNESS_USER}\ntopic read #\n").encode(), secret=True)
        return config

    def witness_login(self) -> tuple[str, str]:
        return self.witness.username, self.witness.password

    def _launch(self, timeout: float = 10.0) -> None:
        assert self.config is not None
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self._process = subprocess.Popen([str(MOSQUITTO), "-c", str(self.config.conf)], stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise MosquittoStartError(f"mosquitto exited with {self._process.returncode}:\n{self.log_tail()}")
            # "running" is logged once every listener is open (a port accepting could be another process's)
            if " running" in self._launch_log() and all(_accepts(port) for port in (self.port, self.tls_port)):
                return
            time.sleep(0.02)
        self.kill()
        raise MosquittoStartError(f"mosquitto did not listen within {timeout:g} s:\n{self.log_tail()}")

    def _launch_log(self) -> str:
        """What mosquitto has logged since the last launch."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")

    def kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(5)

    def restart(self) -> None:
        self.kill()
        # The listening sockets died with the process and Mosquitto binds with SO_REUSEADDR: the port is free.
        for attempt in range(50):
            try:
                self._launch()
                return
            except MosquittoStartError:
                if attempt == 49 or "in use" not in self._launch_log():
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def retained_topics(self, timeout: float = 5.0) -> list[str]:
        """What the witness account gets on subscribing to `#`: every retained message. The retained messages
        for a SUBSCRIBE are queued before the SUBACK of the next one, so that SUBACK marks the end."""
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        topics: set[str] = set()
        done = threading.Event()
        marker_mid: list[int] = []
        client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311,
                             client_id=f"witness-{secrets.token_hex(4)}")
        client.username_pw_set(*self.witness_login())

        def on_connect(c: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
            c.subscribe("#", qos=0)
            marker_mid.append(c.subscribe("shopfloor/witness-marker", qos=0)[1] or 0)

        def on_subscribe(_c: paho.Client, _u: object, mid: int, _codes: object, _p: object) -> None:
            if marker_mid and mid == marker_mid[0]:
                done.set()

        def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
            if msg.retain:
                topics.add(msg.topic)

        client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
        client.connect(self.address.host, self.address.port, keepalive=10)
        client.loop_start()
        try:
            if not done.wait(timeout):
                raise TimeoutError(f"the witness got no SUBACK from mosquitto within {timeout:g} s")
        finally:
            client.disconnect()
            client.loop_stop()
        return sorted(topics)


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _require_mosquitto() -> None:
    from shopfloor.testing.plugin import require_service  # here: the plugin imports this module

    require_service(mosquitto_available(), f"Mosquitto ({MOSQUITTO})")


def start_broker(kind: str, credentials: Credentials, site: str) -> EmbeddedTestBroker | MosquittoBroker:
    broker: EmbeddedTestBroker | MosquittoBroker
    if kind == "mosquitto":
        _require_mosquitto()
        broker = MosquittoBroker(credentials, site)
    elif kind == "embedded":
        broker = EmbeddedTestBroker(credentials, site)
    else:
        raise ValueError(f"unknown broker kind {kind!r}")
    try:
        broker.start()
    except BaseException:
        _close(broker)
        raise
    return broker


def _close(broker: EmbeddedTestBroker | MosquittoBroker) -> None:
    if isinstance(broker, MosquittoBroker):
        broker.close()
    else:
        broker.stop()


@pytest.fixture
def credentials() -> Credentials:
    """Fresh accounts for every role and for each of TEST_PRINTERS."""
    return generate([], TEST_PRINTERS)


@pytest.fixture
def embedded_broker(credentials: Credentials) -> Iterator[EmbeddedBroker]:
    """A started broker for site "test" on 127.0.0.1; `.address` is its `BrokerAddress`."""
    # Port 0 lets the kernel pick while binding, so no other process can grab the port in between.
    with EmbeddedBroker("127.0.0.1", 0, TEST_SITE, credentials) as broker:
        yield broker


@pytest.fixture
def mosquitto_broker(credentials: Credentials) -> Iterator[MosquittoBroker]:
    """Mosquitto for site "test", started by this test (skipped without Mosquitto; fails under CI=true)."""
    broker = start_broker("mosquitto", credentials, TEST_SITE)
    assert isinstance(broker, MosquittoBroker)
    yield broker
    broker.close()


_KIND_PARAMS = [pytest.param("embedded"), pytest.param("mosquitto", marks=pytest.mark.mosquitto)]


@pytest.fixture(params=_KIND_PARAMS)
def any_broker(request: pytest.FixtureRequest, credentials: Credentials) -> Iterator[RunningBroker]:
    """Each broker in turn (embedded, mosquitto), for site "test"."""
    broker = start_broker(request.param, credentials, TEST_SITE)
    yield broker
    _close(broker)


@pytest.fixture(params=_KIND_PARAMS)
def any_demo_broker(request: pytest.FixtureRequest, credentials: Credentials) -> Iterator[RunningBroker]:
    """Each broker in turn (embedded, mosquitto), for the demo site ("demo")."""
    broker = start_broker(request.param, credentials, DEMO_SITE)
    yield broker
    _close(broker)
