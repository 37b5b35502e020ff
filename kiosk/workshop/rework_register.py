"""The rework register on /workshop/qc: every line sent back by a failed check between two days, with the time lost
(worked on the line after it came back), for the weekly quality meeting (domain.md §4)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.identifiers import display_plate
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.blocking import io

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.services.workshop.quality import QualityService

DEFAULT_DAYS = 7


class ReworkRegister:
    def __init__(self, quality: QualityService, clock: SiteClock, t: Translator) -> None:
        self.quality, self.clock, self.t = quality, clock, t

    async def build(self) -> None:
        t = self.t
        today = self.clock.today()
        with ui.row().classes("w-full items-end gap-3"):
            self.start = ui.input(t("qc.from"), value=(today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()) \
                .props("outlined dense type=date").mark("rework-from")
            self.end = ui.input(t("qc.to"), value=today.isoformat()).props("outlined dense type=date") \
                .mark("rework-to")
            ui.button(t("qc.show"), icon="search", on_click=self.show).props("unelevated").mark("rework-show")
            self.total = ui.label("").classes("text-lg font-bold ml-auto").mark("rework-total")
        self.table = ui.table(columns=[
            {"name": k, "label": t(f"qc.col.{k}"), "field": k, "align": "left"}
            for k in ("at", "number", "plate", "line", "stage", "reason", "found_by", "responsible", "lost")],
            rows=[], row_key="id").classes("w-full").props("flat bordered dense").mark("rework-table")
        await self.show()

    def _day(self, text: str | None, fallback: date) -> date:
        try:
            return date.fromisoformat(text or "")
        except ValueError:
            return fallback

    async def show(self) -> None:
        t, tz, today = self.t, self.clock.tz, self.clock.today()
        first = self._day(self.start.value, today - timedelta(days=DEFAULT_DAYS - 1))
        last = self._day(self.end.value, today)
        if last < first:
            first, last = last, first
        rows = await io(self.quality.rework, datetime.combine(first, time.min, tzinfo=tz),
                        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz))
        self.table.rows = [{
            "id": r.id, "at": f"{r.at.astimezone(tz):%m-%d %H:%M}", "number": r.number, "plate": display_plate(r.plate),
            "line": r.job_line, "stage": t(f"qc.stage.{r.stage}"), "reason": r.reason, "found_by": r.found_by,
            "responsible": r.responsible or "—", "lost": f"{r.time_lost_hours:.2f} h"} for r in rows]
        self.table.update()
        self.total.text = t("qc.register_total", count=len(rows),
                            hours=f"{sum(r.time_lost_hours for r in rows):.2f}")
