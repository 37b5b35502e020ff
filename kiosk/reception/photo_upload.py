"""POST /kiosk/photos/<number>: a photo from the advisor's tablet for a walkaround mark, sent by car_diagram.js with
the browser's session (the staff member signed in on this tablet), not an API token. The body is the image's bytes
as the camera gave them; OrderPhotoService.upload checks, shrinks and re-encodes it.

A form on another site could post to this browser's session: a request must carry the X-Shopfloor-Photo header,
which only a script of this origin can add (another origin's would need a CORS preflight we never allow), and an
Origin header, when the browser sends one, must be this server's. Not more than [reception] photo_max_mb (+1 byte,
so the service can say it is too large) is read into memory."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError, NotFound, Refused
from shopfloor.kiosk.common import session
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.reception.photos import NotAnImage, PhotoTooLarge

if TYPE_CHECKING:
    from shopfloor.services.reception.photos import OrderPhotoService
    from shopfloor.settings import Settings

log = logging.getLogger(__name__)
PATH = "/kiosk/photos/{number}"
HEADER = "x-shopfloor-photo"
# per app, the services its route answers with: registered again (the tests build one server after another on
# NiceGUI's one app), a route still there answers from the newest server
_serving: dict[int, tuple[OrderPhotoService, Settings]] = {}


def url(number: str) -> str:
    return PATH.replace("{number}", number)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


def _status_of(exc: DomainError) -> int:
    if isinstance(exc, PhotoTooLarge):
        return 413
    if isinstance(exc, NotAnImage):
        return 415
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Refused):
        return 409
    return 422


def register(app: FastAPI, photos: OrderPhotoService, settings: Settings) -> None:
    _serving[id(app)] = (photos, settings)
    if any(getattr(route, "path", None) == PATH for route in app.routes):
        return

    @app.post(PATH, include_in_schema=False)
    async def upload(number: str, request: Request) -> JSONResponse:
        photos, settings = _serving[id(app)]
        user = session.route_user(Permission.RECEPTION)
        lang = session.language(settings.site.language)
        if request.headers.get(HEADER) != "1" or not _same_origin(request):
            raise HTTPException(status_code=403, detail="not from this site's page")
        limit = settings.reception.photo_max_mb * 1024 * 1024
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            exc: DomainError = PhotoTooLarge("walkaround.error.photo_too_large", mb=settings.reception.photo_max_mb)
            return JSONResponse({"detail": exc.message(lang)}, status_code=413)
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                break  # enough to be refused as too large: the rest is not read
        try:
            info = await io(photos.upload, number, bytes(data[:limit + 1]), actor=user.actor)
        except DomainError as exc:
            return JSONResponse({"detail": exc.message(lang)}, status_code=_status_of(exc))
        return JSONResponse({"id": info.id, "url": info.url, "width": info.width, "height": info.height},
                            status_code=201)
