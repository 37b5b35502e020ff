"""/kiosk/estimate/<number>: the estimate the customer signs on the tablet, its versions, the handover record.

One order on the advisor's tablet (1280×800), in tabs that follow the conversation at the counter: the estimate
(lines, payers, discount, promise, the customer's choices), the customer's signature, the handover record when the
order needs one, then the printouts and the customer's own page. Everything is read first (`load`) and drawn in one
go (`draw`), as the kiosk's order panel does; the signature pad is drawn again only when the version it signs
changes, so ink on it survives the advisor's changes elsewhere on the page."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import session
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.kiosk.reception.estimate_format import moment, money
from shopfloor.kiosk.reception.estimate_handover import HandoverTab
from shopfloor.kiosk.reception.estimate_lines import EstimateTab
from shopfloor.kiosk.reception.estimate_output import KINDS, OutputTab
from shopfloor.kiosk.reception.estimate_signing import SignTab
from shopfloor.services.parts.catalogue import CatalogueService
from shopfloor.services.workshop.promises import PromiseService

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.printing import PrintJobInfo, PrintService
    from shopfloor.services.reception.estimate import EstimateView, VersionInfo
    from shopfloor.services.reception.handover import HandoverView
    from shopfloor.services.reception.services import ReceptionServices
    from shopfloor.services.repair_orders import RepairOrderService

PATH = "/kiosk/estimate"
Notice = Literal["positive", "negative", "warning", "info"]
TABS = ("estimate", "sign", "handover", "output")
JOBS_POLL_S = 5.0


class EstimatePage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, printers: PrinterChoice, *, reception: ReceptionServices,
                 repair_orders: RepairOrderService, printing: PrintService) -> None:
        self.frame, self.clock, self.printers = frame, clock, printers
        self.reception, self.repair_orders, self.printing = reception, repair_orders, printing
        # the workshop's promise service, on the same context: a new promise made here is the one the boards show
        self.promises = PromiseService(reception.estimate.ctx)
        self.catalogue = CatalogueService(reception.estimate.ctx)  # the parts a line may be given

    def register(self, path: str) -> None:
        ui.page(f"{path}/{{number}}", title="shopfloor · 估价单")(self.build_path)
        ui.page(path, title="shopfloor · 估价单")(self.build)

    async def build_path(self, number: str, lang: str | None = None, tab: str | None = None) -> None:
        """A browser not signed in goes to ?number=… first: the sign-in comes back to the page with its query
        (kiosk/common/sign_in.py), and a path parameter would be lost there."""
        if session.current_user() is None:
            query = {"number": number[:40], **({"tab": tab} if tab in TABS else {})}
            ui.navigate.to(f"{PATH}?{urlencode(query)}")
            return
        await self.build(number, lang, tab)

    async def build(self, number: str = "", lang: str | None = None, tab: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        await EstimateDesk(self, t, user, number).build(tab if tab in TABS else "estimate")


@dataclass(frozen=True)
class Loaded:
    """What the page shows of the order, read before anything is drawn."""

    ro: dict[str, Any]
    estimate: EstimateView
    versions: list[VersionInfo]
    handover: HandoverView | None
    estimate_signature: bytes | None = None  # the PNG, when the current version is signed
    handover_signature: bytes | None = None
    link: str | None = None  # the customer's page
    jobs: list[PrintJobInfo] = field(default_factory=list)


class EstimateDesk:
    def __init__(self, page: EstimatePage, t: Translator, user: KioskUser, number: str) -> None:
        self.page, self.t, self.user, self.number = page, t, user, number
        self.reception = page.reception
        self.clock = page.clock
        self.data: Loaded | None = None
        self.editing = False  # a signed version opened for a change (which will need a new signature)

    async def load(self) -> Loaded:
        actor = self.user.actor  # a version made by reading is the reader's
        ro = await io(self.page.repair_orders.get, self.number)
        # the changes and the customer's decisions in the page's language (stored, they stay in the site's)
        estimate = await io(self.reception.estimate.current, self.number, actor=actor, lang=self.t.lang)
        versions = await io(self.reception.estimate.versions, self.number, lang=self.t.lang)
        handover = await io(self.reception.handover.current, self.number, actor=actor)
        signature = (await io(self.reception.estimate.document, self.number, estimate.version)).signature_png \
            if estimate.signed else None
        handover_signature = (await io(self.reception.handover.document, self.number, handover.version)) \
            .signature_png if handover.signed else None
        link = await io(self.reception.customer_page.link, self.number)
        jobs = await io(self.page.printing.jobs_for, self.number)
        return Loaded(ro, estimate, versions, handover, signature, handover_signature, link, jobs)

    async def build(self, tab: str) -> None:
        t = self.t
        try:
            self.data = await self.load()
        except DomainError as exc:
            with ui.column().classes("w-full items-center pt-16 gap-4"):
                ui.label(exc.message(t.lang)).classes("text-xl text-negative").mark("estimate-error")
                self._back_button()
            return
        # notices are raised in this element's slot: the button that asked may be redrawn away meanwhile
        self.host = ui.element("div").classes("hidden")
        self.head = ui.row().classes("w-full items-center justify-between no-wrap gap-4").mark("estimate-head")
        with ui.tabs().classes("w-full text-grey-8").props("align=left dense inline-label no-caps") as tabs:
            names = {
                "estimate": ui.tab("estimate", t("estimate.tab.estimate"), icon="request_quote").mark("tab-estimate"),
                "sign": ui.tab("sign", t("estimate.tab.sign"), icon="draw").mark("tab-sign"),
                "handover": ui.tab("handover", t("estimate.tab.handover"), icon="car_crash").mark("tab-handover"),
                "output": ui.tab("output", t("estimate.tab.output"), icon="print").mark("tab-output"),
            }
        self.tabs = tabs
        self.handover_tab = names["handover"]
        with ui.tab_panels(tabs, value=names[tab]).classes("w-full").props("keep-alive animated=false"):
            with ui.tab_panel(names["estimate"]).classes("p-0 pt-2"):
                self.estimate_tab = EstimateTab(self)
                self.estimate_tab.build()
            with ui.tab_panel(names["sign"]).classes("p-0 pt-2"):
                self.sign_tab = SignTab(self)
                self.sign_tab.build()
            with ui.tab_panel(names["handover"]).classes("p-0 pt-2"):
                self.handover_panel = HandoverTab(self)
                self.handover_panel.build()
            with ui.tab_panel(names["output"]).classes("p-0 pt-2"):
                self.output_tab = OutputTab(self)
                self.output_tab.build()
        self.draw()
        # the printouts follow their jobs as the agents acknowledge them, as the kiosk's order panel does: a job
        # left reading "waiting" after it printed gets printed twice. Subscribed inside the page, so NiceGUI drops
        # the subscription when this client goes away.
        self.page.printing.settled.subscribe(self._print_settled)
        # an agent's ack is the usual end of a job; a person's decision elsewhere, or the job turned uncertain,
        # fires nothing: read the jobs again now and then while one still waits
        ui.timer(JOBS_POLL_S, self._poll_jobs)

    async def _print_settled(self, job: PrintJobInfo) -> None:
        if job.ro_number != self.number or self.data is None or self.host.is_deleted:
            return
        await self.reload_jobs()
        if job.status != "printed":
            t = self.t
            paper = t(f"estimate.output.kind.{job.kind}") if job.kind in KINDS else job.kind
            self.say(t("estimate.output.print_problem", paper=paper, job=job.id, status=t(f"print.{job.status}")),
                     "warning")

    async def _poll_jobs(self) -> None:
        if self.data is not None and any(job.status == "pending" for job in self.data.jobs):
            await self.reload_jobs()

    async def reload_jobs(self) -> None:
        """Only the print jobs read again and drawn: the rest of the page (and ink on the pad) is left alone."""
        jobs = await io(self.page.printing.jobs_for, self.number)
        if self.data is None or self.host.is_deleted or jobs == self.data.jobs:
            return
        self.data = replace(self.data, jobs=jobs)
        self.output_tab.draw_jobs(self.data)

    def go(self, tab: str) -> None:
        self.tabs.set_value(tab)

    async def refresh(self) -> None:
        """Read the order again and draw what changed (after the advisor's change, or a refusal: the stored state
        is what the page then shows)."""
        try:
            self.data = await self.load()
        except DomainError as exc:
            self.say(exc.message(self.t.lang), "negative")
            return
        self.draw()

    def draw(self) -> None:
        assert self.data is not None
        self._draw_head(self.data)
        required = self.data.handover is not None and self.data.handover.required
        self.handover_tab.set_visibility(required)
        self.estimate_tab.draw(self.data)
        self.sign_tab.draw(self.data)
        self.handover_panel.draw(self.data)
        self.output_tab.draw(self.data)

    def _draw_head(self, data: Loaded) -> None:
        t, ro, est = self.t, data.ro, data.estimate
        self.head.clear()
        with self.head:
            with ui.row().classes("items-center gap-4 no-wrap min-w-0"):
                self._back_button()
                with ui.column().classes("gap-0 min-w-0"):
                    with ui.row().classes("items-baseline gap-3 no-wrap"):
                        ui.label(ro["plate_display"]).classes("text-3xl font-bold whitespace-nowrap") \
                            .mark("estimate-plate")
                        ui.label(ro["number"]).classes("text-sm text-grey-7")
                    ui.label(f"{ro['customer']} · {ro['vehicle_model']}").classes("text-grey-8 truncate")
            with ui.row().classes("items-center gap-4 no-wrap"):
                self.version_badge(est.version, est.signed, est.consent)
                with ui.column().classes("gap-0 items-end"):
                    ui.label(t("estimate.customer_pays")).classes("text-xs text-grey-7")
                    ui.label(money(est.customer_total)).classes("text-3xl font-bold text-primary") \
                        .mark("head-customer-total")

    def version_badge(self, version: int, signed: bool, consent: str | None = None) -> None:
        t = self.t
        key = "signed" if signed else "consented" if consent == "decision" else "unsigned"
        text = t(f"estimate.version_{key}", version=version)
        ui.badge(text, color="orange-8" if key == "unsigned" else "positive").classes("text-base px-3 py-1") \
            .props("data-testid=version-badge").mark("version-badge")

    def _back_button(self) -> None:
        ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/kiosk")).props("flat round size=lg") \
            .tooltip(self.t("estimate.back")).mark("estimate-back")

    def when(self, value: Any) -> str:
        return moment(value, self.clock)

    def say(self, text: str, kind: Notice = "info") -> None:
        with self.host:
            ui.notify(text, type=kind, multi_line=True, timeout=8000 if kind in ("negative", "warning") else 4000)

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A service call made for the advisor: a refusal is said (and the page shows the stored state again),
        None returned."""
        try:
            return await io(fn, *args, **kwargs)
        except DomainError as exc:
            self.say(exc.message(self.t.lang), "negative")
            await self.refresh()
            return None
