"""/booking: an advisor or customer-service person books a car in (domain.md §2), on the kiosk tablet (1280×800)
or a desk browser. Left: find the customer and vehicle, and what to know before booking. Middle: the work and
the booking's extras. Right: the day, the proposed slots best first, a manual time. Then the confirmation.

The address can preset the booking (the call lists open it so): /booking?vehicle=12&work=M20,OIL&day=2026-11-30
&advisor=3&source=active."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.booking.confirm import ConfirmationPanel
from shopfloor.kiosk.booking.customer import CustomerPanel
from shopfloor.kiosk.booking.slots import WEEK_DAYS, DayPicker, SlotList, ask_override
from shopfloor.kiosk.booking.tag import TagDialog
from shopfloor.kiosk.booking.work import ExtrasForm, WorkPicker, due_package
from shopfloor.kiosk.common import session
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.frame import StaffFrame, roles_with
from shopfloor.services.booking import BookingRefused, BookingRequest
from shopfloor.services.confirmations import day_text
from shopfloor.services.tag_labels import TagLabelService

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.services.auth import AuthService
    from shopfloor.services.booking import BookingService
    from shopfloor.services.checkin import CheckinService
    from shopfloor.services.confirmations import ConfirmationService
    from shopfloor.services.customers import CustomerService
    from shopfloor.services.printing import PrintService
    from shopfloor.settings import BookingSettings

log = logging.getLogger(__name__)
PATH = "/booking"
SLOTS_SHOWN = 5
# A field's error message takes the room it needs below the field (Quasar reserves one line, and the services'
# messages say what is wrong in a sentence).
CSS = (".booking-form .q-field--with-bottom{padding-bottom:0}"
       ".booking-form .q-field__bottom{position:static;transform:none;min-height:0}")


class BookingPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, printers: PrinterChoice, settings: BookingSettings, *,
                 auth: AuthService, checkin: CheckinService, customers: CustomerService, booking: BookingService,
                 confirmations: ConfirmationService, printing: PrintService) -> None:
        self.frame = frame
        self.clock = clock
        self.printers = printers
        self.settings = settings
        self.auth = auth
        self.checkin = checkin  # the labour-operation catalogue
        self.customers = customers
        self.booking = booking
        self.confirmations = confirmations
        self.printing = printing
        self.tags = TagLabelService(printing.ctx, printing)  # the vehicle's QR tag, on screen and on paper

    def register(self, path: str) -> None:
        ui.button.default_props("no-caps")
        ui.page(path, title="shopfloor · booking")(self.build)

    async def build(self, lang: str | None = None, vehicle: int | None = None, work: str | None = None,
                    day: str | None = None, advisor: int | None = None, source: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        ui.add_css(CSS)
        preset_day = None
        if day:
            try:
                preset_day = date.fromisoformat(day)
            except ValueError:
                ui.notify(t("error.day_invalid", day=day), type="warning")
        workspace = BookingWorkspace(self, t, user)
        await workspace.build(vehicle=vehicle, codes=[c for c in (work or "").split(",") if c.strip()],
                              day=preset_day, advisor=advisor, source=source)


class BookingWorkspace:
    def __init__(self, page: BookingPage, t: Translator, user: session.KioskUser) -> None:
        self.page = page
        self.t = t
        self.user = user
        self.hit: dict[str, Any] | None = None
        self.proposed = 0  # answers to older proposals arriving late are dropped
        self.busy = False  # one booking at a time: a double tap must not book twice
        self.week: list[dict[str, Any]] = []
        self.done = False  # booked: the confirmation shows instead of the work and the slots

    async def build(self, *, vehicle: int | None = None, codes: list[str] | None = None, day: date | None = None,
                    advisor: int | None = None, source: str | None = None) -> None:
        t = self.t
        operations = await io(self.page.checkin.operations)
        advisors = await io(self.page.auth.advisors)
        self.today = self.page.clock.today()
        self.source = source
        self.tag = TagDialog(self.page.tags, self.page.printing, self.page.printers, t, self.user)
        with ui.row().classes("w-full no-wrap gap-3 items-start").mark("booking").props("data-testid=booking"):
            with ui.column().classes("w-[29%] min-w-0 gap-2"):
                self.customer = CustomerPanel(self.page.customers, t, self.user.actor, on_vehicle=self._vehicle_chosen,
                                              on_clear=self._vehicle_cleared, on_item=self._item_to_work,
                                              on_tag=lambda vehicle_id, new: self.tag.open(vehicle_id, new=new))
                self.customer.build()
            self.main = ui.row().classes("w-[71%] min-w-0 no-wrap gap-3 items-start")
        with self.main:
            with ui.column().classes("w-[46%] min-w-0 gap-1"):
                self.work = WorkPicker(t, operations, on_change=self.schedule)
                self.work.build(preset=codes)
                self.extras = ExtrasForm(t)
                self.extras.build()
                self.extras.preset(False, source)
            with ui.column().classes("w-[54%] min-w-0 gap-1"):
                self.days = DayPicker(t, self.today, advisors, on_change=self._day_changed)
                self.days.build()
                self.slots = SlotList(t, on_book=self._book_slot, on_manual=self._book_manual)
                self.slots.build()
        if day is not None and self.today <= day:
            self.days.day = day
        self.days.preset_advisor(advisor)
        await self._load_week()
        if vehicle is not None:
            await self.customer.select_id(vehicle)
        await self.propose()

    # --- the vehicle ----------------------------------------------------------------------------------------
    async def _vehicle_chosen(self, hit: dict[str, Any], overview: dict[str, Any]) -> None:
        self.hit = hit
        if self.done:
            return
        self.extras.preset(bool(overview.get("complaining")), self.source)
        v, last = overview["vehicle"], overview.get("last_service") or {}
        self.work.mark_due(due_package(list(self.work.operations.values()), last.get("km"), v.get("mileage_km"),
                                       self.page.settings.service_interval_km))
        self.schedule()

    def _vehicle_cleared(self) -> None:
        self.hit = None
        if self.done:
            ui.navigate.to("/booking")
            return
        self.work.mark_due(None)
        self.schedule()

    def _item_to_work(self, item: dict[str, Any]) -> None:
        if item["kind"] == "parts_order":
            self.extras.parts_order(item)
        self.work.prefill(item["description"])
        ui.notify(self.t("booking_page.item_added"), type="info")

    # --- the day and the slots ------------------------------------------------------------------------------
    async def _load_week(self) -> None:
        self.week = await io(self.page.booking.week, self.today, WEEK_DAYS)
        await self._render_week()

    async def _render_week(self) -> None:
        extra = None
        if self.days.day >= self.today + timedelta(days=WEEK_DAYS):
            extra = (await io(self.page.booking.week, self.days.day, 1))[0]
        self.days.render_week(self.week, extra)

    def _day_changed(self) -> None:
        background_tasks.create(self._render_week(), name="booking-week")
        self.schedule()

    def schedule(self) -> None:
        background_tasks.create(self.propose(), name="booking-propose")

    async def propose(self) -> None:
        t = self.t
        self.proposed += 1
        mine = self.proposed
        day = self.days.day
        self.slots.title.text = t("booking_page.slots_for", day=day_text(t.lang, day))
        if self.work.empty():
            self.slots.hint(t("booking_page.pick_work"))
            return
        try:
            lines = await io(self.page.booking.lines, **self.work.request())
            slots = await io(self.page.booking.propose_slots, day, lines, self.days.advisor_id, SLOTS_SHOWN)
        except DomainError as exc:
            if mine == self.proposed:
                self.slots.hint(exc.message(t.lang))
            return
        if mine != self.proposed:
            return
        self.slots.render(slots, bookable=self.hit is not None)

    async def _book_slot(self, slot: dict[str, Any]) -> None:
        await self._book(datetime.fromisoformat(slot["start"]), slot["advisor"]["id"])

    async def _book_manual(self, text: str) -> None:
        try:
            hh, mm = (int(x) for x in text.split(":")[:2])
            at = time(hh, mm)
        except ValueError:
            ui.notify(self.t("booking_page.manual_invalid"), type="warning")
            return
        await self._book(datetime.combine(self.days.day, at, tzinfo=self.page.clock.tz), self.days.advisor_id)

    async def _book(self, start: datetime, advisor_id: int | None) -> None:
        t = self.t
        if self.hit is None:
            ui.notify(t("booking_page.need_vehicle"), type="warning", position="center")
            return
        if self.work.empty():
            ui.notify(t("booking.error.no_work"), type="warning")
            return
        if self.busy:
            return
        self.busy = True
        try:
            state = await self._try_book(start, advisor_id)
        finally:
            self.busy = False
        if state is not None:
            await self._confirmed(state)

    async def _try_book(self, start: datetime, advisor_id: int | None) -> dict[str, Any] | None:
        t = self.t
        assert self.hit is not None
        extras = self.extras.values()
        try:
            lines = await io(self.page.booking.lines, **self.work.request())
            req = BookingRequest(
                start=start, lines=lines, actor=self.user.actor, vehicle_id=self.hit["vehicle_id"],
                advisor_id=advisor_id, parts_status=extras.parts_status, parts_eta=extras.parts_eta,
                parts_numbers=extras.parts_numbers, waiting_customer=extras.waiting_customer,
                road_test=extras.road_test, complaining_customer=extras.complaining_customer, notes=extras.notes,
                source=extras.source)
            try:
                return await io(self.page.booking.book, req)
            except BookingRefused as exc:
                log.info("booking for %s at %s refused: %s", self.hit["plate"], start, exc.reason)
                # Only who may override is asked for a reason; anyone else is told who may.
                may_override = self.user.may(Permission.BOOKING_OVERRIDE)
                reason = await ask_override(t, exc.violations, who_may=None if may_override else
                                            roles_with(t, Permission.BOOKING_OVERRIDE))
                if reason is None or not may_override:
                    await self.propose()  # the day may have changed under us: show what is free now
                    return None
                req.override_reason = reason
                return await io(self.page.booking.book, req)
        except DomainError as exc:
            ui.notify(exc.message(t.lang), type="negative", multi_line=True, position="center")
            return None

    # --- after booking --------------------------------------------------------------------------------------
    async def _confirmed(self, state: dict[str, Any]) -> None:
        self.done = True
        self.main.clear()
        with self.main:
            await ConfirmationPanel(self.page.confirmations, self.page.printing, self.page.printers, self.t,
                                    self.user, state,
                                    on_new=lambda: ui.navigate.to("/booking"),
                                    on_again=lambda: ui.navigate.to(f"/booking?vehicle={state['vehicle_id']}")
                                    ).build()
        if self.hit is not None:
            await self.customer.select(self.hit)  # the new appointment among the upcoming ones
