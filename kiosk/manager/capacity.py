"""The plan board's capacity strip: the chosen day's technician hours (per technician, per skill class, cars
carried over, walk-ins) and the load bars of its week, Monday to Sunday (a bar is a link to its day)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from nicegui import ui

from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs

SKILLS = ("maintenance", "repair")
WEEK_TOP = 1.25  # a bar's full height is 125 % load, so an overbooked day still shows by how much


def week_entry(state: dict[str, Any]) -> dict[str, Any]:
    """A capacity state from the bus as one of BookingService.week()'s entries."""
    total = state.get("total") or {}
    available, allocated = float(total.get("available") or 0), float(total.get("allocated") or 0)
    return {"day": state["day"], "holiday": state.get("holiday"), "available": available, "allocated": allocated,
            "free": total.get("free", 0), "appointments": state.get("appointments", 0),
            "load": round(allocated / available, 3) if available else None, "skills": state.get("skills", {})}


def h(value: Any) -> str:
    return f"{float(value or 0):.1f}"


class CapacityPanel:
    def __init__(self, t: Translator, *, on_pick: Callable[[date], Awaitable[None]], today: Callable[[], date],
                 reserve_share: float = 0.2) -> None:
        self.t = t
        self.on_pick = on_pick
        self.today = today
        self.reserve_share = reserve_share
        self.container = ui.row().classes("w-full no-wrap gap-2 items-stretch").props("data-testid=capacity-panel")

    def show(self, capacity: dict[str, Any] | None, week: list[dict[str, Any]], day: date) -> None:
        self.container.clear()
        with self.container:
            with ui.card().classes("mg-tile flex-[5] p-3 gap-1").props("flat bordered"):
                self._technicians(capacity)
            with ui.card().classes("mg-tile flex-[4] p-3 gap-1").props("flat bordered"):
                self._classes(capacity)
            with ui.card().classes("mg-tile flex-[3] p-3 gap-1").props("flat bordered"):
                self._week(week, day)

    # -- the day's hours --------------------------------------------------------------------------------------
    def _technicians(self, capacity: dict[str, Any] | None) -> None:
        t = self.t
        with ui.row().classes("w-full items-baseline justify-between no-wrap"):
            ui.label(t("manager.capacity.technicians")).classes("text-base font-bold")
            ui.label(t("manager.capacity.tech_legend")).classes("text-xs text-grey-7")
        if capacity is None:
            return
        if capacity.get("holiday"):
            ui.label(t("manager.capacity.closed", name=capacity["holiday"])).classes("text-grey-7")
        techs = sorted(capacity.get("technicians") or [],
                       key=lambda x: (SKILLS.index(x["skill"]) if x["skill"] in SKILLS else 9, x["id"]))
        with ui.grid(columns=4).classes("w-full gap-x-3 gap-y-1"):
            for tech in techs:
                available, allocated, free = tech["available"], tech["allocated"], tech["free"]
                share = min(allocated / available, 1.0) if available > 0 else (1.0 if allocated > 0 else 0.0)
                with set_attrs(ui.column().classes("gap-0 min-w-0"),
                               data_technician=tech["name"], data_free=free, data_allocated=allocated):
                    with ui.row().classes("w-full items-center gap-1 no-wrap"):
                        ui.badge(t(f"manager.capacity.skill_short.{tech['skill']}"),
                                 color="teal" if tech["skill"] == "maintenance" else "indigo").props("dense")
                        ui.label(tech["name"]).classes("font-medium truncate")
                    level = "is-over" if free < 0 else ""
                    with ui.element("div").classes("mg-bar w-full"):
                        ui.element("div").classes(level).style(f"width: {share * 100:.0f}%")
                    with ui.row().classes("w-full gap-1 no-wrap text-xs"):
                        ui.label(f"{h(allocated)}/{h(available)}").classes("text-grey-7")
                        ui.space()
                        if available <= 0 and allocated <= 0:
                            ui.label(t("manager.capacity.off")).classes("text-grey-6")
                        else:
                            ui.label(t("manager.capacity.over" if free < 0 else "manager.capacity.free",
                                       hours=h(abs(free)))).classes(
                                "whitespace-nowrap " + ("text-negative font-bold" if free < 0 else "text-grey-8"))

    def _classes(self, capacity: dict[str, Any] | None) -> None:
        t = self.t
        ui.label(t("manager.capacity.classes")).classes("text-base font-bold")
        if capacity is None:
            return
        columns = ("available", "booked", "unplanned", "free", "reserved")
        with ui.grid(columns="auto repeat(5, 1fr)").classes("w-full gap-x-3 gap-y-0 text-sm items-baseline"):
            ui.label("")
            for col in columns:
                ui.label(t(f"manager.capacity.col.{col}")).classes("text-xs text-grey-7 text-right")
            rows = [(t(f"manager.capacity.class.{s}"), capacity["skills"].get(s, {}), s) for s in SKILLS]
            rows.append((t("manager.capacity.class.total"), capacity["total"], "total"))
            for name, values, key in rows:
                weight = "font-bold" if key == "total" else "font-medium"
                set_attrs(ui.label(name).classes(f"{weight} whitespace-nowrap"),
                          data_skill=key, data_free=values.get("free", 0))
                for col in columns:
                    value = values.get(col, 0)
                    style = "text-right"
                    if col == "free":
                        style += " font-bold " + ("text-negative" if float(value or 0) <= 0 else "text-positive")
                    ui.label(h(value)).classes(style)
        carried = capacity.get("carried_over") or {"hours": 0, "cars": []}
        walk_in = capacity.get("walk_in") or {"hours": 0, "cars": 0}
        ui.separator().classes("my-1")
        with ui.row().classes("w-full gap-4 text-sm no-wrap"):
            set_attrs(ui.label(t("manager.capacity.carried_over", count=len(carried["cars"]),
                                 hours=h(carried["hours"])))
                      .classes("font-medium" + (" text-orange-9" if carried["cars"] else "")),
                      data_testid="carried-over", data_cars=len(carried["cars"]))
            ui.label(t("manager.capacity.walk_in", count=walk_in["cars"], hours=h(walk_in["hours"])))
        if carried["cars"]:
            with ui.column().classes("gap-0 text-xs text-grey-8"):
                for car in carried["cars"][:4]:
                    why = t(f"hold.{car['reason']}") if car.get("reason") else t(f"status.{car['status']}")
                    ui.label(f"{car['plate_display']} · {why} · {h(car['hours'])} {t('manager.capacity.h')}")
                if len(carried["cars"]) > 4:
                    ui.label(t("manager.capacity.more", count=len(carried["cars"]) - 4))

    # -- the week ---------------------------------------------------------------------------------------------
    def _week(self, week: list[dict[str, Any]], day: date) -> None:
        t = self.t
        with ui.row().classes("w-full items-baseline justify-between gap-x-2 gap-y-0"):
            ui.label(t("manager.capacity.week")).classes("text-base font-bold whitespace-nowrap")
            ui.label(t("manager.capacity.week_legend")).classes("text-xs text-grey-7")
        weekdays = t("manager.board.weekdays").split(",")
        today = self.today()
        with ui.element("div").classes("mg-week w-full"):
            for entry in week:
                d = date.fromisoformat(entry["day"])
                load = entry.get("load")
                closed = entry.get("holiday") is not None or not entry.get("available")
                classes = ["mg-day"]
                if d == day:
                    classes.append("is-selected")
                if d < today:
                    classes.append("is-past")
                level = "" if load is None else "is-over" if load > 1 else \
                    "is-high" if load > 1 - self.reserve_share else ""
                height = 0 if load is None else min(load, WEEK_TOP) / WEEK_TOP * 100
                text = t("manager.capacity.closed_short") if closed else f"{round((load or 0) * 100)}%"
                cell = set_attrs(ui.element("div").classes(" ".join(classes)),
                                 data_day=entry["day"], data_load="" if load is None else load)
                if d >= today:
                    cell.on("click", lambda _=None, d=d: self.on_pick(d))
                with cell:
                    ui.label(text).classes("text-xs font-bold" + (" text-negative" if level == "is-over" else ""))
                    reserve_at = (1 - self.reserve_share) / WEEK_TOP * 100
                    with ui.element("div").classes("w-full flex justify-center"), \
                            ui.element("div").classes("mg-day-bar"):
                        ui.element("div").classes(f"mg-day-fill {level}").style(f"height: {height:.0f}%")
                        ui.element("div").classes("mg-day-full").style(f"bottom: {100 / WEEK_TOP:.0f}%")
                        ui.element("div").classes("mg-day-reserve").style(f"bottom: {reserve_at:.0f}%")
                    ui.label(weekdays[d.weekday()] if len(weekdays) == 7 else "").classes("text-xs font-medium")
                    ui.label(t("manager.capacity.day_date", day=d.day, month=d.month)).classes("text-xs text-grey-7")
                    ui.label(str(entry.get("appointments", 0))).classes("text-xs text-grey-7") \
                        .tooltip(t("manager.capacity.count", count=entry.get("appointments", 0)))
