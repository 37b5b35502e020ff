"""The catalogue tab of /parts: the parts with price and stock on hand, searched by number or name; and the CSV
import, checked first, its bad rows listed with their row numbers (a file with any changes nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import events, ui

from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.services.audit import Actor
    from shopfloor.services.parts.catalogue import PartInfo
    from shopfloor.services.parts.imports import ImportReport
    from shopfloor.services.parts.services import PartsServices

SHOWN = 200  # rows drawn at once: a search narrows a big catalogue


class CataloguePane:
    def __init__(self, parts: PartsServices, t: Translator, actor: Actor) -> None:
        self.parts = parts
        self.t = t
        self.actor = actor
        self.data: bytes | None = None
        self.found: dict[str, PartInfo] = {}

    def build(self) -> None:
        t = self.t
        with ui.row().classes("w-full no-wrap gap-3 items-start"):
            with ui.card().classes("grow min-w-0 h-[630px]"):
                with ui.row().classes("w-full items-center no-wrap gap-3"):
                    ui.label(t("parts.catalogue.title")).classes("text-lg font-bold")
                    self.search = ui.input(t("parts.catalogue.search")).props("outlined dense clearable") \
                        .classes("grow").mark("catalogue-search")
                    self.search.on("update:model-value", self.refresh, throttle=0.3)
                    self.count = ui.label("").classes("text-grey-7 whitespace-nowrap")
                    ui.button(t("parts.catalogue.new"), icon="add", on_click=lambda: self._edit(None)) \
                        .props("outline dense").mark("part-new")
                columns: list[dict[str, Any]] = [
                    {"name": "number", "label": t("parts.list.col_number"), "field": "number", "align": "left",
                     "sortable": True},
                    {"name": "name", "label": t("parts.list.col_name"), "field": "name", "align": "left"},
                    {"name": "price", "label": t("parts.catalogue.col_price"), "field": "price", "align": "right"},
                    {"name": "stock", "label": t("parts.catalogue.col_stock"), "field": "stock", "align": "right",
                     "sortable": True},
                ]
                self.table = ui.table(columns=columns, rows=[], row_key="number", pagination=0) \
                    .props("dense flat virtual-scroll hide-bottom").classes("w-full h-[550px] cursor-pointer") \
                    .mark("catalogue")
                # a tapped row opens it for a new price or a stock take
                self.table.on("rowClick", lambda e: self._edit(e.args[1] if len(e.args) > 1 else None))
            with ui.card().classes("w-[400px] shrink-0 gap-2"):
                ui.label(t("parts.catalogue.import_title")).classes("text-lg font-bold")
                ui.label(t("parts.catalogue.import_hint")).classes("text-grey-7 text-sm")
                ui.upload(label=t("parts.catalogue.choose"), auto_upload=True, max_files=1, on_upload=self._uploaded) \
                    .props('accept=".csv,.txt" flat bordered').classes("w-full").mark("parts-upload")
                self.file_label = ui.label("").classes("text-grey-8")
                with ui.row().classes("w-full justify-end gap-2"):
                    self.check_button = ui.button(t("parts.catalogue.check"), icon="fact_check",
                                                  on_click=lambda: self._run(apply=False)).props("outline")
                    self.import_button = ui.button(t("parts.catalogue.run"), icon="upload",
                                                   on_click=lambda: self._run(apply=True)).props("unelevated") \
                        .mark("parts-import")
                self.check_button.disable()
                self.import_button.disable()
                self.report_box = ui.column().classes("w-full gap-1").mark("parts-import-report")
        self.dialog_host = ui.element("div")

    async def refresh(self) -> None:
        query = str(self.search.value or "")
        try:
            found = await io(self.parts.catalogue.search, query, SHOWN)
            total = await io(self.parts.catalogue.count)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        out = self.t("parts.catalogue.out_of_stock")
        self.found = {p.number: p for p in found}
        self.table.rows = [{"number": p.number, "name": p.name, "price": f"{p.price:,.2f}",
                            "stock": f"{p.stock:g}" if p.stock else f"0 · {out}"} for p in found]
        self.table.update()
        self.count.text = self.t("parts.catalogue.count", count=total) if not query and len(found) == total \
            else self.t("parts.catalogue.shown", shown=len(found), count=total)

    def _edit(self, row: dict[str, Any] | None) -> None:
        """A part added, or the tapped one changed: name, price, stock on hand."""
        t = self.t
        part = self.found.get(str(row.get("number"))) if isinstance(row, dict) else None
        self.dialog_host.clear()
        with self.dialog_host, ui.dialog().props("persistent") as dialog, \
                ui.card().classes("w-[480px] gap-3").mark("part-dialog"):
            ui.label(t("parts.catalogue.edit_title") if part else t("parts.catalogue.new")).classes(
                "text-lg font-bold")
            number = ui.input(t("parts.list.part_number"), value=part.number if part else "").props("outlined") \
                .classes("w-full").mark("part-number")
            if part is not None:
                number.disable()
            name = ui.input(t("parts.list.col_name"), value=part.name if part else "").props("outlined") \
                .classes("w-full").mark("part-name")
            with ui.row().classes("w-full no-wrap gap-3"):
                price = ui.number(t("parts.catalogue.col_price"), value=part.price if part else None, min=0,
                                  format="%.2f").props("outlined").classes("grow").mark("part-price")
                stock = ui.number(t("parts.catalogue.col_stock"), value=part.stock if part else 0, min=0) \
                    .props("outlined").classes("grow").mark("part-stock")

            async def save() -> None:
                try:
                    saved = await io(self.parts.catalogue.save, str(number.value or ""), str(name.value or ""),
                                     "" if price.value is None else price.value,
                                     "" if stock.value is None else stock.value, actor=self.actor)
                except DomainError as exc:
                    ui.notify(exc.message(t.lang), type="negative", multi_line=True)
                    return
                dialog.close()
                ui.notify(t("parts.catalogue.saved", number=saved.number), type="positive")
                await self.refresh()

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("parts.list.cancel"), on_click=dialog.close).props("flat")
                ui.button(t("parts.list.confirm"), on_click=save).props("unelevated").mark("part-save")
        dialog.open()

    async def _uploaded(self, e: events.UploadEventArguments) -> None:
        self.data = await e.file.read()
        self.file_label.text = e.file.name
        self.report_box.clear()
        self.check_button.enable()
        self.import_button.enable()

    async def _run(self, *, apply: bool) -> None:
        if self.data is None:
            return
        try:
            report = await io(self.parts.imports.run, self.data, actor=self.actor, apply=apply)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return
        self._show(report, apply)
        if report.applied:
            await self.refresh()

    def _show(self, report: ImportReport, apply: bool) -> None:
        t = self.t
        self.report_box.clear()
        with self.report_box:
            if report.errors:
                ui.label(t("parts.catalogue.errors", count=len({e.row for e in report.errors}))) \
                    .classes("text-negative font-bold")
                rows = [{"row": e.row, "problem": e.message(t.lang)} for e in report.errors]
                columns = [{"name": n, "label": t(f"parts.catalogue.col_{n}"), "field": n, "align": "left"}
                           for n in ("row", "problem")]
                ui.table(columns=columns, rows=rows, row_key="row").props("dense flat wrap-cells") \
                    .classes("w-full").mark("parts-import-errors")
            elif report.applied:
                ui.label(t("parts.catalogue.done", added=report.added, updated=report.updated)) \
                    .classes("text-positive font-bold")
            elif not apply:
                ui.label(t("parts.catalogue.checked", rows=report.rows)).classes("text-positive font-bold")
