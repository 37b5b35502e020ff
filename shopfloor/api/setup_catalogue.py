"""/setup's catalogues and the site's configuration over the API (Permission.SETUP, the manager's): opening hours,
labour operations and rates, the parts catalogue, printers (with a test print) and customer message texts, each
list also as CSV in and out (a bad line is reported, the good ones kept). Changes to the site configuration are
checked as a whole file, written, audited and used at once, without a restart."""
# No `from __future__ import annotations` in shopfloor/api: FastAPI reads the annotations at runtime.

from datetime import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.access import Caller, GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import BODY_ERRORS, ERRORS, unprocessable
from shopfloor.api.fields import MAX_ID, FileText, Text
from shopfloor.contract.staff import Permission
from shopfloor.domain.capacity import SKILLS
from shopfloor.i18n import t
from shopfloor.services.parts.catalogue import PartInfo
from shopfloor.services.setup.catalogue import CatalogueSetup
from shopfloor.services.setup.csv_io import CsvImport
from shopfloor.services.setup.operations import OperationView
from shopfloor.services.setup.people_common import parse_time
from shopfloor.services.setup.templates import TemplateText
from shopfloor.settings import PrinterSettings

router = APIRouter(route_class=GuardedRoute, tags=["setup: catalogues and configuration"])
SETUP = allowed(Permission.SETUP)
Answers = dict[int | str, dict[str, Any]]
_CONFIG = "a site configuration that would not be valid (the detail names each key at fault; nothing was written)"
CONFIG_REFUSED: Answers = BODY_ERRORS | unprocessable(_CONFIG)
CSV_REFUSED: Answers = BODY_ERRORS | unprocessable(
    "a file with an unknown column, without a required column, empty or unreadable as CSV (bad rows are reported "
    "in the 200 answer instead)")
IN_USE: Answers = {409: {**ERRORS[409], "description": "still named by orders or findings"}}
LAST_PRINTER: Answers = {409: {**ERRORS[409], "description": "the site's last printer"}}
UNKNOWN_TEXT = "an unknown message, channel or language"
TEXT_REFUSED = f"{UNKNOWN_TEXT}, or a text with an unknown {{field}} or an unclosed brace"
# HH:MM as text: a JSON-schema "time" needs an offset, and the site's hours have none (site time)
HHMM = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"


def _setup(api: Services) -> CatalogueSetup:
    return api.catalogue


Setup = Annotated[CatalogueSetup, Depends(_setup)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- CSV ----------------------------------------------------------------------------------------------------------
class CsvIn(_Body):
    csv: FileText = Field(max_length=8 * 1024 * 1024, description="the file's text: a header row of the export's "
                                                                  "column names, then one row per item")


class CsvOut(BaseModel):
    filename: str
    csv: str = Field(description="UTF-8 text (the download adds a BOM for Excel)")


class LineErrorOut(BaseModel):
    line: int = Field(description="the line in the file, as an editor counts (the header is line 1)")
    column: str = Field(description="the column at fault; empty for the row as a whole")
    message: str


class ImportOut(BaseModel):
    rows: int
    added: int
    updated: int
    unchanged: int
    failed: int = Field(description="rows not imported (listed in errors); every other row was kept")
    errors: list[LineErrorOut]
    new_printer_accounts: list[str] = Field(default=[], description="printers that got an MQTT account: run "
                                                                    "`shopfloor mosquitto-config` (or restart "
                                                                    "`shopfloor broker`) so the broker knows it")


def import_out(report: CsvImport, new_accounts: list[str] | None = None) -> ImportOut:
    data = report.to_dict(lambda key, **params: t("en", key, **params))
    return ImportOut(rows=data["rows"], added=data["added"], updated=data["updated"], unchanged=data["unchanged"],
                     failed=data["failed"], errors=[LineErrorOut(line=e["line"], column=e["column"],
                                                                 message=e["message"]) for e in data["errors"]],
                     new_printer_accounts=new_accounts or [])


def _csv(name: str, data: bytes) -> CsvOut:
    return CsvOut(filename=name, csv=data.decode("utf-8-sig"))


# -- opening hours and labour rates --------------------------------------------------------------------------------
class HoursIn(_Body):
    opening: str = Field(pattern=HHMM, description="[site] opening, HH:MM, site time")
    closing: str = Field(pattern=HHMM, description="[site] closing, HH:MM, after opening")
    workdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1, description="ISO weekdays, 1 = Monday")
    shift_start: str = Field(pattern=HHMM, description="[booking] the default shift's start, HH:MM")
    shift_end: str = Field(pattern=HHMM, description="[booking] the default shift's end, HH:MM")
    break_minutes: int = Field(ge=0, le=240)
    slot_minutes: Literal[10, 15, 20, 30]
    walk_in_reserve: float = Field(ge=0, le=0.9, description="share of the day's hours kept from bookings")


class HoursOut(HoursIn):
    pass


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _hours(api: CatalogueSetup) -> HoursOut:
    s = api.config.settings
    return HoursOut(opening=_hhmm(s.site.opening), closing=_hhmm(s.site.closing), workdays=s.booking.workdays,
                    shift_start=_hhmm(s.booking.shift_start), shift_end=_hhmm(s.booking.shift_end),
                    break_minutes=s.booking.break_minutes, slot_minutes=s.booking.slot_minutes,
                    walk_in_reserve=s.booking.walk_in_reserve)


@router.get("/setup/hours", summary="Opening hours, working week, default shift, booking slots",
            dependencies=[SETUP])
def get_hours(api: Setup) -> HoursOut:
    return _hours(api)


@router.put("/setup/hours", summary="Change the opening hours and booking settings (live)", responses=CONFIG_REFUSED)
def put_hours(body: HoursIn, api: Setup, caller: Annotated[Caller, SETUP]) -> HoursOut:
    api.config.set_hours(opening=parse_time("opening", body.opening), closing=parse_time("closing", body.closing),
                         workdays=body.workdays, shift_start=parse_time("shift_start", body.shift_start),
                         shift_end=parse_time("shift_end", body.shift_end), break_minutes=body.break_minutes,
                         slot_minutes=body.slot_minutes, walk_in_reserve=body.walk_in_reserve, actor=caller.actor)
    return _hours(api)


class RatesIn(_Body):
    labour_rate: float = Field(ge=0, le=100_000, description="[workshop] labour_rate: yuan per flat-rate hour")
    per_skill: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,19}$")],
                    Annotated[float, Field(ge=0, le=100_000)]] = Field(
        default={}, description="[reception] labour_rates by skill class; a class left out is priced at labour_rate")


class RatesOut(RatesIn):
    skills: list[str] = Field(description="the skill classes operations are sold in")


def _rates(api: CatalogueSetup) -> RatesOut:
    s = api.config.settings
    return RatesOut(labour_rate=s.workshop.labour_rate, per_skill=dict(s.reception.labour_rates), skills=list(SKILLS))


@router.get("/setup/labour-rates", summary="Labour rates", dependencies=[SETUP])
def get_rates(api: Setup) -> RatesOut:
    return _rates(api)


@router.put("/setup/labour-rates", summary="Change the labour rates (the estimate uses them at once)",
            responses=CONFIG_REFUSED)
def put_rates(body: RatesIn, api: Setup, caller: Annotated[Caller, SETUP]) -> RatesOut:
    api.config.set_labour_rates(labour_rate=body.labour_rate, per_skill=body.per_skill, actor=caller.actor)
    return _rates(api)


# -- labour operations ----------------------------------------------------------------------------------------------
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$", description="operation code, e.g. M20")]


class OperationIn(_Body):
    name_zh: Text = Field(min_length=1, max_length=80)
    name_en: Text = Field(default="", max_length=80, description="empty: the Chinese name")
    hours: float = Field(ge=0.1, le=100, description="flat-rate hours")
    skill: Literal["maintenance", "repair"]
    equipment: Text | None = Field(default=None, max_length=20, description="a bay kind it needs (alignment…)")
    interval_km: int | None = Field(default=None, ge=1, le=500_000, description="a maintenance package's km")
    active: bool | None = Field(default=None, description="false: out of use (kept for the orders that name it, "
                                "offered for no new work); true: back in use; absent: as it is (a new one: in use)")


class OperationOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    hours: float
    skill: str
    equipment: str | None
    interval_km: int | None
    in_use: bool = Field(description="named by orders or findings: it cannot be removed")
    active: bool = Field(description="false: out of use, offered for no new work")


def _op(v: OperationView) -> OperationOut:
    return OperationOut(code=v.code, name_zh=v.name_zh, name_en=v.name_en, hours=v.hours, skill=v.skill,
                        equipment=v.equipment, interval_km=v.interval_km, in_use=v.in_use, active=v.active)


@router.get("/setup/operations", summary="The labour-operation catalogue", dependencies=[SETUP])
def list_operations(api: Setup) -> list[OperationOut]:
    return [_op(v) for v in api.operations.entries()]


@router.put("/setup/operations/{code}", summary="Add or change a labour operation",
            responses=BODY_ERRORS | unprocessable("a value the catalogue's rules refuse (the detail names it)"))
def put_operation(code: Code, body: OperationIn, api: Setup, caller: Annotated[Caller, SETUP]) -> OperationOut:
    return _op(api.operations.save(code, body.name_zh, body.name_en, body.hours, body.skill, body.equipment,
                                   body.interval_km, active=body.active, actor=caller.actor))


@router.delete("/setup/operations/{code}", summary="Remove a labour operation nothing names (answers it as it was)",
               responses=IN_USE | unprocessable())
def delete_operation(code: Code, api: Setup, caller: Annotated[Caller, SETUP]) -> OperationOut:
    return _op(api.operations.remove(code, actor=caller.actor))


@router.get("/setup/operations.csv", summary="The labour operations as CSV", dependencies=[SETUP])
def export_operations(api: Setup) -> CsvOut:
    return _csv("operations.csv", api.operations.export_csv())


@router.post("/setup/operations.csv", summary="Import labour operations from CSV (good rows kept)",
             responses=CSV_REFUSED)
def import_operations(body: CsvIn, api: Setup, caller: Annotated[Caller, SETUP]) -> ImportOut:
    return import_out(api.operations.import_csv(body.csv.encode("utf-8"), actor=caller.actor))


# -- parts -----------------------------------------------------------------------------------------------------------
PartNumber = Annotated[str, Path(min_length=1, max_length=40, description="part number")]


class PartIn(_Body):
    name: Text = Field(min_length=1, max_length=80)
    price: float = Field(ge=0, le=1_000_000)
    stock: float = Field(default=0, ge=0, le=1_000_000)


class PartOut(BaseModel):
    number: str
    name: str
    price: float
    stock: float


def _part(p: PartInfo) -> PartOut:
    return PartOut(number=p.number, name=p.name, price=p.price, stock=p.stock)


@router.get("/setup/parts", summary="The parts catalogue (searched by number or name)", responses=unprocessable(),
            dependencies=[SETUP])
def list_parts(api: Setup, q: Annotated[Text, Query(max_length=40)] = "",
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[PartOut]:
    return [_part(p) for p in api.parts.search(q, limit)]


@router.put("/setup/parts/{number}", summary="Add or change a part",
            responses=BODY_ERRORS | unprocessable("a part number, name, price or stock the catalogue refuses"))
def put_part(number: PartNumber, body: PartIn, api: Setup, caller: Annotated[Caller, SETUP]) -> PartOut:
    return _part(api.parts.save(number, body.name, body.price, body.stock, actor=caller.actor))


@router.delete("/setup/parts/{number}", summary="Remove a part no order names (answers it as it was)",
               responses=IN_USE | unprocessable("a text that is not a part number"))
def delete_part(number: PartNumber, api: Setup, caller: Annotated[Caller, SETUP]) -> PartOut:
    return _part(api.parts.remove(number, actor=caller.actor))


@router.get("/setup/parts.csv", summary="The parts catalogue as CSV", dependencies=[SETUP])
def export_parts(api: Setup) -> CsvOut:
    return _csv("parts.csv", api.parts.export_csv())


@router.post("/setup/parts.csv", summary="Import parts from CSV (good rows kept)", responses=CSV_REFUSED)
def import_parts(body: CsvIn, api: Setup, caller: Annotated[Caller, SETUP]) -> ImportOut:
    return import_out(api.parts.import_csv(body.csv.encode("utf-8"), actor=caller.actor))


# -- printers --------------------------------------------------------------------------------------------------------
PrinterName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,32}$", description="the printer's name")]


class PrinterIn(_Body):
    label: Text = Field(default="", max_length=80)
    transport: Literal["file", "network", "usb", "serial"]
    path: Text = Field(default="", max_length=200, description="file: folder, relative to the data directory")
    host: Text = Field(default="", max_length=200, description="network: the printer's address (port 9100)")
    port: int = Field(default=9100, ge=1, le=65535)
    device: Text = Field(default="", max_length=200, description="usb or serial: /dev/usb/lp0, /dev/ttyUSB0")
    baudrate: int = Field(default=19200, ge=1200, le=921600)
    encoding: Literal["gb18030", "gbk", "ascii"] = "gb18030"
    columns: int = Field(default=48, ge=24, le=64, description="48 for 80 mm paper, 32 for 58 mm")
    rename_from: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,32}$",
                                    description="the printer's current name, when it is renamed to {name}")


class PrinterOut(BaseModel):
    name: str
    label: str
    transport: str
    path: str
    host: str
    port: int
    device: str
    baudrate: int
    encoding: str
    columns: int


class PrinterSavedOut(PrinterOut):
    new_account: bool = Field(description="an MQTT account was made for it: the embedded broker lets its agent in "
                                          "at once; with Mosquitto run `shopfloor mosquitto-config` and reload it")


class PrintJobOut(BaseModel):
    id: int
    printer: str
    status: str = Field(description="pending until the agent answers; printed, uncertain or failed")
    detail: str


def _printer(p: PrinterSettings) -> dict[str, Any]:
    return {"name": p.name, "label": p.label, "transport": p.transport, "path": p.path, "host": p.host,
            "port": p.port, "device": p.device, "baudrate": p.baudrate, "encoding": p.encoding, "columns": p.columns}


@router.get("/setup/printers", summary="The site's printers", dependencies=[SETUP])
def list_printers(api: Setup) -> list[PrinterOut]:
    return [PrinterOut(**_printer(p)) for p in api.printers.entries()]


@router.put("/setup/printers/{name}", summary="Add or change a printer", responses=CONFIG_REFUSED)
def put_printer(name: PrinterName, body: PrinterIn, api: Setup, caller: Annotated[Caller, SETUP]
                ) -> PrinterSavedOut:
    values = body.model_dump(exclude={"rename_from"}) | {"name": name}
    original = body.rename_from or (name if any(p.name == name for p in api.printers.entries()) else None)
    saved = api.printers.save(values, actor=caller.actor, original=original)
    return PrinterSavedOut(**_printer(saved.printer), new_account=saved.new_account)


@router.delete("/setup/printers/{name}", summary="Remove a printer, never the last one (answers it as it was)",
               responses=LAST_PRINTER | unprocessable(_CONFIG))
def delete_printer(name: PrinterName, api: Setup, caller: Annotated[Caller, SETUP]) -> PrinterOut:
    return PrinterOut(**_printer(api.printers.remove(name, actor=caller.actor)))


@router.post("/setup/printers/{name}/test-print", summary="Send a short GB18030 test ticket through the print path",
             status_code=202, responses=unprocessable())
def test_print(name: PrinterName, api: Setup, caller: Annotated[Caller, SETUP]) -> PrintJobOut:
    job = api.printers.test_print(name, actor=caller.actor)
    return PrintJobOut(id=job.id, printer=job.printer, status=job.status, detail=job.detail)


@router.get("/setup/print-jobs/{job_id}", summary="A test print's status", responses=unprocessable(),
            dependencies=[SETUP])
def test_print_status(job_id: Annotated[int, Path(ge=1, le=MAX_ID)], api: Setup) -> PrintJobOut:
    status, detail = api.printers.job_status(job_id)
    return PrintJobOut(id=job_id, printer="", status=status, detail=detail)


@router.get("/setup/printers.csv", summary="The printers as CSV", dependencies=[SETUP])
def export_printers(api: Setup) -> CsvOut:
    return _csv("printers.csv", api.printers.export_csv())


@router.post("/setup/printers.csv", summary="Import printers from CSV (good rows kept)", responses=CSV_REFUSED)
def import_printers(body: CsvIn, api: Setup, caller: Annotated[Caller, SETUP]) -> ImportOut:
    result = api.printers.import_csv(body.csv.encode("utf-8"), actor=caller.actor)
    return import_out(result.report, result.new_accounts)


# -- message texts ---------------------------------------------------------------------------------------------------
Lang = Annotated[Literal["zh-CN", "en"], Path(description="zh-CN or en")]
TemplateName = Annotated[str, Path(max_length=40, description="appointment_confirmed, ready …")]
ChannelName = Annotated[Literal["sms", "wechat", "email", "email_subject", "manual"], Path()]


class TemplateTextOut(BaseModel):
    language: str
    template: str
    channel: str
    text: str = Field(description="what is sent: the site's own text, else the built-in one")
    built_in: str
    own: bool = Field(description="the site has its own text ([message_templates])")
    fields: list[str] = Field(description="the {fields} the text may use")
    preview: str = Field(description="the text filled with sample values")


class TemplateIn(_Body):
    text: Text = Field(min_length=1, max_length=2000)


def _text(api: CatalogueSetup, x: TemplateText) -> TemplateTextOut:
    return TemplateTextOut(language=x.language, template=x.template, channel=x.channel, text=x.text,
                           built_in=x.built_in, own=x.own is not None, fields=list(x.fields),
                           preview=api.templates.preview(x.language, x.template, x.channel))


@router.get("/setup/message-templates", summary="Every customer message text", responses=unprocessable(),
            dependencies=[SETUP])
def list_texts(api: Setup, language: Annotated[Literal["zh-CN", "en"] | None, Query()] = None
               ) -> list[TemplateTextOut]:
    return [_text(api, x) for x in api.templates.texts(language)]


@router.put("/setup/message-templates/{language}/{template}/{channel}", summary="Set the site's own text",
            responses=BODY_ERRORS | unprocessable(f"{TEXT_REFUSED}, or {_CONFIG}"))
def put_text(language: Lang, template: TemplateName, channel: ChannelName, body: TemplateIn, api: Setup,
             caller: Annotated[Caller, SETUP]) -> TemplateTextOut:
    return _text(api, api.templates.set_text(language, template, channel, body.text, actor=caller.actor))


@router.delete("/setup/message-templates/{language}/{template}/{channel}", summary="Back to the built-in text",
               responses=unprocessable(UNKNOWN_TEXT))
def reset_text(language: Lang, template: TemplateName, channel: ChannelName, api: Setup,
               caller: Annotated[Caller, SETUP]) -> TemplateTextOut:
    return _text(api, api.templates.reset(language, template, channel, actor=caller.actor))


class PreviewOut(BaseModel):
    preview: str


@router.post("/setup/message-templates/{language}/{template}/{channel}/preview",
             summary="A text filled with sample values (nothing is saved)",
             responses=BODY_ERRORS | unprocessable(TEXT_REFUSED),
             dependencies=[SETUP])
def preview_text(language: Lang, template: TemplateName, channel: ChannelName, body: TemplateIn, api: Setup
                 ) -> PreviewOut:
    return PreviewOut(preview=api.templates.preview(language, template, channel, body.text))


@router.get("/setup/message-templates.csv", summary="The message texts as CSV", dependencies=[SETUP])
def export_texts(api: Setup) -> CsvOut:
    return _csv("message_templates.csv", api.templates.export_csv())


@router.post("/setup/message-templates.csv", summary="Import message texts from CSV (good rows kept)",
             responses=CSV_REFUSED)
def import_texts(body: CsvIn, api: Setup, caller: Annotated[Caller, SETUP]) -> ImportOut:
    return import_out(api.templates.import_csv(body.csv.encode("utf-8"), actor=caller.actor))
