"""Wall-screen pairing: a screen opens /board/…?token=… once and is remembered through its session cookie.

The cookie-backed user storage keeps a digest of the token, not the token: a leaked storage file does not
leak it, and regenerating credentials.toml unpairs every screen at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from enum import Enum
from urllib.parse import urlencode

from fastapi import Request
from nicegui import app

log = logging.getLogger(__name__)

STORAGE_KEY = "shopfloor.board.pairing"


class Pairing(Enum):
    PAIRED = "paired"                # the cookie carries a pairing for the current token
    JUST_PAIRED = "just_paired"      # a right ?token=…: remember, then redirect to a URL without it
    UNPAIRED = "unpaired"
    WRONG_TOKEN = "wrong_token"


def token_digest(token: str) -> str:
    return hashlib.sha256(f"shopfloor-board-pairing:{token}".encode()).hexdigest()


def check(request: Request, token: str | None, board_token: str) -> Pairing:
    """Decide (and remember) whether this browser may see the board. Must run inside a page builder."""
    if not board_token:
        log.error("no board token configured ([boards] token in credentials.toml): wall boards stay unpaired")
        return Pairing.UNPAIRED
    try:
        storage = app.storage.user
    except RuntimeError:
        log.error("wall boards need ui.run(storage_secret=…) to remember paired screens")
        return Pairing.UNPAIRED
    if token is not None:
        if hmac.compare_digest(token.encode(), board_token.encode()):
            storage[STORAGE_KEY] = token_digest(board_token)
            log.info("paired a wall screen for %s from %s", request.url.path, _peer(request))
            return Pairing.JUST_PAIRED
        log.warning("wrong board token for %s from %s", request.url.path, _peer(request))
        return Pairing.WRONG_TOKEN
    remembered = storage.get(STORAGE_KEY)
    if isinstance(remembered, str) and hmac.compare_digest(remembered, token_digest(board_token)):
        return Pairing.PAIRED
    return Pairing.UNPAIRED


def url_without_token(request: Request) -> str:
    """Where to send a freshly paired screen: same page and query, minus the token (not left in history).

    Relative to the current path (its last segment), so it stays right behind a reverse proxy's prefix."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    last = request.url.path.rsplit("/", 1)[-1] or "./"
    return f"{last}?{urlencode(query)}" if query else last


def _peer(request: Request) -> str:
    return request.client.host if request.client else "unknown"
