"""Per-data-dir secrets: API tokens, board display token, one MQTT account per role, advisors' PINs.

Written once to DIR/credentials.toml (mode 600) and kept across restarts, so paired wall screens and
configured printer agents keep working.

API callers: `[api] token` is the integrator's token, named "api" and holding every staff role. A site adds
narrower callers by hand as `[api_tokens.<name>]` tables with `token = "…"` and `roles = ["cs", …]`; the name
is the actor of every change the caller makes, the roles what it may do (shopfloor/contract/staff.py).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from shopfloor.contract.access import Role
from shopfloor.contract.staff import StaffRole, format_roles, parse_roles

FILE_NAME = "credentials.toml"
API_TOKEN_NAME = "api"  # the [api] token's caller: the integrator, holding every role


@dataclass(frozen=True)
class MqttAccount:
    username: str
    password: str


@dataclass(frozen=True)
class ApiToken:
    """One caller of the JSON API: its name is the actor of what it changes, its roles what it may do."""

    name: str
    token: str = field(repr=False)
    roles: frozenset[StaffRole] = frozenset()


@dataclass
class Credentials:
    api_token: str
    board_token: str
    mqtt: dict[Role, MqttAccount]
    advisors: dict[str, str] = field(default_factory=dict)
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    named_api_tokens: dict[str, ApiToken] = field(default_factory=dict)  # [api_tokens.<name>]

    def account(self, role: Role) -> MqttAccount:
        return self.mqtt[role]

    def api_tokens(self) -> list[ApiToken]:
        """Every caller the API accepts: the [api] token first, then the named ones."""
        return [ApiToken(API_TOKEN_NAME, self.api_token, frozenset(StaffRole)), *self.named_api_tokens.values()]


def generate(advisor_names: list[str] | None = None) -> Credentials:
    return Credentials(
        api_token=secrets.token_urlsafe(32),
        board_token=secrets.token_urlsafe(24),
        mqtt={role: MqttAccount(username=f"shopfloor-{role.value}", password=secrets.token_urlsafe(24))
              for role in Role},
        advisors={name: f"{secrets.randbelow(10**4):04d}" for name in advisor_names or []},
    )


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dumps(creds: Credentials) -> str:
    lines = [
        "# shopfloor credentials: generated once for this data directory. Keep it private (mode 600).",
        "[api]",
        f"token = {_quote(creds.api_token)}",
        "",
    ]
    for name, caller in creds.named_api_tokens.items():
        roles = ", ".join(_quote(r) for r in format_roles(caller.roles).split(",") if r)
        lines += [f"[api_tokens.{_quote(name)}]", f"token = {_quote(caller.token)}", f"roles = [{roles}]", ""]
    lines += [
        "[boards]",
        f"token = {_quote(creds.board_token)}",
        "",
        "[broker]",
        f"host = {_quote(creds.broker_host)}",
        f"port = {creds.broker_port}",
        "",
    ]
    for role, account in creds.mqtt.items():
        lines += [f"[mqtt.{role.value}]", f"username = {_quote(account.username)}",
                  f"password = {_quote(account.password)}", ""]
    lines.append("[advisors]")
    lines += [f"{_quote(name)} = {_quote(pin)}" for name, pin in creds.advisors.items()]
    return "\n".join(lines) + "\n"


def loads(text: str, source: str = FILE_NAME) -> Credentials:
    try:
        data = tomllib.loads(text)
        mqtt = {Role(name): MqttAccount(str(v["username"]), str(v["password"])) for name, v in data["mqtt"].items()}
        missing = [r.value for r in Role if r not in mqtt]
        if missing:
            raise ValueError(f"[mqtt.{missing[0]}] is missing")
        return Credentials(
            api_token=str(data["api"]["token"]),
            board_token=str(data["boards"]["token"]),
            mqtt=mqtt,
            advisors={str(k): str(v) for k, v in data.get("advisors", {}).items()},
            broker_host=str(data.get("broker", {}).get("host", "127.0.0.1")),
            broker_port=int(data.get("broker", {}).get("port", 1883)),
            named_api_tokens=_named_api_tokens(data.get("api_tokens", {}), str(data["api"]["token"])),
        )
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{source}: cannot read credentials: {exc}") from exc


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


def load_or_create(data_dir: Path, advisor_names: list[str], broker_host: str, broker_port: int) -> Credentials:
    """Load DIR/credentials.toml, adding what is missing (a new advisor's PIN, the broker address)."""
    path = data_dir / FILE_NAME
    if path.exists():
        creds = loads(path.read_text(encoding="utf-8"), str(path))
        changed = False
        for name in advisor_names:
            if name not in creds.advisors:
                creds.advisors[name] = f"{secrets.randbelow(10**4):04d}"
                changed = True
        if (creds.broker_host, creds.broker_port) != (broker_host, broker_port):
            creds.broker_host, creds.broker_port = broker_host, broker_port
            changed = True
        if changed:
            write(path, creds)
        return creds
    creds = generate(advisor_names)
    creds.broker_host, creds.broker_port = broker_host, broker_port
    write(path, creds)
    return creds


def load(data_dir: Path) -> Credentials:
    path = data_dir / FILE_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `shopfloor demo --data-dir {data_dir}` first")
    return loads(path.read_text(encoding="utf-8"), str(path))
