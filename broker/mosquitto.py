"""Mosquitto 2 configuration from the one source of accounts and rights (`shopfloor.contract.access`).

`write_config` writes OUT/mosquitto.conf, OUT/passwd, OUT/acl and the TLS files (ca.crt, server.crt,
server.key). Run the broker with `mosquitto -c OUT/mosquitto.conf`.

What Mosquitto 2.0.11 does with these rules (checked against the real broker in tests/test_broker_acl.py):

- The ACL file is never consulted for SUBSCRIBE (its default check returns success for it): any filter is
  granted, and the READ rules are checked for each message at delivery, retained ones included. A lounge
  subscribed to `#` gets lounge states only. (The embedded broker instead refuses filters wider than the
  role's rights; both deliver the same messages.) `#` never matches `$SYS/…`, and no rule grants `$SYS`.
- A denied PUBLISH (MQTT 3.1.1, QoS 1 or 2) is acknowledged and dropped.
- A last will on a topic the role may not write does not stop the CONNECT, but it is never published.
  (The embedded broker refuses such a login.)
- A client id is not bound to an account: a valid login of another role takes over a connected client id
  (a wrong password does not); the newcomer still gets only its own role's rights. The embedded broker
  refuses that login.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shopfloor.broker.certs import (
    CA_CERT,
    SERVER_CERT,
    SERVER_KEY,
    ServerCertificate,
    local_names,
    make_ca,
    make_server_cert,
    site_certificate,
)
from shopfloor.broker.files import broker_access_problems, make_dir, write_file
from shopfloor.contract.access import rules
from shopfloor.credentials import Credentials, MqttLogin

CONF = "mosquitto.conf"
PASSWD = "passwd"
ACL = "acl"

PBKDF2_ITERATIONS = 101  # mosquitto_passwd's default for $7$
_SALT_BYTES = 12
_FORBIDDEN_IN_NAMES = (":", "\n", "\r", "\0")


def password_line(username: str, password: str, *, iterations: int = PBKDF2_ITERATIONS,
                  salt: bytes | None = None) -> str:
    """One line of a Mosquitto 2 password file, as `mosquitto_passwd` writes it:
    `user:$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512(password, salt)>` (no newline)."""
    _check_username(username)
    if "\n" in password or "\r" in password:
        raise ValueError("an MQTT password may not contain a line break")
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"{username}:$7${iterations}${_b64(salt)}${_b64(digest)}"


def passwd_text(accounts: Mapping[str, str]) -> str:
    """A whole password file for username -> password."""
    return "".join(password_line(user, password) + "\n" for user, password in accounts.items())


def acl_text(site: str, logins: Iterable[MqttLogin]) -> str:
    """Mosquitto's ACL file for `site`: a `user` block per account with its rules from `access.RULES` (a
    printer's account: with its printer's name in them).

    Anything not granted is denied (the file has no `pattern` lines and no anonymous section)."""
    _check_site(site)
    lines = [f"# Topic rights for MQTT site {site!r}, generated from shopfloor/contract/access.py.",
             "# Regenerate with `shopfloor mosquitto-config` rather than editing.", ""]
    seen: dict[str, str] = {}
    for login in logins:
        username = login.account.username
        who = f"printer {login.printer}" if login.printer else f"role {login.role.value}"
        _check_username(username)
        if username in seen:
            raise ValueError(f"MQTT username {username!r} is used by {seen[username]} and {who}")
        seen[username] = who
        lines.append(f"# {who}")
        lines.append(f"user {username}")
        lines += [f"topic {access.value} {filter_}" for access, filter_ in rules(login.role, site, login.printer)]
        lines.append("")
    return "\n".join(lines)


def conf_text(*, passwd: Path, acl: Path, port: int = 1883, bind: str = "127.0.0.1", tls_port: int = 8883,
              tls_bind: str = "0.0.0.0", cafile: Path, certfile: Path, keyfile: Path, site: str = "") -> str:
    """mosquitto.conf: never anonymous; plain MQTT for this host only, TLS with username/password for the LAN."""
    for path in (passwd, acl, cafile, certfile, keyfile):
        if any(c in str(path) for c in "\n\r\0#") or str(path) != str(path).strip():
            raise ValueError(f"{path}: Mosquitto cannot take this path in its configuration")
    for address in (bind, tls_bind):
        if not address or any(c.isspace() for c in address):
            raise ValueError(f"listen address {address!r} is not valid")
    if port == tls_port:
        raise ValueError(f"the plain and TLS listeners cannot share port {port}")
    header = f" for site {site!r}" if site else ""
    return f"""\
# Mosquitto 2 configuration{header}, generated by `shopfloor mosquitto-config`: regenerate rather than edit.
# Accounts and rights come from shopfloor/contract/access.py and DATA_DIR/credentials.toml.

# One set of accounts and rights for every listener; nobody gets in without them.
per_listener_settings false
allow_anonymous false
password_file {passwd.absolute()}
acl_file {acl.absolute()}

# No persistence: the database is the source of truth and the shopfloor server republishes every retained
# state after each (re)connect. A broker state file would only bring back what was deleted since it was saved.
persistence false

log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
log_timestamp_format %Y-%m-%dT%H:%M:%S
set_tcp_nodelay true

# The shopfloor server on this host.
listener {port} {bind}
protocol mqtt

# Wall screens and printer agents on the LAN: TLS (the clients verify ca.crt), then username and password.
listener {tls_port} {tls_bind}
protocol mqtt
cafile {cafile.absolute()}
certfile {certfile.absolute()}
keyfile {keyfile.absolute()}
require_certificate false
tls_version tlsv1.2
"""


@dataclass(frozen=True)
class MosquittoConfig:
    """What write_config wrote."""

    conf: Path
    passwd: Path
    acl: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    port: int
    tls_port: int
    certificate_created: bool
    warnings: tuple[str, ...]
    """Why Debian's Mosquitto (running as user mosquitto) could not read the files; empty when it can."""


def write_config(credentials: Credentials, site: str, out_dir: Path, *, port: int = 1883, tls_port: int = 8883,
                 bind: str = "127.0.0.1", tls_bind: str = "0.0.0.0", certs: ServerCertificate | None = None,
                 hostnames: list[str] | None = None, addresses: list[str] | None = None) -> MosquittoConfig:
    """Write OUT/mosquitto.conf, OUT/passwd, OUT/acl, OUT/ca.crt, OUT/server.crt and OUT/server.key.

    `certs`: a server certificate made with `certs.make_server_cert` (copied into OUT). Without it the CA and
    the certificate are made in OUT itself (kept on later runs) for `hostnames`/`addresses`, by default this
    host's names and addresses (`certs.local_names()`).
    Secrets (passwd, acl, server.key) are mosquitto:mosquitto 0640 when run as root (0600 otherwise)."""
    out_dir = out_dir.absolute()
    if certs is not None and (hostnames is not None or addresses is not None):
        raise ValueError("give either certs or hostnames/addresses, not both")
    passwd_path, acl_path, conf_path = out_dir / PASSWD, out_dir / ACL, out_dir / CONF
    ca_cert, server_cert, server_key = out_dir / CA_CERT, out_dir / SERVER_CERT, out_dir / SERVER_KEY
    # everything is composed (and so validated) before the first file is written
    acl = acl_text(site, credentials.logins())
    passwd = passwd_text({login.account.username: login.account.password for login in credentials.logins()})
    conf = conf_text(passwd=passwd_path, acl=acl_path, port=port, bind=bind, tls_port=tls_port, tls_bind=tls_bind,
                     cafile=ca_cert, certfile=server_cert, keyfile=server_key, site=site)

    make_dir(out_dir)
    if certs is None:
        default_names, default_addresses = local_names()
        names = default_names if hostnames is None else hostnames
        ips = default_addresses if addresses is None else addresses
        certs = make_server_cert(out_dir, names, ips, ca=make_ca(out_dir))
    if certs.ca_cert.absolute() != ca_cert:
        write_file(ca_cert, certs.ca_cert.read_bytes())
    if certs.cert.absolute() != server_cert:
        write_file(server_key, certs.key.read_bytes(), secret=True)
        write_file(server_cert, certs.cert.read_bytes())
    write_file(passwd_path, passwd.encode(), secret=True)
    write_file(acl_path, acl.encode(), secret=True)
    write_file(conf_path, conf.encode())
    warnings = broker_access_problems([passwd_path, acl_path, ca_cert, server_cert, server_key])
    return MosquittoConfig(conf=conf_path, passwd=passwd_path, acl=acl_path, ca_cert=ca_cert,
                           server_cert=server_cert, server_key=server_key, port=port, tls_port=tls_port,
                           certificate_created=certs.created, warnings=tuple(warnings))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_username(username: str) -> None:
    if not username or username != username.strip() or any(c.isspace() or c in _FORBIDDEN_IN_NAMES
                                                            for c in username):
        raise ValueError(f"MQTT username {username!r} cannot go into Mosquitto's files "
                         "(empty, or contains whitespace or ':')")


def _check_site(site: str) -> None:
    if not site or any(c.isspace() or c in "/+#$" for c in site):
        raise ValueError(f"site {site!r} cannot be an MQTT topic level")



def write_site_config(credentials: Credentials, site: str, data_dir: Path, out_dir: Path, *, port: int = 1883,
                      tls_port: int = 8883, bind: str = "127.0.0.1", tls_bind: str = "0.0.0.0",
                      hostnames: Sequence[str] = (), addresses: Sequence[str] = ()) -> MosquittoConfig:
    """What `shopfloor mosquitto-config --data-dir DIR --out OUT` does: the CA and the server certificate live
    in DIR/tls (made once, kept; the CA key never goes to OUT), the certificate names this host
    (`certs.local_names()`) plus `hostnames` and `addresses`; then `write_config` into OUT."""
    server = site_certificate(data_dir, site, hostnames, addresses)
    return write_config(credentials, site, out_dir, port=port, tls_port=tls_port, bind=bind, tls_bind=tls_bind,
                        certs=server)
