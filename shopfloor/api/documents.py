"""/repair-orders/{number}/documents (issue 11, reception: steps 3–5): the repair order as an A4 PDF in the site's
language, and the estimate slip on a receipt printer."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission

router = APIRouter(route_class=GuardedRoute, tags=["reception"])
PDF: dict[int | str, dict[str, Any]] = {200: {"description": "the PDF", "content": {"application/pdf": {"schema": {
    "type": "string", "format": "binary"}}}}}


class EstimatePrintBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    printer: Text = Field(min_length=1, max_length=32, description="a printer of the site, e.g. reception")


class EstimatePrintJob(Shape):
    id: int
    printer: str
    status: str = Field(description="pending until the printer's agent reports printed, uncertain or failed")
    reprint: bool = Field(description="a slip of the same estimate version was printed or sent before: this one "
                                      "is marked REPRINT")


def pdf_response(pdf: bytes, number: str) -> Response:
    """The PDF shown in the browser (inline), named after its order."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", number)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="repair-order-{name}.pdf"',
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/repair-orders/{number}/documents/repair-order.pdf",
            summary="The repair order (维修工单) as an A4 PDF: customer, vehicle, service and extra information, the "
                    "priced lines, the walkaround diagram, every signed version's signature and the customer link",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], response_class=Response,
            responses=PDF | unprocessable())
def get_repair_order_pdf(api: Services, number: RoNumber) -> Response:
    return pdf_response(api.reception.documents.repair_order_pdf(number), number)


@router.post("/repair-orders/{number}/estimate/print", summary="Print the estimate slip (lines, totals, the "
             "signature's digest, the customer link as a QR) on a receipt printer", status_code=201,
             responses=BODY_ERRORS | unprocessable())
def post_estimate_print(api: Services, caller: Annotated[Caller, allowed(Permission.TICKET_PRINT)],
                        number: RoNumber, body: EstimatePrintBody) -> EstimatePrintJob:
    job = api.printing.print_estimate(number, body.printer, actor=caller.actor)
    return EstimatePrintJob(id=job.id, printer=job.printer, status=job.status, reprint=job.reprint)
