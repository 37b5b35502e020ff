"""Salted scrypt hashes for the broker's accounts, so the plugin config never holds a plaintext password.

Format: ``scrypt$<n>$<r>$<p>$<salt, urlsafe base64>$<key, urlsafe base64>``. The cost parameters travel with
the hash so they can be raised later without invalidating stored hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_SCHEME = "scrypt"
# ~40 ms and 16 MiB per check: the MQTT passwords are long random tokens, so this only has to make a leaked
# config useless, not resist guessing of weak human passwords; more would slow every reconnect storm.
DEFAULT_N = 2**14
DEFAULT_R = 8
DEFAULT_P = 1
_KEY_LEN = 32


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem must cover 128*n*r bytes plus overhead, or OpenSSL refuses larger cost parameters
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_KEY_LEN,
                          maxmem=256 * n * r + 1024 * 1024)


def hash_password(password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    salt = os.urandom(16)
    return "$".join((_SCHEME, str(n), str(r), str(p), _b64(salt), _b64(_scrypt(password, salt, n, r, p))))


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of `password` against a `hash_password` result; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.urlsafe_b64decode(key)
        actual = _scrypt(password, base64.urlsafe_b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
