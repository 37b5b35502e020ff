"""site.toml rewritten with what /setup changed and nothing else: the file's comments, order and layout kept
(tomlkit), its meaning exactly the new tables' (checked against tomli-w's writing of them)."""

from __future__ import annotations

import tomllib
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table


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


def _sync(container: Any, new: dict[str, Any]) -> None:
    for key in [k for k in container if k not in new]:
        del container[key]
    for key, value in new.items():
        old = container.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            _sync(old, value)
        elif isinstance(old, AoT) and _named_tables(value):
            container[key] = _synced_tables(old, value)
        elif old is None or _plain(old) != value:
            container[key] = value


def _named_tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value)


def _synced_tables(old: AoT, new: list[dict[str, Any]]) -> AoT:
    """An array of tables ([[printers]]) matched by name: a table kept keeps its comments, in the new order."""
    by_name = {str(t.get("name")): t for t in old if isinstance(t, Table)}
    out = tomlkit.aot()
    for value in new:
        table = by_name.pop(value["name"], None)
        if table is None:
            table = tomlkit.table()
        _sync(table, value)
        out.append(table)
    return out


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item
