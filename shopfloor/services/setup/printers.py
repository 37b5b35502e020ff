"""The site's printers ([[printers]] in the site configuration) from /setup and the API: added, changed, removed
(never the last one), and a test print sent the way every ticket goes (a print job retained on the printer's
topic, printed by its agent, acknowledged) so that the whole path is tried, not just the paper.

A new printer gets its own MQTT account in credentials.toml at once; the broker learns it only when its account
files are written again (`shopfloor mosquitto-config`, or a restart of `shopfloor broker`), which the page says."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from shopfloor.credentials import Credentials, ensure_printer_accounts
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import PrintJob
from shopfloor.printer.ticket import TIME_FORMAT, PrinterProfile, _Job
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import PrintJobInfo, PrintService
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, RowProblem, import_rows, read_rows, write_csv
from shopfloor.services.setup.site_config import SiteConfigService
from shopfloor.settings import PrinterSettings

TEST = "test"  # print_jobs.kind of a test print
# what /setup edits; a printer's other keys (model, status_queries, timeout_seconds) are kept as written
FIELDS = ("name", "label", "transport", "path", "host", "port", "device", "baudrate", "encoding", "columns")
COLUMNS = FIELDS
REQUIRED = ("name", "transport")
_INTEGERS = ("port", "baudrate", "columns")
_WORDED = ("name", "port", "baudrate", "columns", "transport", "encoding")  # fields with a message of their own


@dataclass(frozen=True)
class PrinterSaved:
    printer: PrinterSettings
    new_account: bool  # an MQTT account was made: the broker must learn it (mosquitto-config / restart)


@dataclass(frozen=True)
class TestPrint:
    job: PrintJobInfo


@dataclass
class PrintersImport:
    report: CsvImport
    new_accounts: list[str] = field(default_factory=list)


def _table(values: dict[str, Any], keep: dict[str, Any] | None = None) -> dict[str, Any]:
    """The printer's TOML table: the edited fields (empty text left out, so defaults apply) over what it had."""
    out = {k: v for k, v in (keep or {}).items() if k not in FIELDS}
    for key in FIELDS:
        value = values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key in _INTEGERS:
            try:
                value = int(str(value).strip())
            except ValueError:
                raise RowProblem(key, "setup_catalogue.printers.error.number", field=key, value=str(value)[:20]
                                 ) from None
        out[key] = value.strip() if isinstance(value, str) else value
    return out


def _checked(table: dict[str, Any]) -> PrinterSettings:
    """One printer's table as the site configuration will check it, the first problem named by its key: in the
    reader's words for what a person gets wrong at the form (the settings model's own message, in English, for
    the rest)."""
    transport = table.get("transport", "file")
    if transport == "network" and not table.get("host"):
        raise RowProblem("host", "setup_catalogue.printers.error.needs_host")
    if transport in ("usb", "serial") and not table.get("device"):
        raise RowProblem("device", "setup_catalogue.printers.error.needs_device")
    try:
        return PrinterSettings.model_validate(table)
    except ValidationError as exc:
        err = exc.errors()[0]
        column = str(err["loc"][0]) if err["loc"] else ""
        if column in _WORDED:
            raise RowProblem(column, f"setup_catalogue.printers.error.{column}", value=str(table.get(column))[:40]
                             ) from None
        message = str(err["msg"]).removeprefix("Value error, ")
        raise RowProblem(column, "setup_catalogue.printers.error.invalid", field=column or "printer",
                         problem=message) from None


def render_test_page(profile: PrinterProfile, site_name: str, printer_label: str, when: str) -> bytes:
    """A short ticket in the printer's encoding: the Chinese line shows that GB18030 text prints right, the rule
    that the column count matches the paper."""
    job = _Job(profile)
    job.line(site_name, size=2, strong=True)
    job.line("打印测试 · TEST PRINT", strong=True)
    job.rule()
    job.pair("打印机 Printer", printer_label)
    job.pair("编码 Encoding", profile.encoding)
    job.pair("每行字数 Columns", str(profile.columns))
    job.pair("时间 Time", when)
    job.rule()
    job.wrapped("中文测试：汉字、数字１２３、标点，。！如能看到这一行，编码设置正确。")
    job.wrapped("If this line and the Chinese above read right, the printer is set up.")
    job.rule("=")
    return job.finish()


class PrinterSetup:
    def __init__(self, ctx: ServiceContext, config: SiteConfigService, printing: PrintService, data_dir: Path,
                 credentials: Credentials) -> None:
        self.ctx = ctx
        self.config = config
        self.printing = printing
        self.data_dir = data_dir
        self.credentials = credentials

    def entries(self) -> list[PrinterSettings]:
        return list(self.ctx.settings.printers)

    def save(self, values: dict[str, Any], *, actor: Actor | str, original: str | None = None) -> PrinterSaved:
        """Add a printer, or change the one named `original` (its name may change: a new account then). A name
        another printer has is refused: adding must not overwrite it unasked."""
        name = str(values.get("name", "")).strip()
        if name != original and any(p.name == name for p in self.ctx.settings.printers):
            raise Invalid("setup_catalogue.printers.error.taken", name=name[:40])
        try:
            saved = self._save_all([values], actor=actor, original=original)
        except RowProblem as problem:
            raise Invalid(problem.key, **problem.params) from None
        return PrinterSaved(self.ctx.settings.printer(name), name in saved)

    def remove(self, name: str, *, actor: Actor | str) -> PrinterSettings:
        """Never the site's last printer; returns the one removed as it was."""
        printers = self.ctx.settings.printers
        removed = next((p for p in printers if p.name == name), None)
        if removed is None:
            raise NotFound("error.printer_unknown", printer=name)
        if len(printers) == 1:
            raise Refused("setup_catalogue.printers.error.last")

        def change(doc: dict[str, Any]) -> None:
            doc["printers"] = [p for p in doc.get("printers", []) if p.get("name") != name]

        self.config.update(change, actor, what="printers")
        return removed

    def test_print(self, name: str, *, actor: Actor | str) -> PrintJobInfo:
        """A test ticket queued like any job; its status follows the agent's acknowledgement (job_status)."""
        try:
            printer = self.ctx.settings.printer(name)
        except KeyError:
            raise NotFound("error.printer_unknown", printer=name) from None
        profile = self.printing.profile(name)
        when = self.ctx.now().astimezone(self.ctx.tz).strftime(TIME_FORMAT)
        data = render_test_page(profile, self.ctx.settings.site.name, printer.label or printer.name, when)
        with self.ctx.db.write() as s:
            job = self.printing.add_job(s, name, TEST, data, actor=actor, meta={"test": True})
            record(s, self.ctx, actor, Entity.SITE_CONFIG, "printers", "printer_test_printed", to_value=name,
                   detail={"job_id": job.id})
            return job

    def job_status(self, job_id: int) -> tuple[str, str]:
        """(status, detail) of a print job: pending until the agent answers."""
        with self.ctx.db.read() as s:
            row = s.execute(select(PrintJob.status, PrintJob.detail).where(
                PrintJob.id == job_id, PrintJob.site_id == self.ctx.site)).first()
            if row is None:
                raise NotFound("setup_catalogue.printers.error.job_unknown", job=job_id)
            return str(row[0]), str(row[1] or "")

    def export_csv(self) -> bytes:
        return write_csv(COLUMNS, ([getattr(p, c) if c != "path" or p.transport == "file" else "" for c in COLUMNS]
                                   for p in self.entries()))

    def import_csv(self, data: bytes, *, actor: Actor | str) -> PrintersImport:
        """Each good row adds its printer or replaces the one of its name; bad rows are reported by line."""
        rows = read_rows(data, COLUMNS, REQUIRED)
        known = {p.name: p for p in self.entries()}
        good: list[dict[str, Any]] = []

        def apply(row: CsvRow) -> str:
            table = _table(dict(row.cells))
            checked = _checked(table)
            before = known.get(checked.name)
            good.append(table)
            if before is None:
                return "added"
            return "unchanged" if before == checked else "updated"

        report = import_rows(rows, apply)
        new: list[str] = []
        if good:
            new = self._save_all(good, actor=actor, original=None)
        return PrintersImport(report, new)

    def _save_all(self, tables: list[dict[str, Any]], *, actor: Actor | str, original: str | None) -> list[str]:
        """Write the printers (one file change, checked as a whole); returns the printers whose account is new."""
        checked = [_table(t) for t in tables]
        for table in checked:
            _checked(table)
        if original is not None and all(p.name != original for p in self.ctx.settings.printers):
            raise NotFound("error.printer_unknown", printer=original)

        def change(doc: dict[str, Any]) -> None:
            printers: list[dict[str, Any]] = [dict(p) for p in doc.get("printers", [])]
            for table in checked:
                target = original if original is not None else table["name"]
                at = next((i for i, p in enumerate(printers) if p.get("name") == target), None)
                if at is None:
                    printers.append(table)
                else:
                    printers[at] = _table(table, keep=printers[at])
            doc["printers"] = printers

        self.config.update(change, actor, what="printers")
        return ensure_printer_accounts(self.data_dir, self.credentials, [p.name for p in self.ctx.settings.printers])
