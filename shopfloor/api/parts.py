"""/parts, /pick-lists, /repair-orders/{number}/parts, /parts-lines and /back-orders: the parts counter. The
catalogue (read, kept, imported from CSV), each open order's pick list, issuing by scan or by line, a shortage put
on back-order with its ETA (the job line waits for it), its arrival, and unused parts returned."""

import base64
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import ChangeBody, FileText, Id, RoNumber, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import Invalid
from shopfloor.services import views
from shopfloor.services.parts.catalogue import PartInfo
from shopfloor.services.parts.counter import PartsLineInfo

router = APIRouter(route_class=GuardedRoute, tags=["parts"])
PartNumber = Annotated[Text, Path(min_length=1, max_length=40, description="the part number, e.g. 04152-YZZA6")]
QUANTITY_NOTE = "more than 0, at most 1000, two decimals"


class PartOut(Shape):
    number: str
    name: str
    price: float = Field(description="the selling price, yuan")
    stock: float = Field(description="on hand")
    updated_at: str
    updated_by: str


class PartBody(ChangeBody):
    name: Text = Field(min_length=1, max_length=80)
    price: float = Field(ge=0, le=1_000_000)
    stock: float = Field(ge=0, le=1_000_000, description="on hand: a stock take sets it")


class PartsImportBody(ChangeBody):
    csv: FileText | None = Field(default=None, description="the file as text; header number,name,price,stock (or "
                                                           "零件号,名称,单价,库存)")
    csv_base64: str | None = Field(default=None, max_length=6_000_000,
                                   description="the file's bytes, base64 (for GB18030 files)")
    dry_run: bool = Field(default=False, description="check every row, store nothing")


class RowError(Shape):
    row: int = Field(description="the row as a spreadsheet counts it: the header is row 1")
    key: str = Field(description="what is wrong, as a message key")
    message: str


class PartsImportOut(Shape):
    rows: int
    added: int
    updated: int
    applied: bool = Field(description="false for a dry run, or when any row was bad: then nothing changed")
    errors: list[RowError]


class PartsLineOut(Shape):
    id: int
    repair_order: str
    plate: str
    promised_at: str | None
    job_line: int
    job_line_description: str
    number: str = Field(description="the part number; empty for a part named only by additional work")
    name: str
    quantity: float
    unit_price: float
    issued: float
    returned: float
    status: str = Field(description="to_pick | back_order | issued | returned")
    eta: date | None = Field(description="back_order: when it is due")
    stock: float | None = Field(description="on hand; null for a part not in the catalogue")
    back_ordered_at: str | None
    arrived_at: str | None


class PickListRow(Shape):
    number: str
    plate: str
    vehicle_model: str
    status: str
    promised_at: str | None
    technician: str | None
    to_pick: int
    back_order: int
    eta: date | None = Field(description="the latest ETA of its back-orders")


class JobLineRef(Shape):
    id: int
    description: str


class PickListOut(Shape):
    number: str
    plate: str
    vehicle_model: str
    customer: str
    advisor: str
    status: str
    promised_at: str | None
    job_lines: list[JobLineRef]
    lines: list[PartsLineOut]


class AddBody(ChangeBody):
    job_line: int = Field(ge=1, le=2**31 - 1, description="the job line's id (the order's state names them)")
    part: Text = Field(min_length=1, max_length=40, description="a part number of the catalogue")
    quantity: float = Field(default=1, gt=0, le=1000, description=QUANTITY_NOTE)
    unit_price: float | None = Field(default=None, ge=0, le=1_000_000, description="default: the catalogue's")


class ScanBody(ChangeBody):
    code: Text = Field(min_length=1, max_length=60, description="the part number as scanned or typed")


class IssueBody(ChangeBody):
    quantity: float | None = Field(default=None, gt=0, le=1000, description="default: all still to issue")


class BackOrderBody(ChangeBody):
    eta: date = Field(description="when the part is due (today or later)")


class ReturnBody(ChangeBody):
    quantity: float = Field(gt=0, le=1000, description=QUANTITY_NOTE)


class ArrivedBody(ChangeBody):
    pass


def _when(api: Services, moment: datetime | None) -> str | None:
    return views.iso(moment, api.ctx.tz)


def part_out(p: PartInfo, api: Services) -> PartOut:
    return PartOut(number=p.number, name=p.name, price=p.price, stock=p.stock,
                   updated_at=views.at(p.updated_at, api.ctx.tz), updated_by=p.updated_by)


def line_out(p: PartsLineInfo, api: Services) -> PartsLineOut:
    return PartsLineOut(id=p.id, repair_order=p.repair_order, plate=p.plate, promised_at=_when(api, p.promised_at),
                        job_line=p.job_line_id, job_line_description=p.job_line, number=p.number, name=p.name,
                        quantity=p.quantity, unit_price=p.unit_price, issued=p.issued, returned=p.returned,
                        status=p.status, eta=p.eta, stock=p.stock, back_ordered_at=_when(api, p.back_ordered_at),
                        arrived_at=_when(api, p.arrived_at))


# -- the catalogue -------------------------------------------------------------------------------------------

@router.get("/parts", summary="The parts catalogue, by number; `q` searches number and name",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable())
def list_parts(api: Services, q: Annotated[Text, Query(max_length=40)] = "",
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[PartOut]:
    return [part_out(p, api) for p in api.parts.catalogue.search(q, limit)]


@router.get("/parts/{part_number}", summary="A part of the catalogue with its stock on hand",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable("not a part number"))
def get_part(api: Services, part_number: PartNumber) -> PartOut:
    return part_out(api.parts.catalogue.get(part_number), api)


@router.put("/parts/{part_number}", summary="Add a part to the catalogue or change its name, price or stock",
            responses=BODY_ERRORS | unprocessable("not a part number"))
def put_part(api: Services, caller: Annotated[Caller, allowed(Permission.PARTS_ISSUE)], part_number: PartNumber,
             body: PartBody) -> PartOut:
    return part_out(api.parts.catalogue.save(part_number, body.name, body.price, body.stock, actor=caller.actor),
                    api)


@router.post("/parts/import", summary="Import the catalogue from CSV: every bad row reported, none stored then",
             responses=BODY_ERRORS | unprocessable("csv and csv_base64 both or neither given, bad base64, a file "
                                                   "too large (bad rows are reported in the 200 answer)"))
def post_parts_import(api: Services, caller: Annotated[Caller, allowed(Permission.PARTS_ISSUE)],
                      body: PartsImportBody) -> PartsImportOut:
    if (body.csv is None) == (body.csv_base64 is None):
        raise Invalid("api.import_one_file")
    try:
        data = body.csv.encode("utf-8") if body.csv is not None else base64.b64decode(body.csv_base64 or "",
                                                                                      validate=True)
    except ValueError:
        raise Invalid("api.import_base64") from None
    report = api.parts.imports.run(data, actor=caller.actor, apply=not body.dry_run)
    return PartsImportOut(rows=report.rows, added=report.added, updated=report.updated, applied=report.applied,
                          errors=[RowError(row=e.row, key=e.key, message=e.message("en")) for e in report.errors])


# -- pick lists ------------------------------------------------------------------------------------------------

@router.get("/pick-lists", summary="Open orders with parts to pick or on back-order, the earliest promise first",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)])
def list_pick_lists(api: Services) -> list[PickListRow]:
    return [PickListRow(number=x.number, plate=x.plate, vehicle_model=x.vehicle_model, status=x.status,
                        promised_at=_when(api, x.promised_at), technician=x.technician, to_pick=x.to_pick,
                        back_order=x.back_order, eta=x.eta) for x in api.parts.counter.pick_lists()]


@router.get("/repair-orders/{number}/parts", summary="An order's pick list: its parts lines",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)], responses=unprocessable())
def get_pick_list(api: Services, number: RoNumber) -> PickListOut:
    p = api.parts.counter.pick_list(number)
    return PickListOut(number=p.number, plate=p.plate, vehicle_model=p.vehicle_model, customer=p.customer,
                       advisor=p.advisor, status=p.status, promised_at=_when(api, p.promised_at),
                       job_lines=[JobLineRef(id=i, description=d) for i, d in p.job_lines],
                       lines=[line_out(x, api) for x in p.lines])


@router.post("/repair-orders/{number}/parts", summary="Put a catalogue part on a job line (on the pick list)",
             status_code=201, responses=BODY_ERRORS | unprocessable("not a part number"))
def post_parts_line(api: Services, caller: Annotated[Caller, allowed(Permission.PARTS_ISSUE)], number: RoNumber,
                    body: AddBody) -> PartsLineOut:
    return line_out(api.parts.counter.add(number, body.job_line, body.part, body.quantity, actor=caller.actor,
                                          unit_price=body.unit_price), api)


@router.post("/repair-orders/{number}/parts/scan", summary="A part number scanned at the order's pick list: issued",
             responses=BODY_ERRORS | unprocessable("not a part number"))
def post_scan(api: Services, caller: Annotated[Caller, allowed(Permission.PARTS_ISSUE)], number: RoNumber,
              body: ScanBody) -> PartsLineOut:
    return line_out(api.parts.counter.scan(number, body.code, actor=caller.actor), api)


@router.post("/parts-lines/{line_id}/issue", summary="Issue a part out of stock (409 when the stock is short)",
             responses=BODY_ERRORS | unprocessable("more than is left to issue"))
def post_issue(api: Services, caller: Annotated[Caller, allowed(Permission.PARTS_ISSUE)], line_id: Id,
               body: IssueBody) -> PartsLineOut:
    return line_out(api.parts.counter.issue(line_id, actor=caller.actor, quantity=body.quantity), api)


@router.post("/parts-lines/{line_id}/back-order", summary="Short: on back-order with an ETA; the job line waits "
             "for it (paused, waiting parts; the clocking on it ends)",
             responses=BODY_ERRORS | unprocessable("an ETA that has passed"))
def post_back_order(api: Services, caller: Annotated[Caller, allowed(Permission.PARTS_ISSUE)], line_id: Id,
                    body: BackOrderBody) -> PartsLineOut:
    return line_out(api.parts.counter.back_order(line_id, body.eta, actor=caller.actor), api)


@router.post("/parts-lines/{line_id}/arrived", summary="The back-order arrived: in stock, on the pick list again, "
             "its job line released", responses=BODY_ERRORS | unprocessable())
def post_arrived(api: Services, caller: Annotated[Caller, allowed(Permission.PARTS_ISSUE)], line_id: Id,
                 body: ArrivedBody) -> PartsLineOut:
    return line_out(api.parts.counter.arrived(line_id, actor=caller.actor), api)


@router.post("/parts-lines/{line_id}/return", summary="Unused parts brought back: into stock",
             responses=BODY_ERRORS | unprocessable("more than was issued and not returned"))
def post_return(api: Services, caller: Annotated[Caller, allowed(Permission.PARTS_ISSUE)], line_id: Id,
                body: ReturnBody) -> PartsLineOut:
    return line_out(api.parts.counter.give_back(line_id, body.quantity, actor=caller.actor), api)


@router.get("/back-orders", summary="Every part on back-order, the earliest ETA first",
            dependencies=[allowed(Permission.REPAIR_ORDER_READ)])
def list_back_orders(api: Services) -> list[PartsLineOut]:
    return [line_out(x, api) for x in api.parts.counter.back_orders()]
