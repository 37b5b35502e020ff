"""Staff PINs after sign-up: a manager resets or gives one (it works once), the person chooses their own.

A PIN someone else knows (printed by `shopfloor init`, read out by the manager at /setup, returned by the API) is
one-time: `pin_must_change` stays set until its holder replaces it with one only they know, and no staff page
works for them until then (kiosk/common/frame.py). The database keeps only the Argon2 hash
(shopfloor/services/pins.py); the audit says who changed whose PIN, never the PIN.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from itertools import pairwise

from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import Advisor
from shopfloor.services import audit
from shopfloor.services.audit import Actor, Entity
from shopfloor.services.auth import _growing
from shopfloor.services.context import ServiceContext
from shopfloor.services.pins import PIN_MAX, PIN_MIN, hash_pin, verify_pin

ONE_TIME_DIGITS = 6


def check_strength(pin: str) -> None:
    """Invalid unless `pin` is 4–8 digits, not one digit repeated (0000) and not a straight run up or down, the
    keypad's 0 following 9 (1234, 4321, 7890): the first PINs a guesser tries."""
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise Invalid("pins.error.format", min=PIN_MIN, max=PIN_MAX)
    if len(set(pin)) == 1:
        raise Invalid("pins.error.all_same")
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(pin)}
    if steps in ({1}, {9}):
        raise Invalid("pins.error.run")


def new_one_time_pin() -> str:
    """Six random digits, never a weak one (its holder could otherwise keep it by typing it back)."""
    while True:
        pin = f"{secrets.randbelow(10 ** ONE_TIME_DIGITS):0{ONE_TIME_DIGITS}d}"
        try:
            check_strength(pin)
        except Invalid:
            continue
        return pin


class PinService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _person(self, s: Session, staff_id: int) -> Advisor:
        person = s.get(Advisor, staff_id)
        if person is None or person.site_id != self.ctx.site:
            raise NotFound("pins.error.unknown_staff", staff=staff_id)
        return person

    def reset(self, staff_id: int, actor: Actor) -> str:
        """A new random one-time PIN for the person, returned once (to be told them); the account's wait after
        wrong PINs ends with it."""
        pin = new_one_time_pin()
        self._give(staff_id, pin, actor, "pin_reset")
        return pin

    def set_pin(self, staff_id: int, pin: str, actor: Actor) -> None:
        """A PIN the manager chose for the person: one-time as well, since the manager knows it."""
        check_strength(pin)
        self._give(staff_id, pin, actor, "pin_set")

    def _give(self, staff_id: int, pin: str, actor: Actor, action: str) -> None:
        hashed = hash_pin(pin)  # ~90 ms: outside the write transaction, which other writers wait for
        with self.ctx.db.write() as s:
            person = self._person(s, staff_id)
            person.pin_hash = hashed
            person.pin_must_change = True
            person.failed_pins, person.locked_until = 0, None
            if action == "pin_reset":
                audit.record(s, self.ctx, actor, Entity.STAFF, person.id, "pin_reset")
            else:
                audit.record(s, self.ctx, actor, Entity.STAFF, person.id, "pin_set")

    def change_own(self, staff_id: int, old_pin: str, new_pin: str, actor: Actor) -> None:
        """The person replaces their PIN with one of their own choosing (which ends a one-time PIN). A wrong
        current PIN counts as a wrong PIN at sign-in does: after [kiosk] max_pin_attempts the account waits."""
        if actor.staff_id is not None and actor.staff_id != staff_id:
            raise Refused("pins.error.not_own")
        check_strength(new_pin)
        if new_pin == old_pin:
            raise Invalid("pins.error.same_as_old")
        hashed = hash_pin(new_pin)
        now = self.ctx.now()
        kiosk = self.ctx.settings.kiosk
        failure: Refused | None = None
        with self.ctx.db.write() as s:
            person = self._person(s, staff_id)
            if person.locked_until is not None and person.locked_until > now:
                raise Refused("error.locked_out")
            if not verify_pin(old_pin, person.pin_hash):
                person.failed_pins += 1
                audit.record(s, self.ctx, actor, Entity.STAFF, person.id, "sign_in_failed",
                             to_value=person.failed_pins, detail={"source": "pin change"})
                if person.failed_pins >= kiosk.max_pin_attempts:
                    # the same doubling wait as a sign-in's (shopfloor/services/auth.py)
                    person.locked_until = now + _growing(timedelta(minutes=kiosk.lockout_minutes),
                                                         person.failed_pins - kiosk.max_pin_attempts)
                    audit.record(s, self.ctx, actor, Entity.STAFF, person.id, "account_waits",
                                 to_value=person.locked_until.isoformat(), detail={"source": "pin change"})
                    failure = Refused("error.locked_out")
                else:
                    failure = Refused("pins.error.wrong_old", left=kiosk.max_pin_attempts - person.failed_pins)
            else:
                person.pin_hash = hashed
                person.pin_must_change = False
                person.failed_pins, person.locked_until = 0, None
                audit.record(s, self.ctx, actor, Entity.STAFF, person.id, "pin_changed")
        if failure is not None:  # raised after the block, so the count and its audit rows commit
            raise failure

    def must_change(self, staff_id: int) -> bool:
        """Whether the person signed in with a one-time PIN and has yet to choose their own (False for an unknown
        id: there is nobody to ask)."""
        with self.ctx.db.read() as s:
            person = s.get(Advisor, staff_id)
            return person is not None and person.site_id == self.ctx.site and person.pin_must_change

    def check_strength(self, pin: str) -> None:
        check_strength(pin)
