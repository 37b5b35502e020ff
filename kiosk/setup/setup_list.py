"""The scaffolding the staff, technicians and bays tabs of /setup (and the calendar's leave and holidays) build their
lists with: the header (title and intro on the left, the tab's buttons on the right), the list redrawn from the
service, a row greyed out when not in use, its state badge and edit button, an import that redraws the list, a
row's remove asked first, and a form's cancel and save."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from nicegui import ui

from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.setup.people_widgets import Refresh, attempt, confirm, heading

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.services.audit import Actor
    from shopfloor.services.setup.csv_io import CsvImport

V = TypeVar("V")


@contextmanager
def list_header(t: Translator, title_key: str, intro_key: str) -> Iterator[None]:
    """Title and intro; what is built inside stands on the right, as the tab's buttons."""
    with ui.row().classes("w-full items-start justify-between no-wrap"):
        with ui.column().classes("gap-1 grow min-w-0"):
            heading(t, title_key, intro_key)
        with ui.row().classes("items-center gap-1 no-wrap shrink-0"):
            yield


class LiveList(Generic[V]):
    """A list redrawn from the service. Made before the tab's header (whose buttons redraw it), placed after it."""

    def __init__(self, t: Translator, load: Callable[[], Sequence[V]]) -> None:
        self.t = t
        self.load = load
        self.listing: ui.column | None = None
        self.draw: Callable[[list[V]], None] = lambda _views: None

    def place(self, mark: str, draw: Callable[[list[V]], None]) -> None:
        """The list's column here, marked (and its data-testid) `mark`; `draw` builds the rows inside."""
        self.listing = set_attrs(ui.column().classes("w-full gap-0").mark(mark), data_testid=mark)
        self.draw = draw

    async def refresh(self) -> None:
        """Read again and redraw; a refused read draws an empty list."""
        _ok, views = await attempt(self.t, self.load)
        if self.listing is None:
            return
        self.listing.clear()
        with self.listing:
            self.draw(list(views or []))


def importer(t: Translator, run: Callable[[bytes, Actor], CsvImport], actor: Actor,
             refresh: Refresh) -> Callable[[bytes], Awaitable[CsvImport | None]]:
    """csv_buttons' import: the service's import, then the list redrawn (whatever came of it); the report when
    it ran."""
    async def run_import(data: bytes) -> CsvImport | None:
        ok, report = await attempt(t, run, data, actor)
        await refresh()
        return report if ok else None

    return run_import


def list_row(mark: str, active: bool = True, classes: str = "w-full no-wrap items-center gap-2 border-b py-1"
             ) -> ui.row:
    """One item's row, greyed out when it is not in use."""
    return ui.row().classes(classes + ("" if active else " text-grey-6")).mark(mark)


def state_badge(active: bool, in_use: str, out_of_use: str) -> None:
    ui.badge(in_use if active else out_of_use, color="positive" if active else "grey")


def edit_button(t: Translator, on_click: Callable[..., Any], mark: str) -> None:
    ui.button(icon="edit", on_click=on_click).props("flat dense").tooltip(t("setup_people.edit")).mark(mark)


def remove_button(t: Translator, question: str, remove: Callable[[], Any], refresh: Refresh, confirm_mark: str,
                  mark: str) -> ui.button:
    """The row's delete, asked first; done, the list is redrawn."""
    async def go() -> None:
        ok, _ = await attempt(t, remove)
        if ok:
            await refresh()

    return ui.button(icon="delete", on_click=lambda: confirm(t, question, t("setup_people.remove"), go,
                                                             confirm_mark)) \
        .props("flat dense size=sm color=negative").mark(mark)


def form_buttons(t: Translator, dialog: ui.dialog, save: Callable[[], Any], save_mark: str, *,
                 testid: bool = False) -> None:
    """A form's cancel and save (`testid`: the save button carries its mark as data-testid too)."""
    with ui.row().classes("w-full justify-end"):
        ui.button(t("setup_people.cancel"), on_click=dialog.close).props("flat")
        saving = ui.button(t("setup_people.save"), on_click=save).props("unelevated").mark(save_mark)
        if testid:
            set_attrs(saving, data_testid=save_mark)
