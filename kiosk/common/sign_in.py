"""A sign-in ends on a new session: who is signed in never rides on a session id that existed before the PIN.

NiceGUI keys a browser's server-side storage by the id in its signed session cookie, and a PIN is checked in a
websocket event, where no cookie can be set. So a right PIN only earns a ticket: one use, 30 seconds, valid
only for the browser session it was issued to. The browser is sent to SIGN_IN_PATH with it; that HTTP request
moves the language and the list of people known at this device to a fresh session id, records the sign-in
there, empties the old session and redirects to the page. Someone who planted a session cookie in a tablet
(session fixation) holds an id that never gets the sign-in; the ticket travels only over the tablet's own
websocket.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from nicegui import app as nicegui_app
from nicegui import ui

from shopfloor.contract import staff
from shopfloor.contract.staff import StaffRole
from shopfloor.kiosk.common import session

SIGN_IN_PATH = "/_shopfloor/sign-in"
TICKET_SECONDS = 30.0
FALLBACK_PAGE = "/kiosk"
# What a browser keeps across a sign-in: its language and the people who signed in here before.
CARRIED_KEYS = ("lang", "known_staff")


@dataclass(frozen=True)
class Ticket:
    session_id: str
    advisor_id: int
    name: str
    roles: frozenset[StaffRole]
    hours: int
    page: str
    query: str  # the page's query (a booking page opened for a car and day stays on them)
    expires: float


class Tickets:
    """Tickets waiting for their browser (in memory: a restart only means signing in again)."""

    def __init__(self) -> None:
        self._tickets: dict[str, Ticket] = {}
        self._lock = threading.Lock()

    def issue(self, session_id: str, advisor_id: int, name: str, roles: frozenset[StaffRole], hours: int,
              page: str, query: str = "", *, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tickets = {k: t for k, t in self._tickets.items() if t.expires > now}
            self._tickets[token] = Ticket(session_id, advisor_id, name, roles, hours, page, query,
                                          now + TICKET_SECONDS)
        return token

    def redeem(self, token: str, session_id: str | None, *, now: float | None = None) -> Ticket | None:
        """The ticket if it is alive and this browser's; used up either way."""
        now = time.monotonic() if now is None else now
        with self._lock:
            ticket = self._tickets.pop(token, None)
        if ticket is None or ticket.expires <= now or not session_id \
                or not secrets.compare_digest(ticket.session_id, session_id):
            return None
        return ticket


TICKETS = Tickets()


def start(advisor_id: int, name: str, roles: frozenset[StaffRole], hours: int, page: str) -> None:
    """Inside a page's event (the PIN was right on staff page `page`): send this browser to the sign-in route
    with a ticket."""
    client = ui.context.client
    request = client.request
    session_id = request.session.get("id") if request is not None else None
    if not isinstance(session_id, str):
        raise RuntimeError("signing in needs NiceGUI's session storage (ui.run(storage_secret=…))")
    query = request.url.query if request is not None and request.url.path == page else ""
    token = TICKETS.issue(session_id, advisor_id, name, roles, hours, page, query)
    ui.navigate.to(f"{SIGN_IN_PATH}?ticket={token}")  # NiceGUI puts a trusted proxy's path prefix in front


def destination(roles: frozenset[StaffRole], page: str, query: str = "") -> str:
    """The staff page the sign-in started on, with its query, if it is theirs; else their first page (none: this
    one, which says so). Nothing but a staff page's path is ever redirected to."""
    if page not in staff.PAGE_BY_PATH:
        page, query = FALLBACK_PAGE, ""
    home = staff.landing_page(roles)
    if home is not None and not staff.may_open(roles, page):
        return home
    return f"{page}?{query}" if query else page


def register(app: FastAPI) -> None:
    @app.get(SIGN_IN_PATH, include_in_schema=False)
    async def sign_in(request: Request, ticket: str = "") -> RedirectResponse:
        pending = TICKETS.redeem(ticket, request.session.get("id"))
        if pending is None:  # stale, used, or another browser's: sign in again
            return RedirectResponse(FALLBACK_PAGE, status_code=303)
        await _rotate_session(request)
        session.log_in(pending.advisor_id, pending.name, pending.hours, pending.roles)
        # (a redirect's path gets a trusted proxy's prefix from NiceGUI's RedirectWithPrefixMiddleware)
        return RedirectResponse(destination(pending.roles, pending.page, pending.query), status_code=303)


async def _rotate_session(request: Request) -> None:
    """Give this browser a new session id carrying only CARRIED_KEYS; the old id is left with nothing."""
    old = nicegui_app.storage.user
    carried = {key: old[key] for key in CARRIED_KEYS if key in old}
    old.clear()
    new_id = str(uuid.uuid4())
    request.session["id"] = new_id  # the session middleware sends the new cookie with this response
    # NiceGUI creates a session's storage when a request with that id arrives; this one must exist now.
    await nicegui_app.storage._create_user_storage(new_id)
    nicegui_app.storage.user.update(carried)
