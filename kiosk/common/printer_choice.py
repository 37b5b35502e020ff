"""Choosing a printer on the kiosk, with each printer's status as its agent reports it (via MQTT)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.i18n import Translator

if TYPE_CHECKING:
    from shopfloor.main import Shopfloor

READY = "online"
COLOURS = {"online": "positive", "offline": "negative", "paper_out": "warning", "error": "negative"}


def printer_options(system: Shopfloor, t: Translator) -> dict[str, str]:
    """name -> "label · status", so an advisor sees a printer that is not ready before printing."""
    options = {}
    for p in system.settings.printers:
        state = system.board_store.printer_status.get(p.name)
        status = state.get("status", "unknown") if state else "unknown"
        options[p.name] = f"{p.label or p.name} · {t('printer_status.' + status)}"
    return options


def best_printer(system: Shopfloor) -> str:
    """The first ready printer, else the first one."""
    for p in system.settings.printers:
        state = system.board_store.printer_status.get(p.name)
        if state and state.get("status") == READY:
            return p.name
    return system.settings.printers[0].name


def printer_select(system: Shopfloor, t: Translator, label: str | None = None) -> ui.select:
    select = ui.select(printer_options(system, t), value=best_printer(system), label=label) \
        .props("outlined").classes("w-72")

    def warn_if_not_ready() -> None:
        state = system.board_store.printer_status.get(select.value)
        if not state or state.get("status") != READY:
            ui.notify(t("kiosk.printer_not_ready"), type="warning")

    select.on_value_change(warn_if_not_ready)
    return select
