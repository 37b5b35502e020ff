"""The roles a dealership runs on separate hosts, as separate processes here: broker, server (`serve`) and a
printer agent (`printer-agent`), each with its own credentials: the server's from its data directory, the
printer agent's from the file `printer-credentials` writes for its host."""

import os
import signal
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from shopfloor import credentials as creds_mod
from shopfloor.broker.certs import site_certificate
from shopfloor.broker.embedded import EmbeddedBroker, TlsListener
from shopfloor.ports import free_port
from shopfloor.testing.plugin import DemoServer, start_server
from shopfloor.testing.polling import eventually


def test_server_and_printer_agent_as_separate_roles(tmp_path: Path) -> None:
    port = free_port()
    # A first demo run creates the data directory (credentials, site.toml, demo data); then it stops.
    first = start_server(tmp_path, "demo", "--no-embedded-broker", "--broker", f"mqtt://127.0.0.1:{port}")
    assert first.stop()
    creds = creds_mod.load(tmp_path)
    with EmbeddedBroker("127.0.0.1", port, "demo", creds):
        server = start_server(tmp_path, "serve", "--broker", f"mqtt://127.0.0.1:{port}")
        _print_through_agent(server, ["--data-dir", str(tmp_path), "--broker", f"mqtt://127.0.0.1:{port}"],
                             tmp_path / "tickets" / "workshop", tmp_path / "agent.log")


def test_printer_agent_runs_from_its_own_credentials_file_alone(tmp_path: Path) -> None:
    # The printer's host has one file: its own MQTT account, the broker's address and CA, its printer's settings.
    # No API token, board token, PINs, server password or site configuration: what a stolen Pi gives away.
    server_dir, pi_dir = tmp_path / "server", tmp_path / "pi"
    server_dir.mkdir()
    plain, tls = free_port(), free_port()
    first = start_server(server_dir, "demo", "--no-embedded-broker", "--broker", f"mqtt://127.0.0.1:{plain}")
    assert first.stop()
    cert = site_certificate(server_dir, "demo")  # the site's CA and the broker's certificate, as `broker` makes them
    own_file = pi_dir / "workshop.toml"
    made = subprocess.run([sys.executable, "-m", "shopfloor.cli", "printer-credentials", "workshop", "--data-dir",
                           str(server_dir), "--out", str(own_file), "--broker", f"mqtts://localhost:{tls}"],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(own_file.stat().st_mode) == 0o600
    site = creds_mod.load(server_dir)
    text = own_file.read_text()
    assert set(tomllib.loads(text)) == {"agent", "broker", "mqtt", "printer"}
    assert site.printer_account("workshop").password in text
    others = [site.api_token, site.board_token, *(login.account.password for login in site.logins()
                                                 if login.printer != "workshop")]
    assert not [secret for secret in others if secret in text]
    assert "BEGIN CERTIFICATE" in text and "PRIVATE KEY" not in text
    assert sorted(p.name for p in pi_dir.iterdir()) == ["workshop.toml"]

    with EmbeddedBroker("127.0.0.1", plain, "demo", site, tls=TlsListener("127.0.0.1", tls, cert.cert, cert.key,
                                                                          cert.ca_cert)):
        server = start_server(server_dir, "serve", "--broker", f"mqtt://127.0.0.1:{plain}")
        _print_through_agent(server, ["--credentials", str(own_file), "--data-dir", str(pi_dir)],
                             pi_dir / "tickets" / "workshop", tmp_path / "agent.log", cwd=pi_dir)
    assert "mqtts://localhost" in (tmp_path / "agent.log").read_text()


def _print_through_agent(server: DemoServer, agent_args: list[str], folder: Path, agent_log: Path,
                         cwd: Path | None = None) -> None:
    """`shopfloor printer-agent workshop *agent_args` beside `server`: a check-in's ticket comes out in `folder`
    and its job ends up printed; then the agent stops on Ctrl-C, and the server."""
    with agent_log.open("wb") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "shopfloor.cli", "printer-agent", "workshop", *agent_args], stdout=log,
            stderr=subprocess.STDOUT, cwd=cwd, env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
        try:
            _check_in_and_print(server, folder, agent_log)
        finally:
            agent.send_signal(signal.SIGINT)
            assert agent.wait(timeout=15) == 0
            assert server.stop()


def _check_in_and_print(server: DemoServer, folder: Path, agent_log: Path) -> None:
    """A check-in at the API prints its ticket on the workshop printer, and the job ends up printed."""
    appt = next(a for a in server.api("/api/v1/appointments")
                if a["status"] in ("booked", "confirmed", "late") and not a["ro_number"])
    status, body = server.call("POST", "/api/v1/checkins", {"tag": appt["tag"], "printer": "workshop"})
    assert status == 201, body
    number = body["repair_order"]["number"]
    eventually(lambda: list(folder.glob("*.bin")), 20, 0.1)
    assert len(list(folder.glob("*.bin"))) == 1, agent_log.read_text()
    assert eventually(lambda: server.api(f"/api/v1/repair-orders/{number}")["print_jobs"][0]["status"] == "printed",
                      20, 0.1)


def test_printer_agent_without_an_account_says_how_to_get_one(tmp_path: Path) -> None:
    # the site is the demo configuration's (no site.toml in DIR); the workshop printer's account was deleted
    creds = creds_mod.load_or_create(tmp_path, [], "127.0.0.1", 1883, ["reception", "parts", "workshop"])
    lost = creds.printers.pop("workshop")
    creds_mod.write(tmp_path / creds_mod.FILE_NAME, creds)
    result = subprocess.run([sys.executable, "-m", "shopfloor.cli", "printer-agent", "workshop", "--data-dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "no MQTT account for printer 'workshop'" in result.stderr
    assert "shopfloor printer-credentials workshop" in result.stderr
    other = tmp_path / "parts.toml"
    made = subprocess.run([sys.executable, "-m", "shopfloor.cli", "printer-credentials", "parts", "--data-dir",
                           str(tmp_path), "--out", str(other)], capture_output=True, text=True, timeout=30)
    assert made.returncode == 0 and "127.0.0.1" in made.stderr and "loopback" in made.stderr
    # the workshop's account was made again with a new password on the way: how a stolen host is shut out
    renewed = creds_mod.load(tmp_path).printer_account("workshop")
    assert renewed.username == lost.username and renewed.password != lost.password
    result = subprocess.run([sys.executable, "-m", "shopfloor.cli", "printer-agent", "workshop", "--credentials",
                             str(other)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "holds printer 'parts'" in result.stderr


def test_printer_agent_names_an_unknown_printer(tmp_path: Path) -> None:
    first = start_server(tmp_path, "demo")
    assert first.stop()
    result = subprocess.run([sys.executable, "-m", "shopfloor.cli", "printer-agent", "nope", "--data-dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "no printer 'nope'" in result.stderr and "reception" in result.stderr


def test_serve_over_tls_to_the_generated_mosquitto(tmp_path: Path) -> None:
    import json
    import shutil
    import tempfile

    from shopfloor.contract import topics
    from shopfloor.contract.access import Role
    from shopfloor.mqtt import BrokerAddress
    from shopfloor.testing.plugin import Collector, require_service

    require_service(Path("/usr/sbin/mosquitto").exists(), "Mosquitto (/usr/sbin/mosquitto)")
    first = start_server(tmp_path, "demo")
    assert first.stop()
    # Debian's Mosquitto reads its files as user mosquitto: out of pytest's 0700 tmp dirs.
    out = Path(tempfile.mkdtemp(prefix="shopfloor-mosq-"))
    out.chmod(0o755)
    plain, tls = free_port(), free_port()
    try:
        made = subprocess.run([sys.executable, "-m", "shopfloor.cli", "mosquitto-config", "--data-dir", str(tmp_path),
                               "--out", str(out / "conf"), "--port", str(plain), "--tls-port", str(tls),
                               "--tls-bind", "127.0.0.1"], capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        assert {"mosquitto.conf", "passwd", "acl", "ca.crt", "server.crt", "server.key"} <= {
            p.name for p in (out / "conf").iterdir()}
        conf = (out / "conf" / "mosquitto.conf").read_text()
        assert f"listener {plain} 127.0.0.1" in conf and "allow_anonymous false" in conf
        broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(out / "conf" / "mosquitto.conf")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            ca = tmp_path / "tls" / "ca.crt"
            server = start_server(tmp_path, "serve", "--broker", f"mqtts://localhost:{tls}", "--tls-ca", str(ca))
            creds = creds_mod.load(tmp_path)
            watcher = Collector(BrokerAddress("127.0.0.1", plain), creds.account(Role.BOARD),
                                [topics.state_filter("demo", topics.REPAIR_ORDERS)], "tls-watcher")
            try:
                appt = next(a for a in server.api("/api/v1/appointments")
                            if a["status"] in ("booked", "confirmed", "late") and not a["ro_number"])
                status, body = server.call("POST", "/api/v1/checkins", {"tag": appt["tag"]})
                assert status == 201
                topic = topics.state("demo", topics.REPAIR_ORDERS, body["repair_order"]["number"])
                assert watcher.wait_for(lambda msgs: any(t == topic for t, _, _ in msgs), timeout=15)
                assert json.loads(watcher.latest()[topic])["status"] == "checked_in"
            finally:
                watcher.close()
                assert server.stop()
        finally:
            broker.kill()
            broker.wait(timeout=10)
    finally:
        shutil.rmtree(out, ignore_errors=True)
