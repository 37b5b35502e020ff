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
from shopfloor.domain.workshop import RO_NUMBER_RE, RO_PATH, InvalidScan, ro_number_in
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame, session
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.camera_scan import CameraScan
from shopfloor.kiosk.common.formatting import when
from shopfloor.kiosk.common.frame import StaffFrame
from shopfloor.kiosk.reception.checkin_form import CheckinForm
from shopfloor.kiosk.reception.print_decisions import PrintDecisions
from shopfloor.kiosk.reception.repair_order_panel import STATUS_COLOURS, RepairOrderPanel

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.checkin import CheckinService
    from shopfloor.services.comebacks import ComebackService
    from shopfloor.services.customer_messages.outbox import MessageService
    from shopfloor.services.customers import CustomerService
    from shopfloor.services.printing import PrintJobInfo, PrintService
    from shopfloor.services.repair_orders import RepairOrderService
    from shopfloor.services.workshop.services import WorkshopServices

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent.parent / "common" / "static"
STATIC_URL = "/kiosk-static"
PATH = "/kiosk"
_OPEN = {s.value for s in OPEN_STATUSES}


class KioskPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, store: BoardStore, printers: PrinterChoice, *,
                 checkin: CheckinService, repair_orders: RepairOrderService, printing: PrintService,
                 workshop: WorkshopServices | None = None, comebacks: ComebackService | None = None,
                 customers: CustomerService | None = None, messages: MessageService | None = None) -> None:
        self.frame = frame
        self.clock = clock
        self.store = store
        self.printers = printers
        self.checkin = checkin
        self.repair_orders = repair_orders
        self.printing = printing
        self.workshop = workshop
        self.comebacks = comebacks
        self.customers = customers  # the phone number to call about a late order
        self.messages = messages  # the order's messages to the customer and their delivery state

    def register(self, path: str) -> None:
        app.add_static_files(STATIC_URL, STATIC)
        # Tablet buttons read better in sentence case than in Quasar's default capitals.
        ui.button.default_props("no-caps")
        ui.page(path, title="shopfloor · kiosk")(self.build)

    async def build(self, lang: str | None = None) -> None:
        t = self.frame.translator(lang)
        user = session.current_user()
        self.frame.header(t, user, PATH)
        if user is None or not user.may(Permission.RECEPTION):
            # The scanner is listened to here too: a scan must say why it did nothing, not vanish.
            ui.add_body_html(f'<script src="{STATIC_URL}/wedge_scanner.js"></script>')
            text = t("kiosk.scan_logged_out") if user is None else \
                t("access.scan", roles=frame.roles_with(t, Permission.RECEPTION))
            ui.on("tag_scanned", lambda: ui.notify(text, type="warning", position="center", multi_line=True))
            if user is None:
                await self.frame.sign_in(t, PATH)
            else:
                frame.refuse(t, user, PATH)
            return
        if await self.frame.pin_forced(t, user):
            return
        KioskWorkspace(self, t, user).build()


class KioskWorkspace:
    """The logged-in view: scan anywhere; open orders on the left; the car or order in hand on the right."""

    def __init__(self, page: KioskPage, t: Translator, user: session.KioskUser) -> None:
        self.page = page
        self.t = t
        self.user = user
        self.current: str | None = None
        self.shown_version = 0
        self.form: CheckinForm | None = None
        # bumped by whatever replaces the panel's content: a show_order still reading is then not drawn
        self.drawing = 0

    def build(self) -> None:
        t = self.t
        ui.add_body_html(f'<script src="{STATIC_URL}/wedge_scanner.js"></script>')
        ui.on("tag_scanned", lambda e: self.on_scan(str(e.args)))
        with ui.row().classes("w-full no-wrap gap-4 items-start"):
            with ui.column().classes("w-[30%] gap-2"):
                with ui.card().classes("w-full items-center bg-blue-1").props("flat"):
                    ui.icon("qr_code_scanner", size="xl").classes("text-primary")
                    ui.label(t("kiosk.scan_hint")).classes("text-lg text-center").props("data-testid=scan-hint")
                    self.manual = ui.input(placeholder=t("kiosk.manual_tag")) \
                        .props("outlined dense clearable data-testid=manual-tag") \
                        .classes("w-full").on("keydown.enter", self._manual_entry).mark("manual-tag")
                    CameraScan(t, STATIC_URL).button()  # the tablet's camera, beside the wedge scanner
                self.decisions = PrintDecisions(self.page.printing, self.page.printers, t, self.user)
                ui.label(t("kiosk.open_orders")).classes("text-grey-8 pt-2")
                self.orders = ui.column().classes("w-full gap-1").mark("open-orders")
            self.panel = ui.column().classes("w-[70%] gap-3")
        self._render_orders()
        self._idle()
        # what the advisor has been told of already: pending findings and risk per order, as the page opened
        self.told_findings: set[int] = set()
        self.told_risk: dict[str, str] = {}
        for number, state in self.page.store.states(topics.REPAIR_ORDERS).items():
            self._tell(number, state, quietly=True)
        # Subscribed inside the page: NiceGUI drops both subscriptions when this client goes away.
        self.page.store.changed.subscribe(self._store_changed)
        self.page.printing.settled.subscribe(self._print_settled)
        background_tasks.create(self.decisions.refresh(), name="kiosk-print-decisions")

    def _idle(self) -> None:
        self.current = None
        self.form = None
        self.drawing += 1
        self.panel.clear()
        with self.panel, ui.column().classes("w-full items-center pt-16 gap-4 text-grey-7"):
            ui.icon("directions_car", size="6rem")
            ui.label(self.t("kiosk.idle")).classes("text-2xl")

    def _store_changed(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        if kind != topics.REPAIR_ORDERS:
            return
        self._tell(entity_id, state)
        self._render_orders()
        # Someone else moved the order on screen (another advisor, the API): show its new state.
        if entity_id == self.current and state is not None and state["version"] > self.shown_version:
            background_tasks.create(self.show_order(entity_id), name="kiosk-follow-order")

    def _tell(self, number: str, state: dict[str, Any] | None, quietly: bool = False) -> None:
        """Tell the advisor at once, on their own orders: additional work found waiting for the customer's decision,
        and an order turning at risk or late (call the customer, give a new promise)."""
        if state is None or (state.get("advisor") or {}).get("id") != self.user.advisor_id:
            return
        t = self.t
        for finding in state.get("additional_work") or []:
            if finding.get("status") == "pending" and finding["id"] not in self.told_findings:
                self.told_findings.add(finding["id"])
                if not quietly:
                    ui.notify(t("advisor.new_finding", plate=state["plate_display"],
                                description=finding["description"]),
                              type="warning", position="top-right", multi_line=True, timeout=0, close_button=True)
        risk = state.get("risk") or "on_time"
        before = self.told_risk.get(number)
        self.told_risk[number] = risk
        if not quietly and risk != before and risk in ("at_risk", "late") and state["status"] in _OPEN:
            ui.notify(t("advisor.risk_alert", plate=state["plate_display"], risk=t(f"ro_live.risk.{risk}")),
                      type="negative" if risk == "late" else "warning", position="top-right", timeout=0,
                      close_button=True)

    def _render_orders(self) -> None:
        orders = [s for s in self.page.store.states(topics.REPAIR_ORDERS).values() if s["status"] in _OPEN]
        orders.sort(key=lambda s: s.get("promised_at") or "")
        today = self.page.clock.today()
        self.orders.clear()
        with self.orders:
            if not orders:
                ui.label(self.t("kiosk.no_open_orders")).classes("text-grey-6")
            for ro in orders:
                item = ui.item(on_click=lambda n=ro["number"]: self.show_order(n)) \
                    .classes("w-full rounded border bg-white").props("dense")
                with set_attrs(item, data_plate=ro["plate"]):
                    with ui.item_section():
                        ui.item_label(ro["plate_display"]).classes("text-lg font-bold")
                        ui.item_label(f"{ro['customer']} · {ro['work']}").props("caption")
                    with ui.item_section().props("side"):
                        ui.badge(self.t(f"status.{ro['status']}"), color=STATUS_COLOURS.get(ro["status"], "grey"))
                        ui.item_label(when(ro.get("promised_at"), today)).props("caption")
                        if ro.get("risk") in ("at_risk", "late"):
                            ui.badge(self.t(f"ro_live.risk.{ro['risk']}"),
                                     color="negative" if ro["risk"] == "late" else "amber-9").mark("risk-badge")
                        if any(f.get("status") == "pending" for f in ro.get("additional_work") or []):
                            ui.icon("add_task", color="amber-9").mark("finding-badge")

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
        if not frame.allowed(self.t, self.user, Permission.RECEPTION):
            return
        if RO_PATH in text or RO_NUMBER_RE.match(text.strip().upper()):
            # the job ticket's QR (a URL to the order, or an old ticket's bare number): open that order
            try:
                number = ro_number_in(text)
            except InvalidScan as exc:
                ui.notify(exc.message(self.t.lang), type="negative", position="center", multi_line=True)
                return
            await self.show_order(number)
            return
        try:
            scan = await io(self.page.checkin.scan, text, self.user.actor)
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
        operations = await io(self.page.checkin.operations, out_of_use=True)
        recent = await io(self.page.comebacks.recent, scan.tag) if self.page.comebacks else []
        self.current = None
        self.drawing += 1
        self.panel.clear()
        with self.panel:
            self.form = CheckinForm(self.page.checkin, self.page.printing, self.page.printers, self.page.clock,
                                    self.t, scan, self.user, on_done=self.show_order, comebacks=self.page.comebacks,
                                    recent=recent)
            self.form.build(operations)

    async def _discard_form(self) -> bool:
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
            ui.label(self.t("kiosk.discard_form")).classes("text-lg")
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("kiosk.back"), on_click=lambda: dialog.submit(False)).props("flat")
                ui.button(self.t("kiosk.discard"), on_click=lambda: dialog.submit(True)).props("unelevated")
        return bool(await dialog)

    async def show_order(self, number: str) -> None:
        """Show the order. After a move both the move's callback and the bus update ask for this at about the same
        time: each reads the order first, and only the latest asker draws, after its reading, in one go."""
        self.form = None
        if number != self.current:
            self.shown_version = 0
        self.current = number
        self.drawing += 1
        mine = self.drawing
        panel = RepairOrderPanel(self.page, self.t, self.user, on_change=self.show_order)
        loaded = await panel.load(number)
        if mine != self.drawing:
            return  # asked again (or the panel went to something else) while reading: that one draws
        if self.panel.is_deleted:
            return  # the tablet left this page while the order was read (a follow-up of the bus outlived it)
        self.panel.clear()
        with self.panel:
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("kiosk.close"), icon="close", on_click=self._idle).props("flat")
            self.shown_version = panel.render(loaded)
