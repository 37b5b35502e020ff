"""/kiosk: the advisor's tablet at the reception bay (1280×800)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nicegui import app, background_tasks, ui

from shopfloor.contract import topics
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame, session
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.formatting import when
from shopfloor.kiosk.common.login import LoginView
from shopfloor.kiosk.reception.checkin_form import CheckinForm
from shopfloor.kiosk.reception.print_decisions import PrintDecisions
from shopfloor.kiosk.reception.repair_order_panel import STATUS_COLOURS, RepairOrderPanel

if TYPE_CHECKING:
    from shopfloor.main import Shopfloor
    from shopfloor.services.printing import PrintJobInfo

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent.parent / "common" / "static"
STATIC_URL = "/kiosk-static"
_OPEN = {s.value for s in OPEN_STATUSES}


class KioskPage:
    def __init__(self, system: Shopfloor) -> None:
        self.system = system

    def register(self, path: str) -> None:
        app.add_static_files(STATIC_URL, STATIC)
        # Tablet buttons read better in sentence case than in Quasar's default capitals.
        ui.button.default_props("no-caps")
        ui.page(path, title="shopfloor · kiosk")(self.build)

    async def build(self, lang: str | None = None) -> None:
        t = frame.translator(self.system, lang)
        user = session.current_user()
        frame.header(self.system, t, user, "/kiosk")
        if user is None:
            ui.add_body_html(f'<script src="{STATIC_URL}/wedge_scanner.js"></script>')
            ui.on("tag_scanned", lambda: ui.notify(t("kiosk.scan_logged_out"), type="warning", position="center"))
            advisors = await io(self.system.auth.advisors)
            LoginView(self.system.auth, t, self.system.settings.kiosk.session_hours,
                      on_success=lambda: ui.navigate.reload()).build(advisors)
            return
        if not user.may(Permission.RECEPTION):
            frame.refuse(t, "/kiosk")
            return
        KioskWorkspace(self.system, t, user).build()


class KioskWorkspace:
    """The logged-in view: scan anywhere; open orders on the left; the car or order in hand on the right."""

    def __init__(self, system: Shopfloor, t: Translator, user: session.KioskUser) -> None:
        self.system = system
        self.t = t
        self.user = user
        self.current: str | None = None
        self.shown_version = 0
        self.form: CheckinForm | None = None

    def build(self) -> None:
        t = self.t
        ui.add_body_html(f'<script src="{STATIC_URL}/wedge_scanner.js"></script>')
        ui.on("tag_scanned", lambda e: self.on_scan(str(e.args)))
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            with ui.column().classes("w-[30%] gap-2"):
                with ui.card().classes("w-full items-center bg-blue-1").props("flat"):
                    ui.icon("qr_code_scanner", size="xl").classes("text-primary")
                    ui.label(t("kiosk.scan_hint")).classes("text-lg text-center").props("data-testid=scan-hint")
                    self.manual = ui.input(placeholder=t("kiosk.manual_tag")).props("outlined dense clearable") \
                        .classes("w-full").on("keydown.enter", self._manual_entry).mark("manual-tag")
                self.decisions = PrintDecisions(self.system, t, self.user.name)
                ui.label(t("kiosk.open_orders")).classes("text-grey-8 pt-2")
                self.orders = ui.column().classes("w-full gap-1").mark("open-orders")
            self.panel = ui.column().classes("w-[70%] gap-3")
        self._render_orders()
        self._idle()
        unsubscribe = self.system.board_store.subscribe(self._store_changed)
        ui.context.client.on_delete(unsubscribe)
        # Subscribed inside the page: NiceGUI drops the subscription when this client goes away.
        self.system.print_settled.subscribe(self._print_settled)
        background_tasks.create(self.decisions.refresh(), name="kiosk-print-decisions")

    def _idle(self) -> None:
        self.current = None
        self.form = None
        self.panel.clear()
        with self.panel, ui.column().classes("w-full items-center pt-16 gap-4 text-grey-7"):
            ui.icon("directions_car", size="6rem")
            ui.label(self.t("kiosk.idle")).classes("text-2xl")

    def _store_changed(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        if kind != topics.REPAIR_ORDERS:
            return
        self._render_orders()
        # Someone else moved the order on screen (another advisor, the API): show its new state.
        if entity_id == self.current and state is not None and state["version"] > self.shown_version:
            background_tasks.create(self.show_order(entity_id), name="kiosk-follow-order")

    def _render_orders(self) -> None:
        orders = [s for s in self.system.board_store.states(topics.REPAIR_ORDERS).values() if s["status"] in _OPEN]
        orders.sort(key=lambda s: s.get("promised_at") or "")
        today = self.system.ctx.today()
        self.orders.clear()
        with self.orders:
            if not orders:
                ui.label(self.t("kiosk.no_open_orders")).classes("text-grey-6")
            for ro in orders:
                with ui.item(on_click=lambda n=ro["number"]: self.show_order(n)).classes(
                        "w-full rounded border bg-white").props(f'data-plate="{ro["plate"]}" dense'):
                    with ui.item_section():
                        ui.item_label(ro["plate_display"]).classes("text-lg font-bold")
                        ui.item_label(f"{ro['customer']} · {ro['work']}").props("caption")
                    with ui.item_section().props("side"):
                        ui.badge(self.t(f"status.{ro['status']}"), color=STATUS_COLOURS.get(ro["status"], "grey"))
                        ui.item_label(when(ro.get("promised_at"), today)).props("caption")

    async def _print_settled(self, job: PrintJobInfo) -> None:
        await self.decisions.refresh()
        if job.status != "printed":
            ui.notify(self.t("kiosk.print_problem", number=job.ro_number or "—", status=self.t(f"print.{job.status}")),
                      type="warning", multi_line=True)
        if job.ro_number is not None and job.ro_number == self.current:
            await self.show_order(job.ro_number)

    async def _manual_entry(self) -> None:
        text = (self.manual.value or "").strip()
        self.manual.set_value("")
        if text:
            await self.on_scan(text)

    async def on_scan(self, text: str) -> None:
        try:
            scan = await io(self.system.checkin.scan, text, self.user.name)
        except DomainError as exc:
            log.info("kiosk scan refused: %s", exc.message("en"))
            ui.notify(exc.message(self.t.lang), type="negative", position="center", multi_line=True,
                      classes="text-xl")
            return
        if self.form is not None and self.form.dirty() and self.form.scan.tag != scan.tag \
                and not await self._discard_form():
            return
        if scan.open_ro:
            ui.notify(self.t("kiosk.opened_existing", number=scan.open_ro), type="info")
            await self.show_order(scan.open_ro)
            return
        operations = await io(self.system.checkin.operations)
        self.current = None
        self.panel.clear()
        with self.panel:
            self.form = CheckinForm(self.system, self.t, scan, (self.user.advisor_id, self.user.name),
                                    on_done=self.show_order)
            self.form.build(operations)

    async def _discard_form(self) -> bool:
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
            ui.label(self.t("kiosk.discard_form")).classes("text-lg")
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("kiosk.back"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(self.t("kiosk.discard"), on_click=lambda: dialog.submit(True)).props("unelevated")
        return bool(await dialog)

    async def show_order(self, number: str) -> None:
        self.form = None
        if number != self.current:
            self.shown_version = 0
        self.current = number
        self.panel.clear()
        with self.panel:
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("kiosk.close"), icon="close", on_click=self._idle).props("flat")
            self.shown_version = await RepairOrderPanel(self.system, self.t, self.user.name,
                                                        on_change=self.show_order).build(number)
