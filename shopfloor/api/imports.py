"""/imports: customers, vehicles and appointments from a DMS export (CSV), bad rows reported by line and field."""

import base64
from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, unprocessable
from shopfloor.api.fields import ChangeBody, FileText, Text
from shopfloor.api.shapes import Shape
from shopfloor.contract.payloads import Day
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import Invalid
from shopfloor.services import dms_import

router = APIRouter(route_class=GuardedRoute, tags=["data exchange"])


class ImportBody(ChangeBody):
    mapping: dict[str, Text] | None = Field(default=None, description="our field → the file's column header; "
                                            "default: recognised from the header")
    csv: FileText | None = Field(default=None, description="the file as text")
    csv_base64: str | None = Field(default=None, max_length=70_000_000,
                                   description="the file's bytes, base64 (for GB18030 files)")
    dry_run: bool = False


class RowProblem(Shape):
    line: int = Field(description="the line in the file, as an editor shows it")
    field: str = Field(description="our field name; empty for the row as a whole")
    message: str


class ImportReport(Shape):
    rows: int = Field(description="data rows read")
    customers: int = Field(description="new customers")
    vehicles: int = Field(description="new vehicles (each with a new QR tag)")
    appointments: int = Field(description="new appointments")
    updated: int = Field(description="rows that changed an existing customer, vehicle or appointment")
    failed: int = Field(description="lines not imported")
    errors: list[RowProblem] = Field(description="rows not imported, one entry per problem")
    warnings: list[RowProblem] = Field(description="imported with a part left out (a past appointment)")
    days: list[Day] = Field(description="days whose bookings changed")
    appointment_ids: list[int]
    dry_run: bool = Field(description="checked and counted; nothing kept (and no write lock taken)")
    rows_done: int = Field(description="data rows gone through, from the first on (imported or refused)")
    stopped_at_line: int | None = Field(description="set when the import stopped before the end (the database "
                                        "refused a batch): the first line not gone through. The rows before it are "
                                        "in; the same file imported again finishes the job")
    stopped_reason: str | None = Field(description="why the import stopped")
    mapping: dict[str, str] = Field(description="the mapping used: our field → the file's column header")


@router.post("/imports", summary="Import customers, vehicles and appointments from a DMS export (CSV)",
             responses=BODY_ERRORS | unprocessable(
                 "csv and csv_base64 both or neither given, csv_base64 that is not base64, a file that is empty, "
                 "too large or in an encoding it cannot be read in, a mapping to unknown fields or missing columns "
                 "or without the VIN (bad rows are reported in the 200 answer instead)"))
def post_import(api: Services, caller: Annotated[Caller, allowed(Permission.DATA_EXCHANGE)],
                body: ImportBody) -> ImportReport:
    if (body.csv is None) == (body.csv_base64 is None):
        raise Invalid("api.import_one_file")
    try:
        data = body.csv.encode("utf-8") if body.csv is not None else base64.b64decode(body.csv_base64 or "",
                                                                                      validate=True)
    except ValueError:
        raise Invalid("api.import_base64") from None
    mapping = dict(body.mapping) if body.mapping else dms_import.suggest_mapping(dms_import.read_header(data))
    report = api.dms_import.import_csv(data, mapping, caller.actor, lang="en", dry_run=body.dry_run)
    if report.days and not body.dry_run:
        api.booking.refresh_days(sorted(report.days))
    return ImportReport.model_validate({**report.to_dict(), "mapping": mapping})
