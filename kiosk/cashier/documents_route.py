"""Staff browser routes for the settlement's papers, opened with the browser's staff session (not a token), as the
repair order's PDF (kiosk/reception/documents_route.py): GET /documents/settlement-list/<number>.pdf, and the
JT/T 1132 export the data page downloads, GET /documents/settlement-export?from=&to=&format=."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import FastAPI, HTTPException, Query, Response

from shopfloor.api.settlement_documents import export_response, list_pdf_response
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import Invalid, NotFound
from shopfloor.kiosk.common import session

if TYPE_CHECKING:
    from shopfloor.services.settlement.documents import SettlementDocuments

PATH = "/documents/settlement-list/{number}.pdf"
EXPORT_PATH = "/documents/settlement-export"


def register(app: FastAPI, documents: SettlementDocuments, language: str) -> None:
    @app.get(PATH, include_in_schema=False)
    def settlement_list_pdf(number: str) -> Response:
        session.route_user(Permission.SETTLEMENT_READ)
        if not 1 <= len(number) <= 40:
            raise HTTPException(status_code=404, detail="no such repair order")
        try:
            pdf = documents.list_pdf(number)
        except NotFound:
            raise HTTPException(status_code=404, detail="no such repair order") from None
        return list_pdf_response(pdf, number)

    @app.get(EXPORT_PATH, include_in_schema=False)
    def settlement_export(first: Annotated[date, Query(alias="from")], last: Annotated[date, Query(alias="to")],
                          fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json") -> Response:
        session.route_user(Permission.SETTLEMENT_EXPORT)
        try:
            body = documents.export(first, last, fmt)
        except Invalid as bad:
            raise HTTPException(status_code=422, detail=bad.message(language)) from None
        return export_response(body, first, last, fmt)
