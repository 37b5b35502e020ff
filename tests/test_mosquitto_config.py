"""Mosquitto's files generated from the one source of accounts and rights: formats (checked against the real
mosquitto tools), file modes, certificates, and the TLS listener of a real Mosquitto."""

from __future__ import annotations

import base64
import os
import pwd
import secrets
import shutil
import ssl
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from cryptography import x509
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.broker import certs
from shopfloor.broker.files import broker_account
from shopfloor.broker.mosquitto import (
    acl_text,
    conf_text,
    password_line,
    write_config,
    write_site_config,
)
from shopfloor.contract import topics
from shopfloor.contract.access import RULES, Role
from shopfloor.credentials import Credentials, MqttAccount, MqttLogin
from shopfloor.testing.broker_fixtures import MosquittoBroker, free_port, mosquitto_available
from shopfloor.testing.plugin import require_service

MOSQUITTO_PASSWD = Path("/usr/bin/mosquitto_passwd")
PATIENCE = 5.0



def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def out_dir() -> Iterator[Path]:
    """A directory Debian's Mosquitto (user mosquitto) can reach: under /tmp, not pytest's 0700 tmp dirs."""
    path = Path(tempfile.gettempdir()) / f"shopfloor-test-{secrets.token_hex(6)}" / "mosquitto"
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


# --- password file -----------------------------------------------------------------------------------------------


@pytest.mark.mosquitto
@pytest.mark.parametrize("password", ["s3cret", "pä ss:wörd$7$ \\ \"x\"", "x" * 200])
def test_password_line_is_what_mosquitto_passwd_writes(tmp_path: Path, password: str) -> None:
    require_service(MOSQUITTO_PASSWD.is_file(), f"mosquitto_passwd ({MOSQUITTO_PASSWD})")
    file = tmp_path / "passwd"
    subprocess.run([str(MOSQUITTO_PASSWD), "-c", "-b", str(file), "alice", password], check=True,
                   capture_output=True)
    theirs = file.read_text().strip()
    user, scheme, iterations, salt, _ = theirs.split("$")
    assert (user, scheme, iterations) == ("alice:", "7", "101")
    assert password_line("alice", password, salt=base64.b64decode(salt)) == theirs


def test_password_line_salts_each_line() -> None:
    # a password base64 cannot spell ("pw" was found by chance in a hash: 1 run in ~50)
    first, second = password_line("bob", "p w!"), password_line("bob", "p w!")
    assert first != second and first.startswith("bob:$7$101$") and "p w!" not in first.split(":", 1)[1]


@pytest.mark.parametrize("username", ["", "a b", "a:b", "a\nb", " a"])
def test_usernames_mosquitto_cannot_take_are_refused(username: str) -> None:
    with pytest.raises(ValueError):
        password_line(username, "pw")
    with pytest.raises(ValueError):
        acl_text("test", [_login(username, Role.SERVER)])


# --- ACL file and mosquitto.conf ---------------------------------------------------------------------------------


def _login(username: str, role: Role, printer: str | None = None) -> MqttLogin:
    return MqttLogin(MqttAccount(username, "pw"), role, printer)


def test_acl_has_every_rule_of_every_account_and_nothing_else(credentials: Credentials) -> None:
    text = acl_text("demo", credentials.logins())
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    expected: list[str] = []
    for role in (Role.SERVER, Role.BOARD, Role.LOUNGE):
        expected.append(f"user {credentials.account(role).username}")
        expected += [f"topic {rule.access.value} {rule.for_site('demo')}" for rule in RULES[role]]
    for printer, account in credentials.printers.items():
        expected.append(f"user {account.username}")
        expected += [f"topic {rule.access.value} {rule.for_site('demo', printer)}" for rule in RULES[Role.PRINTER]]
    assert lines == expected
    assert "pattern" not in text and "{site}" not in text and "{printer}" not in text


def test_each_printer_account_gets_its_own_printers_topics_only() -> None:
    text = acl_text("demo", [_login("shopfloor-printer-reception", Role.PRINTER, "reception")])
    assert text.splitlines()[3:] == [
        "# printer reception",
        "user shopfloor-printer-reception",
        "topic read shopfloor/v1/demo/printers/reception/jobs/+",
        "topic write shopfloor/v1/demo/printers/reception/acks",
        "topic readwrite shopfloor/v1/demo/printers/reception/status",
        "topic write shopfloor/v1/demo/clients/printer/reception",
    ]
    with pytest.raises(ValueError, match="name the printer"):
        acl_text("demo", [_login("shopfloor-printer", Role.PRINTER)])
    for bad in ("a/b", "+", "#", "Big", "a b", ""):
        with pytest.raises(ValueError):
            acl_text("demo", [_login("shopfloor-printer-x", Role.PRINTER, bad)])


@pytest.mark.parametrize("site", ["", "a/b", "a+", "#", "a b"])
def test_site_must_be_one_topic_level(site: str, credentials: Credentials) -> None:
    with pytest.raises(ValueError):
        acl_text(site, credentials.logins())


def test_one_username_for_two_accounts_is_refused() -> None:
    with pytest.raises(ValueError, match="used by role server and role board"):
        acl_text("demo", [_login("same", Role.SERVER), _login("same", Role.BOARD)])
    with pytest.raises(ValueError, match="used by printer p1 and printer p2"):
        acl_text("demo", [_login("same", Role.PRINTER, "p1"), _login("same", Role.PRINTER, "p2")])


def test_conf_is_never_anonymous_and_listens_plain_on_loopback_only(out_dir: Path) -> None:
    text = conf_text(passwd=out_dir / "passwd", acl=out_dir / "acl", cafile=out_dir / "ca.crt",
                     certfile=out_dir / "server.crt", keyfile=out_dir / "server.key")
    settings = [line.split(None, 1) for line in text.splitlines() if line and not line.startswith("#")]
    assert ["allow_anonymous", "false"] in settings
    assert ["per_listener_settings", "false"] in settings
    assert ["persistence", "false"] in settings
    assert [s for s in settings if s[0] == "listener"] == [["listener", "1883 127.0.0.1"],
                                                           ["listener", "8883 0.0.0.0"]]
    assert ["require_certificate", "false"] in settings
    assert ["password_file", str(out_dir / "passwd")] in settings
    assert ["acl_file", str(out_dir / "acl")] in settings
    with pytest.raises(ValueError):
        conf_text(passwd=out_dir / "passwd", acl=out_dir / "acl", cafile=out_dir / "ca.crt", port=8883,
                  certfile=out_dir / "server.crt", keyfile=out_dir / "server.key")


# --- written files -----------------------------------------------------------------------------------------------


def test_written_files_and_their_modes(out_dir: Path, credentials: Credentials) -> None:
    config = write_config(credentials, "demo", out_dir, port=1999, hostnames=["shopfloor.lan"],
                          addresses=["192.168.1.20"])
    assert config.warnings == ()
    assert sorted(p.name for p in out_dir.iterdir()) == ["acl", "ca.crt", "ca.key", "mosquitto.conf", "passwd",
                                                         "server.crt", "server.key"]
    assert "listener 1999 127.0.0.1" in config.conf.read_text()
    passwd = config.passwd.read_text()
    for login in credentials.logins():
        assert login.account.password not in passwd
    assert sorted(line.split(":")[0] for line in passwd.splitlines()) == sorted(
        [a.username for a in credentials.mqtt.values()] + [a.username for a in credentials.printers.values()])
    assert "shopfloor-printer-reception" in passwd and "shopfloor-printer:" not in passwd

    for secret in (config.passwd, config.acl, config.server_key, out_dir / "ca.key"):
        assert _mode(secret) & 0o007 == 0, f"{secret.name} is world-accessible"
    assert _mode(out_dir / "ca.key") == 0o600
    assert (out_dir / "ca.key").stat().st_uid == os.geteuid()  # the broker never gets the CA key
    for public in (config.conf, config.ca_cert, config.server_cert):
        assert _mode(public) == 0o644
    account = broker_account()
    if os.geteuid() == 0 and account is not None:
        for secret in (config.passwd, config.acl, config.server_key):
            st = secret.stat()
            assert (st.st_uid, st.st_gid, _mode(secret)) == (account.uid, account.gid, 0o640), secret.name
        assert (out_dir.stat().st_gid, _mode(out_dir)) == (account.gid, 0o750)
    else:
        for secret in (config.passwd, config.acl, config.server_key):
            assert _mode(secret) in (0o600, 0o640)


def test_rerun_keeps_the_ca_and_the_server_certificate(out_dir: Path, credentials: Credentials) -> None:
    first = write_config(credentials, "demo", out_dir, hostnames=["shopfloor.lan"], addresses=["192.168.1.20"])
    ca, cert, key = first.ca_cert.read_bytes(), first.server_cert.read_bytes(), first.server_key.read_bytes()
    again = write_config(credentials, "demo", out_dir, hostnames=["shopfloor.lan"], addresses=["192.168.1.20"])
    assert not again.certificate_created
    assert (again.ca_cert.read_bytes(), again.server_cert.read_bytes(), again.server_key.read_bytes()) == (
        ca, cert, key)
    moved = write_config(credentials, "demo", out_dir, hostnames=["shopfloor.lan"], addresses=["192.168.1.30"])
    assert moved.certificate_created and moved.ca_cert.read_bytes() == ca
    assert moved.server_cert.read_bytes() != cert
    assert certs.certificate_names(moved.server_cert) == (["shopfloor.lan"], ["192.168.1.30"])


@pytest.mark.skipif(os.geteuid() != 0 or broker_account() is None, reason="only root's Mosquitto drops privileges")
def test_directory_the_broker_cannot_enter_is_reported(tmp_path: Path, credentials: Credentials) -> None:
    # pytest's tmp_path lies under a 0700 directory: Debian's Mosquitto, running as mosquitto, cannot read it
    config = write_config(credentials, "demo", tmp_path / "out", hostnames=["localhost"], addresses=[])
    assert config.warnings and "cannot enter" in config.warnings[0]


def test_certificates_from_elsewhere_are_copied_in(tmp_path: Path, out_dir: Path, credentials: Credentials) -> None:
    tls = tmp_path / "tls"
    ca = certs.make_ca(tls)
    server = certs.make_server_cert(tls, ["broker.lan"], ["10.0.0.5"], ca=ca)
    config = write_config(credentials, "demo", out_dir, certs=server)
    assert config.ca_cert.read_bytes() == ca.cert.read_bytes()
    assert config.server_key.read_bytes() == server.key.read_bytes()
    assert not (out_dir / "ca.key").exists()
    assert _mode(config.server_key) & 0o007 == 0


# --- certificates ------------------------------------------------------------------------------------------------


def test_ca_and_server_certificate(tmp_path: Path) -> None:
    ca = certs.make_ca(tmp_path, "Autohaus CA")
    assert ca.created and _mode(ca.key) == 0o600 and _mode(ca.cert) == 0o644
    assert certs.make_ca(tmp_path) == certs.CertificateAuthority(ca.cert, ca.key, created=False)
    server = certs.make_server_cert(tmp_path, ["shopfloor", "shopfloor.lan"], ["192.168.1.20", "fd00::20"], ca=ca)
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    cert = x509.load_pem_x509_certificate(server.cert.read_bytes())
    cert.verify_directly_issued_by(ca_cert)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certs.certificate_names(server.cert) == (["shopfloor", "shopfloor.lan"], ["192.168.1.20", "fd00::20"])
    ca_days = (ca_cert.not_valid_after_utc - ca_cert.not_valid_before_utc).days
    server_days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 3650 <= ca_days <= 3651 and 730 <= server_days <= 731
    assert certs.make_server_cert(tmp_path, ["shopfloor", "shopfloor.lan"], ["192.168.1.20", "fd00::20"],
                                  ca=ca).created is False


def test_half_a_ca_is_not_replaced(tmp_path: Path) -> None:
    ca = certs.make_ca(tmp_path)
    ca.key.unlink()
    with pytest.raises(certs.CertificateError, match="without its key"):
        certs.make_ca(tmp_path)


def test_bad_address_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        certs.make_server_cert(tmp_path, ["shopfloor"], ["192.168.1.300"])


def test_local_names_include_loopback() -> None:
    names, addresses = certs.local_names()
    assert "localhost" in names and "127.0.0.1" in addresses


# --- a real Mosquitto over TLS -------------------------------------------------------------------------------------


class _Client:
    """A paho client that connects at once (over TLS unless tls=False: certificate errors raise here)."""

    def __init__(self, port: int, credentials: Credentials | None, *, ca: Path | None, host: str = "localhost",
                 role: Role = Role.BOARD, tls: bool = True) -> None:
        self.connack = threading.Event()
        self.subscribed = threading.Event()
        self.reason: object = None
        self.got: list[tuple[str, bytes]] = []
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311,
                                  client_id=f"tls-{id(self)}")
        if credentials is not None:
            account = credentials.account(role)
            self.client.username_pw_set(account.username, account.password)
        if tls:
            self.client.tls_set(ca_certs=str(ca) if ca else None)  # None: the system's trust store
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.got.append((m.topic, bytes(m.payload)))
        self.client.connect(host, port, keepalive=10)  # TLS handshake, certificate checks here

    def _on_connect(self, client: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        self.reason = reason
        self.connack.set()

    def wait_connack(self) -> object:
        deadline = time.monotonic() + PATIENCE
        while not self.connack.is_set() and time.monotonic() < deadline:
            self.client.loop(0.05)
        return self.reason


@pytest.mark.mosquitto
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_tls_with_the_generated_ca_works(mosquitto_broker: MosquittoBroker, credentials: Credentials,
                                         host: str) -> None:
    assert mosquitto_broker.config is not None
    board = _Client(mosquitto_broker.tls_port, credentials, ca=mosquitto_broker.config.ca_cert, host=host)
    reason = board.wait_connack()
    assert not getattr(reason, "is_failure", True), reason
    state = topics.state("test", topics.REPAIR_ORDERS, "RO1")
    board.client.subscribe(state, qos=1)
    board.client.loop_start()
    try:
        assert board.subscribed.wait(PATIENCE)
        server = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        account = credentials.account(Role.SERVER)
        server.username_pw_set(account.username, account.password)
        server.connect(mosquitto_broker.address.host, mosquitto_broker.address.port)  # the plain loopback listener
        server.loop_start()
        server.publish(state, b"over tls", qos=1).wait_for_publish(PATIENCE)
        deadline = time.monotonic() + PATIENCE
        while not board.got and time.monotonic() < deadline:
            time.sleep(0.02)
        server.disconnect()
        server.loop_stop()
        assert board.got == [(state, b"over tls")]
    finally:
        board.client.disconnect()
        board.client.loop_stop()


@pytest.mark.mosquitto
def test_tls_without_the_ca_is_refused(mosquitto_broker: MosquittoBroker, credentials: Credentials,
                                       tmp_path: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        _Client(mosquitto_broker.tls_port, credentials, ca=None)
    other_ca = certs.make_ca(tmp_path / "other")
    with pytest.raises(ssl.SSLCertVerificationError):
        _Client(mosquitto_broker.tls_port, credentials, ca=other_ca.cert)


@pytest.mark.mosquitto
def test_tls_to_a_name_not_in_the_certificate_is_refused(credentials: Credentials) -> None:
    require_service(mosquitto_available(), "Mosquitto (/usr/sbin/mosquitto)")
    broker = MosquittoBroker(credentials, "test", tls_names=(["broker.lan"], ["192.0.2.7"]))
    broker.start()
    try:
        assert broker.config is not None
        for host in ("localhost", "127.0.0.1"):
            with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
                _Client(broker.tls_port, credentials, ca=broker.config.ca_cert, host=host)
    finally:
        broker.close()


@pytest.mark.mosquitto
def test_anonymous_and_wrong_password_over_tls_are_refused(mosquitto_broker: MosquittoBroker,
                                                           credentials: Credentials) -> None:
    assert mosquitto_broker.config is not None
    anonymous = _Client(mosquitto_broker.tls_port, None, ca=mosquitto_broker.config.ca_cert)
    assert str(anonymous.wait_connack()) == "Not authorized"
    wrong = Credentials(api_token="", board_token="", mqtt=dict(credentials.mqtt))
    board = credentials.account(Role.BOARD)
    wrong.mqtt[Role.BOARD] = type(board)(board.username, board.password + "x")
    refused = _Client(mosquitto_broker.tls_port, wrong, ca=mosquitto_broker.config.ca_cert)
    assert str(refused.wait_connack()) == "Not authorized"


@pytest.mark.mosquitto
def test_mosquitto_runs_as_its_own_user(mosquitto_broker: MosquittoBroker) -> None:
    if os.geteuid() != 0 or broker_account() is None:
        pytest.skip("only root's Mosquitto drops privileges")
    status = Path(f"/proc/{mosquitto_broker.pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert pwd.getpwuid(uid).pw_name == "mosquitto"


# --- what `shopfloor mosquitto-config` runs ----------------------------------------------------------------------


def test_site_config_keeps_the_ca_in_the_data_dir(tmp_path: Path, out_dir: Path, credentials: Credentials) -> None:
    data_dir = tmp_path / "data"
    config = write_site_config(credentials, "demo", data_dir, out_dir, port=1999, hostnames=["Shopfloor.LAN"],
                               addresses=["192.168.1.20"])
    assert config.warnings == ()
    assert not (out_dir / "ca.key").exists() and (data_dir / "tls" / "ca.key").exists()
    assert config.ca_cert.read_bytes() == (data_dir / "tls" / "ca.crt").read_bytes()
    names, addresses = certs.certificate_names(config.server_cert)
    assert {"shopfloor.lan", "localhost"} <= set(names) and {"192.168.1.20", "127.0.0.1"} <= set(addresses)
    ca = config.ca_cert.read_bytes()
    again = write_site_config(credentials, "demo", data_dir, out_dir, port=1999)  # without the extra names
    assert again.ca_cert.read_bytes() == ca and again.certificate_created


@pytest.mark.mosquitto
def test_site_config_runs_in_mosquitto(tmp_path: Path, out_dir: Path, credentials: Credentials) -> None:
    require_service(mosquitto_available(), "Mosquitto (/usr/sbin/mosquitto)")
    port, tls_port = free_port(), free_port()
    config = write_site_config(credentials, "demo", tmp_path / "data", out_dir, port=port, tls_port=tls_port,
                               tls_bind="127.0.0.1")
    log = out_dir / "mosquitto.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(config.conf)], stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + PATIENCE
        while " running" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert " running" in log.read_text(), log.read_text()
        server = _Client(port, credentials, ca=None, host="127.0.0.1", role=Role.SERVER, tls=False)
        assert not getattr(server.wait_connack(), "is_failure", True)
        board = _Client(tls_port, credentials, ca=config.ca_cert)
        assert not getattr(board.wait_connack(), "is_failure", True)
        for client in (server, board):
            client.client.disconnect()
    finally:
        process.terminate()
        process.wait(5)
