"""Staff PINs: how they are stored (Argon2id) and which PINs are accepted (4–8 digits)."""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PIN_MIN, PIN_MAX = 4, 8
# argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes): ~90 ms on the 2-core server, which a
# person signing in does not notice and which makes every guess at a stolen database cost the same.
_HASHER = PasswordHasher()


class PinFormatError(ValueError):
    pass


def check_pin_format(pin: str) -> str:
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise PinFormatError(f"a PIN is {PIN_MIN} to {PIN_MAX} digits")
    return pin


def hash_pin(pin: str) -> str:
    return _HASHER.hash(check_pin_format(pin))


def verify_pin(pin: str, stored: str) -> bool:
    if stored.startswith("pbkdf2$"):
        return _verify_pbkdf2(pin, stored)
    try:
        return _HASHER.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Hashes from before Argon2 (PBKDF2, revision 0004 and earlier) or with weaker parameters."""
    if stored.startswith("pbkdf2$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_pbkdf2(pin: str, stored: str) -> bool:
    try:
        _, iterations, salt, digest = stored.split("$")
        candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations)).hex()
    except ValueError:
        return False
    return hmac.compare_digest(candidate, digest)
