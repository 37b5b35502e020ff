"""GET /c/<token>/photos/<name>: a photo of the customer's own order (a walkaround mark's, a finding's), for the
browser that proved the plate for that token and for no other order's photos. Anything else gets the same 404, so
the route tells nobody whether a token or a photo exists."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

from shopfloor.customer import session
from shopfloor.customer.sections import DIAGRAM_URL
from shopfloor.kiosk import reception as reception_pages
from shopfloor.services.workshop.photos import CONTENT_TYPES, NAME_RE

if TYPE_CHECKING:
    from shopfloor.services.reception.services import ReceptionServices


def diagram() -> Path:
    """The walkaround's top view as the kiosk draws it (kiosk/reception/static, read only), else this page's own
    drawing of the same geometry."""
    kiosk = Path(reception_pages.__file__).parent / "static" / "car_diagram.svg"
    return kiosk if kiosk.is_file() else Path(__file__).parent / "static" / "car_top.svg"


def register(app: FastAPI, path: str, reception: ReceptionServices) -> None:
    route = f"{path}/{{token}}/photos/{{name}}"
    if any(getattr(r, "path", None) == route for r in app.routes):
        return

    @app.get(DIAGRAM_URL, include_in_schema=False)
    def car_diagram() -> FileResponse:
        return FileResponse(diagram(), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=3600"})

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
