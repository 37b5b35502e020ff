"""Per-data-dir secrets: API tokens, board display token, MQTT accounts, advisors' PINs.

Written once to DIR/credentials.toml (mode 600) and kept across restarts, so paired wall screens and
configured printer agents keep working. This file stays on the server's host: the brokers' account lists are
made from it. A printer's host gets a file of its own with nothing but its printer's account
(`shopfloor printer-credentials NAME`, shopfloor/printer_credentials.py).

MQTT accounts: `[mqtt.server]`, `[mqtt.board]`, `[mqtt.lounge]`, and one per printer as
`[mqtt.printer.<name>]`, whose rights are that printer's alone (shopfloor/contract/access.py). Printers
named in the site configuration get their account when the file is loaded by a command that knows them
(`ensure_printer_accounts`). Deleting a printer's table and running such a command again gives it a new
password: the way to shut out a lost or stolen printer host.

API callers: `[api] token` is the integrator's token, named "api" and holding every staff role. A site adds
narrower callers by hand as `[api_tokens.<name>]` tables with `token = "…"` and `roles = ["cs", …]`; the name
is the actor of every change the caller makes, the roles what it may do (shopfloor/contract/staff.py).

Customer messages' gateways, each optional and added by hand: `[sms] access_key_id`, `access_key_secret` (Alibaba
Cloud SMS), `[wechat] appid`, `secret` (the official account), `[email] user`, `password` (SMTP login).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from shopfloor.contract.access import Role, check_printer_name
from shopfloor.contract.staff import StaffRole, format_roles, parse_roles

FILE_NAME = "credentials.toml"
API_TOKEN_NAME = "api"  # the [api] token's caller: the integrator, holding every role
SHARED_ROLES = (Role.SERVER, Role.BOARD, Role.LOUNGE)  # one account each; the printer role has one per printer


@dataclass(frozen=True)
class MqttAccount:
    username: str
    password: str


@dataclass(frozen=True)
class MqttLogin:
    """An account a broker lets in, and whose rights it gets: a role's, for the printer role one printer's."""

    account: MqttAccount
    role: Role
    printer: str | None = None


def printer_username(printer: str) -> str:
    return f"shopfloor-printer-{check_printer_name(printer)}"


def new_printer_account(printer: str) -> MqttAccount:
    return MqttAccount(printer_username(printer), secrets.token_urlsafe(24))


@dataclass(frozen=True)
class ApiToken:
    """One caller of the JSON API: its name is the actor of what it changes, its roles what it may do."""

    name: str
    token: str = field(repr=False)
    roles: frozenset[StaffRole] = frozenset()


@dataclass(frozen=True)
class MessageSecrets:
    """The message gateways' keys ([sms], [wechat], [email]); never logged or shown (repr hides them)."""

    sms_key_id: str = ""
    sms_key_secret: str = field(default="", repr=False)
    wechat_appid: str = ""
    wechat_secret: str = field(default="", repr=False)
    email_user: str = ""
    email_password: str = field(default="", repr=False)


def _message_secrets(data: dict[str, object]) -> MessageSecrets:
    def table(name: str) -> dict[str, object]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise ValueError(f"[{name}] must be a table")
        return value

    sms, wechat, email = table("sms"), table("wechat"), table("email")
    return MessageSecrets(
        sms_key_id=str(sms.get("access_key_id", "")), sms_key_secret=str(sms.get("access_key_secret", "")),
        wechat_appid=str(wechat.get("appid", "")), wechat_secret=str(wechat.get("secret", "")),
        email_user=str(email.get("user", "")), email_password=str(email.get("password", "")))


def _message_secret_tables(m: MessageSecrets) -> dict[str, dict[str, str]]:
    """The gateways whose keys are set, as their tables."""
    tables = {"sms": {"access_key_id": m.sms_key_id, "access_key_secret": m.sms_key_secret},
              "wechat": {"appid": m.wechat_appid, "secret": m.wechat_secret},
              "email": {"user": m.email_user, "password": m.email_password}}
    return {name: pairs for name, pairs in tables.items() if any(pairs.values())}


@dataclass
class Credentials:
    api_token: str
    board_token: str
    mqtt: dict[Role, MqttAccount]  # the SHARED_ROLES
    advisors: dict[str, str] = field(default_factory=dict)
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    broker_set_by: str = ""  # who last wrote [broker]: broker, mosquitto-config, demo; "" = init's default
    named_api_tokens: dict[str, ApiToken] = field(default_factory=dict)  # [api_tokens.<name>]
    printers: dict[str, MqttAccount] = field(default_factory=dict)  # [mqtt.printer.<name>]
    messages: MessageSecrets = field(default_factory=MessageSecrets)  # [sms], [wechat], [email]

    def account(self, role: Role) -> MqttAccount:
        if role == Role.PRINTER:
            raise KeyError("printer accounts are per printer: printer_account(name)")
        return self.mqtt[role]

    def printer_account(self, printer: str) -> MqttAccount:
        try:
            return self.printers[printer]
        except KeyError:
            raise KeyError(f"no MQTT account for printer {printer!r} ([mqtt.printer.{printer}])") from None

    def logins(self) -> list[MqttLogin]:
        """Every account a broker of this site admits, with the rights it gets."""
        return [*(MqttLogin(account, role) for role, account in self.mqtt.items()),
                *(MqttLogin(account, Role.PRINTER, name) for name, account in self.printers.items())]

    def api_tokens(self) -> list[ApiToken]:
        """Every caller the API accepts: the [api] token first, then the named ones."""
        return [ApiToken(API_TOKEN_NAME, self.api_token, frozenset(StaffRole)), *self.named_api_tokens.values()]


def generate(advisor_names: list[str] | None = None, printer_names: Iterable[str] = ()) -> Credentials:
    return Credentials(
        api_token=secrets.token_urlsafe(32),
        board_token=secrets.token_urlsafe(24),
        mqtt={role: MqttAccount(username=f"shopfloor-{role.value}", password=secrets.token_urlsafe(24))
              for role in SHARED_ROLES},
        advisors={name: f"{secrets.randbelow(10**4):04d}" for name in advisor_names or []},
        printers={name: new_printer_account(name) for name in printer_names},
    )


HEADER = "# shopfloor credentials: generated once for this data directory. Keep it private (mode 600).\n"


def dumps(creds: Credentials) -> str:
    """The file's text (tomli-w quotes every name and value, Chinese names and a token's `"` included). The
    [advisors] table (the demo's public PINs) is left out when empty: a real site's PINs live in the database as
    hashes only."""
    data: dict[str, object] = {"api": {"token": creds.api_token}}
    if creds.named_api_tokens:
        data["api_tokens"] = {name: {"token": caller.token, "roles": [r for r in format_roles(caller.roles).split(",")
                                                                      if r]}
                              for name, caller in creds.named_api_tokens.items()}
    data["boards"] = {"token": creds.board_token}
    data["broker"] = {"host": creds.broker_host, "port": creds.broker_port,
                      **({"set_by": creds.broker_set_by} if creds.broker_set_by else {})}
    mqtt: dict[str, object] = {role.value: {"username": a.username, "password": a.password}
                               for role, a in creds.mqtt.items()}
    if creds.printers:
        mqtt[Role.PRINTER.value] = {name: {"username": a.username, "password": a.password}
                                    for name, a in creds.printers.items()}
    data["mqtt"] = mqtt
    data.update(_message_secret_tables(creds.messages))
    if creds.advisors:
        data["advisors"] = dict(creds.advisors)
    return HEADER + tomli_w.dumps(data)


def loads(text: str, source: str = FILE_NAME) -> Credentials:
    try:
        data = tomllib.loads(text)
        tables = dict(data["mqtt"])
        printers = _printer_accounts(tables.pop(Role.PRINTER.value, {}))
        mqtt = {Role(name): MqttAccount(str(v["username"]), str(v["password"])) for name, v in tables.items()}
        missing = [r.value for r in SHARED_ROLES if r not in mqtt]
        if missing:
            raise ValueError(f"[mqtt.{missing[0]}] is missing")
        return Credentials(
            api_token=str(data["api"]["token"]),
            board_token=str(data["boards"]["token"]),
            mqtt=mqtt,
            advisors={str(k): str(v) for k, v in data.get("advisors", {}).items()},
            broker_host=str(data.get("broker", {}).get("host", "127.0.0.1")),
            broker_port=int(data.get("broker", {}).get("port", 1883)),
            broker_set_by=str(data.get("broker", {}).get("set_by", "")),
            named_api_tokens=_named_api_tokens(data.get("api_tokens", {}), str(data["api"]["token"])),
            printers=printers,
            messages=_message_secrets(data),
        )
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{source}: cannot read credentials: {exc}") from exc


def _printer_accounts(table: object) -> dict[str, MqttAccount]:
    """[mqtt.printer.<name>] tables. An older file's one shared [mqtt.printer] account (username and password
    right in the table) could act for every printer: it is dropped, and each printer gets its own."""
    if not isinstance(table, dict):
        raise ValueError("[mqtt.printer] must hold one table per printer: [mqtt.printer.<name>]")
    out: dict[str, MqttAccount] = {}
    for name, account in table.items():
        if not isinstance(account, dict):
            continue  # the shared account's username = "…" / password = "…"
        try:
            check_printer_name(name)
        except ValueError as exc:
            raise ValueError(f"[mqtt.printer.{name}]: {exc}") from None
        out[name] = MqttAccount(str(account["username"]), str(account["password"]))
    return out


def _named_api_tokens(tables: object, api_token: str) -> dict[str, ApiToken]:
    """[api_tokens.<name>] tables. A token names exactly one caller: the same token twice, or the name of the
    [api] token, is refused rather than resolved by guessing."""
    if not isinstance(tables, dict):
        raise ValueError("[api_tokens] must hold one table per token: [api_tokens.<name>]")
    out: dict[str, ApiToken] = {}
    seen = {api_token}
    for name, table in tables.items():
        where = f"[api_tokens.{name}]"
        if not isinstance(table, dict):
            raise ValueError(f"{where} must be a table with token and roles")
        unknown = sorted(set(table) - {"token", "roles"})
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: token, roles)")
        if not name.strip() or len(name) > 80 or not name.isprintable():
            raise ValueError(f"{where}: the name must be 1 to 80 printable characters")
        if name == API_TOKEN_NAME:
            raise ValueError(f"{where}: {API_TOKEN_NAME!r} is the name of the [api] token")
        token, roles = table.get("token"), table.get("roles")
        if not isinstance(token, str) or not token or not token.isprintable() or " " in token:
            raise ValueError(f"{where}: token must be a non-empty string without spaces")
        if token in seen:
            raise ValueError(f"{where}: this token is already another caller's")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ValueError(f"{where}: roles must be a list of role names, e.g. roles = [\"cs\"]")
        try:
            held = parse_roles(roles)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        seen.add(token)
        out[name] = ApiToken(name, token, held)
    return out


def write(path: Path, creds: Credentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(dumps(creds))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_or_create(data_dir: Path, advisor_names: list[str], broker_host: str, broker_port: int,
                   printer_names: Iterable[str] = ()) -> Credentials:
    """Load DIR/credentials.toml, adding what is missing (a new advisor's PIN, a printer's account, the broker
    address)."""
    path = data_dir / FILE_NAME
    if path.exists():
        creds = loads(path.read_text(encoding="utf-8"), str(path))
        changed = _add_printer_accounts(creds, printer_names)
        for name in advisor_names:
            if name not in creds.advisors:
                creds.advisors[name] = f"{secrets.randbelow(10**4):04d}"
                changed = True
        if (creds.broker_host, creds.broker_port, creds.broker_set_by) != (broker_host, broker_port, "demo"):
            creds.broker_host, creds.broker_port, creds.broker_set_by = broker_host, broker_port, "demo"
            changed = True
        if changed:
            write(path, creds)
        return creds
    creds = generate(advisor_names, printer_names)
    creds.broker_host, creds.broker_port, creds.broker_set_by = broker_host, broker_port, "demo"
    write(path, creds)
    return creds


def ensure_printer_accounts(data_dir: Path, creds: Credentials, printer_names: Iterable[str]) -> list[str]:
    """Give every printer named here an account of its own (written to DIR/credentials.toml); returns the
    printers whose account is new, so the caller can say that the broker's accounts must be brought up to date."""
    before = set(creds.printers)
    if _add_printer_accounts(creds, printer_names):
        write(data_dir / FILE_NAME, creds)
    return [name for name in creds.printers if name not in before]


def _add_printer_accounts(creds: Credentials, printer_names: Iterable[str]) -> bool:
    added = False
    for name in printer_names:
        if name not in creds.printers:
            creds.printers[name] = new_printer_account(name)
            added = True
    return added


def load(data_dir: Path) -> Credentials:
    path = data_dir / FILE_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: make the site with `shopfloor init --data-dir {data_dir} "
                                "--site-id ID --site-name NAME` (or try `shopfloor demo`) first")
    return loads(path.read_text(encoding="utf-8"), str(path))
