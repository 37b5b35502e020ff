"""A printer host's own credentials file: its printer's MQTT account, where the broker is, and nothing else.

`shopfloor printer-credentials NAME --out FILE` writes it on the server's host (mode 600), from the site's
credentials.toml and site.toml; `shopfloor printer-agent NAME --credentials FILE` runs from it alone. It holds
no API or board token, no PINs and no other account's password, so a stolen printer host gives away one
printer's tickets and nothing more. With TLS it carries the site's CA certificate (public) itself.

    [agent]    site, printer
    [broker]   host, port, and for TLS ca_certificate (PEM)
    [mqtt]     username, password of the printer's own account
    [printer]  the printer's section of the site configuration (transport, device, code page …)
"""

from __future__ import annotations

import ipaddress
import ssl
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from shopfloor.broker.files import write_file
from shopfloor.credentials import Credentials, MqttAccount
from shopfloor.mqtt import BrokerAddress
from shopfloor.settings import PrinterSettings

KIND_TABLE = "agent"  # the table that tells this file from a site's credentials.toml


@dataclass(frozen=True)
class PrinterCredentials:
    site: str
    printer: PrinterSettings
    account: MqttAccount
    broker_host: str
    broker_port: int
    ca_certificate: str | None = None  # PEM; set when the broker is reached over TLS

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress(self.broker_host, self.broker_port, tls_ca_pem=self.ca_certificate)


def for_printer(creds: Credentials, site: str, printer: PrinterSettings, address: BrokerAddress) -> PrinterCredentials:
    """The printer's own file for reaching the broker at `address` (its CA certificate read now when TLS).
    KeyError when the printer has no account yet (credentials.ensure_printer_accounts); OSError for the CA."""
    ca = address.tls_ca_pem
    if ca is None and address.tls_ca is not None:
        ca = address.tls_ca.read_text(encoding="ascii")
    return PrinterCredentials(site=site, printer=printer, account=creds.printer_account(printer.name),
                              broker_host=address.host, broker_port=address.port,
                              ca_certificate=_checked_ca(ca, str(address.tls_ca)) if ca is not None else None)


def address_warnings(address: BrokerAddress) -> list[str]:
    """What is wrong with `address` as seen from another host."""
    host = address.host.strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return [f"broker {address} is this host's own loopback address, which the printer's host cannot reach: "
                "give --broker mqtts://HOST:8883 with a name or address of this host on the LAN"]
    if not address.tls:
        return [f"plain MQTT to {host}: the printer's password and its tickets cross the LAN unencrypted; prefer "
                f"--broker mqtts://{host}:8883"]
    return []


def is_printer_file(text: str) -> bool:
    """True for a printer host's file, False for anything else (a site's credentials.toml)."""
    try:
        return isinstance(tomllib.loads(text).get(KIND_TABLE), dict)
    except tomllib.TOMLDecodeError:
        return False


def dumps(own: PrinterCredentials) -> str:
    name = own.printer.name
    lines = [
        f"# shopfloor: printer {name}'s agent at site {own.site}: its own MQTT account and nothing else.",
        f"# Written by `shopfloor printer-credentials {name}`; keep it private (mode 600). Run with",
        f"#   shopfloor printer-agent {name} --credentials THIS_FILE --data-dir DIR   (DIR: the print journal)",
        f"[{KIND_TABLE}]",
        f"site = {toml_string(own.site)}",
        f"printer = {toml_string(name)}",
        "",
        "[broker]",
        f"host = {toml_string(own.broker_host)}",
        f"port = {own.broker_port}",
    ]
    if own.ca_certificate is not None:
        # a literal multi-line string keeps the PEM readable; _checked_ca made sure it cannot end it early
        lines.append(f"ca_certificate = '''\n{own.ca_certificate.strip()}\n'''")
    lines += [
        "",
        "[mqtt]",
        f"username = {toml_string(own.account.username)}",
        f"password = {toml_string(own.account.password)}",
        "",
        "[printer]",
    ]
    for key, value in own.printer.model_dump().items():
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def loads(text: str, source: str) -> PrinterCredentials:
    try:
        data = tomllib.loads(text)
        agent, broker, mqtt = data[KIND_TABLE], data["broker"], data["mqtt"]
        printer = PrinterSettings.model_validate(data["printer"])
        if printer.name != agent["printer"]:
            raise ValueError(f"[printer] is {printer.name!r} but [agent] says {agent['printer']!r}")
        ca = broker.get("ca_certificate")
        return PrinterCredentials(
            site=str(agent["site"]), printer=printer,
            account=MqttAccount(str(mqtt["username"]), str(mqtt["password"])),
            broker_host=str(broker["host"]), broker_port=int(broker["port"]),
            ca_certificate=_checked_ca(ca, "[broker] ca_certificate") if ca is not None else None)
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError, ValidationError) as exc:
        raise ValueError(f"{source}: cannot read printer credentials: {exc}") from exc


def write(path: Path, own: PrinterCredentials) -> None:
    """Atomically, readable by its owner alone (0600) from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, dumps(own).encode("utf-8"), secret=True, broker_reads=False)


def load(path: Path) -> PrinterCredentials:
    return loads(path.read_text(encoding="utf-8"), str(path))


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped (TOML allows none raw)."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    raise TypeError(f"no TOML form here for {value!r}")


def _checked_ca(pem: object, source: str) -> str:
    """A CA certificate that TLS can use, and that a TOML literal string can hold."""
    if isinstance(pem, str):
        pem = pem.replace("\r\n", "\n")
    if (not isinstance(pem, str) or not pem.isascii() or "'''" in pem or "BEGIN CERTIFICATE" not in pem
            or any(not ch.isprintable() and ch != "\n" for ch in pem)):
        raise ValueError(f"{source}: not a PEM certificate")
    try:
        ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError) as exc:
        raise ValueError(f"{source}: not a usable CA certificate: {exc}") from None
    return pem
