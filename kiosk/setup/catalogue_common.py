"""What the catalogue tabs of /setup share: the CSV export and import bar (an import's report lists each refused
line with its column and reason, the good lines having been kept, and is scrolled into view: below a long list it
would otherwise sit under the fold) and how a refusal is shown."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from nicegui import events, ui

from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.setup.csv_io import CsvImport

if TYPE_CHECKING:
    from shopfloor.i18n import Translator

MAX_SHOWN_ERRORS = 50
# Quasar's uploader prints its raw byte count and percentage ("0.0B / 0.00%") under the label: noise for a CSV
# read at once, so the upload bars carry this class and the rule hides it
UPLOAD_CLASS = "sf-csv-upload"
UPLOAD_CSS = f".{UPLOAD_CLASS} .q-uploader__subtitle {{ display: none; }}"


def refused(t: Translator, exc: DomainError) -> None:
    ui.notify(exc.message(t.lang), type="negative", multi_line=True, timeout=8000)


async def from_dialog(t: Translator, dialog: ui.dialog, change: Callable[[], object], done_key: str,
                      refresh: Callable[[], Awaitable[None]]) -> None:
    """A dialog's save or remove: the service call off the loop; refused, the dialog stays open with what was typed;
    done, it closes, says so and redraws the list."""
    try:
        await io(change)
    except DomainError as exc:
        refused(t, exc)
        return
    dialog.close()
    ui.notify(t(done_key), type="positive")
    await refresh()


@contextmanager
def edit_dialog(host: ui.element, width: str, mark: str, title: str) -> Iterator[ui.dialog]:
    """An item's dialog, titled, in the tab's dialog host (emptied first: one dialog at a time), opened once built."""
    host.clear()
    with host, ui.dialog().props("persistent") as dialog, ui.card().classes(f"{width} gap-2").mark(mark):
        ui.label(title).classes("text-lg font-bold")
        yield dialog
    dialog.open()


def key_input(label: str, value: str, maxlength: int, width: str, mark: str, *, fixed: bool) -> ui.input:
    """The item's key (a code, a part number): typed for a new item, shown but fixed for a known one."""
    box = set_attrs(ui.input(label, value=value).props("outlined dense").classes(width).mark(mark),
                    maxlength=str(maxlength))  # as the props string gave it: text
    if fixed:
        box.disable()
    return box


def dialog_actions(t: Translator, dialog: ui.dialog, save: Callable[[], Awaitable[None]], save_mark: str,
                   remove: Callable[[], Awaitable[None]] | None, remove_mark: str,
                   kept_because: str | None = None) -> None:
    """Remove (a known item only; greyed out with `kept_because` said above it), cancel and save."""
    if remove is not None and kept_because is not None:
        # its own line: beside the buttons a long reason pushed cancel and save onto a line of their own
        ui.label(kept_because).classes("text-grey-7 text-sm")
    with ui.row().classes("w-full items-center gap-2"):
        if remove is not None:
            gone = ui.button(t("setup_catalogue.remove"), icon="delete", on_click=remove) \
                .props("flat " + ("color=grey" if kept_because is not None else "color=negative")).mark(remove_mark)
            if kept_because is not None:
                gone.disable()
        ui.space()
        ui.button(t("setup_catalogue.cancel"), on_click=dialog.close).props("flat")
        ui.button(t("setup_catalogue.save"), icon="save", on_click=save).props("unelevated").mark(save_mark)


def import_report(t: Translator, box: ui.column, report: CsvImport) -> None:
    """What an import did, in the reader's language, each refused line with its column."""
    box.clear()
    failed = len({e.line for e in report.errors})
    with box:
        ui.label(t("setup_catalogue.csv.report", rows=report.rows, added=report.added, updated=report.updated,
                   unchanged=report.unchanged, failed=failed)) \
            .classes("text-positive" if not failed else "text-orange-10").mark("csv-report")
        for err in report.errors[:MAX_SHOWN_ERRORS]:
            where = t("setup_catalogue.csv.line_column", line=err.line, column=err.column) if err.column \
                else t("setup_catalogue.csv.line", line=err.line)
            ui.label(f"{where}: {t(err.key, **err.params)}").classes("text-negative text-sm").mark("csv-error")
        if len(report.errors) > MAX_SHOWN_ERRORS:
            ui.label(t("setup_catalogue.csv.more", count=len(report.errors) - MAX_SHOWN_ERRORS)) \
                .classes("text-grey-7 text-sm")


def csv_bar(t: Translator, name: str, export: Callable[[], bytes], run_import: Callable[[bytes], CsvImport],
            after: Callable[[], Awaitable[None]], mark: str) -> ui.column:
    """Export and import buttons for one list; returns the column the import's report goes into."""
    with ui.expansion(t("setup_catalogue.csv.title"), icon="import_export").classes("w-full border rounded") \
            .mark(f"{mark}-csv"):
        ui.label(t("setup_catalogue.csv.hint")).classes("text-grey-7 text-sm")
        with ui.row().classes("w-full items-center gap-3"):
            async def download() -> None:
                data = await io(export)
                ui.download.content(data, name, "text/csv")

            ui.button(t("setup_catalogue.csv.export"), icon="download", on_click=download).props("outline") \
                .mark(f"{mark}-export")

            async def uploaded(e: events.UploadEventArguments) -> None:
                data = await e.file.read()
                try:
                    report = await io(run_import, data)
                except DomainError as exc:
                    refused(t, exc)
                    return
                finally:
                    upload.reset()
                import_report(t, box, report)
                ui.run_javascript(f"getHtmlElement({json.dumps(box.id)})"
                                  "?.scrollIntoView({behavior: 'smooth', block: 'start'})")
                await after()

            ui.add_css(UPLOAD_CSS)
            upload = ui.upload(label=t("setup_catalogue.csv.import"), auto_upload=True, max_files=1,
                               on_upload=uploaded).props('accept=".csv,.txt" flat bordered') \
                .classes(f"w-80 {UPLOAD_CLASS}").mark(f"{mark}-upload")
        box = ui.column().classes("w-full gap-0 scroll-mt-16").mark(f"{mark}-report")
    return box
