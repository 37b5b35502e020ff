"""The data page's JT/T 1132 export: the orders settled in a range of days as records for the regional maintenance
health-record platform, downloaded as JSON or CSV through the staff route (kiosk/cashier/documents_route.py), which
checks the export permission again and builds the file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from nicegui import ui

from shopfloor.kiosk.cashier.documents_route import EXPORT_PATH
from shopfloor.services.settlement.documents import EXPORT_MAX_DAYS

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator


class SettlementExportPanel:
    def __init__(self, clock: SiteClock, t: Translator) -> None:
        self.clock = clock
        self.t = t

    def build(self) -> None:
        t = self.t
        today = self.clock.today()
        with ui.column().classes("w-full gap-2").mark("jtt1132-export"):
            ui.label(t("settlement_list.export.title")).classes("text-xl font-bold")
            ui.label(t("settlement_list.export.hint")).classes("text-grey-7")
            self.first = ui.input(t("settlement_list.export.from"), value=(today - timedelta(days=30)).isoformat()) \
                .props("type=date outlined dense")
            self.last = ui.input(t("settlement_list.export.to"), value=today.isoformat()) \
                .props("type=date outlined dense")
            with ui.row().classes("gap-2"):
                ui.button(t("settlement_list.export.json"), icon="data_object",
                          on_click=lambda: self._download("json")).props("unelevated").mark("jtt1132-json")
                ui.button(t("settlement_list.export.csv"), icon="table_view",
                          on_click=lambda: self._download("csv")).props("outline").mark("jtt1132-csv")

    def _download(self, fmt: str) -> None:
        try:
            first, last = date.fromisoformat(self.first.value), date.fromisoformat(self.last.value)
            fits = first <= last and (last - first).days + 1 <= EXPORT_MAX_DAYS
        except (TypeError, ValueError):
            fits = False
        if not fits:
            ui.notify(self.t("settlement_list.error.range", first=self.first.value or "?",
                             last=self.last.value or "?", days=EXPORT_MAX_DAYS), type="negative")
            return
        query = urlencode({"from": first.isoformat(), "to": last.isoformat(), "format": fmt})
        ui.download(f"{EXPORT_PATH}?{query}", f"jtt1132-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}")
