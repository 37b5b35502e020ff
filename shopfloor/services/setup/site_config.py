"""The site's configuration file (DATA_DIR/site.toml, or the --config file the server runs on) changed from /setup
and the API: every change is checked as a whole file (shopfloor.settings.parse, the same check `check-config`
runs), written atomically, swapped into the services' context so they use it at once, audited, and announced
(`changed`) so that what holds the old settings (pages, the printer choice) follows without a restart.

The file is changed where its tables changed: what the site wrote stays, what it left out keeps its default, and
its comments and layout are kept (toml_edit, with tomlkit); a file tomlkit cannot change faithfully is written
afresh with tomli-w (its comments lost then, which the audit trail makes up for)."""

from __future__ import annotations

import copy
import ipaddress
import os
import tempfile
import threading
import tomllib
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from typing import Any

import tomli_w

from shopfloor.domain.errors import Invalid
from shopfloor.events import ThreadEvent
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.setup.toml_edit import named_tables, rewritten, without_defaults
from shopfloor.settings import ConfigError, Settings, parse

Change = Callable[[dict[str, Any]], None] | dict[str, Any]
# never written into the audit trail, should a site put one into its TOML by mistake
_SECRET_WORDS = ("secret", "password", "token", "key")
MAX_SHOWN = 120


def _plain(value: Any) -> Any:
    """A settings dump as TOML can hold it (enums as their value, networks as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, bool | int | float | str | time | date | datetime):
        return value
    return str(value)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif named_tables(value):  # the printers: each by its name, so a change names the printer and the field
        for table in value:
            _flatten(f"{prefix}.{table['name']}", {k: v for k, v in table.items() if k != "name"} or "", out)
    else:
        out[prefix] = value


def _shown(key: str, value: Any) -> Any:
    if any(word in key.rsplit(".", 1)[-1].lower() for word in _SECRET_WORDS) and not key.endswith("_codes"):
        return "***"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, list | dict):
        text = str(value)
        return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"
    if isinstance(value, str) and len(value) > MAX_SHOWN:
        return value[:MAX_SHOWN] + "…"
    return value


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Each key whose value differs ("workshop.labour_rate": 300 → 350), tables flattened to dotted keys, a list
    of named tables by name ("printers.bay5.host"); another list compared whole."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten("", old, before)
    _flatten("", new, after)
    out = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a != b:
            out.append({"key": key, "from": _shown(key, a), "to": _shown(key, b)})
    return out


def _merge(into: dict[str, Any], change: dict[str, Any]) -> None:
    """Tables merged key by key; None removes a key (back to the default); anything else replaces."""
    for key, value in change.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def write_atomically(path: Path, text: str) -> None:
    """The new file beside the old one, flushed, then renamed over it: a reader (another role starting, a power
    cut) finds the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SiteConfigService:
    def __init__(self, ctx: ServiceContext, path: Path) -> None:
        self.ctx = ctx
        self.path = path
        self.changed = ThreadEvent[[Settings]]()
        """the site configuration was changed and written: the new settings (already in ctx.settings); fired in
        the thread that changed it, so that holders of the old settings follow before the caller goes on"""
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def document(self) -> dict[str, Any]:
        """The file's tables as written; the settings in use when there is no file yet (a test, a site started
        with the demo's configuration)."""
        read = self._read()
        if read is not None:
            return read[1]
        dumped = _plain(self.ctx.settings.model_dump(mode="python", exclude_defaults=True))
        assert isinstance(dumped, dict)
        return dumped

    def _read(self) -> tuple[str, dict[str, Any]] | None:
        """The file's text and its tables; None when there is no file yet."""
        if not self.path.exists():
            return None
        try:
            text = self.path.read_text(encoding="utf-8")
            return text, tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise Invalid("site_config.error.unreadable", path=str(self.path), detail=str(exc)[:200]) from None

    def update(self, change: Change, actor: Actor | str, *, what: str) -> Settings:
        """Apply `change` (a function editing the file's tables in place, or tables to merge in), check the whole
        file, write it, swap the settings, audit what changed under `what` (the section or list edited: "hours",
        "printers"…) and tell the listeners. Invalid names every key at fault, and nothing is written."""
        with self._lock:
            read = self._read()
            old_text, old_doc = read if read is not None else (None, self.document())
            new_doc = copy.deepcopy(old_doc)
            if callable(change):
                change(new_doc)
            else:
                _merge(new_doc, change)
            effective = _plain(self.ctx.settings.model_dump(mode="python"))
            without_defaults(old_doc, new_doc, effective)
            try:
                text = tomli_w.dumps(new_doc)
            except TypeError as exc:
                raise Invalid("site_config.error.invalid", problems=str(exc)) from None
            try:
                new = parse(text, self.path.name)
            except ConfigError as exc:
                problems = str(exc).split("\n", 1)[-1].strip()
                raise Invalid("site_config.error.invalid", problems=problems) from None
            changes = differences(old_doc, new_doc)
            if not changes:
                return self.ctx.settings
            if old_text is not None:  # the site's comments and layout kept where the change allows
                text = rewritten(old_text, new_doc, text) or text
            sections = sorted({c["key"].split(".", 1)[0] for c in changes})
            with self.ctx.db.write() as s:
                record(s, self.ctx, actor, Entity.SITE_CONFIG, what[:60], "changed",
                       from_value="; ".join(f"{c['key']}={c['from']}" for c in changes),
                       to_value="; ".join(f"{c['key']}={c['to']}" for c in changes),
                       detail={"sections": sections, "changes": changes, "file": self.path.name})
                # inside the transaction: a file that cannot be written leaves no audit row behind
                write_atomically(self.path, text)
            self.ctx.settings = new
        self.changed.emit(new)
        return new

    # -- the sections /setup edits as forms ------------------------------------------------------------------
    def set_hours(self, *, opening: time, closing: time, workdays: list[int], shift_start: time, shift_end: time,
                  break_minutes: int, slot_minutes: int, walk_in_reserve: float, actor: Actor | str) -> Settings:
        """Opening hours ([site]), the working week, the default shift and how bookings are sold ([booking]).
        The mistakes a person makes at this form are named in their words (the whole file is checked after)."""
        if closing <= opening:
            raise Invalid("site_config.error.closing", opening=f"{opening:%H:%M}", closing=f"{closing:%H:%M}")
        if shift_end <= shift_start:
            raise Invalid("site_config.error.shift", start=f"{shift_start:%H:%M}", end=f"{shift_end:%H:%M}")
        if not workdays:
            raise Invalid("site_config.error.no_workdays")
        return self.update({"site": {"opening": opening, "closing": closing},
                            "booking": {"workdays": sorted(set(workdays)), "shift_start": shift_start,
                                        "shift_end": shift_end, "break_minutes": break_minutes,
                                        "slot_minutes": slot_minutes, "walk_in_reserve": walk_in_reserve}},
                           actor, what="hours")

    def set_labour_rates(self, *, labour_rate: float, per_skill: dict[str, float], actor: Actor | str) -> Settings:
        """[workshop] labour_rate, and [reception] labour_rates per skill class (a class left out is priced at
        the first)."""
        def change(doc: dict[str, Any]) -> None:
            doc.setdefault("workshop", {})["labour_rate"] = labour_rate
            reception = doc.setdefault("reception", {})
            if per_skill:
                reception["labour_rates"] = {k.strip(): v for k, v in per_skill.items()}
            else:
                reception.pop("labour_rates", None)

        return self.update(change, actor, what="labour_rates")
