"""Choosing a printer on a staff page, with each printer's status as its agent reports it (via MQTT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.i18n import Translator

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.settings import PrinterSettings

READY = "online"
COLOURS = {"online": "positive", "offline": "negative", "paper_out": "warning", "error": "negative"}


class PrinterChoice:
    """The site's printers and what their agents last said about them (the board store's printer status)."""

    def __init__(self, printers: Sequence[PrinterSettings], store: BoardStore) -> None:
        self.printers = list(printers)
        self.store = store

    def label(self, name: str) -> str:
        return next((p.label or p.name for p in self.printers if p.name == name), name)

    def status(self, name: str) -> str:
        """online, offline, paper_out, error; unknown before its agent has said anything."""
        state = self.store.printer_status.get(name)
        return str(state.get("status", "unknown")) if state else "unknown"

    def options(self, t: Translator) -> dict[str, str]:
        """name -> "label · status", so a person sees a printer that is not ready before printing."""
        return {p.name: f"{p.label or p.name} · {t('printer_status.' + self.status(p.name))}" for p in self.printers}

    def best(self) -> str:
        """The first ready printer, else the first one."""
        return next((p.name for p in self.printers if self.status(p.name) == READY), self.printers[0].name)

    def warn_if_not_ready(self, t: Translator, name: str | None) -> None:
        if name is None or self.status(name) != READY:
            ui.notify(t("kiosk.printer_not_ready"), type="warning")

    def select(self, t: Translator, label: str | None = None) -> ui.select:
        select = ui.select(self.options(t), value=self.best(), label=label).props("outlined").classes("w-72")
        select.on_value_change(lambda e: self.warn_if_not_ready(t, e.value))
        return select
