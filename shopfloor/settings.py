"""The site's configuration (TOML under config/), validated with messages that name the key at fault."""

from __future__ import annotations

import re
import sys
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Language = Literal["zh-CN", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSettings(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    name: str
    timezone: str = "Asia/Shanghai"
    language: Language = "zh-CN"
    opening: time = time(8, 0)
    closing: time = time(20, 0)
    late_grace_minutes: Annotated[int, Field(ge=0, le=240)] = 10
    ro_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")] = "RO"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. 'Asia/Shanghai')") from None
        return value

    @model_validator(mode="after")
    def _hours_in_order(self) -> SiteSettings:
        if self.closing <= self.opening:
            raise ValueError(f"closing {self.closing:%H:%M} must be after opening {self.opening:%H:%M}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class KioskSettings(_Strict):
    max_pin_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    lockout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 5
    session_hours: Annotated[int, Field(ge=1, le=24)] = 12


class PrinterSettings(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")]
    label: str = ""
    # file: the demo's simulation (one .bin per job); network: raw TCP (port 9100); usb: the kernel's
    # printer device (/dev/usb/lp0); serial: an RS-232 port.
    transport: Literal["file", "network", "usb", "serial"] = "file"
    path: str = ""                  # file: folder for the .bin files, relative to the data directory
    host: str = ""                  # network
    port: Annotated[int, Field(ge=1, le=65535)] = 9100
    device: str = ""                # usb: /dev/usb/lp0; serial: /dev/ttyUSB0
    baudrate: Annotated[int, Field(ge=1200, le=921600)] = 19200
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    # Ask the printer for its status (ESC/POS DLE EOT) before and after each job; turn off only for printers
    # that never answer (some parallel-port clones), at the price of not noticing a hung printer.
    status_queries: bool = True
    encoding: Literal["gb18030", "gbk", "ascii"] = "gb18030"
    columns: Annotated[int, Field(ge=24, le=64)] = 48

    @model_validator(mode="after")
    def _transport_complete(self) -> PrinterSettings:
        if self.transport == "network" and not self.host:
            raise ValueError(f"printer {self.name!r}: transport 'network' needs host")
        if self.transport in ("usb", "serial") and not self.device:
            raise ValueError(f"printer {self.name!r}: transport {self.transport!r} needs device")
        return self

    def directory(self, data_dir: Path) -> Path:
        path = Path(self.path or f"tickets/{self.name}")
        return path if path.is_absolute() else data_dir / path


class Settings(_Strict):
    site: SiteSettings
    kiosk: KioskSettings = KioskSettings()
    printers: Annotated[list[PrinterSettings], Field(min_length=1)]

    @field_validator("printers")
    @classmethod
    def _unique_printers(cls, printers: list[PrinterSettings]) -> list[PrinterSettings]:
        names = [p.name for p in printers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"printer names must be unique; repeated: {', '.join(dupes)}")
        return printers

    def printer(self, name: str) -> PrinterSettings:
        for p in self.printers:
            if p.name == name:
                return p
        raise KeyError(name)


class ConfigError(ValueError):
    """The configuration file is unreadable or invalid; the message names each key at fault."""


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse(text: str, source: str = "<config>") -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = re.sub(r"^Value error, ", "", err["msg"])
            got = f" (got {err['input']!r})" if err["type"] not in ("missing", "extra_forbidden") and not isinstance(
                err.get("input"), dict | list) else ""
            problems.append(f"  {_key_path(err['loc'])}: {msg}{got}")
        raise ConfigError(f"{source}: invalid configuration:\n" + "\n".join(problems)) from None


def load(path: Path) -> Settings:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse(text, str(path))


def demo_config_path() -> Path:
    """config/demo.toml in a checkout, or the copy installed under <prefix>/share/shopfloor/config."""
    for candidate in (
        Path(__file__).resolve().parent.parent / "config" / "demo.toml",
        Path(sys.prefix) / "share" / "shopfloor" / "config" / "demo.toml",
    ):
        if candidate.exists():
            return candidate
    raise ConfigError("demo.toml not found: pass --config FILE")
