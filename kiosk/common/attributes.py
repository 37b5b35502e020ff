"""Values onto elements as attributes and Quasar props, never through NiceGUI's props string.

`element.props('data-plate="…"')` parses its text: a value holding a quote ends there and the rest becomes
props of its own — `京A" :title="…` adds a `:title` prop, which NiceGUI evaluates as JavaScript in the browser,
and `onmouseover=…` an inline handler. A value put into the props dict is sent as it is, and Vue sets it as one
attribute. So `.props("…")` takes our own constant words only; whatever varies goes through `set_attrs`, and a
date picker's range through `selectable_days` (tests/test_markup_sinks.py holds the line).
"""

from __future__ import annotations

import json
from datetime import date
from typing import TypeVar

from nicegui import ui
from nicegui.element import Element

E = TypeVar("E", bound=Element)
AttrValue = str | int | float | bool | None


def set_attrs(element: E, **attrs: AttrValue) -> E:
    """Set attributes or Quasar props by keyword, `data_plate=plate` as `data-plate`; None removes one."""
    for name, value in attrs.items():
        key = name.replace("_", "-")
        if element.props.get(key) != value:  # as .props() does: an unchanged value sends no update
            element.props.set_optional(key, value)
    return element


def selectable_days(picker: ui.date, first: date, last: date | None = None) -> ui.date:
    """Only the days from `first` (to `last`) can be picked: Quasar's `options` function, written from two
    dates and nothing else."""
    picker.props[":options"] = _days_between(first, last)
    return picker


def _days_between(first: date, last: date | None) -> str:
    return f"d => d >= {json.dumps(f'{first:%Y/%m/%d}')}" \
        + (f" && d <= {json.dumps(f'{last:%Y/%m/%d}')}" if last is not None else "")
