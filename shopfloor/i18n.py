"""Message catalogues (shopfloor/locales/<lang>.toml, plus one file per feature in locales/<lang>/*.toml):
every word a person reads comes from here.

Keys are dotted ("kiosk.scan_hint"); values use str.format fields ("{plate}"). A key missing from a
catalogue falls back to English and then to the key itself, so a gap shows up on screen, not as a crash;
tests check that both catalogues have the same keys.
"""

from __future__ import annotations

import logging
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LANGUAGES = ("zh-CN", "en")
FALLBACK = "en"
_DIR = Path(__file__).parent / "locales"


def _flatten(prefix: str, data: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalogue(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in [_DIR / f"{lang}.toml", *sorted((_DIR / lang).glob("*.toml"))]:
        with path.open("rb") as f:
            part: dict[str, str] = {}
            _flatten("", tomllib.load(f), part)
        clash = sorted(set(part) & set(out))
        if clash:
            raise ValueError(f"{path}: keys already defined in another catalogue file: {', '.join(clash[:5])}")
        out.update(part)
    return out


def normalize(lang: str | None) -> str:
    if not lang:
        return LANGUAGES[0]
    lang = lang.replace("_", "-")
    if lang in LANGUAGES:
        return lang
    return "zh-CN" if lang.lower().startswith("zh") else "en"


def t(lang: str, key: str, /, **params: Any) -> str:
    text = catalogue(normalize(lang)).get(key) or catalogue(FALLBACK).get(key)
    if text is None:
        log.warning("no translation for %r", key)
        return key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        log.warning("translation %r (%s) does not fit its parameters %s", key, lang, sorted(params))
        return text


class Translator:
    """t() bound to one language, for a page or a request."""

    def __init__(self, lang: str) -> None:
        self.lang = normalize(lang)

    def __call__(self, key: str, /, **params: Any) -> str:
        return t(self.lang, key, **params)
