"""GET /documents/repair-order/<number>.pdf: the repair order as an A4 PDF for staff signed in on a staff page of
this browser (the estimate page's 'PDF' button opens it in a new tab). Not an API route: a browser's session, not a
token, opens it, as with the photos (kiosk/workshop/photos.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException, Response

from shopfloor.api.documents import pdf_response
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import NotFound
from shopfloor.kiosk.common import session

if TYPE_CHECKING:
    from shopfloor.services.reception.documents import DocumentService

PATH = "/documents/repair-order/{number}.pdf"


def register(app: FastAPI, documents: DocumentService) -> None:
    @app.get(PATH, include_in_schema=False)
    def repair_order_pdf(number: str) -> Response:
        session.route_user(Permission.REPAIR_ORDER_READ)
        if not 1 <= len(number) <= 40:
            raise HTTPException(status_code=404, detail="no such repair order")
        try:
            pdf = documents.repair_order_pdf(number)
        except NotFound:
            raise HTTPException(status_code=404, detail="no such repair order") from None
        return pdf_response(pdf, number)
