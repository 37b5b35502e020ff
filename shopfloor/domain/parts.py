"""The parts counter's rules (domain.md §3–§4, step 7 of the lane): what a parts line's status may be, and the parts
status a job line shows on every board, made from its parts lines. Pure: no database, no clock."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum

from shopfloor.domain.errors import Invalid


class PartsLineStatus(StrEnum):
    TO_PICK = "to_pick"  # wanted by the job, not (all) issued yet: on the order's pick list
    BACK_ORDER = "back_order"  # short at the counter: ordered, with an ETA; its job line waits for it
    ISSUED = "issued"  # handed to the technician
    RETURNED = "returned"  # everything issued came back unused


class JobLineParts(StrEnum):
    """A job line's parts as the boards show them."""

    NONE = "none"
    TO_PICK = "to_pick"
    ISSUED = "issued"
    BACK_ORDER = "back_order"


PART_NUMBER_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-/ ]{1,38}[A-Z0-9]$")
MAX_QUANTITY = Decimal("1000")
MAX_PRICE = Decimal("1000000")


def normalize_number(raw: str) -> str:
    """A part number as typed or scanned: trimmed, upper case (a keyboard-wedge scanner under a Chinese input
    method may send full-width characters: they are folded to ASCII)."""
    text = raw.strip().translate({cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}).upper()
    if not PART_NUMBER_RE.match(text):
        raise Invalid("parts.error.number_invalid", number=raw.strip()[:40])
    return text


def line_parts(lines: Iterable[tuple[str, date | None]]) -> tuple[JobLineParts, date | None]:
    """(status, eta) of a job line from its parts lines' (status, eta): anything on back-order decides (with the
    latest ETA: the line waits for the last part), then anything still to pick, then anything issued."""
    statuses = {PartsLineStatus(status) for status, _ in lines}
    if PartsLineStatus.BACK_ORDER in statuses:
        etas = [eta for status, eta in lines if status == PartsLineStatus.BACK_ORDER and eta is not None]
        return JobLineParts.BACK_ORDER, max(etas) if etas else None
    if PartsLineStatus.TO_PICK in statuses:
        return JobLineParts.TO_PICK, None
    if PartsLineStatus.ISSUED in statuses:
        return JobLineParts.ISSUED, None
    return JobLineParts.NONE, None
