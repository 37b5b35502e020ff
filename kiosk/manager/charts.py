"""ECharts options for the manager's figures (kiosk/manager/figures.py): one function per chart, from the periods
of FiguresService.report() (its days or its weeks). Pure data in, JSON-able options out; a key starting with
":" is JavaScript that NiceGUI turns into a function in the browser (tooltip formatters)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from shopfloor.i18n import Translator

Period = dict[str, Any]
Options = dict[str, Any]

BLUE, GREY, GREEN, RED, ORANGE = "#1d4f91", "#90a4ae", "#2e7d32", "#c62828", "#ef6c00"
TEAL, INDIGO, LIGHT = "#26a69a", "#3f51b5", "#cfd8dc"
CAUSE_COLOURS = {
    "on_hold:waiting_parts": ORANGE, "on_hold:waiting_approval": "#f9a825", "on_hold:other": "#8d6e63",
    "checked_in": GREY, "dispatched": "#5c6bc0", "in_progress": BLUE, "quality_check": TEAL, "ready": GREEN,
}
PERCENT = "v => (v === null || v === undefined || v === '-') ? '—' : v + ' %'"


def _unit(unit: str) -> str:
    # the unit comes from the message catalogue: as a JSON string literal, a quote in it cannot end the code
    return f"v => (v === null || v === undefined || v === '-') ? '—' : v + ' ' + {json.dumps(unit)}"


def pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def axis_labels(t: Translator, periods: list[Period], by: str) -> list[str]:
    out = []
    for p in periods:
        first = date.fromisoformat(p["first"])
        if by == "week":
            out.append(t("figures.axis.week", week=p.get("week", first.isocalendar().week), day=first.day,
                         month=first.month))
        else:
            weekdays = t("manager.board.weekdays").split(",")
            out.append(t("figures.axis.day", day=first.day, month=first.month,
                         weekday=weekdays[first.weekday()] if len(weekdays) == 7 else ""))
    return out


def _base(t: Translator, title: str, labels: list[str], y_axes: list[dict[str, Any]]) -> Options:
    return {
        "title": {"text": title, "left": 4, "top": 2, "textStyle": {"fontSize": 15, "fontWeight": "bold"}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}, "confine": True},
        "legend": {"type": "scroll", "top": 26, "left": 4, "itemWidth": 14, "itemHeight": 10,
                   "textStyle": {"fontSize": 12}},
        "grid": {"left": 48, "right": 52, "top": 76, "bottom": 26, "containLabel": False},
        "xAxis": {"type": "category", "data": labels, "axisLabel": {"fontSize": 11, "hideOverlap": True}},
        "yAxis": y_axes,
        "series": [],
        "animation": False,
    }


def _y(name: str, *, right: bool = False, max_: float | None = None, unit: str = "") -> dict[str, Any]:
    axis: dict[str, Any] = {"type": "value", "name": name, "nameTextStyle": {"fontSize": 11, "align": "right"
                                                                             if not right else "left"},
                            "splitLine": {"show": not right}, "axisLabel": {"fontSize": 11}}
    if unit:
        axis["axisLabel"]["formatter"] = "{value}" + unit
    if max_ is not None:
        axis["max"] = max_
        axis["min"] = 0
    if right:
        axis["position"] = "right"
    return axis


def _future(periods: list[Period], labels: list[str], today: str, by: str) -> dict[str, Any] | None:
    """A grey band over the days still ahead (their rates are not in yet)."""
    if by != "day":
        return None
    ahead = [i for i, p in enumerate(periods) if p["first"] > today]
    if not ahead:
        return None
    return {"silent": True, "itemStyle": {"color": "rgba(120,130,150,0.08)"},
            "data": [[{"xAxis": labels[ahead[0]]}, {"xAxis": labels[ahead[-1]]}]]}


def _chart(t: Translator, title: str, periods: list[Period], labels: list[str], today: str, by: str,
           y_axes: list[dict[str, Any]], series: list[dict[str, Any]]) -> Options:
    opt = _base(t, title, labels, y_axes)
    opt["series"] = series
    _mark_future(opt, periods, labels, today, by)
    return opt


def _series(name: str, kind: str, color: str, data: list[Any], unit: str | None, **style: Any) -> dict[str, Any]:
    """One series with its tooltip's unit (None: a percentage); `style`: its other ECharts options (stack,
    yAxisIndex, lineStyle …)."""
    return {"name": name, "type": kind, "color": color, **style, "data": data,
            "tooltip": {":valueFormatter": PERCENT if unit is None else _unit(unit)}}


def _share_axes(unit: str) -> list[dict[str, Any]]:
    """Counts (or hours) on the left, a share of 0–100 % on the right."""
    return [_y(unit), _y("%", right=True, max_=100, unit=" %")]


def _share(name: str, color: str, values: list[float | None], **style: Any) -> dict[str, Any]:
    """A share drawn as a line against the right-hand axis, in percent."""
    return _series(name, "line", color, [pct(v) for v in values], None, yAxisIndex=1, symbolSize=6, **style)


def appointment_rate(t: Translator, periods: list[Period], labels: list[str], today: str, by: str) -> Options:
    cars = t("figures.unit.cars")
    return _chart(t, t("figures.chart.appointment_rate"), periods, labels, today, by, _share_axes(cars), [
        _series(t("figures.series.by_appointment"), "bar", BLUE, [p["by_appointment"] for p in periods],
                cars, stack="ro"),
        _series(t("figures.series.walk_in"), "bar", GREY, [p["walk_in"] for p in periods], cars, stack="ro"),
        _share(t("figures.series.appointment_rate"), ORANGE, [p["appointment_rate"] for p in periods],
               connectNulls=False),
    ])


def show_rate(t: Translator, periods: list[Period], labels: list[str], today: str, by: str) -> Options:
    n = t("figures.unit.appointments")
    return _chart(t, t("figures.chart.show_rate"), periods, labels, today, by, _share_axes(n), [
        _series(t("figures.series.arrived"), "bar", GREEN, [p["arrived"] for p in periods], n, stack="a"),
        _series(t("figures.series.no_show"), "bar", RED, [p["no_show"] for p in periods], n, stack="a"),
        _series(t("figures.series.pending"), "bar", LIGHT, [p["pending"] for p in periods], n, stack="a"),
        _share(t("figures.series.no_show_rate"), RED, [p["no_show_rate"] for p in periods],
               lineStyle={"type": "dashed"}),
    ])


def job_mix(t: Translator, periods: list[Period], labels: list[str], today: str, by: str) -> Options:
    h = t("figures.unit.hours")
    return _chart(t, t("figures.chart.job_mix"), periods, labels, today, by, _share_axes(h), [
        _series(t("skill.maintenance"), "bar", TEAL, [p["hours"]["maintenance"] for p in periods], h,
                stack="h"),
        _series(t("skill.repair"), "bar", INDIGO, [p["hours"]["repair"] for p in periods], h, stack="h"),
        _share(t("figures.series.maintenance_share"), ORANGE, [p["maintenance_share"] for p in periods]),
    ])


def sold_hours(t: Translator, periods: list[Period], labels: list[str], today: str, by: str) -> Options:
    h = t("figures.unit.hours")
    # the sold hours drawn over the available ones, bar on bar; the share may pass 100 %
    return _chart(t, t("figures.chart.sold"), periods, labels, today, by, [_y(h), _y("%", right=True, unit=" %")], [
        _series(t("figures.series.available"), "bar", LIGHT, [p["available"] for p in periods], h,
                barGap="-100%", barWidth="60%"),
        _series(t("figures.series.sold"), "bar", BLUE, [p["sold"] for p in periods], h, barWidth="60%"),
        _series(t("figures.series.worked"), "line", ORANGE,
                [p["worked"] if p["repair_orders"] else None for p in periods], h, symbolSize=5,
                lineStyle={"type": "dashed"}),
        _share(t("figures.series.sold_share"), GREEN, [p["sold_share"] for p in periods]),
    ])


def levelling(t: Translator, periods: list[Period], labels: list[str], today: str, by: str) -> Options:
    n, cells = t("figures.unit.arrivals"), t("figures.unit.cells")
    limit = periods[0]["levelling"]["limit"] if periods else 1
    opt = _chart(t, t("figures.chart.levelling"), periods, labels, today, by,
                 [_y(t("figures.axis.per_quarter")), _y(cells, right=True)], [
        _series(t("figures.series.max"), "bar", BLUE, [p["levelling"]["max"] or None for p in periods], n,
                markLine={"silent": True, "symbol": "none", "lineStyle": {"color": RED, "type": "dashed"},
                          "label": {"formatter": t("figures.series.limit", limit=limit), "fontSize": 11},
                          "data": [{"yAxis": limit}]}),
        _series(t("figures.series.mean"), "line", ORANGE, [p["levelling"]["mean"] for p in periods], n,
                symbolSize=6),
        _series(t("figures.series.over_limit"), "line", RED,
                [p["levelling"]["over_limit"] if p["levelling"]["cells"] else None for p in periods], cells,
                yAxisIndex=1, symbolSize=5, lineStyle={"type": "dotted"}),
    ])
    opt["yAxis"][0]["minInterval"] = 1
    opt["yAxis"][1]["minInterval"] = 1
    return opt


def cause_label(t: Translator, cause: str) -> str:
    if cause.startswith("on_hold:"):
        return t("figures.cause_hold", reason=t(f"hold.{cause.split(':', 1)[1]}"))
    return t(f"status.{cause}")


def carried_over(t: Translator, periods: list[Period], labels: list[str], today: str, by: str) -> Options:
    unit = t("figures.unit.car_days" if by == "week" else "figures.unit.cars")
    opt = _base(t, t("figures.chart.carried_over"), labels, [_y(unit)])
    causes: list[str] = []
    for p in periods:
        for cause in (p["carried_over"] or {}).get("causes", {}):
            if cause not in causes:
                causes.append(cause)
    order = list(CAUSE_COLOURS)
    causes.sort(key=lambda c: order.index(c) if c in order else len(order))
    opt["series"] = [
        {"name": cause_label(t, cause), "type": "bar", "stack": "c", "color": CAUSE_COLOURS.get(cause, GREY),
         "data": [None if p["carried_over"] is None else p["carried_over"]["causes"].get(cause, 0)
                  for p in periods], "tooltip": {":valueFormatter": _unit(unit)}}
        for cause in causes]
    if not causes:  # an empty chart still needs its axis and a zero line
        opt["series"] = [{"name": t("figures.series.carried_over"), "type": "bar", "color": GREY,
                          "data": [None if p["carried_over"] is None else 0 for p in periods]}]
    opt["yAxis"][0]["minInterval"] = 1
    _mark_future(opt, periods, labels, today, by)
    return opt


def arrival_profile(t: Translator, profile: dict[str, int]) -> Options:
    n = t("figures.unit.arrivals")
    quarters = []
    if profile:  # every quarter hour from the first arrival's to the last's, the empty ones too
        minutes = [int(q[:2]) * 60 + int(q[3:]) for q in profile]
        quarters = [f"{m // 60:02d}:{m % 60:02d}" for m in range(min(minutes), max(minutes) + 1, 15)]
    opt = _base(t, t("figures.chart.profile"), quarters, [_y(n)])
    opt["series"] = [{"name": t("figures.series.arrivals"), "type": "bar", "color": BLUE,
                      "data": [profile.get(q, 0) for q in quarters], "tooltip": {":valueFormatter": _unit(n)}}]
    opt["legend"]["show"] = False
    opt["yAxis"][0]["minInterval"] = 1
    return opt


def _mark_future(opt: Options, periods: list[Period], labels: list[str], today: str, by: str) -> None:
    band = _future(periods, labels, today, by)
    if band is not None and opt["series"]:
        opt["series"][0]["markArea"] = band


CHARTS = (appointment_rate, show_rate, job_mix, sold_hours, levelling, carried_over)
