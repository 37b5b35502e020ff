"""What each step of the walkaround shows (kiosk/reception/walkaround_page.py draws the frame, the diagram and the
saving): the interior's readings, the items of a position with their traffic lights, a measured item's value, the
marks placed at the position, and the explanation to the customer. Every change goes back to the screen (`changed`),
which saves it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.walkaround import ItemStatus, Position
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.reception.walkaround_model import (
    EXPLAIN,
    FUEL_EIGHTHS,
    NOTE_MAX,
    STEPS,
    Mark,
    light_for,
    measurement_of,
)

if TYPE_CHECKING:
    from shopfloor.kiosk.reception.walkaround_page import WalkaroundScreen

LIGHT_COLOURS: dict[str, str] = {ItemStatus.GREEN.value: "positive", ItemStatus.YELLOW.value: "amber-8",
                                 ItemStatus.RED.value: "negative"}
TOGGLE = "unelevated no-caps color=grey-2 text-color=grey-9"  # the choices visible as buttons before one is chosen
STATE_COLOURS = {"sending": "text-grey-7", "retrying": "text-orange-9", "refused": "text-negative"}


def fuel_label(t: Any, eighths: int) -> str:
    return t(f"fuel.e{eighths}") if eighths % 2 == 0 else f"{eighths}/8"


class StepPanels:
    def __init__(self, screen: WalkaroundScreen) -> None:
        self.screen = screen
        self.t = screen.t
        self.draft = screen.draft
        self.mark_lists: dict[str, ui.column] = {}  # position (or EXPLAIN) -> the list of its marks, redrawn
        self.proposals: dict[str, list[ui.row]] = {}  # item -> where its proposal button or line shows
        self.explain_box: ui.column | None = None

    # -- a position's step --------------------------------------------------------------------------------------
    def position(self, position: Position) -> None:
        t = self.t
        ui.label(t(f"walkaround.position_hint.{position.value}")).classes("text-base text-grey-8") \
            .mark(f"hint-{position.value}")
        if position == Position.INTERIOR:
            self.readings()
        with ui.column().classes("w-full gap-0"):
            for key in self.draft.items_at(position):
                if measurement_of(key) is not None:
                    self.measured_row(key)
                else:
                    self.item_row(key)
        with ui.row().classes("w-full items-center justify-between"):
            ui.button(t("walkaround.page.rest_green"), icon="done_all",
                      on_click=lambda p=position: self.rest_green(p)) \
                .props("outline dense no-caps").mark(f"rest-green-{position.value}")
            ui.label(t("walkaround.page.tap_hint")).classes("text-sm text-grey-7")
        ui.label(t("walkaround.page.marks_here")).classes("text-sm text-grey-7 pt-1")
        self.mark_lists[position.value] = ui.column().classes("w-full gap-1")
        self.draw_marks(position.value)

    def readings(self) -> None:
        t, draft = self.t, self.draft
        with ui.row().classes("w-full items-center no-wrap gap-4"):
            mileage = ui.number(t("walkaround.page.mileage"), min=0, max=2_000_000, step=1, format="%d",
                                value=draft.mileage_km).props("outlined dense").classes("w-44").mark("mileage")
            mileage.on_value_change(lambda e: self._mileage(e.value))
            mileage.on("blur", self._mileage_done)
            with ui.column().classes("gap-0"):
                ui.label(t("walkaround.page.fuel")).classes("text-xs text-grey-7")
                ui.toggle({e: fuel_label(t, e) for e in range(FUEL_EIGHTHS + 1)}, value=draft.fuel_eighths,
                          on_change=lambda e: self._set("fuel_eighths", e.value)) \
                    .props(TOGGLE).props("dense toggle-color=primary padding='6px 10px'") \
                    .mark("fuel")
        self.reminders()

    def reminders(self) -> None:
        t, draft = self.t, self.draft
        with ui.row().classes("w-full gap-6"):
            ui.checkbox(t("walkaround.page.protection_kit"), on_change=lambda _e: self.screen.changed()) \
                .bind_value(draft, "protection_kit").mark("protection-kit")
            ui.checkbox(t("walkaround.page.valuables_taken"), on_change=lambda _e: self.screen.changed()) \
                .bind_value(draft, "valuables_taken").mark("valuables-taken")

    def _mileage(self, value: Any) -> None:
        # not saved while it is being typed: "4" on the way to "45210" is lower than the car's last reading
        if value is None or value == "":
            self._set("mileage_km", None)
        elif float(value) == int(value) and value >= 0:
            self._set("mileage_km", int(value))
        else:
            ui.notify(self.t("walkaround.page.mileage_invalid"), type="warning")
            return
        self.screen.typing = True

    def _mileage_done(self) -> None:
        self.screen.typing = False
        self.screen.changed()

    def _set(self, name: str, value: Any) -> None:
        setattr(self.draft, name, value)
        self.screen.changed()

    def item_row(self, key: str) -> None:
        t, item = self.t, self.draft.items[key]
        with ui.row().classes("w-full items-center no-wrap gap-3 py-1 border-b border-gray-200"):
            ui.label(t(f"walkaround.item.{key}")).classes("w-40 text-base shrink-0")
            toggle = ui.toggle({s.value: t(f"walkaround.status.{s.value}") for s in ItemStatus}, value=item.status,
                               clearable=True) \
                .props(TOGGLE).props("dense toggle-text-color=white padding='4px 12px'") \
                .classes("shrink-0").mark(f"item-{key}")
            self._colour(toggle, item.status)
            toggle.on_value_change(lambda e, k=key, tg=toggle: self._status(k, e.value, tg))
            self.note(key)
            self.proposal_box(key)

    def measured_row(self, key: str) -> None:
        t, item = self.t, self.draft.items[key]
        settings = self.screen.settings
        measurement = measurement_of(key)
        red, yellow = (settings.brake_pad_red_below, settings.brake_pad_yellow_below) if measurement == "brake_pad" \
            else (settings.tyre_tread_red_below, settings.tyre_tread_yellow_below)
        with ui.row().classes("w-full items-center no-wrap gap-3 py-1 border-b border-gray-200"):
            ui.label(t(f"walkaround.item.{key}")).classes("w-40 text-base shrink-0")
            value = ui.number(t("walkaround.page.measured"), min=0, max=30, step=0.1, format="%.1f",
                              value=item.value).props("outlined dense suffix=mm").classes("w-36 shrink-0") \
                .mark(f"measure-{key}").tooltip(t("walkaround.page.measure_hint",
                                                  measurement=t(f"walkaround.measurement.{measurement}"),
                                                  red=f"{red:g}", yellow=f"{yellow:g}"))
            light = ui.badge("").classes("text-sm px-2 py-1 shrink-0").mark(f"light-{key}")
            self._light(light, item.status)
            value.on_value_change(lambda e, k=key, lb=light: self._measure(k, e.value, lb))
            self.note(key)
            self.proposal_box(key)

    def note(self, key: str) -> None:
        item = self.draft.items[key]
        ui.input(placeholder=self.t("walkaround.page.note"), value=item.note) \
            .props(f"dense outlined maxlength={NOTE_MAX}").classes("grow min-w-24").mark(f"note-{key}") \
            .on_value_change(lambda e, k=key: self._note(k, e.value))

    def _note(self, key: str, value: str | None) -> None:
        self.draft.items[key].note = value or ""
        self.screen.changed()

    def _colour(self, toggle: ui.toggle, status: str | None) -> None:
        set_attrs(toggle, toggle_color=LIGHT_COLOURS.get(status or "", "primary"))

    def _light(self, badge: ui.badge, status: str | None) -> None:
        badge.text = self.t(f"walkaround.status.{status}") if status else "—"
        set_attrs(badge, color=LIGHT_COLOURS.get(status or "", "grey-5"), data_status=status or "")

    def _status(self, key: str, value: str | None, toggle: ui.toggle) -> None:
        self.draft.items[key].status = value
        self._colour(toggle, value)
        self.after_status(key)

    def _measure(self, key: str, value: float | None, light: ui.badge) -> None:
        item = self.draft.items[key]
        item.value = round(float(value), 1) if value is not None else None
        item.status = light_for(key, item.value, self.screen.settings).value if item.value is not None else None
        self._light(light, item.status)
        self.after_status(key)

    def after_status(self, key: str) -> None:
        self.draw_proposal(key)
        self.screen.changed()
        self.screen.mark_done()

    def rest_green(self, position: Position) -> None:
        for key in self.draft.unchecked(position):
            if measurement_of(key) is None:
                self.draft.items[key].status = ItemStatus.GREEN.value
        self.screen.changed()
        self.screen.redraw_step(position)

    # -- proposals ----------------------------------------------------------------------------------------------
    def proposal_box(self, key: str) -> None:
        self.proposals.setdefault(key, []).append(ui.row().classes("shrink-0 items-center"))
        self.draw_proposal(key)

    def draw_proposal(self, key: str) -> None:
        boxes = [b for b in self.proposals.get(key, []) if not b.is_deleted]
        self.proposals[key] = boxes
        for box in boxes:
            box.clear()
            with box:
                self._proposal(key)

    def _proposal(self, key: str) -> None:
        item, t = self.draft.items[key], self.t
        if item.job_line is not None:
            ui.icon("playlist_add_check", color="positive")
            ui.label(item.proposed or self.screen.line_text(key, item.job_line)) \
                .classes("text-sm text-positive").mark(f"proposed-{key}")
        elif item.status in (ItemStatus.RED, ItemStatus.YELLOW):
            ui.button(t("walkaround.page.propose"), icon="playlist_add",
                      on_click=lambda k=key: self.screen.propose(k)) \
                .props("dense unelevated no-caps color=orange-9").mark(f"propose-{key}")

    # -- marks --------------------------------------------------------------------------------------------------
    def draw_marks(self, where: str) -> None:
        box = self.mark_lists.get(where)
        if box is None or box.is_deleted:
            return
        box.clear()
        marks = self.draft.marks if where == EXPLAIN else self.draft.marks_at(Position(where))
        with box:
            if not marks:
                ui.label(self.t("walkaround.page.no_marks_here" if where != EXPLAIN
                                else "walkaround.page.summary_no_marks")).classes("text-grey-6 text-sm")
            for mark in marks:
                self.mark_row(mark, with_position=where == EXPLAIN)

    def redraw_marks(self) -> None:
        for where in list(self.mark_lists):
            self.draw_marks(where)

    def mark_row(self, mark: Mark, *, with_position: bool) -> None:
        t, screen = self.t, self.screen
        n = self.draft.number_of(mark)
        with ui.row().classes("w-full items-center no-wrap gap-2 rounded bg-grey-2 px-2 py-1") \
                .mark(f"mark-row-{n}"):
            ui.badge(str(n), color="blue-grey-8").classes("text-sm")
            text = t(f"walkaround.kind.{mark.kind}")
            if with_position:
                text = f"{t(f'walkaround.position.{mark.position}')} · {text}"
            ui.label(text).classes("font-bold shrink-0")
            ui.label(mark.note).classes("text-grey-8 grow ellipsis")
            if mark.photo_state in ("sending", "retrying"):
                ui.spinner(size="sm", color="orange-9")
                ui.label(t(f"walkaround.mark.{mark.photo_state}")).classes(STATE_COLOURS[mark.photo_state]) \
                    .mark(f"photo-state-{n}")
                if mark.photo_state == "retrying":
                    ui.button(t("walkaround.mark.retry_now"), on_click=lambda k=mark.key: screen.diagram.retry_now(k)) \
                        .props("flat dense no-caps")
            elif mark.photo_state == "refused":
                ui.label(t("walkaround.mark.refused", detail=mark.photo_detail)).classes("text-negative") \
                    .mark(f"photo-state-{n}")
            elif mark.photo is not None:
                ui.icon("photo_camera", color="positive").tooltip(t("walkaround.mark.has_photo"))
                if mark.photo_url:
                    ui.button(icon="image", on_click=lambda m=mark: screen.marks.show_photo(m)) \
                        .props("flat dense round").tooltip(t("walkaround.mark.view_photo")).mark(f"view-photo-{n}")
            self.photo_button(mark.key, again=mark.photo is not None, dense=True)
            ui.button(icon="edit", on_click=lambda k=mark.key: screen.marks.edit(k)).props("flat dense round") \
                .mark(f"edit-mark-{n}")

    def photo_button(self, key: str, *, again: bool, dense: bool = False) -> ui.button:
        """Opens the camera for mark `key`: car_diagram.js listens for taps on data-photo-for."""
        t = self.t
        button = ui.button(t("walkaround.mark.photo_again" if again else "walkaround.mark.photo"),
                           icon="photo_camera").props("outline no-caps" + (" dense" if dense else ""))
        set_attrs(button, data_photo_for=key)
        return button

    # -- the explanation -----------------------------------------------------------------------------------------
    def explanation(self) -> None:
        self.explain_box = ui.column().classes("w-full gap-2")
        self.draw_explanation()

    def draw_explanation(self) -> None:
        box = self.explain_box
        if box is None or box.is_deleted:
            return
        box.clear()
        was_ready, self.screen.ready = self.screen.ready, False  # ticks drawn again are no change
        try:
            self._explanation(box)
        finally:
            self.screen.ready = was_ready

    def _explanation(self, box: ui.column) -> None:
        t, draft = self.t, self.draft
        with box:
            ui.label(t("walkaround.page.explain_title")).classes("text-lg font-bold")
            with ui.row().classes("w-full no-wrap gap-4 items-start"):
                with ui.column().classes("w-1/2 gap-1"):
                    ui.label(t("walkaround.page.summary_marks")).classes("text-sm text-grey-7")
                    self.mark_lists[EXPLAIN] = ui.column().classes("w-full gap-1").mark("summary-marks")
                    self.draw_marks(EXPLAIN)
                with ui.column().classes("w-1/2 gap-1").mark("summary-items"):
                    ui.label(t("walkaround.page.summary_items")).classes("text-sm text-grey-7")
                    flagged = draft.flagged()
                    if not flagged:
                        ui.label(t("walkaround.page.summary_no_items")).classes("text-grey-6 text-sm")
                    for key in flagged:
                        item = draft.items[key]
                        with ui.row().classes("w-full items-start no-wrap gap-2"):
                            ui.badge(t(f"walkaround.status.{item.status}"),
                                     color=LIGHT_COLOURS.get(item.status or "", "grey-5")).classes("text-sm mt-1")
                            with ui.column().classes("grow gap-0"):
                                value = f" {item.value:g} mm" if item.value is not None else ""
                                ui.label(t(f"walkaround.item.{key}") + value).classes("text-base")
                                if item.note:
                                    ui.label(item.note).classes("text-sm text-grey-8")
                                self.proposal_box(key)
                    for position in STEPS:
                        missing = draft.unchecked(position)
                        if missing:
                            ui.button(f"{t(f'walkaround.position.{position.value}')} · "
                                      f"{t('walkaround.page.unchecked', count=len(missing))}", icon="warning",
                                      on_click=lambda p=position: self.screen.go(p.value)) \
                                .props("flat dense no-caps color=orange-9").mark(f"unchecked-{position.value}")
            ui.separator()
            ui.label(t("walkaround.page.reminders")).classes("text-sm text-grey-7")
            self.reminders()
            ui.checkbox(t("walkaround.page.explained"), on_change=lambda _e: self._explained()) \
                .bind_value(draft, "explained").classes("text-lg").mark("explained")

    def _explained(self) -> None:
        self.screen.changed()
        self.screen.update_continue()

