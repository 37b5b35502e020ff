"""GET /photos/<name>: a photo of additional work (services/workshop/photos.py), for staff signed in on a staff
page of this browser and no one else: the advisor's kiosk shows it beside the finding, the customer sees it on the
advisor's screen. Not an API route: a browser's session, not a token, opens it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

from shopfloor.contract.staff import Permission
from shopfloor.kiosk.common import session
from shopfloor.services.workshop.photos import CONTENT_TYPES

if TYPE_CHECKING:
    from shopfloor.services.workshop.photos import PhotoStore

PATH = "/photos/{name}"


def register(app: FastAPI, store: PhotoStore) -> None:
    @app.get(PATH, include_in_schema=False)
    def photo(name: str) -> FileResponse:
        session.route_user(Permission.REPAIR_ORDER_READ)
        path = store.path(name)
        if path is None:
            raise HTTPException(status_code=404, detail="no such photo")
        # the type is the one its bytes were checked as when stored; nosniff keeps the browser to it
        return FileResponse(path, media_type=CONTENT_TYPES[path.suffix.lstrip(".")],
                            headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})
