"""/ro/<number>: what the job ticket's QR opens in a staff member's browser (issue 10, "the ticket's QR opens the
live job"): the order's status, its lines with technicians and their status, the promise against the projected
finish and the risk, additional work and the quality checks, drawn again whenever the board store brings a new
state of the order. Any staff member may read it (REPAIR_ORDER_READ); it is a deep link, not in the navigation.

A browser not signed in is sent to /ro?number=… first: the sign-in returns to the page it started on with its
query (kiosk/common/sign_in.py), and a path parameter would be lost there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nicegui import background_tasks, ui

from shopfloor.contract import topics
from shopfloor.domain.errors import DomainError
from shopfloor.domain.workshop import InvalidScan, ro_number_in
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import session
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.reception.repair_order_panel import status_chip

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.services.repair_orders import RepairOrderService
    from shopfloor.services.workshop.services import WorkshopServices

PATH = "/ro"
ROW = "w-full items-center justify-between no-wrap border border-gray-300 rounded px-3 py-2"
RISK_COLOURS = {"on_time": "positive", "at_risk": "amber-9", "late": "negative"}
LINE_COLOURS = {"waiting": "blue-grey", "dispatched": "indigo", "in_progress": "primary", "paused": "orange",
                "done": "positive", "cancelled": "grey"}


@dataclass
class LiveOrder:
    ro: dict[str, Any] | None
    checks: list[Any] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)
    promises: list[Any] = field(default_factory=list)
    error: str | None = None


class LiveOrderPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, store: BoardStore, *,
                 repair_orders: RepairOrderService, workshop: WorkshopServices) -> None:
        self.frame, self.clock, self.store = frame, clock, store
        self.repair_orders, self.workshop = repair_orders, workshop

    def register(self, path: str) -> None:
        ui.page(f"{path}/{{number}}", title="shopfloor · RO")(self.build_path)
        ui.page(path, title="shopfloor · RO")(self.build)

    async def build_path(self, number: str, lang: str | None = None) -> None:
        if session.current_user() is None:
            ui.navigate.to(f"{PATH}?number={quote(number[:40], safe='')}")
            return
        await self.build(number, lang)

    async def build(self, number: str = "", lang: str | None = None) -> None:
        ui.add_head_html('<meta name="viewport" content="width=device-width, initial-scale=1">')
        if session.current_user() is None:
            # the ticket rides on the dashboard: a customer who scans it is told where to ask, and does not get the
            # staff's names on a keypad unless someone asks for the sign-in
            t = self.frame.translator(lang)
            self.frame.header(t, None, PATH)
            with ui.column().classes("w-full max-w-xl mx-auto items-center gap-4 p-4 text-center"):
                ui.icon("receipt_long", size="3rem", color="primary")
                ui.label(t("ro_live.ticket_title")).classes("text-xl font-bold")
                ui.label(t("ro_live.ticket_note")).classes("text-base text-grey-8").mark("ro-public-note")
                keypad = ui.column().classes("w-full items-center")

                async def staff_sign_in() -> None:
                    button.delete()
                    with keypad:
                        await self.frame.sign_in(t, PATH)
                button = ui.button(t("ro_live.staff_sign_in"), icon="badge", on_click=staff_sign_in) \
                    .props("outline").mark("ro-staff-sign-in")
            return
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, _ = signed_in
        try:
            wanted = ro_number_in(number)
        except InvalidScan as exc:
            ui.label(exc.message(t.lang)).classes("text-negative text-lg").mark("ro-live-error")
            return
        view = LiveOrderView(self, t, wanted)
        await view.build()


class LiveOrderView:
    def __init__(self, page: LiveOrderPage, t: Translator, number: str) -> None:
        self.page, self.t, self.number = page, t, number
        self.version = 0
        self.reading = False

    async def build(self) -> None:
        self.body = ui.column().classes("w-full max-w-5xl mx-auto gap-3 p-1").mark("ro-live")
        await self.redraw()
        self.page.store.changed.subscribe(self._changed)

    def _changed(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        if kind == topics.REPAIR_ORDERS and entity_id == self.number and not self.reading and (
                state is None or int(state.get("version", 0)) > self.version):
            background_tasks.create(self.redraw(), name="ro-live-redraw")

    async def load(self) -> LiveOrder:
        w = self.page.workshop
        try:
            ro = await io(self.page.repair_orders.get, self.number)
            return LiveOrder(ro, await io(w.quality.results, self.number),
                             await io(w.additional_work.for_order, self.number),
                             await io(w.promises.promises, self.number))
        except DomainError as exc:
            return LiveOrder(None, error=exc.message(self.t.lang))

    async def redraw(self) -> None:
        self.reading = True
        try:
            live = await self.load()
        finally:
            self.reading = False
        self.body.clear()
        with self.body:
            self.draw(live)

    def _time(self, iso_or_dt: str | datetime | None) -> str:
        if not iso_or_dt:
            return "—"
        moment = datetime.fromisoformat(iso_or_dt) if isinstance(iso_or_dt, str) else iso_or_dt
        local = moment.astimezone(self.page.clock.tz)
        today: date = self.page.clock.today()
        return f"{local:%H:%M}" if local.date() == today else f"{local:%m-%d %H:%M}"

    def draw(self, live: LiveOrder) -> None:
        t, ro = self.t, live.ro
        if ro is None:
            ui.label(live.error or "").classes("text-negative text-lg").mark("ro-live-error")
            return
        self.version = int(ro["version"])
        with ui.card().classes("w-full gap-1").props("flat bordered"):
            with ui.row().classes("w-full items-start justify-between"):
                with ui.column().classes("gap-0"):
                    ui.label(ro["number"]).classes("text-sm text-grey-7").mark("ro-live-number")
                    ui.label(ro["plate_display"]).classes("text-3xl font-bold")
                    ui.label(f"{ro['customer']} · {ro['vehicle_model']}").classes("text-grey-8")
                    ui.label(t("ro_live.advisor", name=ro["advisor"]["name"])).classes("text-sm text-grey-7")
                with ui.column().classes("items-end gap-1"):
                    status_chip(t, ro["status"])
                    if ro.get("hold_reason"):
                        ui.label(t(f"hold.{ro['hold_reason']}")).classes("text-orange-9")
            with ui.row().classes("w-full gap-x-6 gap-y-1 text-base"):
                ui.label(t("ro_live.promised", time=self._time(ro.get("promised_at"))))
                ui.label(t("ro_live.projected", time=self._time(ro.get("projected_ready_at"))))
                risk = ro.get("risk") or "on_time"
                set_attrs(ui.badge(t(f"ro_live.risk.{risk}"), color=RISK_COLOURS.get(risk, "grey"))
                          .classes("text-sm px-2").mark("ro-live-risk"), data_risk=risk)
            if ro.get("complaint"):
                ui.label(f"“{ro['complaint']}”").classes("italic text-grey-8")
        self._lines(ro)
        self._findings(live.findings)
        self._checks(live.checks)
        if len(live.promises) > 1:
            self._promises(live.promises)

    def _section(self, key: str) -> None:
        ui.label(self.t(key)).classes("text-lg font-bold text-grey-9 pt-1")

    def _lines(self, ro: dict[str, Any]) -> None:
        t = self.t
        self._section("ro_live.lines")
        with ui.column().classes("w-full gap-1").mark("ro-live-lines"):
            if not ro["job_lines"]:
                ui.label(t("ro_live.no_lines")).classes("text-grey-6")
            for line in ro["job_lines"]:
                with ui.row().classes(ROW):
                    with ui.column().classes("gap-0 min-w-0"):
                        ui.label(f"{line['description']} · {line['hours']:g} h").classes("font-medium")
                        crew = "、".join(x["name"] for x in line.get("technicians") or []) or t("ro_live.nobody")
                        ui.label(crew).classes("text-sm text-grey-7")
                    status = line.get("status") or "waiting"
                    label = t(f"ro_live.line.{status}")
                    if status == "paused" and line.get("pause_reason"):
                        label += f" · {t('ro_live.pause.' + line['pause_reason'])}"
                    set_attrs(ui.badge(label, color=LINE_COLOURS.get(status, "grey")).classes("px-2"),
                              data_line_status=status)

    def _findings(self, findings: list[Any]) -> None:
        if not findings:
            return
        t = self.t
        self._section("ro_live.findings")
        with ui.column().classes("w-full gap-1").mark("ro-live-findings"):
            for f in findings:
                with ui.row().classes(ROW):
                    with ui.column().classes("gap-0 min-w-0"):
                        ui.label(f.description).classes("font-medium")
                        ui.label(f"{f.technician} · {f.hours:g} h · ¥{f.price:,.0f}").classes("text-sm text-grey-7")
                    ui.badge(t(f"ro_live.finding.{f.status}"),
                             color={"approved": "positive", "declined": "grey"}.get(f.status, "amber-9"))

    def _checks(self, checks: list[Any]) -> None:
        t = self.t
        self._section("ro_live.checks")
        with ui.column().classes("w-full gap-1").mark("ro-live-checks"):
            if not checks:
                ui.label(t("ro_live.no_checks")).classes("text-grey-6")
            for c in checks:
                verdict = t("ro_live.passed") if c.passed else t("ro_live.failed")
                text = f"{self._time(c.at)} · {t('qc.stage.' + c.stage)} · {verdict} · {c.found_by}"
                if c.reason:
                    text += f" · {c.reason}"
                ui.label(text).classes("text-sm " + ("text-positive" if c.passed else "text-negative"))

    def _promises(self, promises: list[Any]) -> None:
        self._section("ro_live.promises")
        for p in promises:
            told = self.t("ro_live.told") if p.customer_told else ""
            ui.label(f"{self._time(p.promised_at)} · {p.reason} · {p.recorded_by} {told}").classes("text-sm")
