"""A printer host's own credentials file (shopfloor/printer_credentials.py): what it holds, and that it reads
back as written."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shopfloor import credentials as creds_mod
from shopfloor import printer_credentials as own_mod
from shopfloor.broker.certs import make_ca
from shopfloor.mqtt import BrokerAddress
from shopfloor.settings import PrinterSettings


def test_written_file_reads_back_with_the_ca_and_nothing_of_the_sites_secrets(tmp_path: Path) -> None:
    site = creds_mod.generate(["张伟"], ["front-desk", "parts"])
    ca = make_ca(tmp_path / "tls")
    printer = PrinterSettings(name="front-desk", label='前台 "A"\\\n\t\x7f', transport="usb",
                              device="/dev/usb/lp0", encoding="gbk", columns=42, timeout_seconds=2.5)
    own = own_mod.for_printer(site, "demo", printer, BrokerAddress("shopfloor.lan", 8883, tls_ca=ca.cert))
    path = tmp_path / "pi" / "front-desk.toml"
    own_mod.write(path, own)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert own_mod.is_printer_file(text) and not own_mod.is_printer_file(creds_mod.dumps(site))
    back = own_mod.load(path)
    assert back == own and back.printer == printer
    assert back.account == site.printer_account("front-desk")
    assert back.ca_certificate == ca.cert.read_text()
    assert back.address == BrokerAddress("shopfloor.lan", 8883, tls_ca_pem=ca.cert.read_text())
    assert str(back.address) == "mqtts://shopfloor.lan:8883"
    for secret in (site.api_token, site.board_token, site.printer_account("parts").password,
                   *(a.password for a in site.mqtt.values())):
        assert secret not in text


def test_plain_mqtt_file_has_no_ca_and_warns() -> None:
    site = creds_mod.generate([], ["parts"])
    own = own_mod.for_printer(site, "demo", PrinterSettings(name="parts"), BrokerAddress("192.168.1.20", 1883))
    back = own_mod.loads(own_mod.dumps(own), "parts.toml")
    assert back.ca_certificate is None and str(back.address) == "mqtt://192.168.1.20:1883"
    assert "unencrypted" in own_mod.address_warnings(back.address)[0]
    assert "loopback" in own_mod.address_warnings(BrokerAddress("127.0.0.1", 1883))[0]
    assert own_mod.address_warnings(BrokerAddress("shopfloor.lan", 8883, tls_ca_pem="x")) == []


def test_a_damaged_file_is_reported_by_name(tmp_path: Path) -> None:
    site = creds_mod.generate([], ["parts"])
    own = own_mod.for_printer(site, "demo", PrinterSettings(name="parts"), BrokerAddress("shopfloor.lan", 1883))
    text = own_mod.dumps(own)
    with pytest.raises(ValueError, match=r"parts\.toml: cannot read printer credentials"):
        own_mod.loads(text.replace('printer = "parts"', 'printer = "reception"'), "parts.toml")
    broken_ca = text.replace("port = 1883", "port = 1883\nca_certificate = '''\n-----BEGIN CERTIFICATE-----\nxx\n'''")
    with pytest.raises(ValueError, match="not a usable CA certificate"):
        own_mod.loads(broken_ca, "parts.toml")
    with pytest.raises(KeyError, match="no MQTT account for printer 'reception'"):
        own_mod.for_printer(site, "demo", PrinterSettings(name="reception"), BrokerAddress("shopfloor.lan", 1883))


def test_printer_agent_runs_on_the_files_settings_and_keeps_its_ca_for_another_address(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shopfloor import cli
    from shopfloor.printer import runner

    site = creds_mod.generate([], ["front-desk"])
    ca = make_ca(tmp_path / "tls")
    printer = PrinterSettings(name="front-desk", transport="network", host="192.168.1.50")
    path = tmp_path / "front-desk.toml"
    own_mod.write(path, own_mod.for_printer(site, "demo", printer, BrokerAddress("shopfloor.lan", 8883,
                                                                                 tls_ca=ca.cert)))
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(runner, "run_agent", lambda *args, **_kw: calls.append(args) or 0)
    pi = tmp_path / "pi"  # no site.toml, no credentials.toml, no tls/ here
    assert cli.main(["printer-agent", "front-desk", "--credentials", str(path), "--data-dir", str(pi)]) == 0
    assert cli.main(["printer-agent", "front-desk", "--credentials", str(path), "--data-dir", str(pi),
                     "--broker", "mqtts://10.0.0.5:8883"]) == 0
    pem = ca.cert.read_text()
    assert calls == [
        (printer, "demo", "front-desk", pi.resolve(), BrokerAddress("shopfloor.lan", 8883, tls_ca_pem=pem),
         site.printer_account("front-desk")),
        (printer, "demo", "front-desk", pi.resolve(), BrokerAddress("10.0.0.5", 8883, tls_ca_pem=pem),
         site.printer_account("front-desk")),
    ]
    with pytest.raises(SystemExit, match="holds printer 'front-desk'"):
        cli.main(["printer-agent", "reception", "--credentials", str(path), "--data-dir", str(pi)])
