"""The workshop's rules (domain.md §4, steps 6–8 of the lane): job lines as the unit of work, the repair order's
status as it follows them, quality-check stages, the promised-time risk, and what a badge and a ticket scan
carry. Pure: no database, no clock."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import unquote

from shopfloor.domain.errors import Invalid
from shopfloor.domain.states import HoldReason, RoStatus


class LineStatus(StrEnum):
    WAITING = "waiting"  # not dispatched yet
    DISPATCHED = "dispatched"  # given to a technician, not started
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"  # started, stopped for a reason (pause_reason)
    DONE = "done"  # finished by the technician: its order waits for the quality checks
    CANCELLED = "cancelled"


OPEN_LINE_STATUSES = frozenset({LineStatus.WAITING, LineStatus.DISPATCHED, LineStatus.IN_PROGRESS,
                                LineStatus.PAUSED})
STARTED_LINE_STATUSES = frozenset({LineStatus.IN_PROGRESS, LineStatus.PAUSED, LineStatus.DONE})


class PauseReason(StrEnum):
    BREAK = "break"
    SWITCHED = "switched"  # the technician clocked onto another job
    SHIFT_END = "shift_end"  # still clocked on when the shift ended: closed by the server, marked assumed
    REWORK = "rework"  # sent back by a failed quality check
    WAITING_PARTS = "waiting_parts"
    WAITING_APPROVAL = "waiting_approval"
    SUBLET = "sublet"
    TECHNICAL_HELP = "technical_help"
    OTHER = "other"


# What a person may give when they pause; switched, shift_end and rework are the server's own.
CHOSEN_PAUSES = frozenset(PauseReason) - {PauseReason.SWITCHED, PauseReason.SHIFT_END, PauseReason.REWORK}
# A pause for one of these puts the order on hold: the work cannot go on until something outside the
# technician's hands arrives. A break, a switch, the end of a shift or rework does not: the car is still in work.
HOLDS: dict[PauseReason, HoldReason] = {
    PauseReason.WAITING_PARTS: HoldReason.WAITING_PARTS,
    PauseReason.WAITING_APPROVAL: HoldReason.WAITING_APPROVAL,
    PauseReason.SUBLET: HoldReason.SUBLET,
    PauseReason.TECHNICAL_HELP: HoldReason.TECHNICAL_HELP,
    PauseReason.OTHER: HoldReason.OTHER,
}
PAUSE_FOR_HOLD: dict[HoldReason, PauseReason] = {hold: pause for pause, hold in HOLDS.items()}


class ClockOutcome(StrEnum):
    FINISHED = "finished"
    PAUSED = "paused"


class QcStage(StrEnum):
    """The quality checks in their order (domain.md §4): the technician's self check, the foreman's check, the
    final inspection before delivery."""

    SELF = "self"
    FOREMAN = "foreman"
    FINAL = "final"


class Risk(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"  # past the checkpoint and projected to finish after the promise: call the customer
    LATE = "late"  # the promise has passed and the car is not ready


class FindingStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class DecisionMethod(StrEnum):
    """How the customer gave their decision on additional work."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    CUSTOMER_PAGE = "customer_page"


class CarryOverReason(StrEnum):
    PARTS = "parts"
    APPROVAL = "approval"
    CAPACITY = "capacity"
    SUBLET = "sublet"
    CUSTOMER = "customer"
    OTHER = "other"


class DispatchRule(StrEnum):
    """What a dispatch may break, and the `reason` of its refusal; an override with a typed reason is logged."""

    SKILL = "skill"  # the technician lacks the skill class of a line
    ABSENT = "absent"  # not at work that day (day off, leave, closed day)
    PROMISE = "promise"  # with this technician the order is projected to finish after its promise


@dataclass(frozen=True)
class LineState:
    status: LineStatus
    pause_reason: PauseReason | None = None

    @property
    def hold(self) -> HoldReason | None:
        return HOLDS.get(self.pause_reason) if self.status == LineStatus.PAUSED and self.pause_reason else None


def derive_status(lines: Sequence[LineState], checks_complete: bool) -> tuple[RoStatus, HoldReason | None] | None:
    """The open order's status as its lines make it; None for an order without live lines (nothing to follow).

    A line in work keeps the car in work; else a line held for something outside the workshop's hands puts it on
    hold; all lines done: quality check until the last configured stage passed, then ready; some work started:
    in progress; dispatched but untouched: dispatched; nothing dispatched: checked in."""
    live = [line for line in lines if line.status != LineStatus.CANCELLED]
    if not live:
        return None
    if any(line.status == LineStatus.IN_PROGRESS for line in live):
        return RoStatus.IN_PROGRESS, None
    held = next((line.hold for line in live if line.hold is not None), None)
    if held is not None:
        return RoStatus.ON_HOLD, held
    if all(line.status == LineStatus.DONE for line in live):
        return (RoStatus.READY if checks_complete else RoStatus.QUALITY_CHECK), None
    if any(line.status in STARTED_LINE_STATUSES for line in live):
        return RoStatus.IN_PROGRESS, None
    if any(line.status == LineStatus.DISPATCHED for line in live):
        return RoStatus.DISPATCHED, None
    return RoStatus.CHECKED_IN, None


def lines_of_status(status: RoStatus, hold: HoldReason | None) -> LineState:
    """The lines of an order opened straight in `status` (the demo's story, orders from before rev 0007)."""
    by_status = {RoStatus.DISPATCHED: LineStatus.DISPATCHED, RoStatus.IN_PROGRESS: LineStatus.IN_PROGRESS,
                 RoStatus.ON_HOLD: LineStatus.PAUSED, RoStatus.QUALITY_CHECK: LineStatus.DONE,
                 RoStatus.READY: LineStatus.DONE, RoStatus.DELIVERED: LineStatus.DONE,
                 RoStatus.CANCELLED: LineStatus.CANCELLED}
    line = by_status.get(status, LineStatus.WAITING)
    return LineState(line, PAUSE_FOR_HOLD[hold or HoldReason.OTHER] if line == LineStatus.PAUSED else None)


def stage_to_check(stages: Sequence[QcStage], passed: Iterable[QcStage]) -> QcStage | None:
    """The first configured stage not passed in this round (stages are checked in their order); None: all passed."""
    done = set(passed)
    return next((stage for stage in stages if stage not in done), None)


def risk(now: datetime, opened_at: datetime, promised_at: datetime | None, projected: datetime | None,
         checkpoint: float) -> Risk:
    """Late once the promise has passed; at risk from the checkpoint (that share of the time from opening the order
    to its promise) when the projected finish is after the promise; else on time."""
    if promised_at is None:
        return Risk.ON_TIME
    if now > promised_at:
        return Risk.LATE
    if projected is None or projected <= promised_at:
        return Risk.ON_TIME
    return Risk.AT_RISK if now >= opened_at + (promised_at - opened_at) * checkpoint else Risk.ON_TIME


# -- badges and ticket scans -----------------------------------------------------------------------------------

class InvalidScan(Invalid):
    """A badge or ticket scan that is not one."""


# A technician's badge holds an opaque token like a vehicle's QR tag: 120 random bits in base32, which every
# keyboard-wedge scanner types the same under any keyboard layout. Knowing a technician's name or id is not
# enough to clock on as them.
BADGE_PREFIX = "SFB-"
BADGE_BODY_LEN = 24
BADGE_SEARCH_RE = re.compile(f"{BADGE_PREFIX}[A-Z2-7]{{{BADGE_BODY_LEN}}}")
# a repair order's number as check-in makes it: the site's prefix, the day, a serial
RO_NUMBER_RE = re.compile(r"^[A-Z]{1,4}[0-9]{8}-[0-9]{3,6}$")
RO_PATH = "/ro/"  # the ticket's QR opens <server>/ro/<number>, the live order


def new_badge_token() -> str:
    return BADGE_PREFIX + base64.b32encode(secrets.token_bytes(15)).decode("ascii")


def normalize_badge(raw: str) -> str:
    """The badge token from a scan: the bare token or any text holding it."""
    found = BADGE_SEARCH_RE.search(raw.strip().upper())
    if not found:
        raise InvalidScan("workshop.error.badge_malformed", badge=raw.strip()[:40])
    return found.group(0)


def ro_number_in(scan: str) -> str:
    """The repair order a ticket scan names: the ticket's QR is a URL to the order on the site's server
    (…/ro/RO20261123-007); older tickets and typed numbers are the bare number."""
    text = scan.strip()
    if RO_PATH in text:
        text = unquote(text.rsplit(RO_PATH, 1)[1].split("?", 1)[0].split("#", 1)[0].strip("/"))
    number = text.strip().upper()
    if not RO_NUMBER_RE.match(number):
        raise InvalidScan("workshop.error.ticket_malformed", scan=scan.strip()[:60])
    return number


def ticket_url(server_url: str, number: str) -> str:
    """What the ticket's QR carries: the order on the site's server (ro_number_in reads the number back)."""
    return f"{server_url.rstrip('/')}{RO_PATH}{number}"
