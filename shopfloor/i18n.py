"""Message catalogues (shopfloor/locales/<lang>.toml, plus one file per feature in locales/<lang>/*.toml):
every word a person reads comes from here.

Keys are dotted ("kiosk.scan_hint"); values use str.format fields ("{plate}"). A key missing from a
catalogue falls back to English and then to the key itself, so a gap shows up on screen, not as a crash;
tests check that both catalogues have the same keys.

Plurals: a text that counts something is called with `count=` and may come in forms chosen by it, as keys
with a suffix: `sent_one` ("1 label sent") and `sent_other` ("3 labels sent") in English; Chinese has one form,
the key itself (`sent`). A plain key wins over the forms, so a language needs the forms only where it has them.
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
PLURAL_FORMS = ("one", "other")
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


def plural_form(lang: str, count: object) -> str:
    """CLDR's plural category of `count` in the language: English "one" for exactly 1, else "other"."""
    return "one" if lang == "en" and count == 1 else "other"


def counted(count: int, one: str, other: str) -> str:
    """An English count outside the catalogues (log lines, the API's explanations): "1 bay", "3 bays"."""
    return f"{count} {one if count == 1 else other}"


def message_key(key: str) -> str:
    """The key a plural form belongs to: "calls.pick.sent_one" -> "calls.pick.sent"."""
    base, _, form = key.rpartition("_")
    return base if base and form in PLURAL_FORMS else key


def forms(lang: str, key: str) -> dict[str, str]:
    """A counted text as written, per plural form ({"one": …, "other": …}), for a page that fills in {count}
    itself; a language with one form gives it for both."""
    found = catalogue(normalize(lang))
    plain = found.get(key)
    other = plain or found.get(f"{key}_other") or catalogue(FALLBACK).get(f"{key}_other") or key
    return {"one": plain or found.get(f"{key}_one") or other, "other": other}


def _text(lang: str, key: str, params: dict[str, Any]) -> str | None:
    found = catalogue(lang)
    text = found.get(key)
    if text is None and "count" in params:
        text = found.get(f"{key}_{plural_form(lang, params['count'])}") or found.get(f"{key}_other")
    return text


def t(lang: str, key: str, /, **params: Any) -> str:
    text = _text(normalize(lang), key, params) or _text(FALLBACK, key, params)
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
