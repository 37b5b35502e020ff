"""The settlement list (机动车维修结算清单, JT/T 1133) as an A4 PDF and on a receipt printer, and the settled orders
as records for the regional maintenance health-record platform (JT/T 1132), as JSON or CSV (issue 12)."""

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.documents import PDF, EstimatePrintJob
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import RoNumber, Text
from shopfloor.contract.staff import Permission

router = APIRouter(route_class=GuardedRoute, tags=["settlement list, JT/T 1132 export"])
EXPORT: dict[int | str, dict[str, object]] = {200: {"description": "the records", "content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    "text/csv": {"schema": {"type": "string"}}}}}


class SettlementListPrintBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    printer: Text = Field(min_length=1, max_length=32, description="a printer of the site, e.g. reception")


def list_pdf_response(pdf: bytes, number: str) -> Response:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", number)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="settlement-list-{name}.pdf"',
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def export_response(body: bytes, first: date, last: date, fmt: str) -> Response:
    media = "application/json; charset=utf-8" if fmt == "json" else "text/csv; charset=utf-8"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="jtt1132-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/repair-orders/{number}/documents/settlement-list.pdf",
            summary="The settlement list (机动车维修结算清单, JT/T 1133) as an A4 PDF: the shop and its licence, the "
                    "customer, the vehicle with its VIN and mileage, dates in, settled and out, items with hours, "
                    "parts with numbers, the amounts in CNY, the payments and the repair's warranty",
            dependencies=[allowed(Permission.SETTLEMENT_READ)], response_class=Response,
            responses=PDF | unprocessable())
def get_settlement_list_pdf(api: Services, number: RoNumber) -> Response:
    return list_pdf_response(api.settlement.documents.list_pdf(number), number)


@router.post("/repair-orders/{number}/settlement-list", summary="Print the settlement list on a receipt printer; "
             "the same list printed before is marked REPRINT, a list with a new payment is a new paper",
             status_code=201, responses=BODY_ERRORS | unprocessable())
def post_settlement_list(api: Services, caller: Annotated[Caller, allowed(Permission.SETTLEMENT_READ)],
                         number: RoNumber, body: SettlementListPrintBody) -> EstimatePrintJob:
    job = api.settlement.documents.print_list(number, body.printer, actor=caller.actor)
    return EstimatePrintJob(id=job.id, printer=job.printer, status=job.status, reprint=job.reprint)


@router.get("/settlements/export",
            summary="The orders settled on the site's days from..to (at most 366 days), one JT/T 1132 record each "
                    "(汽车维修电子健康档案: the platform's field names, what shopfloor adds under 'shopfloor'; "
                    "docs/jtt1132.md): JSON, or CSV in UTF-8 with a BOM and the lists as JSON in their columns",
            dependencies=[allowed(Permission.SETTLEMENT_EXPORT)], response_class=Response,
            responses=EXPORT | unprocessable())
def get_settlement_export(api: Services, first: Annotated[date, Query(alias="from")],
                          last: Annotated[date, Query(alias="to")],
                          fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json") -> Response:
    return export_response(api.settlement.documents.export(first, last, fmt), first, last, fmt)
