"""Advisor login by name + PIN, with lock-out after repeated wrong PINs."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.contract.staff import StaffRole
from shopfloor.domain.errors import LoginRefused, NotFound
from shopfloor.domain.models import Advisor
from shopfloor.services import audit
from shopfloor.services.audit import Actor, ActorKind, Entity
from shopfloor.services.context import ServiceContext
from shopfloor.services.pins import hash_pin, needs_rehash, verify_pin

__all__ = ["AdvisorInfo", "AuthService", "SourceThrottle", "hash_pin", "verify_pin"]
log = logging.getLogger(__name__)
# A source (one browser's address) may get this many PINs wrong, over all accounts, before it has to wait.
SOURCE_FREE_FAILURES = 10
SOURCE_FIRST_WAIT = timedelta(seconds=30)
# Waits double with every further failure up to this; an account's wait likewise from [kiosk] lockout_minutes.
LONGEST_WAIT = timedelta(hours=1)


def _growing(first: timedelta, step: int) -> timedelta:
    return min(first * (2 ** min(step, 20)), LONGEST_WAIT)


@dataclass
class SourceThrottle:
    """Failures per source, in memory: one guesser is slowed down whichever names it tries, and its wrong PINs
    do not spend the accounts' own allowance faster than the accounts' throttle already does."""

    failures: dict[str, int] = field(default_factory=dict)
    blocked_until: dict[str, datetime] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def blocked(self, source: str, now: datetime) -> bool:
        with self.lock:
            until = self.blocked_until.get(source)
            return until is not None and until > now

    def failed(self, source: str, now: datetime) -> bool:
        """Count a failure; True when the source has to wait from now on."""
        with self.lock:
            count = self.failures.get(source, 0) + 1
            self.failures[source] = count
            if count < SOURCE_FREE_FAILURES:
                return False
            self.blocked_until[source] = now + _growing(SOURCE_FIRST_WAIT, count - SOURCE_FREE_FAILURES)
            return True

    def succeeded(self, source: str) -> None:
        with self.lock:
            self.failures.pop(source, None)
            self.blocked_until.pop(source, None)


@dataclass(frozen=True)
class AdvisorInfo:
    """A staff member as the pages see them (the name is historical: every staff member, not only advisors)."""

    id: int
    name: str
    code: str
    roles: frozenset[StaffRole] = frozenset({StaffRole.ADVISOR})

    @property
    def is_advisor(self) -> bool:
        return StaffRole.ADVISOR in self.roles

    @classmethod
    def of(cls, a: Advisor) -> AdvisorInfo:
        return cls(a.id, a.name, a.code, a.role_set)


class AuthService:
    """Sign-in by name and PIN.

    Wrong PINs slow down the account and the source they come from, each with a wait that doubles with every
    further failure and that a refusal never names. The account's wait does not apply at a device where that
    person signed in before (`known_device`): a stranger guessing from the lounge Wi-Fi cannot keep the
    service advisor out of their own tablet. Every failure and every wait is an audit row.
    """

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.sources = SourceThrottle()

    def advisors(self) -> list[AdvisorInfo]:
        with self.ctx.db.read() as s:
            rows = s.scalars(select(Advisor).where(Advisor.site_id == self.ctx.site, Advisor.active)
                             .order_by(Advisor.code))
            return [AdvisorInfo.of(a) for a in rows]

    def advisor(self, advisor_id: int) -> AdvisorInfo:
        with self.ctx.db.read() as s:
            a = s.get(Advisor, advisor_id)
            if a is None or not a.active:
                raise NotFound("error.advisor_unknown", advisor=advisor_id)
            return AdvisorInfo.of(a)

    def login(self, advisor_id: int, pin: str, *, source: str = "local", known_device: bool = False
              ) -> AdvisorInfo:
        now = self.ctx.now()
        kiosk = self.ctx.settings.kiosk
        if self.sources.blocked(source, now):
            raise LoginRefused("error.locked_out")
        who = Actor(f"sign-in from {source}"[:80], ActorKind.SYSTEM)
        with self.ctx.db.write() as s:
            a = s.get(Advisor, advisor_id)
            if a is None or not a.active:
                raise LoginRefused("error.advisor_unknown", advisor=advisor_id)
            if a.locked_until and a.locked_until > now and not known_device:
                audit.record(s, self.ctx, who, Entity.STAFF, a.id, "sign_in_refused", reason="waiting",
                             detail={"source": source})
                failure = LoginRefused("error.locked_out")
            elif verify_pin(pin, a.pin_hash):
                a.failed_pins, a.locked_until = 0, None
                if needs_rehash(a.pin_hash):
                    a.pin_hash = hash_pin(pin)
                self.sources.succeeded(source)
                return AdvisorInfo.of(a)
            else:
                failure = self._failed(s, a, who, source, now, kiosk.max_pin_attempts, kiosk.lockout_minutes)
        # Raised after the block so the counter update and the audit rows commit.
        raise failure

    def _failed(self, s: Session, a: Advisor, who: Actor, source: str, now: datetime, free: int,
                first_wait_minutes: int) -> LoginRefused:
        a.failed_pins += 1
        log.warning("wrong PIN for %s from %s (%d in a row)", a.name, source, a.failed_pins)
        audit.record(s, self.ctx, who, Entity.STAFF, a.id, "sign_in_failed", to_value=a.failed_pins,
                     detail={"source": source})
        source_waits = self.sources.failed(source, now)
        if source_waits:
            audit.record(s, self.ctx, who, Entity.STAFF, a.id, "source_waits", detail={"source": source})
        if a.failed_pins >= free:
            # The count runs on until a right PIN: each further failure doubles the wait.
            a.locked_until = now + _growing(timedelta(minutes=first_wait_minutes), a.failed_pins - free)
            log.warning("sign-in for %s waits until %s", a.name, a.locked_until.isoformat())
            audit.record(s, self.ctx, who, Entity.STAFF, a.id, "account_waits", to_value=a.locked_until.isoformat(),
                         detail={"source": source})
            return LoginRefused("error.locked_out")
        if source_waits:
            return LoginRefused("error.locked_out")
        return LoginRefused("error.wrong_pin", left=free - a.failed_pins)
