"""Wall-screen pairing: a screen opens /board/…?token=… once and is remembered through its session cookie.

The token is a screen's own display token (made in /setup → Wall screens, revocable one by one) or, for the demo,
the [boards] token of credentials.toml. The cookie-backed user storage keeps a digest of the token, not the token:
a leaked storage file does not leak it, regenerating credentials.toml unpairs the screens paired with its token,
and revoking a screen unpairs it at its next page load (and within a minute on a board left open: `watch`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import Request
from nicegui import app, run, ui

from shopfloor.services.setup.tokens import digest

if TYPE_CHECKING:
    from shopfloor.services.setup.tokens import TokenAdmin

log = logging.getLogger(__name__)

STORAGE_KEY = "shopfloor.board.pairing"
SCREEN_PREFIX = "screen:"  # a screen's pairing is remembered as this + its token's digest (as the database has it)
WATCH_SECONDS = 30.0  # an open board checks its screen is still paired this often: shut out within a minute


class Pairing(Enum):
    PAIRED = "paired"                # the cookie carries a pairing for the current token
    JUST_PAIRED = "just_paired"      # a right ?token=…: remember, then redirect to a URL without it
    UNPAIRED = "unpaired"
    WRONG_TOKEN = "wrong_token"


def token_digest(token: str) -> str:
    return hashlib.sha256(f"shopfloor-board-pairing:{token}".encode()).hexdigest()


def check(request: Request, token: str | None, board_token: str, screens: TokenAdmin | None = None) -> Pairing:
    """Decide (and remember) whether this browser may see the board. Must run inside a page builder."""
    if not board_token and screens is None:
        log.error("no board token configured ([boards] token in credentials.toml) and no wall screens: wall "
                  "boards stay unpaired")
        return Pairing.UNPAIRED
    try:
        storage = app.storage.user
    except RuntimeError:
        log.error("wall boards need ui.run(storage_secret=…) to remember paired screens")
        return Pairing.UNPAIRED
    if token is not None:
        if board_token and hmac.compare_digest(token.encode(), board_token.encode()):
            storage[STORAGE_KEY] = token_digest(board_token)
            log.info("paired a wall screen for %s from %s", request.url.path, _peer(request))
            return Pairing.JUST_PAIRED
        screen = screens.screen(token) if screens is not None else None
        if screen is not None and screens is not None:
            storage[STORAGE_KEY] = SCREEN_PREFIX + digest(token)
            screens.seen(screen.id, _peer(request))
            log.info("paired the wall screen %r for %s from %s", screen.name, request.url.path, _peer(request))
            return Pairing.JUST_PAIRED
        log.warning("wrong board token for %s from %s", request.url.path, _peer(request))
        return Pairing.WRONG_TOKEN
    remembered = storage.get(STORAGE_KEY)
    if not isinstance(remembered, str):
        return Pairing.UNPAIRED
    if board_token and hmac.compare_digest(remembered, token_digest(board_token)):
        return Pairing.PAIRED
    if remembered.startswith(SCREEN_PREFIX) and screens is not None:
        screen = screens.screen_by_digest(remembered.removeprefix(SCREEN_PREFIX))
        if screen is not None:
            screens.seen(screen.id, _peer(request))
            return Pairing.PAIRED
        log.info("a revoked wall screen asked for %s from %s", request.url.path, _peer(request))
        del storage[STORAGE_KEY]
    return Pairing.UNPAIRED


def watch(request: Request, screens: TokenAdmin | None) -> None:
    """On a board paired by a screen's token: check every WATCH_SECONDS that the screen is still paired (and
    note it seen); once revoked, reload the page, which then shows the pairing hint. Inside a page builder."""
    if screens is None:
        return
    try:
        remembered = app.storage.user.get(STORAGE_KEY)
    except RuntimeError:
        return
    if not isinstance(remembered, str) or not remembered.startswith(SCREEN_PREFIX):
        return
    token_sha = remembered.removeprefix(SCREEN_PREFIX)
    peer = _peer(request)

    def still_paired() -> bool:
        screen = screens.screen_by_digest(token_sha)
        if screen is None:
            return False
        screens.seen(screen.id, peer)
        return True

    async def check_again() -> None:
        if not await run.io_bound(still_paired):
            log.info("wall screen at %s revoked: shutting its board", peer)
            ui.navigate.reload()

    ui.timer(WATCH_SECONDS, check_again)


def url_without_token(request: Request) -> str:
    """Where to send a freshly paired screen: same page and query, minus the token (not left in history).

    Relative to the current path (its last segment), so it stays right behind a reverse proxy's prefix."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    last = request.url.path.rsplit("/", 1)[-1] or "./"
    return f"{last}?{urlencode(query)}" if query else last


def _peer(request: Request) -> str:
    return request.client.host if request.client else "unknown"
