"""The middle column of /booking: the work (catalogue operations as chips, free text with estimated hours and
skill class, the total) and the booking's extras (parts, flags, notes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.services.booking import PARTS_STATUSES, WorkLine

if TYPE_CHECKING:
    from shopfloor.domain.models import LabourOperation

MAINTENANCE, REPAIR = "maintenance", "repair"


def due_package(operations: list[LabourOperation], last_km: int | None, mileage_km: int | None,
                interval_km: int) -> str | None:
    """The maintenance package the car is due for: the next service km (last service + the interval, else the
    mileage) rounded to the interval, then the package with the largest interval that divides it (40,000 km:
    the 40,000 km service; 25,000 km: the 5,000 km one)."""
    packages = sorted((op for op in operations if op.interval_km), key=lambda op: -(op.interval_km or 0))
    if not packages:
        return None
    if last_km is not None:
        due = last_km + interval_km
    elif mileage_km is not None:
        due = mileage_km
    else:
        return packages[-1].code
    milestone = max(round(due / interval_km), 1) * interval_km
    return next((op.code for op in packages if milestone % (op.interval_km or 1) == 0), packages[-1].code)


@dataclass
class Extras:
    parts_status: str = "none"
    parts_eta: date | None = None
    parts_numbers: str = ""
    waiting_customer: bool = False
    road_test: bool = False
    complaining_customer: bool = False
    notes: str = ""
    source: str = "passive"


class WorkPicker:
    def __init__(self, t: Translator, operations: list[LabourOperation], on_change: Callable[[], None]) -> None:
        self.t = t
        self.operations = {op.code: op for op in operations}
        self.on_change = on_change
        self.selected: list[str] = []
        self.free: list[WorkLine] = []
        self.chips: dict[str, ui.chip] = {}

    def build(self, preset: list[str] | None = None) -> None:
        t = self.t
        ui.label(t("booking_page.work_title")).classes("text-lg font-bold")
        ops = list(self.operations.values())
        groups = [
            ("packages", sorted((o for o in ops if o.interval_km), key=lambda o: o.interval_km or 0)),
            (MAINTENANCE, [o for o in ops if o.skill == MAINTENANCE and not o.interval_km]),
            (REPAIR, [o for o in ops if o.skill == REPAIR and not o.interval_km]),
        ]
        for name, members in groups:
            if not members:
                continue
            with ui.row().classes("w-full items-baseline gap-2"):
                ui.label(t(f"booking_page.group.{name}")).classes("text-grey-8 text-sm")
                if name == "packages":
                    self.due_hint = ui.label("★ " + t("booking_page.due_package")).classes("text-sm text-amber-10")
                    self.due_hint.set_visibility(False)
            with ui.row().classes("w-full gap-x-1 gap-y-0"):
                for op in members:
                    self.chips[op.code] = set_attrs(ui.chip(
                        f"{op.name(t.lang)} {float(op.hours):g}h", selectable=True, color="primary",
                        on_selection_change=lambda e, code=op.code: self._toggle(code, bool(e.value)))
                        .props("outline square").classes("text-base px-2 mx-0").mark(f"op-{op.code}"),
                        data_testid=f"op-{op.code}")
        ui.label(t("booking_page.free_title")).classes("text-grey-8 text-sm pt-1")
        with ui.row().classes("w-full no-wrap items-start gap-1"):
            self.description = ui.input(placeholder=t("booking_page.free_hint")).props("outlined dense") \
                .classes("grow").mark("free-text").props("data-testid=free-text").on("keydown.enter", self._add_free)
            self.hours = ui.number(min=MIN_LINE_HOURS, max=MAX_LINE_HOURS, step=0.1, value=1.0, suffix="h",
                                   format="%.1f") \
                .props("outlined dense").classes("w-20").mark("free-hours").props("data-testid=free-hours")
        with ui.row().classes("w-full no-wrap items-center gap-1"):
            self.skill = ui.toggle({MAINTENANCE: t("skill.maintenance"), REPAIR: t("skill.repair")}, value=REPAIR) \
                .props("unelevated dense toggle-color=primary no-caps") \
                .mark("free-skill").props("data-testid=free-skill")
            ui.space()
            ui.button(t("booking_page.free_add"), icon="add", on_click=self._add_free) \
                .props("outline dense").classes("px-3").mark("free-add").props("data-testid=free-add")
        self.free_row = ui.row().classes("w-full gap-1")
        with ui.row().classes("w-full items-baseline gap-2"):
            self.total = ui.label("").classes("text-lg font-bold").mark("work-total") \
                .props("data-testid=work-total")
            self.breakdown = ui.label("").classes("text-sm text-grey-8")
        for code in preset or []:
            if code in self.chips:
                self.chips[code].set_selected(True)
        self._recalc()

    def mark_due(self, code: str | None) -> None:
        """A star on the maintenance package due at the car's mileage."""
        for c, chip in self.chips.items():
            if c == code:
                chip.props('icon=star icon-selected=check')
            else:
                chip.props(remove="icon icon-selected")
        if hasattr(self, "due_hint"):
            self.due_hint.set_visibility(code is not None)

    def prefill(self, description: str) -> None:
        """An open item (declined work, a recall) into the free-text line, for the person to set its hours."""
        self.description.set_value(description)
        self.description.run_method("focus")

    def _toggle(self, code: str, on: bool) -> None:
        if on and code not in self.selected:
            self.selected.append(code)
        elif not on and code in self.selected:
            self.selected.remove(code)
        # selected: filled; not selected: outlined
        if on:
            self.chips[code].props(remove="outline")
        else:
            self.chips[code].props("outline")
        self._recalc()
        self.on_change()

    def _add_free(self) -> None:
        text = (self.description.value or "").strip()
        hours = self.hours.value
        if not text:
            ui.notify(self.t("booking_page.free_need_text"), type="warning")
            return
        if hours is None or not MIN_LINE_HOURS <= float(hours) <= MAX_LINE_HOURS:
            ui.notify(self.t("error.job_line_invalid"), type="warning")
            return
        self.free.append(WorkLine(text[:200], round(float(hours), 2), self.skill.value or REPAIR))
        self.description.set_value("")
        self._render_free()
        self._recalc()
        self.on_change()

    def _remove_free(self, line: WorkLine) -> None:
        self.free.remove(line)
        self._render_free()
        self._recalc()
        self.on_change()

    def _render_free(self) -> None:
        self.free_row.clear()
        with self.free_row:
            for i, line in enumerate(self.free):
                chip = ui.chip(f"{line.description} · {line.hours:g} h · {self.t('skill.' + line.skill)}",
                               removable=True, color="primary", text_color="white",
                               on_value_change=lambda _e, ln=line: self._remove_free(ln)) \
                    .props("square").classes("text-base").mark(f"free-line-{i}")
                set_attrs(chip, data_testid=f"free-line-{i}")

    def hours_by_skill(self) -> dict[str, float]:
        out = {MAINTENANCE: 0.0, REPAIR: 0.0}
        for code in self.selected:
            op = self.operations[code]
            out[op.skill] = out.get(op.skill, 0.0) + float(op.hours)
        for line in self.free:
            out[line.skill] = out.get(line.skill, 0.0) + line.hours
        return out

    def _recalc(self) -> None:
        by_skill = self.hours_by_skill()
        total = sum(by_skill.values())
        parts = [f"{self.t('skill.' + k)} {v:g} h" for k, v in by_skill.items() if v]
        self.total.text = self.t("booking_page.total", hours=f"{total:g}")
        self.breakdown.text = " · ".join(parts) if len(parts) > 1 else ""

    def empty(self) -> bool:
        return not self.selected and not self.free

    def request(self) -> dict[str, Any]:
        """The arguments of BookingService.lines()."""
        return {"codes": list(self.selected), "extra": list(self.free)}


class ExtrasForm:
    def __init__(self, t: Translator) -> None:
        self.t = t

    def build(self) -> None:
        t = self.t
        with ui.expansion(t("booking_page.extras_title"), icon="tune", value=False) \
                .classes("w-full border rounded").props("dense header-class=text-base") \
                .mark("extras").props("data-testid=extras") as self.box:
            ui.label(t("booking_page.parts_title")).classes("text-grey-8 text-sm")
            self.parts = ui.toggle({s: t(f"confirmation.parts.{s}") for s in PARTS_STATUSES}, value="none",
                                   on_change=self._parts_changed) \
                .props("unelevated dense spread toggle-color=primary no-caps").classes("w-full") \
                .mark("parts").props("data-testid=parts")
            with ui.row().classes("w-full no-wrap gap-2") as self.parts_row:
                self.eta = ui.input(t("booking_page.parts_eta")).props("outlined dense type=date stack-label") \
                    .classes("w-2/5").mark("parts-eta").props("data-testid=parts-eta")
                self.numbers = ui.input(t("booking_page.parts_numbers")).props("outlined dense") \
                    .classes("w-3/5").mark("parts-numbers").props("data-testid=parts-numbers")
            with ui.row().classes("w-full gap-0"):
                self.waiting = ui.checkbox(t("confirmation.flag.waiting_customer")) \
                    .mark("flag-waiting").props("data-testid=flag-waiting")
                self.road_test = ui.checkbox(t("confirmation.flag.road_test")) \
                    .mark("flag-road-test").props("data-testid=flag-road-test")
                self.complaining = ui.checkbox(t("confirmation.flag.complaining")) \
                    .mark("flag-complaining-box").props("data-testid=flag-complaining-box")
            self.source = ui.toggle({"passive": t("booking_page.source.passive"),
                                     "active": t("booking_page.source.active")}, value="passive") \
                .props("unelevated dense spread toggle-color=primary no-caps").classes("w-full") \
                .mark("source").props("data-testid=source")
            self.notes = ui.textarea(t("booking_page.notes")).props("outlined dense autogrow maxlength=500") \
                .classes("w-full").mark("notes").props("data-testid=notes")
        self._parts_changed()

    def _parts_changed(self) -> None:
        status = self.parts.value
        self.eta.set_visibility(status == "to_order")
        self.parts_row.set_visibility(status != "none")

    def preset(self, complaining: bool, source: str | None = None) -> None:
        self.complaining.set_value(complaining)
        if source in ("passive", "active"):
            self.source.set_value(source)

    def parts_order(self, item: dict[str, Any]) -> None:
        """A parts order on the vehicle: its parts come to this visit."""
        self.box.set_value(True)
        self.parts.set_value("arrived" if item.get("state") == "arrived" else "to_order")
        if item.get("eta"):
            self.eta.set_value(item["eta"])
        if item.get("part_numbers"):
            self.numbers.set_value(item["part_numbers"])

    def values(self) -> Extras:
        eta = None
        if self.parts.value == "to_order" and self.eta.value:
            try:
                eta = date.fromisoformat(self.eta.value)
            except ValueError:
                eta = None
        return Extras(parts_status=self.parts.value or "none", parts_eta=eta,
                      parts_numbers=(self.numbers.value or "").strip() if self.parts.value != "none" else "",
                      waiting_customer=bool(self.waiting.value), road_test=bool(self.road_test.value),
                      complaining_customer=bool(self.complaining.value), notes=(self.notes.value or "").strip(),
                      source=self.source.value or "passive")
