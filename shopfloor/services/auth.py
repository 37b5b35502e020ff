"""Advisor login by name + PIN, with lock-out after repeated wrong PINs."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.domain.errors import LoginRefused, NotFound
from shopfloor.domain.models import Advisor
from shopfloor.services.context import ServiceContext

log = logging.getLogger(__name__)
_ITERATIONS = 60_000


def hash_pin(pin: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), _ITERATIONS).hex()
    return f"pbkdf2${_ITERATIONS}${salt}${digest}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        _, iterations, salt, digest = stored.split("$")
        candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations)).hex()
    except ValueError:
        return False
    return hmac.compare_digest(candidate, digest)


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
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

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

    def login(self, advisor_id: int, pin: str) -> AdvisorInfo:
        now = self.ctx.now()
        kiosk = self.ctx.settings.kiosk
        with self.ctx.db.write() as s:
            a = s.get(Advisor, advisor_id)
            if a is None or not a.active:
                raise LoginRefused("error.advisor_unknown", advisor=advisor_id)
            if a.locked_until and a.locked_until > now:
                raise LoginRefused("error.locked_out", until=_local_hm(a.locked_until, self.ctx))
            if verify_pin(pin, a.pin_hash):
                a.failed_pins, a.locked_until = 0, None
                return AdvisorInfo.of(a)
            a.failed_pins += 1
            log.warning("wrong PIN for advisor %s (%d in a row)", a.name, a.failed_pins)
            if a.failed_pins >= kiosk.max_pin_attempts:
                a.failed_pins = 0
                a.locked_until = now + timedelta(minutes=kiosk.lockout_minutes)
                log.warning("advisor %s locked out until %s", a.name, a.locked_until.isoformat())
                failure = LoginRefused("error.locked_out", until=_local_hm(a.locked_until, self.ctx))
            else:
                failure = LoginRefused("error.wrong_pin", left=kiosk.max_pin_attempts - a.failed_pins)
        # Raised after the block so the counter update commits.
        raise failure


def _local_hm(when: datetime, ctx: ServiceContext) -> str:
    return when.astimezone(ctx.tz).strftime("%H:%M")
