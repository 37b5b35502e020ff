"""/manager/figures: the service manager's figures (domain.md §2), per day or per week over a chosen range
(default: the last 14 days and this week). Tiles with the range's numbers, then one chart each for the
appointment rate, show / no-show, job mix, sold vs available hours, levelling and carried-over cars, the arrival
profile over the day, and a table of every period's numbers. What each figure counts: shopfloor/services/figures.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.manager.board import localize_picker
from shopfloor.kiosk.manager.charts import CHARTS, arrival_profile, axis_labels, cause_label
from shopfloor.kiosk.manager.kpi_section import KpiSection
from shopfloor.kiosk.manager.style import CSS
from shopfloor.services.figures import MAX_DAYS, FiguresService
from shopfloor.services.kpis import KpiService

if TYPE_CHECKING:
    from shopfloor.kiosk.common.frame import StaffFrame

PATH = "/manager/figures"
PRESETS = {"default": 14, "4w": 28, "8w": 56, "13w": 91}  # days back from today, then to this Sunday
CONNECT_SECONDS = 30


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _parse(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class FiguresPage:
    def __init__(self, frame: StaffFrame, figures: FiguresService) -> None:
        self.frame = frame
        self.figures = figures

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · figures")(self.build)

    async def build(self, lang: str | None = None, first: str | None = None, last: str | None = None,
                    by: str = "day") -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, _ = signed_in
        ui.add_css(CSS)
        view = FiguresView(self.figures, t, _parse(first), _parse(last), "week" if by == "week" else "day")
        await view.build()


class FiguresView:
    def __init__(self, figures: FiguresService, t: Translator, first: date | None, last: date | None,
                 by: str) -> None:
        self.figures = figures
        self.t = t
        default_first, default_last = figures.default_range()
        self.first, self.last = first or default_first, last or default_last
        if self.last < self.first or (self.last - self.first).days >= MAX_DAYS:
            self.first, self.last = default_first, default_last
        self.by = by
        self.report: dict[str, Any] | None = None
        self.kpis = KpiSection(KpiService(figures.ctx), t)

    async def build(self) -> None:
        t = self.t
        with ui.column().classes("w-full gap-3 px-1"):
            with ui.row().classes("w-full items-center gap-3 no-wrap"):
                ui.label(t("figures.title")).classes("text-2xl font-bold whitespace-nowrap")
                with ui.button(icon="date_range").props("outline no-caps data-testid=figures-range") as button:
                    self.range_text = ui.label()
                    with ui.menu() as menu:
                        self.picker = localize_picker(
                            ui.date(value=self._picker_value()).props("range first-day-of-week=1"), t.lang)
                        with ui.row().classes("w-full justify-end p-2"):
                            ui.button(t("figures.apply"), on_click=lambda: self._apply_picker(menu)) \
                                .props("unelevated")
                button.classes("px-3")
                with ui.row().classes("gap-1 no-wrap"):
                    for key, days in PRESETS.items():
                        ui.button(t(f"figures.preset.{key}"), on_click=lambda d=days: self._preset(d)) \
                            .props("flat dense no-caps").classes("px-2")
                ui.space()
                self.toggle = ui.toggle({"day": t("figures.by.day"), "week": t("figures.by.week")}, value=self.by,
                                        on_change=lambda e: self._switch(e.value)) \
                    .props("no-caps unelevated toggle-color=primary data-testid=figures-by")
            self.tiles = ui.element("div").classes("grid grid-cols-4 2xl:grid-cols-7 gap-3 w-full")
            self.charts = ui.element("div").classes("grid grid-cols-2 2xl:grid-cols-3 gap-3 w-full")
            with ui.row().classes("w-full no-wrap gap-3 items-stretch"):
                self.profile = ui.card().classes("flex-[2] p-2 min-w-0").props("flat bordered")
                self.notes = ui.card().classes("flex-[3] p-3 min-w-0 gap-1").props("flat bordered")
            self.table_box = ui.column().classes("w-full gap-1")
            self.kpis.build()
        self._notes()
        # The page goes out first and the figures follow: a report that has days to compute (none cached yet)
        # must not run into NiceGUI's 3 s limit for building a page, which would leave it blank.
        try:
            await ui.context.client.connected(timeout=CONNECT_SECONDS)
        except TimeoutError:
            return  # the browser went away
        await self.load()

    # -- data -------------------------------------------------------------------------------------------------
    async def load(self) -> None:
        try:
            self.report = await io(self.figures.report, self.first, self.last)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        ui.navigate.history.replace(f"{PATH}?first={self.first.isoformat()}&last={self.last.isoformat()}"
                                    f"&by={self.by}")
        self.draw()
        await self.kpis.load(self.first, self.last)

    def _picker_value(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}

    async def _apply_picker(self, menu: ui.menu) -> None:
        menu.close()
        value = self.picker.value
        if isinstance(value, dict):
            first, last = _parse(value.get("from")), _parse(value.get("to"))
        else:
            first = last = _parse(value)
        if first is None or last is None:
            return
        self.first, self.last = min(first, last), max(first, last)
        await self.load()

    async def _preset(self, days: int) -> None:
        today = self.figures.ctx.today()
        self.first, self.last = today - timedelta(days=days), today + timedelta(days=6 - today.weekday())
        self.picker.value = self._picker_value()
        await self.load()

    async def _switch(self, by: str) -> None:
        self.by = by
        if self.report is not None:
            ui.navigate.history.replace(f"{PATH}?first={self.first.isoformat()}&last={self.last.isoformat()}"
                                        f"&by={self.by}")
            self.draw()

    # -- drawing ----------------------------------------------------------------------------------------------
    def draw(self) -> None:
        report = self.report
        if report is None:
            return
        t = self.t
        self.range_text.text = t("figures.range", first=report["first"], last=report["last"],
                                 days=len(report["days"]))
        periods = report["days"] if self.by == "day" else report["weeks"]
        labels = axis_labels(t, periods, self.by)
        self._tiles(report["total"], len(report["days"]))
        self.charts.clear()
        with self.charts:
            for chart in CHARTS:
                with ui.card().classes("w-full p-1").props("flat bordered"):
                    chart_view = ui.echart(chart(t, periods, labels, report["today"], self.by))
                    set_attrs(chart_view.classes("w-full h-[290px]"), data_testid=f"chart-{chart.__name__}")
        self.profile.clear()
        with self.profile:
            if report["arrival_profile"]:
                ui.echart(arrival_profile(t, report["arrival_profile"])).classes("w-full h-[240px]")
            else:
                ui.label(t("figures.no_arrivals")).classes("text-grey-7 p-4")
        self._table(periods, labels)

    def _tile(self, key: str, value: str, unit: str, sub: str) -> None:
        with set_attrs(ui.card().classes("mg-tile p-3 gap-0").props("flat bordered"), data_testid=f"figure-{key}"), \
                ui.column().classes("gap-0 w-full"):
            ui.label(self.t(f"figures.tile.{key}")).classes("text-sm text-grey-8")
            with ui.row().classes("items-baseline gap-1 no-wrap"):
                set_attrs(ui.label(value).classes("text-3xl font-bold text-primary"), data_value=value)
                ui.label(unit).classes("text-base text-grey-8")
            ui.label(sub).classes("text-xs text-grey-7")

    def _tiles(self, total: dict[str, Any], days: int) -> None:
        t = self.t
        self.tiles.clear()
        lev = total["levelling"]
        carried = total["carried_over"] or {"cars": 0, "causes": {}}
        top = max(carried["causes"].items(), key=lambda kv: kv[1])[0] if carried["causes"] else None
        known_days = sum(1 for d in (self.report or {}).get("days", []) if d["carried_over"] is not None) or 1
        with self.tiles:
            self._tile("appointment_rate", _pct(total["appointment_rate"]), "%",
                       t("figures.tile.appointment_rate_sub", count=total["by_appointment"],
                         total=total["repair_orders"]))
            self._tile("show_rate", _pct(total["show_rate"]), "%",
                       t("figures.tile.show_rate_sub", no_show=_pct(total["no_show_rate"]), count=total["no_show"],
                         decided=total["arrived"] + total["no_show"], pending=total["pending"]))
            self._tile("job_mix", _pct(total["maintenance_share"]), "%",
                       t("figures.tile.job_mix_sub", maintenance=_num(total["hours"]["maintenance"]),
                         repair=_num(total["hours"]["repair"])))
            self._tile("sold", _pct(total["sold_share"]), "%",
                       t("figures.tile.sold_sub", sold=_num(total["sold"]), available=_num(total["available"])))
            peak = lev["peak"]
            self._tile("levelling", _num(lev["index"], 2), "×",
                       t("figures.tile.levelling_sub", max=lev["max"], mean=_num(lev["mean"], 2),
                         over=lev["over_limit"], cells=lev["cells"])
                       + ("" if peak is None else " · " + t("figures.tile.peak", advisor=peak["advisor"],
                                                             day=peak["day"][5:], at=peak["at"])))
            self._tile("carried_over", str(carried["cars"]), t("figures.unit.car_days"),
                       t("figures.tile.carried_over_sub", mean=_num(carried["cars"] / known_days),
                         cause=cause_label(t, top) if top else "—"))
            ftf = (self.report or {}).get("first_time_fix")
            if ftf is not None:
                self._tile("first_time_fix", _pct(ftf["rate"]), "%",
                           t("figures.tile.first_time_fix_sub", fixed=ftf["first_time"], delivered=ftf["delivered"],
                             reworked=ftf["reworked"], comebacks=ftf["comebacks"]))

    def _table(self, periods: list[dict[str, Any]], labels: list[str]) -> None:
        t = self.t
        self.table_box.clear()
        columns = [
            ("period", "left"), ("repair_orders", "right"), ("appointment_rate", "right"), ("arrived", "right"),
            ("no_show", "right"), ("no_show_rate", "right"), ("maintenance", "right"), ("repair", "right"),
            ("sold", "right"), ("available", "right"), ("sold_share", "right"), ("levelling", "right"),
            ("carried_over", "right")]
        rows = []
        for p, label in zip(periods, labels, strict=True):
            lev = p["levelling"]
            period = t("figures.table.week", week=p["week"], first=p["first"][5:], last=p["last"][5:]) \
                if self.by == "week" else label
            rows.append({
                "period": period,
                "repair_orders": p["repair_orders"], "appointment_rate": _pct(p["appointment_rate"]),
                "arrived": p["arrived"], "no_show": p["no_show"], "no_show_rate": _pct(p["no_show_rate"]),
                "maintenance": _num(p["hours"]["maintenance"]), "repair": _num(p["hours"]["repair"]),
                "sold": _num(p["sold"]), "available": _num(p["available"]), "sold_share": _pct(p["sold_share"]),
                "levelling": "—" if not lev["cells"] else f"{lev['max']} / {_num(lev['mean'], 2)}",
                "carried_over": "—" if p["carried_over"] is None else p["carried_over"]["cars"],
            })
        with self.table_box:
            ui.label(t("figures.table.title")).classes("text-lg font-bold")
            ui.table(columns=[{"name": c, "label": t(f"figures.table.{c}"), "field": c, "align": align}
                              for c, align in columns], rows=rows, row_key="period") \
                .props("flat bordered dense wrap-cells :rows-per-page-options=[0] hide-bottom "
                       "data-testid=figures-table").classes("w-full")

    def _notes(self) -> None:
        t = self.t
        with self.notes:
            ui.label(t("figures.notes.title")).classes("text-base font-bold")
            for key in ("appointment_rate", "show_rate", "job_mix", "sold", "levelling", "carried_over",
                        "first_time_fix"):
                with ui.row().classes("gap-1 no-wrap text-sm items-start"):
                    ui.label(t(f"figures.tile.{key}") + ":").classes("font-medium whitespace-nowrap")
                    ui.label(t(f"figures.notes.{key}")).classes("text-grey-8")
