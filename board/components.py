"""The browser side of each board: one Vue component per page that draws every card itself.

A few hundred NiceGUI elements per screen would cost ~1 MB of server memory and ~170 ms to build; one
element that gets the card list once and then single-card updates (run_method) builds in about a
millisecond and keeps a connected screen at tens of kB (bench/board_render.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nicegui import ui

Card = dict[str, Any]


class BoardView(ui.element, dependencies=["static/wall_board.js"]):
    """Cards keyed by `key`, optional rows keyed by `id`; `cards`/`rows` mirror what the browser shows. Each
    subclass's component builds on static/wall_board.js (its props, the card and row updates, the clock)."""

    def __init__(self, *, cards: dict[str, Card], labels: dict[str, str], config: dict[str, Any],
                 rows: dict[str, Card] | None = None, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        # Plain dicts holding the shared card objects: NiceGUI would deep-copy a dict prop into observable
        # dicts (~400 kB per screen for 200 cards) and re-send the whole element on every change.
        self.cards: dict[str, Card] = dict(cards)
        self.rows: dict[str, Card] = dict(rows or {})
        # so the initial list travels once, as one JSON string, and is dropped once the page is delivered
        self._props["init"] = json.dumps({"cards": self.cards, "rows": self.rows, **(extra or {})},
                                         separators=(",", ":"))
        self._props["labels"] = labels
        self._props["config"] = config
        self.client.on_connect(self._forget_init)

    def _forget_init(self) -> None:
        # the browser has it: after a short drop NiceGUI replays missed messages, after a long one it reloads
        with self._props.suspend_updates():
            self._props.pop("init", None)

    def _upsert(self, shown: dict[str, Card], key: str, item: Card, method: str) -> None:
        if shown.get(key) == item:
            return  # a new version that changes nothing on screen
        shown[key] = item
        self.run_method(method, item)

    def _remove(self, shown: dict[str, Card], key: str, method: str) -> None:
        if shown.pop(key, None) is not None:
            self.run_method(method, key)

    def upsert_card(self, card: Card) -> None:
        self._upsert(self.cards, card["key"], card, "upsert")

    # not remove(): that is Element.remove(child), which NiceGUI itself calls
    def remove_card(self, key: str) -> None:
        self._remove(self.cards, key, "remove")

    def upsert_row(self, row: Card) -> None:
        self._upsert(self.rows, row["id"], row, "upsertRow")

    def remove_row(self, row_id: str) -> None:
        self._remove(self.rows, row_id, "removeRow")


class AppointmentBoardView(BoardView, component="static/appointment_board.js"):
    """Also the capacity strip: `capacity` holds one projected day (cards.capacity_day) per ISO date."""

    def __init__(self, *, cards: dict[str, Card], labels: dict[str, str], config: dict[str, Any],
                 rows: dict[str, Card] | None = None, capacity: dict[str, Card] | None = None) -> None:
        super().__init__(cards=cards, labels=labels, config=config, rows=rows, extra={"capacity": capacity or {}})
        self.capacity: dict[str, Card] = dict(capacity or {})

    def upsert_capacity(self, day: Card) -> None:
        self._upsert(self.capacity, day["day"], day, "upsertCapacity")

    def remove_capacity(self, day: str) -> None:
        self._remove(self.capacity, day, "removeCapacity")


class LoungeView(BoardView, component="static/lounge_board.js"):
    pass
