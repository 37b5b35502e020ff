"""The service KPIs on /manager/figures (issue 12): a tile per figure with its value, numerator ÷ denominator, the
target where one applies and the formula beside it; per day, week or month; four charts (ECharts, with the NADA
target lines on the technicians' chart) and the CSV export. The figures: shopfloor/services/kpis.py."""

from __future__ import annotations

import csv
import io as text_io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.manager.charts import BLUE, GREEN, GREY, INDIGO, ORANGE, RED, TEAL
from shopfloor.services.kpis import Figure, KpiReport, KpiService, csv_rows, name

BY = ("day", "week", "month")
RATES = ("appointment_rate", "show_rate", "on_time_first", "on_time_last", "first_time_fix", "reach_3dc", "csi_top",
         "complaints_on_time")
WORKSHOP = (("productivity", BLUE), ("efficiency", GREEN), ("proficiency", ORANGE))
PALETTE = [BLUE, GREEN, ORANGE, RED, TEAL, INDIGO, GREY, "#8d6e63"]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def money(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def shown(f: Figure, value: object) -> str:
    """A figure's value (or numerator) as the tile writes it."""
    if value is None:
        return "—"
    if f.unit == "CNY":
        return money(Decimal(str(value)))
    if f.unit == "rate" and value is f.value:
        return f"{float(value) * 100:.1f} %"  # type: ignore[arg-type]
    if f.unit == "score" and value is f.value:  # a mean score: 9.0, never 9 (it is not a count)
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def period_label(t: Translator, key: str) -> str:
    """A chart's period as people read it: 2026-W47 as 第47周 (11/16–11/22) or W47 (16–22 Nov); a day or a month
    as its key."""
    year, sep, week = key.partition("-W")
    if not sep or not (year.isdigit() and week.isdigit()):
        return key
    monday = date.fromisocalendar(int(year), int(week), 1)
    sunday = monday + timedelta(days=6)

    def day(d: date, key: str) -> str:
        return t(key, month=d.month, day=d.day, month_name=MONTHS[d.month - 1])

    first = day(monday, "kpis.page.week_day_same_month" if monday.month == sunday.month else "kpis.page.week_day")
    return t("kpis.page.week_label", week=int(week), first=first, last=day(sunday, "kpis.page.week_day"))


def _pct(value: object) -> float | None:
    return None if value is None else round(float(value) * 100, 1)  # type: ignore[arg-type]


class KpiSection:
    def __init__(self, kpis: KpiService, t: Translator, by: str = "week") -> None:
        self.kpis = kpis
        self.today = kpis.ctx.today
        self.t = t
        self.by = by if by in BY else "week"
        self.first: date | None = None
        self.last: date | None = None
        self.report: KpiReport | None = None

    def build(self) -> None:
        t = self.t
        with set_attrs(ui.column().classes("w-full gap-3"), data_testid="kpi-section"):
            with ui.row().classes("w-full items-center gap-3 no-wrap"):
                ui.label(t("kpis.page.title")).classes("text-2xl font-bold whitespace-nowrap")
                ui.space()
                ui.toggle({b: t(f"kpis.page.by_{b}") for b in BY}, value=self.by,
                          on_change=lambda e: self._switch(e.value)) \
                    .props("no-caps unelevated toggle-color=primary data-testid=kpi-by")
                ui.button(t("kpis.page.export"), icon="download", on_click=self._export) \
                    .props("outline no-caps data-testid=kpi-export")
            self.range_label = set_attrs(ui.label().classes("text-sm text-grey-7"), data_testid="kpi-range")
            self.status = ui.label(t("kpis.page.loading")).classes("text-grey-7")
            self.tiles = ui.element("div").classes("grid grid-cols-4 2xl:grid-cols-6 gap-3 w-full")
            self.charts = ui.element("div").classes("grid grid-cols-2 gap-3 w-full")

    async def load(self, first: date, last: date) -> None:
        self.first, self.last = first, last
        # what happened: a range reaching into the coming days (the booking figures' week) counts up to today
        last = max(min(last, self.today()), first)
        self.range_label.text = self.t("kpis.page.range", first=first.isoformat(), last=last.isoformat())
        try:
            self.report = await io(self.kpis.report, first, last, self.by)
        except DomainError as exc:
            self.status.text = exc.message(self.t.lang)
            return
        self.status.set_visibility(False)
        self.draw()

    async def _switch(self, by: str) -> None:
        self.by = by
        if self.first is not None and self.last is not None:
            await self.load(self.first, self.last)

    def _export(self) -> None:
        if self.report is None:
            return
        out = text_io.StringIO()
        csv.writer(out).writerows(csv_rows(self.report, self.t.lang))
        r = self.report
        ui.download(("\ufeff" + out.getvalue()).encode("utf-8"), f"kpis-{r.first}-{r.last}-{r.by}.csv",
                    "text/csv")

    # -- drawing ----------------------------------------------------------------------------------------------
    def draw(self) -> None:
        report = self.report
        if report is None:
            return
        self.tiles.clear()
        with self.tiles:
            for f in report.figures:
                self._tile(f)
        self.charts.clear()
        labels = [period_label(self.t, p.key) for p in report.periods]
        with self.charts:
            for key, options in (("rates", self._rates(report, labels)), ("workshop", self._workshop(report, labels)),
                                 ("money", self._money(report, labels)), ("care", self._care(report, labels))):
                with ui.card().classes("w-full p-1").props("flat bordered"):
                    set_attrs(ui.echart(options).classes("w-full h-[300px]"), data_testid=f"kpi-chart-{key}")

    def _tile(self, f: Figure) -> None:
        t = self.t
        with set_attrs(ui.card().classes("mg-tile p-3 gap-1").props("flat bordered"), data_testid=f"kpi-{f.key}"):
            ui.label(name(f.key, t.lang)).classes("text-sm text-grey-8 font-medium")
            with ui.row().classes("items-baseline gap-2 no-wrap"):
                unknown = f.key == "insurance_renewal" and f.value is None
                value = t("kpis.page.unknown") if unknown else shown(f, f.value)
                set_attrs(ui.label(value).classes("text-2xl font-bold text-primary"), data_value=value)
                if f.target is not None:
                    target = (t("kpis.page.target_band", low=f"{f.target.value * 100:g} %",
                                high=f"{f.target.high * 100:g} %") if f.target.high
                              else t("kpis.page.target", target=f"{f.target.value * 100:g} %"))
                    ui.label(target).classes("text-xs text-grey-7")
            if f.denominator is not None:
                ui.label(t("kpis.page.counted", numerator=shown(f, f.numerator),
                           denominator=f"{f.denominator:,g}" if isinstance(f.denominator, float) else
                           f"{f.denominator:,}")
                         + ("" if f.additive else " · " + t("kpis.page.snapshot"))).classes("text-xs text-grey-8")
            ui.label(f.formula.get(t.lang, f.formula["en"])).classes("text-xs text-grey-7 leading-tight")

    # -- charts -------------------------------------------------------------------------------------------------
    def _base(self, title: str, labels: list[str], y: list[dict[str, Any]]) -> dict[str, Any]:
        return {"title": {"text": title, "left": 4, "top": 2, "textStyle": {"fontSize": 15, "fontWeight": "bold"}},
                "tooltip": {"trigger": "axis", "confine": True},
                "legend": {"type": "scroll", "top": 26, "left": 4, "itemWidth": 14, "itemHeight": 10,
                           "textStyle": {"fontSize": 12}},
                "grid": {"left": 52, "right": 52, "top": 78, "bottom": 26},
                "xAxis": {"type": "category", "data": labels, "axisLabel": {"fontSize": 11, "hideOverlap": True}},
                "yAxis": y, "series": [], "animation": False}

    def _by(self) -> str:
        return self.t(f"kpis.page.by_{self.by}")

    @staticmethod
    def _values(report: KpiReport, key: str, scale: float = 100.0) -> list[float | None]:
        out = []
        for p in report.periods:
            f = next(x for x in p.figures if x.key == key)
            out.append(None if f.value is None else round(float(f.value) * scale, 2))  # type: ignore[arg-type]
        return out

    def _rates(self, report: KpiReport, labels: list[str]) -> dict[str, Any]:
        t = self.t
        options = self._base(t("kpis.page.chart_rates", by=self._by()), labels,
                             [{"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value} %"}}])
        options["series"] = [{"type": "line", "name": name(key, t.lang), "data": self._values(report, key),
                              "connectNulls": True, "color": PALETTE[i % len(PALETTE)], "symbolSize": 5}
                             for i, key in enumerate(RATES)]
        return options

    def _workshop(self, report: KpiReport, labels: list[str]) -> dict[str, Any]:
        t = self.t
        targets = {f.key: f.target for f in report.figures if f.target is not None}
        series = []
        top = 100.0
        for key, colour in WORKSHOP:
            data = self._values(report, key)
            top = max([top, *(v for v in data if v is not None)])
            one: dict[str, Any] = {"type": "bar" if key == "productivity" else "line", "name": name(key, t.lang),
                                   "data": data, "color": colour, "connectNulls": True}
            target = targets.get(key)
            if target is not None:
                top = max(top, target.value * 100, (target.high or 0) * 100)
                label = {"formatter": t("kpis.page.target_line") + f" {target.value * 100:g}"
                         + (f"–{target.high * 100:g}" if target.high else "") + " %", "fontSize": 10,
                         "color": colour, "position": "insideStartTop" if target.high else "insideEndTop"}
                if target.high:  # a band: NADA's 85–87.5 %
                    one["markArea"] = {"silent": True, "itemStyle": {"color": colour, "opacity": 0.15},
                                       "label": label, "data": [[{"yAxis": round(target.value * 100, 1)},
                                                                 {"yAxis": round(target.high * 100, 1)}]]}
                else:
                    one["markLine"] = {"symbol": "none", "silent": True, "label": label,
                                       "lineStyle": {"type": "dashed", "color": colour, "width": 1.5},
                                       "data": [{"yAxis": round(target.value * 100, 1)}]}
            series.append(one)
        options = self._base(t("kpis.page.chart_workshop", by=self._by()), labels,
                             [{"type": "value", "min": 0, "max": int(top * 1.1 / 10 + 1) * 10,
                               "axisLabel": {"formatter": "{value} %"}}])
        options["series"] = series
        return options

    def _money(self, report: KpiReport, labels: list[str]) -> dict[str, Any]:
        t = self.t
        options = self._base(t("kpis.page.chart_money", by=self._by()), labels,
                             [{"type": "value", "min": 0}, {"type": "value", "min": 0, "position": "right",
                                                            "splitLine": {"show": False}}])
        for key, colour in (("labour_revenue", BLUE), ("parts_revenue", TEAL)):
            options["series"].append({"type": "bar", "stack": "revenue", "name": name(key, t.lang), "color": colour,
                                      "data": self._values(report, key, 1.0)})
        options["series"].append({"type": "line", "yAxisIndex": 1, "name": name("average_ticket", t.lang),
                                  "color": ORANGE, "data": self._values(report, "average_ticket", 1.0),
                                  "connectNulls": True})
        return options

    def _care(self, report: KpiReport, labels: list[str]) -> dict[str, Any]:
        t = self.t
        options = self._base(t("kpis.page.chart_care", by=self._by()), labels,
                             [{"type": "value", "min": 0}, {"type": "value", "min": 0, "max": 10, "position": "right",
                                                            "splitLine": {"show": False}}])
        for key, colour in (("intake", GREY), ("complaints_opened", RED)):
            options["series"].append({"type": "bar", "name": name(key, t.lang), "color": colour,
                                      "data": self._values(report, key, 1.0)})
        options["series"].append({"type": "line", "yAxisIndex": 1, "name": name("csi", t.lang), "color": GREEN,
                                  "data": self._values(report, "csi", 1.0), "connectNulls": True})
        return options
