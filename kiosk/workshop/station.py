"""/workshop/station: a technician's bay station (wall screen 1920×1080 or tablet 1280×800, big buttons).

Staff who may clock (a technician, or the foreman once for the bay) open the station with their PIN; then the
technicians at the bay sign in by scanning their badge with the kiosk's keyboard-wedge capture: a badge at a
station with no one on it signs that technician in, another technician's badge switches. Scanning the job ticket
(its QR: …/ro/<number>, or the bare number) clocks the technician on that job; the service ends whatever they were
on before. Pause with a reason, finish and the self check, additional work found: kiosk/workshop/station_dialogs.py.
The station redraws when the bus says something of its technician changed (the foreman dispatched, a check failed).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nicegui import app, background_tasks, ui

from shopfloor.contract import topics
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.domain.workshop import BADGE_PREFIX, BADGE_SEARCH_RE, QcStage, normalize_badge
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame, session
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.camera_scan import CameraScan
from shopfloor.kiosk.reception.page import STATIC_URL as WEDGE_STATIC_URL
from shopfloor.kiosk.workshop import photos, station_dialogs, station_view
from shopfloor.services.audit import Actor, ActorKind

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.services.checkin import CheckinService
    from shopfloor.services.repair_orders import RepairOrderService
    from shopfloor.services.workshop.inspection import InspectionService
    from shopfloor.services.workshop.photos import PhotoStore
    from shopfloor.services.workshop.services import WorkshopServices

log = logging.getLogger(__name__)
PATH = "/workshop/station"
STATIC = Path(__file__).parent / "static"
STATIC_URL = "/station-static"
BAY_KEY = "station_bay"  # the technician signed in at this browser's bay, in NiceGUI's per-browser storage
POLL_SECONDS = 30.0  # a safety net: the bus tells the station first; this covers a broker that was away
REDRAW_AFTER = 0.3  # a burst of bus updates (a dispatch of three lines) redraws once


@dataclass(frozen=True)
class BayTechnician:
    id: int
    name: str
    badge: str  # the normalized badge token: the clock-on goes through the service with it, as the API's does


class StationPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, store: BoardStore, *, workshop: WorkshopServices,
                 repair_orders: RepairOrderService, checkin: CheckinService, inspection: InspectionService,
                 photo_store: PhotoStore, qc_stages: list[QcStage]) -> None:
        self.frame = frame
        self.clock = clock
        self.store = store
        self.workshop = workshop
        self.repair_orders = repair_orders
        self.checkin = checkin
        self.inspection = inspection
        self.photo_store = photo_store
        self.qc_stages = qc_stages

    def register(self, path: str) -> None:
        app.add_static_files(STATIC_URL, STATIC)
        photos.register(app, self.photo_store)
        ui.page(path, title="shopfloor · station")(self.build)

    async def build(self, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        await StationView(self, t, user).build()


def _stored_bay(user: session.KioskUser) -> BayTechnician | None:
    """The bay's technician kept for this browser, while the same staff member keeps the station open."""
    data = app.storage.user.get(BAY_KEY)
    if not isinstance(data, dict) or data.get("by") != user.advisor_id:
        return None
    try:
        return BayTechnician(int(data["id"]), str(data["name"]), str(data["badge"]))
    except (KeyError, TypeError, ValueError):
        return None


def _looks_like_badge(text: str) -> bool:
    """A badge, valid or not: the token anywhere in the scan, or a scan that starts with the badge prefix."""
    upper = text.strip().upper()
    return upper.startswith(BADGE_PREFIX) or BADGE_SEARCH_RE.search(upper) is not None


class StationView:
    """One open station: the bay's technician, their job now and next, their queue."""

    def __init__(self, page: StationPage, t: Translator, user: session.KioskUser) -> None:
        self.page = page
        self.t = t
        self.user = user
        self.bay = _stored_bay(user)
        self.shown: set[str] = set()  # the orders on screen: a bus update of one of them redraws
        self._redraw_pending = False
        self.drawing = 0

    @property
    def actor(self) -> Actor:
        """The technician whose badge was scanned does the work: they are the actor, whoever opened the station
        (the foreman signs a bay's station in once). Their own staff account when it is theirs."""
        if self.bay is None or self.bay.name == self.user.name:
            return self.user.actor
        return Actor(self.bay.name, ActorKind.STAFF)

    async def build(self) -> None:
        ui.add_head_html(station_view.STYLE)
        ui.add_body_html(f'<script src="{WEDGE_STATIC_URL}/wedge_scanner.js"></script>')
        ui.add_body_html(f'<script src="{STATIC_URL}/station_clock.js"></script>')
        ui.on("tag_scanned", lambda e: self.on_scan(str(e.args)))
        with ui.column().classes("w-full gap-3 station").mark("station"):
            self.bar = ui.row().classes("w-full items-center no-wrap gap-4 px-2")
            self.body = ui.column().classes("w-full gap-3")
        # dialogs live outside the body: a redraw from the bus does not close the one in use
        self.dialog_host = ui.element("div")
        with self.dialog_host:
            self.camera = CameraScan(self.t, WEDGE_STATIC_URL)  # badge or ticket, by the tablet's camera
        self._draw_bar()
        # subscribed inside the page: NiceGUI drops it when this client goes away
        self.page.store.changed.subscribe(self._store_changed)
        ui.timer(POLL_SECONDS, self.refresh)
        await self.refresh()

    # -- the bay's technician -------------------------------------------------------------------------------
    def _keep(self, bay: BayTechnician | None) -> None:
        self.bay = bay
        if bay is None:
            app.storage.user.pop(BAY_KEY, None)
        else:
            app.storage.user[BAY_KEY] = {"id": bay.id, "name": bay.name, "badge": bay.badge,
                                         "by": self.user.advisor_id}
        self._draw_bar()

    async def _badge(self, text: str) -> None:
        try:
            # a damaged or foreign SFB- code is refused as a badge (malformed or unknown), not as a ticket
            token = normalize_badge(text)
            tech_id, name = await io(self.page.workshop.clocking.technician_of_badge, token)
        except DomainError as exc:
            self._refused(exc)
            return
        before = self.bay
        if before is not None and before.id == tech_id:
            ui.notify(self.t("station.already", name=name), type="info", position="bottom", classes="text-xl")
            return
        self._keep(BayTechnician(tech_id, name, token))
        key = "station.welcome" if before is None else "station.switched"
        ui.notify(self.t(key, name=name), type="positive", position="bottom", classes="text-2xl")
        await self.refresh()

    async def sign_out(self) -> None:
        if self.bay is not None:
            ui.notify(self.t("station.signed_out", name=self.bay.name), type="info", position="bottom",
                      classes="text-xl")
        self._keep(None)
        await self.refresh()

    # -- scans ----------------------------------------------------------------------------------------------
    async def on_scan(self, text: str) -> None:
        """A badge signs in or switches; a job ticket (URL or number) clocks the bay's technician on."""
        if _looks_like_badge(text):
            await self._badge(text)
            return
        if self.bay is None:
            ui.notify(self.t("station.badge_first"), type="warning", position="center", classes="text-2xl")
            return
        if not frame.allowed(self.t, self.user, Permission.CLOCK):
            return
        try:
            clocking, _new = await io(self.page.workshop.clocking.clock_on, self.bay.badge, text, actor=self.actor)
        except DomainError as exc:
            self._refused(exc)
            if exc.key == "workshop.error.badge_unknown":  # the badge was reissued meanwhile: sign in again
                self._keep(None)
                await self.refresh()
            return
        ui.notify(self.t("station.clocked_on", number=clocking.repair_order), type="positive", position="bottom",
                  classes="text-2xl")
        await self.refresh()

    async def manual_ticket(self, field: ui.input) -> None:
        text = (field.value or "").strip()
        field.set_value("")
        if text:
            await self.on_scan(text)

    def _refused(self, exc: DomainError) -> None:
        log.info("station refused: %s", exc.message("en"))
        ui.notify(exc.message(self.t.lang), type="negative", position="center", multi_line=True, classes="text-xl")

    # -- live -----------------------------------------------------------------------------------------------
    def _store_changed(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        if self.bay is None or self._redraw_pending:
            return
        mine = self.bay.id
        if kind == topics.TECHNICIANS:
            relevant = entity_id == str(mine)
        elif kind == topics.REPAIR_ORDERS:
            relevant = entity_id in self.shown or (state is not None and any(
                tech.get("id") == mine for line in state.get("job_lines", []) for tech in line.get("technicians", [])))
        else:
            return
        if relevant:
            self._redraw_pending = True
            background_tasks.create(self._redraw_soon(), name="station-redraw")

    async def _redraw_soon(self) -> None:
        await asyncio.sleep(REDRAW_AFTER)
        self._redraw_pending = False
        await self.refresh()

    # -- drawing --------------------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Read the technician's jobs, then draw them in one go (only the latest of overlapping reads draws)."""
        self.drawing += 1
        mine = self.drawing
        data = await io(station_view.read, self.page.workshop.clocking, self.page.repair_orders,
                        self.page.inspection if QcStage.SELF in self.page.qc_stages else None, self.bay.id) \
            if self.bay is not None else None
        if mine != self.drawing:
            return
        self.body.clear()
        with self.body:
            if data is None:
                station_view.scan_prompt(self.t)
                self.shown = set()
                return
            self.shown = station_view.draw(self.t, self.page.clock, data, self._actions())

    def _actions(self) -> station_view.Actions:
        dialogs = station_dialogs.StationDialogs(self)
        return station_view.Actions(pause=dialogs.pause, finish=dialogs.finish, additional=dialogs.additional,
                                    self_check=dialogs.self_check)

    def _draw_bar(self) -> None:
        t = self.t
        self.bar.clear()
        with self.bar:
            if self.bay is not None:
                with ui.row().classes("items-center gap-3 no-wrap"):
                    ui.icon("badge", size="3rem").classes("text-primary")
                    ui.label(t("station.signed_in_as", name=self.bay.name)).classes("text-4xl font-bold") \
                        .mark("bay-technician").props("data-testid=bay-technician")
                with ui.column().classes("gap-0 grow items-center"):
                    ui.label(t("station.scan_ticket")).classes("text-2xl text-primary font-bold") \
                        .mark("scan-ticket")
                    manual = ui.input(placeholder=t("station.manual_ticket")) \
                        .props("outlined dense clearable").classes("w-80 text-lg").mark("manual-ticket")
                    manual.on("keydown.enter", lambda: self.manual_ticket(manual))
                    self.camera.button()
            else:
                ui.space()
                self.camera.button("lg")
            if self.user.may(Permission.DISPATCH):
                ui.button(t("station.badges"), icon="qr_code_2",
                          on_click=lambda: ui.navigate.to(station_view.BADGES_PATH)) \
                    .props("outline size=lg").mark("badges-link")
            if self.bay is not None:
                ui.button(t("station.sign_out"), icon="logout", on_click=self.sign_out) \
                    .props("unelevated size=lg color=grey-8 data-testid=station-sign-out").mark("station-sign-out")
