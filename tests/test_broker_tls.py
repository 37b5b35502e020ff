"""`shopfloor broker`, the embedded broker on its own (a site without Mosquitto), as the LAN sees it: a TLS
listener with a certificate from the site's CA (DATA_DIR/tls), the plain listener on this host only."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor import credentials as creds_mod
from shopfloor.broker.certs import local_names
from shopfloor.contract import topics
from shopfloor.contract.access import Role
from shopfloor.credentials import MqttAccount
from shopfloor.ports import free_port

SITE = "demo"


class _TlsClient:
    """paho over TLS, trusting only `ca`; records what arrives."""

    def __init__(self, port: int, account: MqttAccount, ca: Path, host: str = "localhost") -> None:
        self.connected = threading.Event()
        self.refused = threading.Event()
        self.got: list[tuple[str, bytes]] = []
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311,
                                  client_id=f"tls-test-{id(self)}")
        self.client.username_pw_set(account.username, account.password)
        self.client.tls_set(ca_certs=str(ca))
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, m: self.got.append((m.topic, bytes(m.payload)))
        self.client.connect(host, port, keepalive=10)  # the TLS handshake and the certificate check happen here
        self.client.loop_start()

    def _on_connect(self, _c: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        (self.refused if getattr(reason, "is_failure", False) else self.connected).set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _start_broker(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "shopfloor.cli", "broker", "--data-dir", str(data_dir), *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
    assert process.stdout is not None
    line = process.stdout.readline()  # printed once it listens
    assert "MQTT broker for site" in line, line + (process.stdout.read() if process.poll() is not None else "")
    return process, line


def test_the_standalone_broker_serves_tls_from_the_site_ca_and_plain_mqtt_to_this_host_only(tmp_path: Path) -> None:
    plain, tls = free_port(), free_port()
    creds = creds_mod.load_or_create(tmp_path, ["张伟"], "127.0.0.1", plain)
    process, banner = _start_broker(tmp_path, "--port", str(plain), "--tls-port", str(tls))
    try:
        assert f"127.0.0.1:{plain}" in banner and f":{tls}" in banner
        ca = tmp_path / "tls" / "ca.crt"
        board = _TlsClient(tls, creds.account(Role.BOARD), ca)
        server = _TlsClient(tls, creds.account(Role.SERVER), ca, host="127.0.0.1")
        assert board.connected.wait(10) and server.connected.wait(10)
        topic = topics.state(SITE, topics.REPAIR_ORDERS, "RO0001")
        board.client.subscribe(topics.state_filter(SITE, topics.REPAIR_ORDERS), qos=1)
        time.sleep(0.3)
        server.client.publish(topic, b'{"v": 1}', qos=1).wait_for_publish(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not board.got:
            time.sleep(0.05)
        assert board.got == [(topic, b'{"v": 1}')]
        for client in (board, server):
            client.close()

        # a wrong password gets nowhere over TLS either
        wrong = _TlsClient(tls, MqttAccount(creds.account(Role.BOARD).username, "wrong"), ca)
        assert wrong.refused.wait(10) and not wrong.connected.is_set()
        wrong.close()
        # the certificate is the site CA's: a client trusting only the usual public CAs refuses it
        stranger = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        stranger.tls_set()
        with pytest.raises(ssl.SSLCertVerificationError):
            stranger.connect("localhost", tls, keepalive=10)

        # the plain listener is not on the LAN addresses
        _, addresses = local_names()
        lan = next((a for a in addresses if not a.startswith("127.") and a != "::1" and ":" not in a), None)
        if lan is not None:
            probe = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
            with pytest.raises(ConnectionRefusedError):
                probe.connect(lan, plain, keepalive=10)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0


def test_the_standalone_broker_can_go_without_tls(tmp_path: Path) -> None:
    plain = free_port()
    creds_mod.load_or_create(tmp_path, ["张伟"], "127.0.0.1", plain)
    process, banner = _start_broker(tmp_path, "--port", str(plain), "--no-tls")
    try:
        assert "TLS" not in banner and not (tmp_path / "tls").exists()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
