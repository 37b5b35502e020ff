"""GET /c/<token>/photos/<name>: a photo of the customer's own order (a walkaround mark's, a finding's), for the
browser that proved the plate for that token and for no other order's photos. Anything else gets the same 404, so
the route tells nobody whether a token or a photo exists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

from shopfloor.customer import session
from shopfloor.services.workshop.photos import CONTENT_TYPES, NAME_RE

if TYPE_CHECKING:
    from shopfloor.services.reception.services import ReceptionServices


def register(app: FastAPI, path: str, reception: ReceptionServices) -> None:
    route = f"{path}/{{token}}/photos/{{name}}"
    if any(getattr(r, "path", None) == route for r in app.routes):
        return

    @app.get(route, include_in_schema=False)
    def photo(token: str, name: str) -> FileResponse:
        if not NAME_RE.fullmatch(name) or not session.proved(token) \
                or not reception.customer_page.photo(token, name):
            raise HTTPException(status_code=404, detail="not found")
        found = reception.photos.path(name)
        if found is None:
            raise HTTPException(status_code=404, detail="not found")
        return FileResponse(found, media_type=CONTENT_TYPES[found.suffix.lstrip(".")],
                            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})
