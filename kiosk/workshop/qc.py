"""/workshop/qc: the inspectors' quality checks (tablet 1280×800, foreman and manager): the orders waiting for a check
at their stage ([workshop] qc_stages), the foreman check (pass, or fail with a reason, the technician responsible
and the lines that go back: a rework row each), the final inspection as the delivery-readiness list of domain.md
§4, and the rework register."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, ui

from shopfloor.contract import topics
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.kiosk.workshop.rework_register import ReworkRegister
from shopfloor.services.workshop.inspection import FINAL_CHECKLIST, QueueItem

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.services.repair_orders import RepairOrderService
    from shopfloor.services.workshop.inspection import InspectionService
    from shopfloor.services.workshop.quality import QualityService

PATH = "/workshop/qc"
STAGE_COLOURS = {"self": "blue-grey", "foreman": "indigo", "final": "purple"}
SYSTEM_ITEM = "items_done"  # of FINAL_CHECKLIST: ticked from the order's lines, not by hand
LINES_CLOSED = ("done", "cancelled")


class QcPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock | None = None, store: BoardStore | None = None, *,
                 quality: QualityService | None = None, inspection: InspectionService | None = None,
                 repair_orders: RepairOrderService | None = None) -> None:
        self.frame = frame
        self.clock = clock
        self.store = store
        self.quality = quality
        self.inspection = inspection
        self.repair_orders = repair_orders

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · qc")(self.build)

    async def build(self, lang: str | None = None, tab: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        if self.inspection is None or self.quality is None or self.clock is None or self.repair_orders is None:
            ui.label(t("nav.qc")).classes("text-2xl font-bold")
            return
        await QcDesk(self, t, user).build(tab)


class QcDesk:
    """One inspector's view: the queue on the left, the order in hand on the right; the register in its tab."""

    def __init__(self, page: QcPage, t: Translator, user: KioskUser) -> None:
        assert page.inspection is not None and page.quality is not None and page.clock is not None
        assert page.repair_orders is not None
        self.page, self.t, self.user = page, t, user
        self.inspection, self.quality, self.clock = page.inspection, page.quality, page.clock
        self.repair_orders = page.repair_orders
        self.items: list[QueueItem] = []
        self.current: str | None = None
        self.technicians: dict[int, str] = {}
        self.refreshing = False

    async def build(self, tab: str | None) -> None:
        t = self.t
        self.technicians = {x["id"]: x["name"] for x in await io(self.repair_orders.technicians)}
        with ui.tabs().classes("w-full").props("align=left") as tabs:
            queue_tab = ui.tab("queue", t("qc.tab.queue"), icon="fact_check").mark("tab-queue")
            register_tab = ui.tab("rework", t("qc.tab.rework"), icon="history").mark("tab-rework")
        with ui.tab_panels(tabs, value=register_tab if tab == "rework" else queue_tab).classes("w-full"):
            with ui.tab_panel(queue_tab).classes("p-0 pt-2"), \
                    ui.row().classes("w-full no-wrap gap-4 items-start"):
                with ui.column().classes("w-[34%] gap-2"):
                    ui.label(t("qc.waiting")).classes("text-lg font-bold text-grey-9").mark("qc-desk")
                    self.queue = ui.column().classes("w-full gap-2").mark("qc-queue")
                self.panel = ui.column().classes("w-[66%] gap-3").mark("qc-panel")
            with ui.tab_panel(register_tab).classes("p-0 pt-2"):
                await ReworkRegister(self.quality, self.clock, t).build()
        await self.refresh()
        if self.page.store is not None:
            self.page.store.changed.subscribe(self._store_changed)

    def _store_changed(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        # another inspector checked an order, or a technician finished one: the queue is read again
        if kind == topics.REPAIR_ORDERS and not self.refreshing:
            background_tasks.create(self.refresh(), name="qc-queue-refresh")

    async def refresh(self) -> None:
        self.refreshing = True
        try:
            self.items = await io(self.inspection.waiting)
        finally:
            self.refreshing = False
        self._draw_queue()
        if self.current is not None and not any(i.number == self.current for i in self.items):
            self.current = None
        await self._draw_panel()

    def _draw_queue(self) -> None:
        t, today = self.t, self.clock.today()
        self.queue.clear()
        with self.queue:
            if not self.items:
                ui.label(t("qc.none_waiting")).classes("text-grey-6 text-lg").mark("qc-empty")
            for item in self.items:
                card = ui.card().classes("w-full cursor-pointer gap-1 py-2" + (
                    " bg-blue-1" if item.number == self.current else "")).props("flat bordered")
                card.on("click", lambda n=item.number: self._open(n))
                set_attrs(card, data_number=item.number)
                card.mark(f"qc-order-{item.number}")
                with card:
                    with ui.row().classes("w-full items-center justify-between no-wrap"):
                        ui.label(item.plate).classes("text-xl font-bold")
                        ui.badge(t(f"qc.stage.{item.stage}"), color=STAGE_COLOURS.get(item.stage, "grey")) \
                            .classes("text-sm px-2")
                    ui.label(f"{item.customer} · {item.work}").classes("text-grey-8 text-sm")
                    with ui.row().classes("gap-3 text-sm text-grey-7"):
                        ui.label(t("qc.promised", time=self._time(item.promised_at, today)))
                        if item.failed_before:
                            ui.label(t("qc.failed_before", count=item.failed_before)).classes("text-orange-9")

    async def _open(self, number: str) -> None:
        self.current = number
        self._draw_queue()
        await self._draw_panel()

    def _time(self, moment: datetime | None, today: Any) -> str:
        if moment is None:
            return "—"
        local = moment.astimezone(self.clock.tz)
        return f"{local:%H:%M}" if local.date() == today else f"{local:%m-%d %H:%M}"

    async def _draw_panel(self) -> None:
        t = self.t
        item = next((i for i in self.items if i.number == self.current), None)
        # the final inspection's "every line done" is the order's, not the inspector's: read before drawing
        lines = (await io(self.repair_orders.get, item.number))["job_lines"] \
            if item is not None and item.stage == "final" else []
        if item is not None and item.number != self.current:
            return  # another order was opened meanwhile; its own draw follows
        self.panel.clear()
        with self.panel:
            if item is None:
                with ui.column().classes("w-full items-center pt-16 gap-3 text-grey-7"):
                    ui.icon("fact_check", size="5rem")
                    ui.label(t("qc.pick_order")).classes("text-xl")
                return
            with ui.card().classes("w-full gap-2").props("flat bordered").mark("qc-order"):
                with ui.row().classes("w-full items-start justify-between no-wrap"):
                    with ui.column().classes("gap-0"):
                        ui.label(item.number).classes("text-sm text-grey-7")
                        ui.label(item.plate).classes("text-3xl font-bold")
                        ui.label(item.customer).classes("text-grey-8")
                    with ui.column().classes("items-end gap-1"):
                        ui.badge(t(f"qc.stage.{item.stage}"), color=STAGE_COLOURS.get(item.stage, "grey")) \
                            .classes("text-base px-3 py-1").mark("qc-stage")
                        stages = " → ".join(t(f"qc.stage.{s.value}") + (" ✓" if s.value in item.passed else "")
                                            for s in self.inspection.ctx.settings.workshop.qc_stages)
                        ui.label(stages).classes("text-sm text-grey-7")
                for line in item.lines:
                    who = "、".join(line.technicians) if line.technicians else t("qc.nobody")
                    ui.label(f"• {line.description} · {who}").classes("text-base")
            if item.stage == "final":
                FinalCheck(self, item, lines).build()
            else:
                StageCheck(self, item).build()

    async def record(self, number: str, call: Any, *args: Any, **kwargs: Any) -> bool:
        if not frame.allowed(self.t, self.user, Permission.QC_INSPECT):
            return False
        try:
            state = await io(call, *args, actor=self.user.actor, **kwargs)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return False
        ui.notify(self.t("qc.recorded", number=number, status=self.t(f"status.{state['status']}")),
                  type="positive")
        await self.refresh()
        return True

    def failure_fields(self, item: QueueItem, *, reason: bool) -> dict[str, Any]:
        """Reason (when asked), the technician responsible, and the lines that go back (those of the responsible
        technician ticked when one is chosen)."""
        t = self.t
        fields: dict[str, Any] = {}
        if reason:
            fields["reason"] = ui.input(t("qc.reason")).props("outlined").classes("w-full").mark("qc-reason")
        crew = {tid for line in item.lines for tid in line.technician_ids}
        options = {tid: name for tid, name in self.technicians.items() if tid in crew} or dict(self.technicians)
        responsible = ui.select(options, label=t("qc.responsible"), clearable=True).props("outlined") \
            .classes("w-full").mark("qc-responsible")
        fields["responsible"] = responsible
        ui.label(t("qc.lines_back")).classes("text-sm text-grey-8")
        boxes = {}
        for line in item.lines:
            boxes[line.id] = ui.checkbox(line.description, value=True).mark(f"qc-line-{line.id}")
        fields["lines"] = boxes

        def follow(e: Any) -> None:
            for line in item.lines:
                boxes[line.id].value = e.value is None or e.value in line.technician_ids

        responsible.on_value_change(follow)
        return fields


class StageCheck:
    """The self or foreman check: pass, or fail with a reason, the technician responsible and the lines back."""

    form: ui.card

    def __init__(self, desk: QcDesk, item: QueueItem) -> None:
        self.desk, self.item = desk, item

    def build(self) -> None:
        t, item = self.desk.t, self.item
        if item.stage == "self":
            ui.label(t("qc.self_note")).classes("text-grey-8")
        with ui.row().classes("w-full gap-3"):
            ui.button(t("qc.pass"), icon="check_circle", on_click=self._pass).props("unelevated size=lg") \
                .classes("bg-positive").mark("qc-pass")
            ui.button(t("qc.fail"), icon="undo", on_click=lambda: self.form.set_visibility(True)) \
                .props("outline size=lg color=negative").mark("qc-fail")
        self.form = ui.card().classes("w-full gap-2").props("flat bordered")
        with self.form:
            ui.label(t("qc.fail_title")).classes("text-lg font-bold text-negative")
            self.fields = self.desk.failure_fields(item, reason=True)
            with ui.row().classes("w-full justify-end gap-3"):
                ui.button(t("qc.cancel"), on_click=lambda: self.form.set_visibility(False)).props("flat") \
                    .mark("qc-fail-cancel")
                ui.button(t("qc.send_back"), icon="assignment_return", on_click=self._fail) \
                    .props("unelevated color=negative").mark("qc-send-back")
        self.form.set_visibility(False)

    async def _pass(self) -> None:
        await self.desk.record(self.item.number, self.desk.quality.record, self.item.number, self.item.stage, True)

    async def _fail(self) -> None:
        reason = (self.fields["reason"].value or "").strip()
        if not reason:
            ui.notify(self.desk.t("qc.needs_reason"), type="warning")
            return
        lines = [lid for lid, box in self.fields["lines"].items() if box.value]
        if not lines:
            ui.notify(self.desk.t("qc.needs_line"), type="warning")
            return
        await self.desk.record(self.item.number, self.desk.quality.record, self.item.number, self.item.stage, False,
                               reason=reason, responsible=self.fields["responsible"].value, job_lines=lines)


class FinalCheck:
    """The final inspection: the delivery-readiness list; pass needs every item, a failure names those missed."""

    form: ui.card

    def __init__(self, desk: QcDesk, item: QueueItem, lines: list[dict[str, Any]]) -> None:
        self.desk, self.item = desk, item
        self.open_lines = [line for line in lines if line.get("status") not in LINES_CLOSED]

    def build(self) -> None:
        t = self.desk.t
        ui.label(t("qc.final_title")).classes("text-lg font-bold")
        self.boxes: dict[str, ui.checkbox] = {}
        with ui.grid(columns=2).classes("w-full gap-x-6 gap-y-1").mark("qc-checklist"):
            for key in FINAL_CHECKLIST:
                # "every line done" is the system's to tick, from the lines' statuses, not the inspector's
                self.boxes[key] = ui.checkbox(t(f"qc.item.{key}"), value=key == SYSTEM_ITEM and not self.open_lines,
                                              on_change=self._ticked).classes("text-lg").mark(f"qc-item-{key}")
        by_system = self.boxes[SYSTEM_ITEM]
        by_system.disable()
        by_system.tooltip(t("qc.items_done_by_system"))
        if self.open_lines:
            ui.label(t("qc.lines_open", lines="、".join(
                f"{line.get('description', '')}（{t('workshop.line_status.' + str(line.get('status')))}）"
                for line in self.open_lines))).classes("text-negative font-bold").mark("qc-lines-open")
        self.missing = ui.label("").classes("text-orange-9").mark("qc-missing")
        with ui.row().classes("w-full gap-3"):
            self.pass_button = ui.button(t("qc.pass_final"), icon="verified", on_click=self._pass) \
                .props("unelevated size=lg").classes("bg-positive").mark("qc-pass")
            ui.button(t("qc.fail"), icon="undo", on_click=lambda: self.form.set_visibility(True)) \
                .props("outline size=lg color=negative").mark("qc-fail")
        self.form = ui.card().classes("w-full gap-2").props("flat bordered")
        with self.form:
            ui.label(t("qc.fail_final_title")).classes("text-lg font-bold text-negative")
            self.note = ui.input(t("qc.note")).props("outlined").classes("w-full").mark("qc-reason")
            self.fields = self.desk.failure_fields(self.item, reason=False)
            with ui.row().classes("w-full justify-end gap-3"):
                ui.button(t("qc.cancel"), on_click=lambda: self.form.set_visibility(False)).props("flat") \
                    .mark("qc-fail-cancel")
                ui.button(t("qc.send_back"), icon="assignment_return", on_click=self._fail) \
                    .props("unelevated color=negative").mark("qc-send-back")
        self.form.set_visibility(False)
        self._ticked()

    def _unticked(self) -> list[str]:
        return [key for key, box in self.boxes.items() if not box.value]

    def _ticked(self) -> None:
        missing = self._unticked()
        self.pass_button.set_enabled(not missing)
        t = self.desk.t
        self.missing.text = t("qc.still_open", items="、".join(t(f"qc.item.{k}") for k in missing)) if missing \
            else t("qc.all_ticked")

    async def _pass(self) -> None:
        if self._unticked():
            return
        await self.desk.record(self.item.number, self.desk.inspection.final, self.item.number, list(self.boxes))

    async def _fail(self) -> None:
        ticked = [key for key, box in self.boxes.items() if box.value]
        if len(ticked) == len(self.boxes):
            ui.notify(self.desk.t("qc.untick_failed"), type="warning")
            return
        lines = [lid for lid, box in self.fields["lines"].items() if box.value]
        if not lines:
            ui.notify(self.desk.t("qc.needs_line"), type="warning")
            return
        await self.desk.record(self.item.number, self.desk.inspection.final, self.item.number, ticked,
                               note=self.note.value, responsible=self.fields["responsible"].value, job_lines=lines)
