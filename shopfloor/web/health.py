"""GET /healthz: for monitoring, the wall screen's start script (it waits for this before opening Chromium) and
whoever installs a site. No sign-in and no personal data (counts, states, times, the version). 200 while the
database answers, 503 when it does not; the body is the same JSON either way.

A plain FastAPI route: NiceGUI's session and storage middlewares only read the (absent) cookie, and the guards
of web/security.py only add headers, so nothing here waits on a browser session.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shopfloor.services.health import HealthService

log = logging.getLogger(__name__)

PATH = "/healthz"


def register(app: FastAPI, health: HealthService) -> None:
    @app.get(PATH, include_in_schema=False)
    async def healthz() -> JSONResponse:
        report = await health.check_soon()
        if not report.database:
            log.warning("/healthz: database not reachable (%s)", report.database_error)
        return JSONResponse(report.to_dict(), status_code=200 if report.database else 503,
                            headers={"Cache-Control": "no-store"})
