"""What the people tabs of /setup (staff, technicians, calendar, bays) share: a list's header row, a service call
that says why it was refused, the CSV export and import buttons with the import's line-by-line report, and a
one-time PIN shown once, big."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from nicegui import events, ui
from nicegui.element import Element

from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.setup.csv_io import CsvImport
from shopfloor.services.setup.people_common import labelled

if TYPE_CHECKING:
    from shopfloor.i18n import Translator

T = TypeVar("T")
Refresh = Callable[[], Awaitable[None]]
MAX_CSV_BYTES = 5 * 1024 * 1024  # as the API takes


async def attempt(t: Translator, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[bool, T | None]:
    """The service call in the thread pool; a refusal shown as a notice in the reader's language."""
    try:
        return True, await io(fn, *args, **kwargs)
    except DomainError as exc:
        ui.notify(exc.message(t.lang), type="negative", multi_line=True)
        return False, None


def page_root() -> Element:
    """The page's own layout: it outlives every redraw of a list, so a dialog or notice that comes after one (the
    one-time PIN after a reset) still has a place to be. Read it while the element that asked is still there."""
    return ui.context.client.layout


def heading(t: Translator, title_key: str, intro_key: str) -> None:
    ui.label(t(title_key)).classes("text-xl font-bold")
    ui.label(t(intro_key)).classes("text-grey-8 max-w-3xl")


def columns(spec: list[tuple[str, str]]) -> None:
    """A list's column titles: (label, width class) each."""
    with ui.row().classes("w-full no-wrap gap-2 text-grey-7 text-caption border-b"):
        for label, width in spec:
            ui.label(label).classes(width)


def csv_buttons(t: Translator, mark: str, filename: str, export: Callable[[], bytes],
                run_import: Callable[[bytes], Awaitable[CsvImport | None]]) -> None:
    """Export (a download) and import (an upload, then the report) for one list."""
    async def download() -> None:
        ok, data = await attempt(t, export)
        if ok and data is not None:
            ui.download(data, filename, media_type="text/csv")

    async def uploaded(e: events.UploadEventArguments) -> None:
        data = await e.file.read()
        upload.reset()
        menu.close()
        report = await run_import(data)
        if report is not None:
            import_report(t, report, mark)

    ui.button(t("setup_people.csv.export"), icon="download", on_click=download).props("flat dense no-caps") \
        .mark(f"{mark}-export")
    with set_attrs(ui.button(t("setup_people.csv.import"), icon="upload").props("flat dense no-caps")
                   .mark(f"{mark}-import"), data_testid=f"{mark}-import"), \
            ui.menu().props("anchor='bottom right' self='top right'") as menu, ui.column().classes("p-2 gap-1"):
        ui.label(t("setup_people.csv.import_hint")).classes("text-caption text-grey-8 max-w-xs")
        upload = ui.upload(auto_upload=True, max_files=1, max_file_size=MAX_CSV_BYTES, on_upload=uploaded) \
            .props('accept=".csv,.txt" flat bordered').classes("w-72").mark(f"{mark}-upload")


def import_report(t: Translator, report: CsvImport, mark: str, pins: dict[str, str] | None = None) -> None:
    """What an import did, with each refused line (its line, column and why) and any one-time PINs."""
    with ui.dialog() as dialog, set_attrs(ui.card().classes("min-w-[32rem] max-w-3xl").mark(f"{mark}-report"),
                                          data_testid=f"{mark}-report"):
        ui.label(t("setup_people.csv.report_title")).classes("text-lg font-bold")
        failed = len({e.line for e in report.errors})
        ui.label(t("setup_people.csv.summary", rows=report.rows, added=report.added, updated=report.updated,
                   unchanged=report.unchanged, failed=failed)).mark(f"{mark}-report-summary")
        if report.errors:
            with ui.column().classes("w-full gap-0 max-h-64 overflow-auto"):
                for err in report.errors:
                    text = t("setup_people.csv.line", line=err.line, column=err.column or "—",
                             message=t(err.key, **labelled(t.lang, err.params)))
                    ui.label(text).classes("text-negative text-sm").mark(f"{mark}-report-error")
        if pins:
            ui.label(t("setup_people.staff.import_pins")).classes("font-bold pt-2")
            with ui.column().classes("w-full gap-0 max-h-72 overflow-auto"):  # many people: the card still fits
                for name, pin in pins.items():
                    with ui.row().classes("items-baseline gap-4"):
                        ui.label(name).classes("text-lg w-40")
                        ui.label(pin).classes("text-3xl font-mono font-bold tracking-widest").mark("import-pin")
        with ui.row().classes("w-full justify-end"):
            set_attrs(ui.button(t("setup_people.close"), on_click=lambda: dismiss(dialog))
                      .mark(f"{mark}-report-close"), data_testid=f"{mark}-report-close")
    dialog.open()


def one_time_pin(t: Translator, name: str, pin: str) -> None:
    """The PIN to hand over now: it is not shown again."""
    with ui.dialog().props("persistent") as dialog, ui.card().classes("items-center p-6").mark("one-time-pin"):
        ui.label(t("setup_people.staff.pin_for", name=name)).classes("text-lg")
        value = ui.label(pin).classes("text-6xl font-mono font-bold tracking-widest py-4") \
            .mark("one-time-pin-value")
        set_attrs(value, data_testid="one-time-pin-value")
        ui.label(t("setup_people.staff.pin_once")).classes("text-grey-8 max-w-sm text-center")
        set_attrs(ui.button(t("setup_people.staff.pin_done"), on_click=lambda: dismiss(dialog)).props("unelevated")
                  .mark("one-time-pin-done"), data_testid="one-time-pin-done")
    dialog.open()


def dismiss(dialog: ui.dialog) -> None:
    """Closed for good: gone from the page, not kept hidden."""
    dialog.close()
    dialog.delete()


def confirm(t: Translator, text: str, action_label: str, action: Refresh, mark: str) -> None:
    """Asked from a row of a list; the action then redraws the list, row and all, so the question and whatever
    the action shows afterwards live on the page, not in the row."""
    root = page_root()
    with root, ui.dialog() as dialog, ui.card().mark(mark):
        ui.label(text).classes("max-w-md")
        with ui.row().classes("w-full justify-end"):
            ui.button(t("setup_people.cancel"), on_click=lambda: dismiss(dialog)).props("flat")

            async def go() -> None:
                dialog.close()
                with root:
                    await action()
                dialog.delete()

            set_attrs(ui.button(action_label, on_click=go).props("color=negative").mark(f"{mark}-yes"),
                      data_testid=f"{mark}-yes")
    dialog.open()
