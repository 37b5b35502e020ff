"""site.toml rewritten with what /setup changed and nothing else: the file's comments, order and layout kept
(tomlkit), its meaning exactly the new tables' (checked against tomli-w's writing of them)."""

from __future__ import annotations

import tomllib
from typing import Any

import tomlkit
from tomlkit.items import AoT, Array, InlineTable, Table


def rewritten(old_text: str, new_doc: dict[str, Any], fresh_text: str) -> str | None:
    """`old_text` changed to hold `new_doc`, whose plain writing is `fresh_text`; None when that cannot be done
    faithfully (the caller writes `fresh_text` then)."""
    try:
        doc = tomlkit.parse(old_text)
        _sync(doc, new_doc)
        text = tomlkit.dumps(doc)
        same = tomllib.loads(text) == tomllib.loads(fresh_text)
    except Exception:  # tomlkit's own errors are many; any of them means: write afresh
        return None
    return text if same else None


def without_defaults(old: dict[str, Any], new: dict[str, Any], effective: dict[str, Any]) -> None:
    """Keys a form wrote into `new` that the file (`old`) did not hold, with the value they had anyway
    (`effective`: the settings in use), left out again: a form that sends all its fields changes one line."""
    for key in list(new):
        value, now = new[key], effective.get(key)
        if key in old:
            if isinstance(value, dict) and isinstance(old[key], dict) and isinstance(now, dict):
                without_defaults(old[key], value, now)
            continue
        if isinstance(value, dict) and isinstance(now, dict):
            without_defaults({}, value, now)
            if not value:
                del new[key]
        elif key in effective and now == value:
            del new[key]


def _sync(container: Any, new: dict[str, Any]) -> None:
    for key in [k for k in container if k not in new]:
        del container[key]
    for key, value in new.items():
        old = container.get(key)
        if old is not None and _plain(old) == value:
            continue  # untouched: its layout and comments stay as they are
        if isinstance(value, dict) and isinstance(old, dict):
            _sync(old, value)
        elif isinstance(old, AoT | Array) and named_tables(value):
            _sync_named(container, key, old, value)
        elif old is None and isinstance(container, Table) and not isinstance(value, dict | list):
            _add_after_last_key(container, key, value)
        else:
            container[key] = value


def _add_after_last_key(table: Table, key: str, value: Any) -> None:
    """A new key right below the table's last one, not below the comments that end it (they are often about what
    comes next, or the end of the file)."""
    try:
        body = table.value.body
        last = max(i for i, (k, _) in enumerate(body) if k is not None)
        table.value._insert_at(last + 1, key, value)  # tomlkit has no public "insert after"
    except Exception:  # an empty table, or tomlkit's inner layout changed: at the end, as tomlkit adds
        table[key] = value


def named_tables(value: Any) -> bool:
    """A non-empty list of tables each with a name (the printers): matched and told apart by that name."""
    return (isinstance(value, list) and bool(value)
            and all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value))


def _sync_named(container: Any, key: str, old: AoT | Array, new: list[dict[str, Any]]) -> None:
    """An array of tables ([[printers]], or init's inline `printers = [{…}]`) matched by name: a table kept
    keeps its comments. The same names in the same order are changed in place (nothing moves); otherwise the array
    is built anew in the new order, of the kept tables and new ones, in the form the file had."""
    tables = [t for t in old if isinstance(t, Table | InlineTable)]
    if len(tables) == len(old) and [str(t.get("name")) for t in tables] == [v["name"] for v in new]:
        for table, value in zip(tables, new, strict=True):
            _sync(table, value)
        return
    by_name: dict[str, Table | InlineTable | None] = {str(t.get("name")): t for t in tables}
    inline = isinstance(old, Array)
    out: Any = tomlkit.array() if inline else tomlkit.aot()
    for value in new:
        kept = by_name.pop(value["name"], None)
        table = kept if kept is not None else tomlkit.inline_table() if inline else tomlkit.table()
        _sync(table, value)
        out.append(table)
    if inline:
        out.multiline(True)
    container[key] = out


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item
