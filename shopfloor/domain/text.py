"""Text people type that is stored and shown again: no control characters in names.

A name goes on printed tickets, wall boards and CSV exports; a control character (a terminal escape, a
bidirectional override that turns 王先生 into something else on screen, a line break that starts a new CSV
row) has no business in one.
"""

from __future__ import annotations

import unicodedata

# Bidirectional embeddings, overrides and isolates (Cf): they reorder what follows them on screen.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def has_control_characters(value: str, *, allow_line_breaks: bool = False) -> bool:
    for ch in value:
        if ch in _BIDI_CONTROLS:
            return True
        if unicodedata.category(ch) == "Cc" and not (allow_line_breaks and ch in "\n\t"):
            return True
    return False
