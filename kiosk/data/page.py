"""/data: customers, vehicles and appointments in from a DMS export (CSV, columns mapped), appointments out as
iCalendar. For the service manager and customer-service staff, at a desk browser."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from nicegui import events, ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.data.jtt1132_panel import SettlementExportPanel
from shopfloor.services import dms_import

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.services.audit import Actor
    from shopfloor.services.booking import BookingService
    from shopfloor.services.ical import CalendarService

PATH = "/data"
# the fields offered for mapping, in the order a DMS export usually has them
SHOWN_FIELDS = ("name", "surname", "given_name", "salutation", "phone", "preferred_channel", "plate", "vin", "model",
                "mileage_km", "sold_on", "last_service_on", "last_service_km", "insurance_expires_on",
                "inspection_due_on", "warranty_expires_on", "appointment_start", "appointment_date",
                "appointment_time", "appointment_hours", "appointment_work", "advisor", "skill", "external_ref",
                "notes")


class DataPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, *, importer: dms_import.DmsImportService,
                 booking: BookingService, calendar: CalendarService) -> None:
        self.frame = frame
        self.clock = clock
        self.importer = importer
        self.booking = booking  # capacity of the days an import touched
        self.calendar = calendar

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · data")(self.build)

    async def build(self, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        with ui.row().classes("w-full no-wrap gap-4 items-start p-2"):
            with ui.card().classes("w-[62%]"):
                ImportPanel(self.importer, self.booking, t, user.actor).build()
            with ui.card().classes("w-[38%]"):
                ExportPanel(self.calendar, self.clock, t).build()
                if user.may(Permission.SETTLEMENT_EXPORT):
                    ui.separator()
                    SettlementExportPanel(self.clock, t).build()


class ImportPanel:
    def __init__(self, importer: dms_import.DmsImportService, booking: BookingService, t: Translator,
                 actor: Actor) -> None:
        self.importer = importer
        self.booking = booking
        self.t = t
        self.actor = actor
        self.data: bytes | None = None
        self.header: list[str] = []
        self.mapping: dict[str, str] = {}

    def build(self) -> None:
        t = self.t
        ui.label(t("data.import.title")).classes("text-xl font-bold")
        ui.label(t("data.import.hint")).classes("text-grey-7")
        ui.upload(label=t("data.import.choose"), auto_upload=True, max_files=1, on_upload=self._uploaded) \
            .props('accept=".csv,.txt" flat bordered').classes("w-full").mark("import-upload")
        self.file_label = ui.label("").classes("text-grey-8")
        self.mapping_box = ui.column().classes("w-full gap-1")
        with ui.row().classes("w-full justify-end gap-2"):
            self.check_button = ui.button(t("data.import.check"), icon="fact_check",
                                          on_click=lambda: self._run(dry_run=True)).props("outline")
            self.import_button = ui.button(t("data.import.run"), icon="upload",
                                           on_click=lambda: self._run(dry_run=False)).props("unelevated") \
                .mark("import-run")
        self.check_button.disable()
        self.import_button.disable()
        self.report_box = ui.column().classes("w-full gap-1").mark("import-report")

    async def _uploaded(self, e: events.UploadEventArguments) -> None:
        data = await e.file.read()
        try:
            header = dms_import.read_header(data)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return
        self.data, self.header = data, header
        self.mapping = dms_import.suggest_mapping(header)
        self.file_label.text = self.t("data.import.file", name=e.file.name, columns=len(header))
        self._show_mapping()
        self.check_button.enable()
        self.import_button.enable()

    def _show_mapping(self) -> None:
        t = self.t
        self.mapping_box.clear()
        options = {"": t("data.import.unmapped"), **{h: h for h in self.header}}
        with self.mapping_box:
            ui.label(t("data.import.mapping")).classes("text-lg pt-2")
            with ui.grid(columns=3).classes("w-full gap-x-4 gap-y-0"):
                for name in SHOWN_FIELDS:
                    ui.select(options, value=self.mapping.get(name, ""), label=t(f"data.field.{name}"),
                              on_change=lambda e, n=name: self._set(n, e.value)) \
                        .props("dense options-dense").classes("w-full").mark(f"map-{name}")

    def _set(self, name: str, column: str | None) -> None:
        if column:
            self.mapping[name] = column
        else:
            self.mapping.pop(name, None)

    async def _run(self, *, dry_run: bool) -> None:
        if self.data is None:
            return
        # a big file takes a while: the rows done so far, as the import thread reports them after each batch
        done = {"done": 0, "rows": 0}
        self.report_box.clear()
        with self.report_box:
            bar = ui.linear_progress(value=0, show_value=False).props("instant-feedback").mark("import-progress")
            counted = ui.label("").classes("text-grey-8")

        def show_progress() -> None:
            if done["rows"]:
                bar.value = done["done"] / done["rows"]
                counted.text = self.t("data.import.progress", **done)

        timer = ui.timer(0.5, show_progress)
        self.check_button.disable()
        self.import_button.disable()
        try:
            report = await io(self.importer.import_csv, self.data, dict(self.mapping), self.actor, lang=self.t.lang,
                              dry_run=dry_run, progress=lambda n, total: done.update(done=n, rows=total))
        except DomainError as exc:
            self.report_box.clear()
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return
        finally:
            timer.cancel()
            self.check_button.enable()
            self.import_button.enable()
        if not dry_run and report.days:
            await io(self.booking.refresh_days, sorted(report.days))
        self._show_report(report.to_dict())

    def _show_report(self, report: dict[str, Any]) -> None:
        t = self.t
        self.report_box.clear()
        with self.report_box:
            key = "data.import.checked" if report["dry_run"] else "data.import.done"
            ui.label(t(key, rows=report["rows"], customers=report["customers"], vehicles=report["vehicles"],
                       appointments=report["appointments"], updated=report["updated"], failed=report["failed"])) \
                .classes("text-lg font-bold " + ("text-negative" if report["failed"] else "text-positive"))
            if report["stopped_at_line"] is not None:
                ui.label(t("data.import.stopped", reason=report["stopped_reason"], line=report["stopped_at_line"])) \
                    .classes("text-negative").mark("import-stopped")
            problems = [(e, "negative") for e in report["errors"]] + [(w, "warning") for w in report["warnings"]]
            if problems:
                rows = [{"line": p["line"], "field": t(f"data.field.{p['field']}") if p["field"] else "",
                         "message": p["message"], "kind": t(f"data.import.{kind}")} for p, kind in problems]
                columns = [{"name": n, "label": t(f"data.import.col_{n}"), "field": n, "align": "left"}
                           for n in ("line", "kind", "field", "message")]
                ui.table(columns=columns, rows=rows, row_key="line").props("dense flat wrap-cells") \
                    .classes("w-full").mark("import-problems")


class ExportPanel:
    def __init__(self, calendar: CalendarService, clock: SiteClock, t: Translator) -> None:
        self.calendar = calendar
        self.clock = clock
        self.t = t

    def build(self) -> None:
        t = self.t
        today = self.clock.today()
        ui.label(t("data.export.title")).classes("text-xl font-bold")
        ui.label(t("data.export.hint")).classes("text-grey-7")
        self.first = ui.input(t("data.export.first"), value=today.isoformat()).props("type=date outlined dense")
        self.last = ui.input(t("data.export.last"), value=(today + timedelta(days=6)).isoformat()) \
            .props("type=date outlined dense")
        ui.button(t("data.export.run"), icon="event", on_click=self._export).props("unelevated").mark("export-ics")

    async def _export(self) -> None:
        try:
            first, last = date.fromisoformat(self.first.value), date.fromisoformat(self.last.value)
        except (TypeError, ValueError):
            ui.notify(self.t("data.export.bad_range"), type="negative")
            return
        if last < first or (last - first).days > 366:
            ui.notify(self.t("data.export.bad_range"), type="negative")
            return
        text = await io(self.calendar.export_range, first, last, lang=self.t.lang)
        ui.download(text.encode("utf-8"), f"appointments-{first}-{last}.ics", media_type="text/calendar")
