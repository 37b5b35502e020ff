"""VINs, Chinese plates, QR tag tokens, and the masking the lounge screen uses."""

from __future__ import annotations

import base64
import re
import secrets

from shopfloor.domain.errors import Invalid

# ISO 3779 / GB 16735: 17 characters, no I, O or Q; position 9 is a check digit (0-9 or X).
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


class InvalidIdentifier(Invalid):
    """A VIN, plate or tag that is not well formed."""


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def normalize_vin(raw: str) -> str:
    vin = re.sub(r"[\s-]", "", raw).upper()
    if len(vin) != 17:
        raise InvalidIdentifier("error.vin_length", vin=raw, length=len(vin))
    bad = sorted({c for c in vin if c not in _VIN_VALUES})
    if bad:
        raise InvalidIdentifier("error.vin_chars", vin=raw, chars="".join(bad))
    if vin[8] != vin_check_digit(vin):
        raise InvalidIdentifier("error.vin_check", vin=raw, expected=vin_check_digit(vin), got=vin[8])
    return vin


def with_check_digit(vin17: str) -> str:
    """Fill in position 9 of a VIN (demo data, tests)."""
    return vin17[:8] + vin_check_digit(vin17) + vin17[9:]


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"           # plates use no I or O
_ALNUM = "A-HJ-NP-Z0-9"
# GA 36: ordinary 7-character plates, with optional special last character (学 learner, 警 police,
# 挂 trailer, 港/澳 cross-border); new-energy plates have 8 characters: small cars D/F (and since 2022
# A-K) plus five, large vehicles five digits then D/F.
_PLATE_RES = (
    re.compile(f"^[{PROVINCES}][{_LETTER}][{_ALNUM}]{{5}}$"),
    re.compile(f"^[{PROVINCES}][{_LETTER}][{_ALNUM}]{{4}}[学警挂港澳]$"),
    re.compile(f"^[{PROVINCES}][{_LETTER}][A-HJK][{_ALNUM}][0-9]{{4}}$"),
    re.compile(f"^[{PROVINCES}][{_LETTER}][0-9]{{5}}[A-HJK]$"),
)


def normalize_plate(raw: str) -> str:
    plate = re.sub(r"[\s·.\-]", "", raw).upper()
    if not plate:
        raise InvalidIdentifier("error.plate_empty")
    if plate[0] not in PROVINCES:
        raise InvalidIdentifier("error.plate_province", plate=raw)
    if not any(p.match(plate) for p in _PLATE_RES):
        raise InvalidIdentifier("error.plate_format", plate=raw)
    return plate


def is_new_energy_plate(plate: str) -> bool:
    return len(plate) == 8


def display_plate(plate: str) -> str:
    """京A12345 -> 京A·12345 (as on the plate itself)."""
    return f"{plate[:2]}·{plate[2:]}" if len(plate) > 2 else plate


def mask_plate(plate: str) -> str:
    """京A12345 -> 京A·***45: enough for a customer to spot their car, not enough to identify it."""
    if len(plate) < 4:
        return "*" * len(plate)
    return f"{plate[:2]}·{'*' * (len(plate) - 4)}{plate[-2:]}"


# What the public lounge may call a customer besides one character of the surname; anything else typed as a
# salutation (up to 10 characters of free text) could be a name, a phone number or an insult.
LOUNGE_SALUTATIONS = ("先生", "女士", "小姐", "老师", "师傅")


def mask_name(surname: str, salutation: str) -> str:
    """王, 先生 -> 王先生; 阿依古丽·买买提, 女士 -> 阿女士; Smith, Dr. -> S**: one character of the surname and a
    salutation from a fixed list, whatever was typed, so the lounge never shows a whole name."""
    first = next((c for c in surname.strip() if c.isalpha()), "")
    if not first:
        return "**"
    polite = salutation.strip()
    return first + (polite if polite in LOUNGE_SALUTATIONS else "**")


# A QR tag holds an opaque token only: 120 random bits in RFC 4648 base32 (upper case and digits,
# which every keyboard-wedge scanner types the same under any keyboard layout).
TAG_PREFIX = "SFT-"
TAG_BODY_LEN = 24
TAG_RE = re.compile(f"^{TAG_PREFIX}[A-Z2-7]{{{TAG_BODY_LEN}}}$")
TAG_SEARCH_RE = re.compile(f"{TAG_PREFIX}[A-Z2-7]{{{TAG_BODY_LEN}}}")


def new_tag_token() -> str:
    return TAG_PREFIX + base64.b32encode(secrets.token_bytes(15)).decode("ascii")


def normalize_tag(raw: str) -> str:
    """Accept the bare token or any text containing it (a tag printed as a URL, say)."""
    text = raw.strip().upper()
    found = TAG_SEARCH_RE.search(text)
    if not found:
        raise InvalidIdentifier("error.tag_malformed", tag=raw.strip()[:40])
    return found.group(0)
