"""The composition root: builds every long-lived object once (settings, clock, database, services, stores,
publisher, broker, printer agents), hands each page only what it uses, and registers the pages at startup.
Listeners are told through events (shopfloor/events.py); this is where they are wired."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import signal
import socket
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from nicegui import app, run, ui

from shopfloor import nicegui_outbox, systemd_notify
from shopfloor.api.app import install
from shopfloor.api.deps import ApiServices
from shopfloor.backup_schedule import BackupSchedule
from shopfloor.clock import Clock, SiteClock
from shopfloor.contract.access import Role
from shopfloor.credentials import FILE_NAME, Credentials
from shopfloor.db import Database, sqlite_url
from shopfloor.domain.workshop import ticket_url
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.frame import StaffFrame
from shopfloor.kiosk.common.printer_choice import PrinterChoice
from shopfloor.mqtt import BrokerAddress
from shopfloor.publisher import OutboxPublisher
from shopfloor.run_lock import LockHeld, RunLock
from shopfloor.services.aftercare.services import AftercareServices
from shopfloor.services.appointments import AppointmentService
from shopfloor.services.audit import AuditService
from shopfloor.services.auth import AuthService
from shopfloor.services.booking import BookingService
from shopfloor.services.checkin import CheckinService
from shopfloor.services.comebacks import ComebackService
from shopfloor.services.confirmations import ConfirmationService
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.providers import build_providers
from shopfloor.services.customer_messages.sender import MessageSender
from shopfloor.services.customer_messages.services import MessageServices
from shopfloor.services.customers import CustomerService
from shopfloor.services.day_prep import DayPrepService
from shopfloor.services.dms_import import DmsImportService
from shopfloor.services.figures import FiguresService
from shopfloor.services.ical import CalendarService
from shopfloor.services.kpis import KpiService
from shopfloor.services.parts.services import PartsServices
from shopfloor.services.printing import PrintService
from shopfloor.services.pruning import PruningService
from shopfloor.services.reception.services import ReceptionServices
from shopfloor.services.repair_orders import RepairOrderService
from shopfloor.services.settlement.services import SettlementServices
from shopfloor.services.setup.bays import BayAdmin
from shopfloor.services.setup.calendar import CalendarAdmin
from shopfloor.services.setup.staff import StaffAdmin
from shopfloor.services.setup.technicians import TechnicianAdmin
from shopfloor.services.setup.tokens import TokenAdmin
from shopfloor.services.solicitation import SolicitationService
from shopfloor.services.workshop.assumed import AssumedClockings
from shopfloor.services.workshop.inspection import InspectionService
from shopfloor.services.workshop.photos import PhotoStore
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.settings import Settings
from shopfloor.web import health as health_route
from shopfloor.web import server as web_server

if TYPE_CHECKING:
    from shopfloor.kiosk.setup.tab import SetupTab
    from shopfloor.printer.agent import PrinterAgent

log = logging.getLogger(__name__)
LATE_CHECK_SECONDS = 20
# After the boards' resync settle (board/feed.py waits 10 s for retained states after a connect).
GC_FREEZE_AFTER_SECONDS = 15
# The first housekeeping (pruning, figures of closed days) once the start has settled; then every [retention]
# every_minutes.
HOUSEKEEPING_AFTER_SECONDS = 60
READY_WAIT_TRIES = 300  # 30 s for the web server to listen before READY=1 is sent anyway



class Page(Protocol):
    """A page object: registers its route(s) with NiceGUI."""

    def register(self, path: str) -> None: ...

@dataclass
class Options:
    data_dir: Path
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    broker: BrokerAddress = field(default_factory=lambda: BrokerAddress("127.0.0.1", 1884))
    embedded_broker: bool = True
    printer_agents: bool = True  # run the file printers' agents in this process (demo)
    database_url: str | None = None
    https: bool = False  # TLS with a certificate from the site's own CA (shopfloor/web/server.py)
    # the site configuration the server runs on, which /setup rewrites; None: DATA_DIR/site.toml
    config_path: Path | None = None


def lan_address() -> str:
    """This host's address on the network its default route leads to (no packet is sent: a UDP socket's connect
    only picks the route). A phone on the shop's Wi-Fi reaches an address; it seldom resolves a host's name."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # as broker/certs.local_names finds the address the certificate names
            address = str(probe.getsockname()[0])
        except OSError:  # no route at all: a host on its own
            return socket.gethostname()
    return address if not address.startswith("127.") else socket.gethostname()


def server_url(settings: Settings, options: Options) -> str:
    """Where staff devices and customers' phones reach this server (the ticket's and the customer page's QR):
    [web] public_url, else the address it listens on, or this host's LAN address when it listens on every
    interface, and the port it serves on."""
    if settings.web.public_url:
        return settings.web.public_url
    host = options.http_host if options.http_host not in ("0.0.0.0", "::", "") else lan_address()
    return f"{'https' if options.https else 'http'}://{host}:{options.http_port}"


def stop_reason() -> str:
    """The signal the web server is stopping for (SIGTERM from systemd, SIGINT from Ctrl-C), else "shutdown".
    uvicorn keeps the signals it caught in a private list, to raise them again once it has stopped; read with care."""
    from nicegui.server import Server

    caught = getattr(getattr(Server, "instance", None), "_captured_signals", None) or []
    try:
        return signal.Signals(caught[-1]).name if caught else "shutdown"
    except (TypeError, ValueError):
        return "shutdown"


class Shopfloor:
    def __init__(self, settings: Settings, credentials: Credentials, options: Options, clock: Clock | None = None):
        from shopfloor.board.appointment_board import AppointmentBoardPage
        from shopfloor.board.feed import BoardFeed
        from shopfloor.board.lounge import LoungePage
        from shopfloor.board.progress_board import ProgressBoardPage
        from shopfloor.board.store import BoardStore
        from shopfloor.customer.page import CustomerPage
        from shopfloor.kiosk.booking.page import BookingPage
        from shopfloor.kiosk.calls.page import CallsPage
        from shopfloor.kiosk.cashier.page import CashierPage
        from shopfloor.kiosk.data.page import DataPage
        from shopfloor.kiosk.delivery.page import DeliveryPage
        from shopfloor.kiosk.follow_up.complaints_page import ComplaintsPage
        from shopfloor.kiosk.follow_up.page import FollowUpPage
        from shopfloor.kiosk.manager.board import ManagerBoardPage
        from shopfloor.kiosk.manager.figures import FiguresPage
        from shopfloor.kiosk.manager.status_page import StatusPage
        from shopfloor.kiosk.parts.page import PartsPage
        from shopfloor.kiosk.reception.estimate_page import EstimatePage
        from shopfloor.kiosk.reception.page import KioskPage
        from shopfloor.kiosk.reception.walkaround_page import WalkaroundPage
        from shopfloor.kiosk.setup.page import SetupPage
        from shopfloor.kiosk.workshop.badges import BadgesPage
        from shopfloor.kiosk.workshop.dispatch import DispatchPage
        from shopfloor.kiosk.workshop.live_order import LiveOrderPage
        from shopfloor.kiosk.workshop.qc import QcPage
        from shopfloor.kiosk.workshop.station import StationPage
        from shopfloor.services.health import HealthService

        self.settings = settings
        self.credentials = credentials
        self.options = options
        site = settings.site.id
        self.db = Database(options.database_url or sqlite_url(options.data_dir / "shopfloor.sqlite3"))
        self.ctx = ServiceContext(self.db, settings, clock or Clock(), server_url=server_url(settings, options))
        # every service, once; pages, the API and the server's own loop share them
        self.auth = AuthService(self.ctx)
        self.checkin = CheckinService(self.ctx)
        self.repair_orders = RepairOrderService(self.ctx)
        self.appointments = AppointmentService(self.ctx)
        self.booking = BookingService(self.ctx)
        self.customers = CustomerService(self.ctx)
        # the job ticket's QR opens the live order on this server (and clocks a technician on at a station)
        escaped = server_url(settings, options).replace("{", "{{").replace("}", "}}")  # a format string's text
        self.printing = PrintService(self.ctx, qr_url=ticket_url(escaped, "{number}"),
                                     server_url=server_url(settings, options))
        self.workshop = WorkshopServices.on(self.ctx)
        self.parts = PartsServices.on(self.ctx)
        self.reception = ReceptionServices.on(self.ctx, options.data_dir, server_url(settings, options))
        self.settlement = SettlementServices.on(self.ctx, self.printing, server_url(settings, options))
        self.messages = MessageServices.on(self.ctx)
        self.message_sender = MessageSender(self.ctx, build_providers(settings.messages, credentials.messages, site))
        self.aftercare = AftercareServices.on(self.ctx)
        self.kpis = KpiService(self.ctx)
        self.confirmations = ConfirmationService(self.ctx, self.printing)
        self.day_prep = DayPrepService(self.ctx, self.printing, self.booking)
        self.solicitation = SolicitationService(self.ctx)
        self.figures = FiguresService(self.ctx)
        self.pruning = PruningService(self.ctx)
        from shopfloor.services.setup.personal_data import PersonalDataService

        self.personal_data = PersonalDataService(self.ctx, options.data_dir)  # erasing removes photos under it
        self.dms_import = DmsImportService(self.ctx)
        self.calendar = CalendarService(self.ctx)
        self.audit = AuditService(self.ctx)
        # /setup's people and bays (the API builds its own on the same context: they keep no state)
        self.staff_admin = StaffAdmin(self.ctx)
        self.technician_admin = TechnicianAdmin(self.ctx)
        self.calendar_admin = CalendarAdmin(self.ctx)
        self.bay_admin = BayAdmin(self.ctx)
        self._build_catalogue_setup()
        # API clients and wall screens made in /setup, beside credentials.toml's tokens (which keep their names)
        self.tokens = TokenAdmin(self.ctx, reserved_names=(t.name for t in credentials.api_tokens()))
        self.broker = None
        if options.embedded_broker:
            from shopfloor.broker.embedded import EmbeddedBroker

            # credentials.toml re-read at a login once it changed: a printer added at /setup gets in without a restart
            self.broker = EmbeddedBroker(options.broker.host, options.broker.port, site, credentials,
                                         credentials_file=options.data_dir / FILE_NAME, port_flag="--mqtt-port")
        self.publisher = OutboxPublisher(self.ctx, options.broker, credentials.account(Role.SERVER))
        self.publisher.print_ack_received.subscribe(self.printing.handle_ack)
        self.board_store = BoardStore()
        self.lounge_store = BoardStore()
        self._feeds: list[BoardFeed] = []
        self._feed_factory = BoardFeed
        self.agents = self._build_agents() if options.printer_agents else []
        # /healthz, /status and the systemd watchdog: the server's own broker link, each printer's last status
        self.health = HealthService(
            self.ctx, broker_connected=self.publisher.link.connected.is_set, data_dir=options.data_dir,
            printers=lambda: {name: str(s["status"]) for name, s in self.board_store.printer_status.items()},
            broker_address=f"{'mqtts' if options.broker.tls else 'mqtt'}://{options.broker.host}:{options.broker.port}")

        # the staff pages (kiosk/): each gets the services it uses and nothing else
        site_clock = SiteClock(self.ctx.clock, settings.site.tz)
        frame = StaffFrame(settings, self.auth, escalations=self.board_store)
        printers = PrinterChoice(settings.printers, self.board_store)
        self.printer_choice = printers  # /setup's printers tab shows their status
        self.kiosk = KioskPage(frame, site_clock, self.board_store, printers, checkin=self.checkin,
                               repair_orders=self.repair_orders, printing=self.printing, workshop=self.workshop,
                               comebacks=ComebackService(self.ctx), customers=self.customers,
                               messages=self.messages.messages)
        self.pages: list[tuple[Page, str]] = [
            (self.kiosk, "/kiosk"),
            (AppointmentBoardPage(self.board_store, settings, credentials.board_token, clock=self.ctx.clock,
                                  screens=self.tokens), "/board/appointments"),
            (ProgressBoardPage(self.board_store, settings, credentials.board_token, clock=self.ctx.clock,
                               screens=self.tokens), "/board/progress"),
            (LoungePage(self.lounge_store, settings, clock=self.ctx.clock), "/lounge"),
            (ManagerBoardPage(frame, site_clock, settings, self.board_store, auth=self.auth,
                              appointments=self.appointments, booking=self.booking, audit=self.audit),
             "/manager/board"),
            (FiguresPage(frame, self.figures), "/manager/figures"),
            (DataPage(frame, site_clock, importer=self.dms_import, booking=self.booking, calendar=self.calendar),
             "/data"),
            (CallsPage(frame, site_clock, self.board_store, printers, day_prep=self.day_prep, booking=self.booking,
                       solicitation=self.solicitation, printing=self.printing), "/calls"),
            (BookingPage(frame, site_clock, printers, settings.booking, auth=self.auth, checkin=self.checkin,
                         customers=self.customers, booking=self.booking, confirmations=self.confirmations,
                         printing=self.printing), "/booking"),
            (DispatchPage(frame, site_clock, settings, self.board_store, workshop=self.workshop,
                          assumed=AssumedClockings(self.ctx)), "/workshop/dispatch"),
            (StationPage(frame, site_clock, self.board_store, workshop=self.workshop, repair_orders=self.repair_orders,
                         checkin=self.checkin, inspection=InspectionService(self.ctx, self.workshop.quality),
                         photo_store=PhotoStore(options.data_dir),
                         qc_stages=settings.workshop.qc_stages), "/workshop/station"),
            (BadgesPage(frame, clocking=self.workshop.clocking, repair_orders=self.repair_orders,
                        site_name=settings.site.name), "/workshop/badges"),
            (QcPage(frame, site_clock, self.board_store, quality=self.workshop.quality,
                    inspection=InspectionService(self.ctx, self.workshop.quality), repair_orders=self.repair_orders),
             "/workshop/qc"),
            (LiveOrderPage(frame, site_clock, self.board_store, repair_orders=self.repair_orders,
                           workshop=self.workshop), "/ro"),
            (PartsPage(frame, site_clock, parts=self.parts), "/parts"),
            (WalkaroundPage(frame, site_clock, reception=self.reception, repair_orders=self.repair_orders),
             "/kiosk/walkaround"),
            (EstimatePage(frame, site_clock, printers, reception=self.reception, repair_orders=self.repair_orders,
                          printing=self.printing), "/kiosk/estimate"),
            (CustomerPage(settings, reception=self.reception, aftercare=self.aftercare), "/c"),
            (DeliveryPage(frame, site_clock, printers=printers, settlement=self.settlement,
                          repair_orders=self.repair_orders, messages=self.messages), "/delivery"),
            (CashierPage(frame, site_clock, printers=printers, settlement=self.settlement,
                         repair_orders=self.repair_orders), "/cashier"),
            (FollowUpPage(frame, site_clock, aftercare=self.aftercare, booking=self.booking), "/follow-up"),
            (ComplaintsPage(frame, site_clock, board_store=self.board_store, aftercare=self.aftercare,
                            auth=self.auth, customers=self.customers), "/complaints"),
            (SetupPage(frame, self._setup_tabs(site_clock)), "/setup"),
            (StatusPage(frame, self.board_store, self.health, screens=self.tokens.screens), "/status"),
        ]
        # what was built from the settings follows a change made on /setup (opening hours, printers, rates)
        self.site_config.changed.subscribe(lambda new: self._follow_settings(new, frame, printers))
        self._late_task: asyncio.Task[None] | None = None
        self._housekeeping_task: asyncio.Task[None] | None = None
        self._messages_task: asyncio.Task[None] | None = None
        self._systemd_task: asyncio.Task[None] | None = None
        self._backup_task: asyncio.Task[None] | None = None
        self._run_lock: RunLock | None = None

    def _setup_tabs(self, clock: SiteClock) -> list[SetupTab]:
        """/setup's tabs, in the order a new site fills them in (kiosk/setup/*_tab.py)."""
        tabs: list[SetupTab] = []
        # people: staff and PINs, technicians, shifts/leave/holidays, bays
        tabs += self._people_tabs(clock)
        # the catalogues and the site's configuration: hours, labour operations, parts, printers, message texts
        tabs += self._catalogue_tabs()
        # access: API clients, wall screens, the addresses tablets use
        from shopfloor.kiosk.setup.addresses_tab import AddressesTab
        from shopfloor.kiosk.setup.screens_tab import ScreensTab
        from shopfloor.kiosk.setup.tokens_tab import TokensTab

        tabs += [TokensTab(self.tokens, self.settings.site.tz),
                 ScreensTab(self.tokens, self.settings.site.tz, server_url(self.settings, self.options)),
                 AddressesTab(host=self.options.http_host, port=self.options.http_port, https=self.options.https,
                              public_url=self.settings.web.public_url)]
        # personal data (PIPL)
        from shopfloor.kiosk.setup.privacy_tab import PrivacyTab

        tabs.append(PrivacyTab(self.personal_data))
        return tabs

    def _people_tabs(self, clock: SiteClock) -> list[SetupTab]:
        from shopfloor.kiosk.setup.bays_tab import BaysTab
        from shopfloor.kiosk.setup.calendar_tab import CalendarTab
        from shopfloor.kiosk.setup.staff_tab import StaffTab
        from shopfloor.kiosk.setup.technicians_tab import TechniciansTab

        return [StaffTab(self.staff_admin), TechniciansTab(self.technician_admin),
                CalendarTab(self.calendar_admin, self.technician_admin, clock), BaysTab(self.bay_admin)]

    def _build_catalogue_setup(self) -> None:
        """The site configuration file and the catalogues /setup and the API edit."""
        from shopfloor.services.setup.catalogue import CatalogueSetup

        self.catalogue_setup = CatalogueSetup.on(
            self.ctx, self.options.config_path or self.options.data_dir / "site.toml", self.options.data_dir,
            self.credentials, self.printing)
        self.site_config = self.catalogue_setup.config

    def _catalogue_tabs(self) -> list[SetupTab]:
        from shopfloor.kiosk.setup.hours_tab import HoursTab
        from shopfloor.kiosk.setup.operations_tab import OperationsTab
        from shopfloor.kiosk.setup.parts_tab import PartsTab
        from shopfloor.kiosk.setup.printers_tab import PrintersTab
        from shopfloor.kiosk.setup.templates_tab import TemplatesTab

        setup = self.catalogue_setup
        return [HoursTab(setup.config), OperationsTab(setup.operations, setup.config, self.bay_admin),
                PartsTab(setup.parts),
                PrintersTab(setup.printers, self.printer_choice), TemplatesTab(setup.templates)]

    def _follow_settings(self, new: Settings, frame: StaffFrame, printers: PrinterChoice) -> None:
        """Everything built once from the settings takes the new ones: the services read ctx.settings (already
        swapped); the frame (site name, language), the printer choice and the pages hold their own reference."""
        from shopfloor.settings import BookingSettings

        self.settings = new
        frame.settings = new
        printers.printers = list(new.printers)
        for page, _path in self.pages:
            held = getattr(page, "settings", None)
            if isinstance(held, Settings):
                page.settings = new  # type: ignore[attr-defined]
            elif isinstance(held, BookingSettings):
                page.settings = new.booking  # type: ignore[attr-defined]

    def _build_agents(self) -> list[PrinterAgent]:
        """The demo runs every printer's agent in this process; a site runs `shopfloor printer-agent NAME`
        beside each printer instead."""
        from shopfloor.printer.agent import PrinterAgent
        from shopfloor.printer.journal import PrintJournal
        from shopfloor.printer.transports import transport_for

        agents = []
        for p in self.settings.printers:
            agents.append(PrinterAgent(
                site=self.settings.site.id, printer_name=p.name,
                transport=transport_for(p, self.options.data_dir, status_queries=p.status_queries),
                journal=PrintJournal(self.options.data_dir / "agents" / f"{p.name}.journal"),
                address=self.options.broker, account=self.credentials.printer_account(p.name)))
        return agents

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start_backend(self) -> None:
        """Broker, publisher and printer agents: everything that does not need the web server's loop."""
        self.db.migrate()
        if self.broker is not None:
            self.broker.start()
        if not self.publisher.start(wait=3):
            log.warning("MQTT broker %s not reachable yet; state changes wait in the outbox", self.options.broker)
        for agent in self.agents:
            agent.start()

    async def _start_feeds(self) -> None:
        loop = asyncio.get_running_loop()
        site = self.settings.site.id
        # Each feed subscribes to what its role may read (board: states + printer status; lounge: masked states).
        self._feeds = [
            self._feed_factory(self.board_store, address=self.options.broker,
                               account=self.credentials.account(Role.BOARD), site=site, role=Role.BOARD, loop=loop),
            self._feed_factory(self.lounge_store, address=self.options.broker,
                               account=self.credentials.account(Role.LOUNGE), site=site, role=Role.LOUNGE,
                               loop=loop),
        ]
        for feed in self._feeds:
            feed.start()
        self._late_task = asyncio.create_task(self._mark_late_forever())
        self._housekeeping_task = asyncio.create_task(self._housekeeping_forever())
        self._messages_task = asyncio.create_task(self.message_sender.run_forever(run.io_bound))
        nightly = BackupSchedule(self.ctx, self.options.data_dir)  # SQLite only; a PostgreSQL site's is pg_dump's
        self._backup_task = asyncio.create_task(nightly.run_forever(run.io_bound))
        loop.call_later(GC_FREEZE_AFTER_SECONDS, self._freeze_long_lived)
        self._systemd_task = asyncio.create_task(self._tell_systemd())

    async def _tell_systemd(self) -> None:
        """Under systemd (Type=notify): READY=1 once the web server answers (this runs at its startup, a moment
        before it listens), then WATCHDOG=1 every half WatchdogSec while this loop runs and the database
        answers: a hung loop or a dead database gets the server restarted."""
        host = self.options.http_host if self.options.http_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        for _ in range(READY_WAIT_TRIES):
            try:
                _, writer = await asyncio.open_connection(host, self.options.http_port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            break
        systemd_notify.notify(systemd_notify.READY, f"STATUS=serving on port {self.options.http_port}")
        interval = systemd_notify.watchdog_seconds()
        while interval is not None:
            await asyncio.sleep(interval / 2)
            figures = await self.health.database_figures_soon()
            if figures.reachable:
                systemd_notify.notify(systemd_notify.WATCHDOG)
            else:
                log.warning("database not answering (%s): no watchdog ping", figures.error)

    @staticmethod
    def _freeze_long_lived() -> None:
        """Once the stores hold the day, move everything alive into the permanent generation: full collections
        then no longer walk the boards' data, which made a 150–220 ms pause hit 1–2 of 50 updates to 100
        screens (bench/latency.py: p99 ~170 ms → ~30 ms)."""
        gc.collect()
        gc.freeze()

    async def _mark_late_forever(self) -> None:
        """Late and no-show marks; at a new day the week's capacity states (a new day joins the week bars) and,
        on the first day of a month, that month's solicitation call lists (data_dir/call-lists/YYYY-MM/)."""
        day: date | None = None
        while True:
            try:
                await run.io_bound(self.appointments.mark_late)
                new_day = await io(self.booking.roll_over, day)
                if new_day != day:
                    day = new_day
                    await run.io_bound(self._monthly_call_lists, new_day)
            except Exception:
                log.exception("marking late appointments failed")
            try:  # shift ends, projections the clock moved, carrying over at closing
                await run.io_bound(self.workshop.tick.run)
            except Exception:
                log.exception("the workshop's tick failed")
            await asyncio.sleep(LATE_CHECK_SECONDS)

    def _monthly_call_lists(self, today: date) -> None:
        """Written once per month (kept if present), also when the server was down on the 1st."""
        written = self.solicitation.write_monthly(self.options.data_dir, today.replace(day=1))
        if written:
            log.info("call lists for %s written to %s", f"{today:%Y-%m}", written[0].parent)

    async def _housekeeping_forever(self) -> None:
        """Prunes sent outbox rows and finished print jobs past their retention, then computes the figures of the
        closed days not kept yet (yesterday, after midnight; after an upgrade the last two years, a week at a time
        with as long a rest after each, so that the boards keep the CPU)."""
        await asyncio.sleep(HOUSEKEEPING_AFTER_SECONDS)
        while True:
            try:
                await run.io_bound(self.pruning.prune)
                await run.io_bound(self.figures.fill, chunk=7, rest=1.0)
            except Exception:
                log.exception("housekeeping failed")
            await asyncio.sleep(self.settings.retention.every_minutes * 60)

    def stop(self) -> None:
        log.info("stopping (%s)", stop_reason())
        systemd_notify.notify(systemd_notify.STOPPING)
        if self._systemd_task:
            self._systemd_task.cancel()
        if self._late_task:
            self._late_task.cancel()
        if self._housekeeping_task:
            self._housekeeping_task.cancel()
        if self._messages_task:
            self._messages_task.cancel()
        if self._backup_task:
            self._backup_task.cancel()
        for feed in self._feeds:
            feed.stop()
        for agent in self.agents:
            agent.stop()
        self.publisher.stop()
        if self.broker is not None:
            self.broker.stop()
        self.health.close()
        self.db.dispose()

    # -- web ------------------------------------------------------------------------------------------------
    def register_pages(self) -> None:
        from shopfloor.kiosk.cashier import documents_route as cashier_documents
        from shopfloor.kiosk.reception import documents_route

        for page, path in self.pages:
            page.register(path)
        documents_route.register(app, self.reception.documents)  # the staff's PDF, opened from the estimate page
        cashier_documents.register(app, self.settlement.documents, self.settings.site.language)  # list, export

    def register(self) -> None:
        web_server.prepare(app, self.options.data_dir, self.settings.web, self.settings.reception.photo_max_mb)
        self.register_pages()
        health_route.register(app, self.health)
        install(app, ApiServices.on(self.ctx, self.credentials.api_tokens(), checkin=self.checkin,
                                    repair_orders=self.repair_orders, appointments=self.appointments,
                                    printing=self.printing, booking=self.booking, customers=self.customers,
                                    workshop=self.workshop, parts=self.parts, reception=self.reception,
                                    settlement=self.settlement, messages=self.messages, aftercare=self.aftercare,
                                    kpis=self.kpis, token_admin=self.tokens, catalogue=self.catalogue_setup))

        @ui.page("/")
        def index() -> None:
            ui.navigate.to("/kiosk")

        app.on_startup(self._start_feeds)
        app.on_shutdown(self.stop)

    def storage_secret(self) -> str:
        return hashlib.sha256(b"shopfloor-storage:" + self.credentials.api_token.encode()).hexdigest()

    def lock_data_dir(self, taken: RunLock | None = None) -> None:
        """One server per data directory, held until this process ends (a restore refuses meanwhile). The demo
        takes it before it resets or writes its day (and hands it over); run() takes it otherwise."""
        if taken is not None:
            self._run_lock = taken
        if self._run_lock is not None and self._run_lock.held:
            return
        self._run_lock = RunLock(self.options.data_dir)
        try:
            self._run_lock.acquire()
        except LockHeld as exc:
            raise SystemExit(f"shopfloor: cannot start: {exc}") from None

    def run(self) -> None:
        """Start everything and serve until Ctrl-C."""
        # Fewer full collections: a board server keeps many long-lived small objects (cards, labels).
        gc.set_threshold(700, 10, 100)
        self.lock_data_dir()
        nicegui_outbox.install()  # a connected page no longer wakes the server every second
        # the certificate first: a site CA that cannot be used stops the start before anything runs
        web = web_server.run_options(self.options.data_dir, self.settings, https=self.options.https,
                                     host=self.options.http_host)
        self.start_backend()
        self.register()
        ui.run(host=self.options.http_host, port=self.options.http_port, title="shopfloor", reload=False,
               show=False, storage_secret=self.storage_secret(), uvicorn_logging_level="warning",
               # uvicorn's own warnings and errors through the root logger's handlers (shopfloor/logs.py: the
               # journal with priorities, or the rotating file), not a stderr handler of uvicorn's own
               log_config=None,
               # Quasar's own words (date pickers, tables) in the site's language
               language="en-US" if self.settings.site.language == "en" else "zh-CN",
               # a page's socket is pinged every 24 s and a vanished screen's client kept 30 s: with 10 s (pings every
               # 8 s, engine.io checking one of 50 sockets every 80 ms) woke an idle server ~19 times a second
               favicon="🔧", reconnect_timeout=30, **web)
