"""Text for ESC/POS printers: our own encoder, CJK-aware column layout, and the few command bytes we send.

python-escpos's `text()` switches code pages line by line and turns CJK punctuation into "?", so tickets
encode text here and emit plain bytes.

Two ways to measure text:
- `display_width` follows Unicode (UAX #11): Wide/Fullwidth = 2, combining = 0, everything else 1.
- `paper_width(encoding)` measures what a printer really does. In Chinese mode every double-byte code
  prints as a full-width glyph, so ambiguous-width characters such as “ ” · — take 2 cells on paper even
  though Unicode calls them narrow. Ticket layout uses this one so lines never overflow.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable
from typing import Final, Literal

log = logging.getLogger(__name__)

Encoding = Literal["gb18030", "gbk", "ascii"]
ENCODINGS: Final[tuple[Encoding, ...]] = ("gb18030", "gbk", "ascii")
CJK_ENCODINGS: Final[frozenset[str]] = frozenset({"gb18030", "gbk"})

Measure = Callable[[str], int]

# Chinese typesetting never starts a line with closing punctuation
NO_LINE_START: Final[frozenset[str]] = frozenset("，。、；：！？）」』”’》〉…,.;:!?)")

ESC: Final = b"\x1b"
GS: Final = b"\x1d"
FS: Final = b"\x1c"
LF: Final = b"\n"

INIT: Final = ESC + b"@"
CHINESE_ON: Final = FS + b"&"    # Chinese printers read double-byte GBK/GB18030 only in this mode
CHINESE_OFF: Final = FS + b"."

ALIGN_LEFT: Final = 0
ALIGN_CENTER: Final = 1
ALIGN_RIGHT: Final = 2


def bold(on: bool) -> bytes:
    return ESC + b"E" + bytes([1 if on else 0])


def char_size(width: int = 1, height: int = 1) -> bytes:
    """GS ! n: magnification 1..8 in each direction."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError(f"character size {width}x{height}: each must be 1..8")
    return GS + b"!" + bytes([(width - 1) << 4 | (height - 1)])


def align(mode: int) -> bytes:
    if mode not in (ALIGN_LEFT, ALIGN_CENTER, ALIGN_RIGHT):
        raise ValueError(f"alignment {mode}: expected 0, 1 or 2")
    return ESC + b"a" + bytes([mode])


def partial_cut(feed: int = 0) -> bytes:
    """GS V 66 n: feed to the cutter plus n motion units, then cut leaving a hinge."""
    if not 0 <= feed <= 255:
        raise ValueError(f"cut feed {feed}: expected 0..255")
    return GS + b"V" + bytes([66, feed])


def full_cut(feed: int = 0) -> bytes:
    """GS V 65 n: as partial_cut, for the models whose cutter cuts only right through."""
    if not 0 <= feed <= 255:
        raise ValueError(f"cut feed {feed}: expected 0..255")
    return GS + b"V" + bytes([65, feed])


# --- measuring -------------------------------------------------------------------------------------------


def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(s: str) -> int:
    return sum(char_width(ch) for ch in s)


def paper_width(encoding: str) -> Measure:
    """Cells a string takes on a printer using `encoding`, after `printable()` substitution."""
    _check_encoding(encoding)
    if encoding not in CJK_ENCODINGS:
        return len

    def measure(s: str) -> int:
        # one byte prints half width, any multi-byte code (2 or 4 bytes) prints one full-width glyph
        return sum(1 if len(_encode_char(ch, encoding)) == 1 else 2 for ch in s)

    return measure


# --- layout ------------------------------------------------------------------------------------------------


def wrap(s: str, width: int, measure: Measure = display_width) -> list[str]:
    """Break `s` into lines of at most `width` cells. Latin words move whole to the next line when they fit
    on one; CJK text breaks between any two characters; a wide char never straddles the edge. Newlines in
    `s` start new paragraphs. An empty string gives one empty line."""
    if width < 2:
        raise ValueError(f"wrap width {width}: need at least 2 cells for a wide character")
    lines: list[str] = []
    for paragraph in s.splitlines() or [""]:
        lines.extend(_wrap_paragraph(paragraph, width, measure))
    return lines


def _wrap_paragraph(text: str, width: int, measure: Measure) -> list[str]:
    lines: list[str] = []
    line = ""
    used = 0
    break_at = -1  # index in `line` where the last Latin word starts: where the line may end instead
    for ch in text:
        w = measure(ch)
        if used + w > width:
            if ch == " ":
                lines.append(line.rstrip(" "))
                line, used, break_at = "", 0, -1
                continue
            if break_at > 0 and _is_word_char(ch) and _is_word_char(line[-1:]):
                cut = break_at
            elif ch in NO_LINE_START and len(line) > 1 and line[-1] != " ":
                cut = len(line) - 1  # closing punctuation takes the character before it along
            else:
                cut = len(line)
            lines.append(line[:cut].rstrip(" "))
            line = line[cut:]
            used, break_at = measure(line), -1
        if ch == " " and not line:
            continue  # a wrapped line never starts with the space that caused the break
        if ch == " " or (_is_word_char(ch) and line and not _is_word_char(line[-1])):
            # a Latin word may move to the next line whole, whether a space or a CJK character precedes it
            break_at = len(line) + (ch == " ")
        line += ch
        used += w
    lines.append(line.rstrip(" "))
    return lines


def _is_word_char(ch: str) -> bool:
    """Latin-ish characters that should stay together; CJK may break anywhere."""
    return bool(ch) and ch != " " and char_width(ch) == 1 and unicodedata.category(ch)[0] in "LNP"


def ljust(s: str, width: int, measure: Measure = display_width) -> str:
    return s + " " * max(0, width - measure(s))


def rjust(s: str, width: int, measure: Measure = display_width) -> str:
    return " " * max(0, width - measure(s)) + s


def center(s: str, width: int, measure: Measure = display_width) -> str:
    room = max(0, width - measure(s))
    return " " * (room // 2) + s + " " * (room - room // 2)


def truncate(s: str, width: int, measure: Measure = display_width) -> str:
    out = ""
    used = 0
    for ch in s:
        w = measure(ch)
        if used + w > width:
            break
        out += ch
        used += w
    return out


def two_columns(left: str, right: str, width: int, measure: Measure = display_width) -> list[str]:
    """`left` flush left and `right` flush right on one line, at least one space between them. When both do
    not fit, `left` wraps and `right` sits at the end of its last line (or on a line of its own)."""
    right_w = measure(right)
    if right_w > width:
        raise ValueError(f"right column {right!r} is wider than the line ({width})")
    if measure(left) + 1 + right_w <= width:
        return [left + " " * (width - measure(left) - right_w) + right]
    lines = wrap(left, width, measure)
    if measure(lines[-1]) + 1 + right_w <= width:
        last = lines.pop()
        return [*lines, last + " " * (width - measure(last) - right_w) + right]
    return [*lines, rjust(right, width, measure)]


# --- encoding ---------------------------------------------------------------------------------------------

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _check_encoding(encoding: str) -> None:
    if encoding not in ENCODINGS:
        raise ValueError(f"printer encoding {encoding!r}: expected one of {', '.join(ENCODINGS)}")


def _encode_char(ch: str, encoding: str) -> bytes:
    # control characters would reach the printer as commands: text must never carry them
    if unicodedata.category(ch) == "Cc":
        return b"?"
    try:
        return ch.encode(encoding)
    except UnicodeEncodeError:
        return b"?"


def printable(s: str, encoding: str) -> str:
    """`s` as the printer will show it: NFC-composed, unencodable and control characters as "?"."""
    _check_encoding(encoding)
    out = []
    for ch in unicodedata.normalize("NFC", s):
        if ch != "?" and _encode_char(ch, encoding) == b"?":
            _warn_once(ch, encoding)
            ch = "?"
        out.append(ch)
    return "".join(out)


def encode_text(s: str, encoding: str) -> bytes:
    """Bytes for `s` in the printer's code page. Never raises on content: a character the code page lacks
    (or a control character) becomes "?" and is logged once per process."""
    _check_encoding(encoding)
    s = unicodedata.normalize("NFC", s)
    if s.isprintable():
        try:
            return s.encode(encoding)
        except UnicodeEncodeError:
            pass
    out = bytearray()
    for ch in s:
        b = _encode_char(ch, encoding)
        if b == b"?" and ch != "?":
            _warn_once(ch, encoding)
        out += b
    return bytes(out)


def _warn_once(ch: str, encoding: str) -> None:
    with _warned_lock:
        if (encoding, ch) in _warned:
            return
        _warned.add((encoding, ch))
    log.warning("printer code page %s cannot print %r (U+%04X); printing '?' instead", encoding, ch, ord(ch))
