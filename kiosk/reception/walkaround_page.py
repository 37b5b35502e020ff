"""/kiosk/walkaround/<number>: the six-position walkaround (环车检查六方位) on the advisor's tablet, in the bay.

One screen: the car seen from above on the left (tap to place a damage mark, last visit's marks faded), the six
positions in the seeds' order and the explanation to the customer as the steps of a stepper on the right
(kiosk/reception/walkaround_steps.py). Whatever is typed is saved through WalkaroundService.record a moment after
it was typed and on every change of step, so a reload loses nothing; a mark is saved at once, without its photo,
and the photo is attached when car_diagram.js has got it to the server (kiosk/reception/photo_upload.py)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nicegui import app, ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.domain.walkaround import Position
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame as frame_mod
from shopfloor.kiosk.common import session
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.kiosk.reception import photo_upload
from shopfloor.kiosk.reception.repair_order_panel import status_chip
from shopfloor.kiosk.reception.walkaround_diagram import STATIC, STATIC_URL, CarDiagram
from shopfloor.kiosk.reception.walkaround_marks import MarkDialogs
from shopfloor.kiosk.reception.walkaround_model import EXPLAIN, STEPS, ZONES, Draft, diagram_marks
from shopfloor.kiosk.reception.walkaround_steps import StepPanels

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.services.reception.services import ReceptionServices
    from shopfloor.services.reception.walkaround import EarlierMark, WalkaroundView
    from shopfloor.services.repair_orders import RepairOrderService

PATH = "/kiosk/walkaround"
ESTIMATE = "/kiosk/estimate"
SAVE_AFTER = 1.2  # seconds without typing before what was typed is saved
# the stepper fills the screen's height below the header; its step scrolls, its header and the way on stay
CSS = """
.wa-right{height:calc(100vh - 68px)}
.wa-stepper{flex:1 1 auto;min-height:0;display:flex;flex-direction:column}
.wa-stepper .q-stepper__header{flex:none}
.wa-stepper .q-stepper__content{flex:1 1 auto;min-height:0;overflow-y:auto}
.wa-stepper .q-stepper__step-inner{padding:4px 12px 8px}
.wa-stepper .q-stepper__tab{padding:6px 4px;min-height:0}
.wa-stepper .q-stepper__header--alternative-labels .q-stepper__tab{padding:6px 4px}
"""
STEP_ICONS = {Position.INTERIOR: "airline_seat_recline_normal", Position.LEFT_FRONT: "north_west",
              Position.FRONT: "north", Position.RIGHT_SIDE: "east", Position.REAR: "south",
              Position.LEFT_REAR: "south_west"}


class WalkaroundPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, *, reception: ReceptionServices,
                 repair_orders: RepairOrderService) -> None:
        self.frame, self.clock, self.reception, self.repair_orders = frame, clock, reception, repair_orders

    def register(self, path: str) -> None:
        app.add_static_files(STATIC_URL, STATIC)
        photo_upload.register(app, self.reception.photos, self.frame.settings)
        ui.button.default_props("no-caps")
        ui.page(f"{path}/{{number}}", title="shopfloor · 环车检查")(self.build_path)
        ui.page(path, title="shopfloor · 环车检查")(self.build)

    async def build_path(self, number: str, lang: str | None = None) -> None:
        """A browser not signed in goes to ?number=… first: the sign-in comes back to the page with its query
        (kiosk/common/sign_in.py), and a path parameter would be lost there."""
        if session.current_user() is None:
            ui.navigate.to(f"{PATH}?number={quote(number[:40], safe='')}")
            return
        await self.build(number, lang)

    async def build(self, number: str = "", lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        walk = self.reception.walkaround
        try:
            ro = await io(self.repair_orders.get, number)
            view = await io(walk.get, number)
            measured = await io(walk.measured_items, number)
            earlier = await io(walk.earlier_marks, number)
        except DomainError as exc:
            with ui.column().classes("w-full items-center pt-16 gap-4"):
                ui.label(exc.message(t.lang)).classes("text-xl text-negative").mark("walkaround-error")
                ui.button(t("walkaround.page.back"), icon="arrow_back", on_click=lambda: ui.navigate.to("/kiosk")) \
                    .props("unelevated size=lg")
            return
        WalkaroundScreen(self, t, user, ro, view, measured, earlier).build()


class WalkaroundScreen:
    """One order's walkaround open on one tablet."""

    def __init__(self, page: WalkaroundPage, t: Translator, user: KioskUser, ro: dict[str, Any],
                 view: WalkaroundView | None, measured: list[str], earlier: list[EarlierMark]) -> None:
        self.page, self.t, self.user, self.ro = page, t, user, ro
        self.number: str = ro["number"]
        self.settings = page.frame.settings.reception
        self.draft = Draft.start(view, ro, measured)
        self.earlier = earlier
        self.lock = asyncio.Lock()
        self.dirty = False
        self.blocked = False  # the last save was refused: not tried again until something changes
        self.mileage_confirmed = False
        self.last_change = 0.0
        self.steps: dict[str, ui.step] = {}
        self.step_boxes: dict[str, ui.column] = {}
        self.panels = StepPanels(self)
        self.marks = MarkDialogs(self)
        self.saved_at = view.recorded_at if view is not None else None
        self.ready = False
        self.typing = False  # the odometer is being typed: saved once it is left

    # -- layout -------------------------------------------------------------------------------------------------
    def build(self) -> None:
        t, ro = self.t, self.ro
        ui.query(".nicegui-content").classes("p-2")
        ui.add_css(CSS)
        with ui.row().classes("w-full no-wrap gap-3 items-start").mark("walkaround"):
            with ui.column().classes("w-[22rem] shrink-0 gap-1"):
                with ui.row().classes("w-full items-center justify-between no-wrap"):
                    with ui.column().classes("gap-0"):
                        ui.label(ro["plate_display"]).classes("text-2xl font-bold leading-tight").mark("plate")
                        ui.label(f"{ro['number']} · {ro['vehicle_model']}").classes("text-sm text-grey-8")
                        ui.label(ro["customer"]).classes("text-sm text-grey-8")
                    status_chip(t, ro["status"])
                self.diagram = CarDiagram(upload=photo_upload.url(self.number), labels={
                    "front": t("walkaround.diagram.front"), "left": t("walkaround.diagram.left"),
                    "right": t("walkaround.diagram.right")}, max_px=self.settings.photo_max_px) \
                    .classes("w-[22rem] h-[33rem]").mark("car-diagram")
                self.diagram.on("place", self.marks.place)
                self.diagram.on("select", lambda e: self.marks.edit(str(e.args.get("key", ""))))
                self.diagram.on("earlier", self._earlier)
                self.diagram.on("photo", self.marks.photo_arrived)
                self.diagram.on("photo_state", self.marks.photo_state)
                if self.earlier:
                    first = self.earlier[0]
                    ui.label(t("walkaround.page.earlier_legend", date=first.on.isoformat(),
                               number=first.repair_order)).classes("text-sm text-grey-7").mark("earlier-legend")
                with ui.row().classes("w-full items-center justify-between no-wrap"):
                    ui.button(t("walkaround.page.back"), icon="arrow_back",
                              on_click=self._back).props("flat dense").mark("back-to-kiosk")
                    self.save_label = ui.label("").classes("text-sm text-grey-7").mark("save-state")
            with ui.column().classes("grow min-w-0 gap-1 wa-right"):
                self.stepper = ui.stepper(value=self._first_step()) \
                    .props("header-nav flat animated alternative-labels").classes("w-full wa-stepper").mark("stepper")
                with self.stepper:
                    for position in STEPS:
                        with ui.step(position.value, title=t(f"walkaround.position.{position.value}"),
                                     icon=STEP_ICONS[position]) as step:
                            self.steps[position.value] = step
                            self.step_boxes[position.value] = ui.column().classes("w-full gap-1")
                            self._fill(position)
                    with ui.step(EXPLAIN, title=t(f"walkaround.position.{EXPLAIN}"), icon="record_voice_over") as step:
                        self.steps[EXPLAIN] = step
                        self.panels.explanation()
                # always in sight, whatever the step's length: the way on
                with ui.row().classes("w-full items-center justify-between no-wrap border-t border-gray-300 pt-1 px-2"):
                    self.back_button = ui.button(t("walkaround.page.previous"), icon="chevron_left",
                                                 on_click=self.stepper.previous).props("flat size=lg") \
                        .mark("step-back")
                    self.next_button = ui.button("", on_click=self.stepper.next) \
                        .props("unelevated size=lg icon-right=chevron_right").classes("ml-auto").mark("step-next")
                    self.continue_button = ui.button(t("walkaround.page.continue_estimate"), icon="request_quote",
                                                     on_click=self._continue) \
                        .props("unelevated size=lg").classes("ml-auto").mark("continue-estimate")
                self.stepper.on_value_change(self._step_changed)
        self.mark_done()
        self._update_nav()
        self._redraw_diagram()
        self._show_saved()
        self.ready = True
        ui.timer(0.5, self._autosave)

    def _fill(self, position: Position) -> None:
        with self.step_boxes[position.value]:
            self.panels.position(position)

    def redraw_step(self, position: Position) -> None:
        self.ready = False
        self.step_boxes[position.value].clear()
        self._fill(position)
        self.ready = True
        self.mark_done()

    def _first_step(self) -> str:
        """A walkaround begun earlier opens at its first position with something left to check."""
        if not any(i.status for i in self.draft.items.values()) and not self.draft.marks:
            return STEPS[0].value
        return next((p.value for p in STEPS if self.draft.unchecked(p)), EXPLAIN)

    def go(self, step: str) -> None:
        self.stepper.value = step

    def mark_done(self) -> None:
        for position in STEPS:
            step = self.steps.get(position.value)
            if step is not None:  # done when everything there is checked, not (as NiceGUI has it) when passed
                step._props[":done"] = "false" if self.draft.unchecked(position) else "true"
                step.update()

    def update_continue(self) -> None:
        if hasattr(self, "continue_button"):
            set_attrs(self.continue_button, color="primary" if self.draft.explained else "grey-6")

    def _update_nav(self) -> None:
        step = self.stepper.value
        self.back_button.set_visibility(step != STEPS[0].value)
        self.next_button.set_visibility(step != EXPLAIN)
        self.continue_button.set_visibility(step == EXPLAIN)
        self.next_button.text = self.t("walkaround.page.to_explain" if step == STEPS[-1].value
                                       else "walkaround.page.next")
        self.update_continue()

    def _redraw_diagram(self) -> None:
        step = self.stepper.value
        zone = ZONES[Position(step)] if step in ZONES else None
        self.diagram.show(marks=diagram_marks(self.draft), earlier=[self._earlier_dict(m) for m in self.earlier],
                          zone=zone, selected="")

    def _earlier_dict(self, mark: EarlierMark) -> dict[str, Any]:
        t = self.t
        kind = t(f"walkaround.kind.{mark.kind}")
        return {"x": mark.x, "y": mark.y, "symbol": kind[:1], "title": self._earlier_text(mark)}

    def _earlier_text(self, mark: EarlierMark) -> str:
        t = self.t
        return t("walkaround.page.earlier_mark", kind=t(f"walkaround.kind.{mark.kind}"),
                 position=t(f"walkaround.position.{mark.position}"), date=mark.on.isoformat(),
                 number=mark.repair_order) + (f" · {mark.note}" if mark.note else "")

    def _earlier(self, e: Any) -> None:
        index = e.args.get("index") if isinstance(e.args, dict) else None
        if isinstance(index, int) and 0 <= index < len(self.earlier):
            ui.notify(self._earlier_text(self.earlier[index]), position="center", multi_line=True)

    def line_text(self, key: str, job_line: int) -> str:
        """The item in the page's language, then the line as stored (its description is in the site's)."""
        line = next((li for li in self.ro.get("job_lines", []) if li.get("id") == job_line), None)
        item = self.t(f"walkaround.item.{key}")
        if line is None:
            return self.t("walkaround.page.proposed_line", item=item, line=f"#{job_line}", hours="—")
        return self.t("walkaround.page.proposed_line", item=item, line=line["description"],
                      hours=f"{line['hours']:g}")

    # -- saving -------------------------------------------------------------------------------------------------
    def changed(self) -> None:
        if not self.ready:  # the fields being filled in as the page is drawn: nothing new to save
            return
        self.dirty, self.blocked = True, False
        self.last_change = time.monotonic()
        self.save_label.text = self.t("walkaround.page.unsaved")

    async def _autosave(self) -> None:
        if self.dirty and not self.blocked and not self.typing and not self.lock.locked() \
                and time.monotonic() - self.last_change >= SAVE_AFTER:
            await self.save()

    async def save(self) -> bool:
        """Record what the page holds; False (and said) when it was refused."""
        if not frame_mod.allowed(self.t, self.user, Permission.RECEPTION):
            return False
        async with self.lock:
            if not self.dirty:
                return True
            self.dirty = False
            data = self.draft.to_input(mileage_confirmed=self.mileage_confirmed)
            self.save_label.text = self.t("walkaround.page.saving")
            refused: DomainError | None = None
            try:
                view = await io(self.page.reception.walkaround.record, self.number, data, actor=self.user.actor)
            except DomainError as exc:
                self.dirty, self.blocked = True, True
                refused = exc
            else:
                self.saved_at = view.recorded_at
                self._show_saved()
                return True
        assert refused is not None
        if refused.key == "error.mileage_lower" and await self._confirm_mileage(refused.message(self.t.lang)):
            self.mileage_confirmed, self.blocked = True, False
            return await self.save()
        message = refused.message(self.t.lang)
        self.save_label.text = self.t("walkaround.page.save_failed", error=message)
        self.save_label.classes(replace="text-sm text-negative")
        ui.notify(message, type="negative", multi_line=True)
        return False

    def _show_saved(self) -> None:
        if self.dirty:
            return
        self.save_label.classes(replace="text-sm text-grey-7")
        if self.saved_at is not None:
            at = self.saved_at.astimezone(self.page.clock.tz)
            self.save_label.text = self.t("walkaround.page.saved_at", time=f"{at:%H:%M:%S}")

    async def _confirm_mileage(self, message: str) -> bool:
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
            ui.label(message).classes("text-lg")
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("kiosk.back"), on_click=dialog.close).props("flat")
                ui.button(self.t("kiosk.mileage_confirm"), on_click=lambda: dialog.submit(True)) \
                    .props("unelevated").mark("mileage-confirm")
        return bool(await dialog)

    async def _step_changed(self, _e: Any) -> None:
        self.mark_done()
        self._update_nav()
        self._redraw_diagram()
        if self.stepper.value == EXPLAIN:
            self.panels.draw_explanation()
        self.blocked = False
        await self.save()

    # -- actions ------------------------------------------------------------------------------------------------
    async def propose(self, key: str) -> None:
        """A red or yellow item as a job line: what is on the page is saved first (the service proposes from the
        stored walkaround)."""
        if not await self.save():
            return
        try:
            line = await io(self.page.reception.walkaround.propose, self.number, key, actor=self.user.actor)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return
        item = self.draft.items[key]
        item.job_line = line.job_line_id
        item.proposed = self.t("walkaround.page.proposed", item=self.t(f"walkaround.item.{key}"),
                               line=line.description, hours=f"{line.hours:g}", amount=f"{line.amount:,.2f}")
        self.panels.draw_proposal(key)
        ui.notify(item.proposed, type="positive")

    async def _continue(self) -> None:
        if not self.draft.explained:
            ui.notify(self.t("walkaround.page.explain_first"), type="warning")
            return
        if await self.save():
            ui.navigate.to(f"{ESTIMATE}/{self.number}")

    async def _back(self) -> None:
        await self.save()
        ui.navigate.to("/kiosk")

    def marks_changed(self) -> None:
        """A mark placed, changed or deleted: drawn, listed and saved at once."""
        self._redraw_diagram()
        self.panels.redraw_marks()
        self.changed()
        self.last_change = 0.0
