"""Per-data-dir secrets: API token, board display token, one MQTT account per role, advisors' PINs.

Written once to DIR/credentials.toml (mode 600) and kept across restarts, so paired wall screens and
configured printer agents keep working.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from shopfloor.contract.access import Role

FILE_NAME = "credentials.toml"


@dataclass(frozen=True)
class MqttAccount:
    username: str
    password: str


@dataclass
class Credentials:
    api_token: str
    board_token: str
    mqtt: dict[Role, MqttAccount]
    advisors: dict[str, str] = field(default_factory=dict)
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883

    def account(self, role: Role) -> MqttAccount:
        return self.mqtt[role]


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
        )
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{source}: cannot read credentials: {exc}") from exc


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
