"""GET /healthz: for monitoring, the wall screen's start script (it waits for this before opening Chromium) and
whoever installs a site. No sign-in and no personal data (counts, states, times, problem codes, the version). 200
while the database answers, 503 when it does not; the body is the same JSON either way.

NiceGUI's request-tracking middleware gives every request a session id, which sets a session cookie and makes a
user storage for it: a monitor polling every minute would leave one behind per poll. So /healthz is answered by an
app of its own placed in front of the whole middleware stack: no session, no storage, no cookie. That app has
the security headers every other answer gets (web/security.py) around it, since it is in front of those too.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from shopfloor.services.health import HealthService
from shopfloor.web.security import SecurityHeaders

log = logging.getLogger(__name__)

PATH = "/healthz"


class _HealthzFirst:
    """Sends /healthz to `health_app`, everything else to the app's middleware stack."""

    def __init__(self, stack: ASGIApp, health_app: ASGIApp) -> None:
        self.stack = stack
        self.health_app = health_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == PATH:
            await self.health_app(scope, receive, send)
        else:
            await self.stack(scope, receive, send)


def health_app(health: HealthService) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(PATH, include_in_schema=False)
    async def healthz() -> JSONResponse:
        report = await health.check_soon()
        if not report.database:
            log.warning("/healthz: database not reachable (%s)", report.database_error)
        return JSONResponse(report.to_dict(), status_code=200 if report.database else 503,
                            headers={"Cache-Control": "no-store"})

    return app


def register(app: FastAPI, health: HealthService) -> None:
    """Put /healthz in front of `app`'s middleware (built on the first request, after NiceGUI added its own), with
    the same security headers as every other answer."""
    own = SecurityHeaders(health_app(health))
    build = app.build_middleware_stack

    def build_with_healthz_first() -> ASGIApp:
        return _HealthzFirst(build(), own)

    app.build_middleware_stack = build_with_healthz_first  # type: ignore[method-assign]
