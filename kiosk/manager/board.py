"""/manager/board: the service manager's plan board (desk screen, 1920×1080; also 1280×800).

The appointment board as on the wall (advisors as rows, the opening hours as columns, one card per appointment
with its arrived / late / no-show / cancelled magnet and the red now line), but a card can be dragged to another
time or advisor. The drop asks BookingService.move, which checks capacity and levelling; refused, the card
snaps back and a dialog says why, offering "move anyway" with a reason (logged as an override).

Below the board: the day's capacity (per technician, per skill class, cars carried over, walk-ins) and the
week's load bars. Everything follows the bus: a booking or move made anywhere redraws the card and the hours.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, ui
from nicegui.events import GenericEventArguments

from shopfloor import i18n
from shopfloor.contract import topics
from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import session
from shopfloor.kiosk.common.attributes import selectable_days
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.frame import roles_with
from shopfloor.kiosk.manager.capacity import CapacityPanel, week_entry
from shopfloor.kiosk.manager.card_history import history_lines
from shopfloor.kiosk.manager.dialogs import details_dialog, refusal_dialog
from shopfloor.kiosk.manager.style import CSS
from shopfloor.services.audit import AuditService
from shopfloor.services.booking import ACTIVE, MAX_DAYS_AHEAD, BookingRefused

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.services.appointments import AppointmentService
    from shopfloor.services.auth import AuthService
    from shopfloor.services.booking import BookingService
    from shopfloor.settings import Settings

log = logging.getLogger(__name__)
PATH = "/manager/board"
FLAG_ORDER = ("complaining_customer", "repeat_repair", "waiting_customer", "road_test")
LABEL_KEYS = ("advisor", "empty", "bay", "h")  # and row_sum, a counted text
STATUSES = ("booked", "confirmed", "arrived", "late", "no_show", "cancelled")
FLAGS = (*FLAG_ORDER, "parts_to_order", "override")
BELOW_BOARD_PX = 215  # the capacity strip under the board: the cards grow into what the screen has left


class PlanBoardView(ui.element, component="static/manager_board.js"):
    """The board itself, drawn in the browser; `cards` mirrors what it shows (appointment id -> card)."""

    def __init__(self, *, rows: list[dict[str, Any]], config: dict[str, Any], labels: dict[str, str]) -> None:
        super().__init__()
        self.cards: dict[int, dict[str, Any]] = {}
        self.rows = rows
        self._props["board"] = {"rows": rows, "cards": []}
        self._props["config"] = config
        self._props["labels"] = labels

    def show(self, rows: list[dict[str, Any]], cards: dict[int, dict[str, Any]], config: dict[str, Any]) -> None:
        self.rows, self.cards = rows, dict(cards)
        self._props["config"] = config
        self._send()

    def upsert(self, card: dict[str, Any]) -> bool:
        """A newer state of a card; False if it is not newer than what is shown."""
        current = self.cards.get(card["id"])
        if current is not None and current["version"] >= card["version"]:
            return False
        self.cards[card["id"]] = card
        self._send()
        return True

    def drop(self, appointment_id: int) -> None:
        if self.cards.pop(appointment_id, None) is not None:
            self._send()

    def settle(self, appointment_id: int, moved: bool) -> None:
        self.run_method("settle", appointment_id, moved)

    def _send(self) -> None:
        cards = sorted(self.cards.values(), key=lambda c: (c["start_min"], c["id"]))
        self._props["board"] = {"rows": self.rows, "cards": cards}
        self.update()


def card_of(state: dict[str, Any], tz: Any) -> dict[str, Any]:
    """What a card shows, from an appointment's state (the bus payload or AppointmentService.list_day)."""
    start = datetime.fromisoformat(state["start"]).astimezone(tz)
    end = datetime.fromisoformat(state["end"]).astimezone(tz) if state.get("end") else start
    advisor = state.get("advisor") or {}
    flags = [f for f in FLAG_ORDER if (state.get("flags") or {}).get(f)]
    if (state.get("parts") or {}).get("status") == "to_order":
        flags.append("parts_to_order")
    if state.get("overridden"):
        flags.append("override")
    status = state.get("status") or "booked"
    return {
        "id": int(state["id"]), "version": int(state.get("version") or 0), "status": status,
        "date": start.date().isoformat(), "start_min": start.hour * 60 + start.minute, "time": f"{start:%H:%M}",
        "end": f"{end:%H:%M}", "hours": float(state.get("hours") or 0), "plate": state.get("plate") or "",
        "plate_display": state.get("plate_display") or state.get("plate") or "",
        "customer": state.get("customer") or "", "work": state.get("work") or "", "bay": state.get("bay") or "",
        "advisor_id": int(advisor.get("id") or 0), "advisor_code": advisor.get("code") or "",
        "advisor_name": advisor.get("name") or "", "flags": flags, "movable": status in ACTIVE,
    }


def day_label(t: Translator, day: date) -> str:
    weekdays = t("manager.board.weekdays").split(",")
    weekday = weekdays[day.weekday()] if len(weekdays) == 7 else ""
    return t("manager.board.day", weekday=weekday, day=day.day, month=day.month, year=day.year)


EN_DATE_LOCALE = {
    "days": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    "daysShort": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    "months": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"],
    "monthsShort": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def localize_picker(picker: ui.date, lang: str) -> ui.date:
    """Quasar's date picker speaks the site's language (zh-CN) unless told otherwise; its header would not, so
    it has none."""
    picker.props("minimal")
    if lang == "en":
        picker.props["locale"] = EN_DATE_LOCALE
    return picker


def parse_day(value: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        return today
    return min(max(day, today), today + timedelta(days=MAX_DAYS_AHEAD))


class ManagerBoardPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, settings: Settings, store: BoardStore, *,
                 auth: AuthService, appointments: AppointmentService, booking: BookingService,
                 audit: AuditService) -> None:
        self.frame = frame
        self.clock = clock
        self.settings = settings
        self.store = store
        self.auth = auth
        self.appointments = appointments
        self.booking = booking
        self.audit = audit

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · plan board")(self.build)

    async def build(self, lang: str | None = None, day: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        ui.add_css(CSS)
        await PlanBoard(self, t, user, parse_day(day, self.clock.today())).build()


class PlanBoard:
    """One manager's board in one browser tab."""

    def __init__(self, page: ManagerBoardPage, t: Translator, user: session.KioskUser, day: date) -> None:
        self.page = page
        self.t = t
        self.user = user
        self.day = day
        self.tz = page.clock.tz
        self.rows: list[dict[str, Any]] = []
        self.capacity: dict[str, Any] | None = None
        self.week: list[dict[str, Any]] = []
        self._advisors_task: asyncio.Task[None] | None = None

    # -- layout -----------------------------------------------------------------------------------------------
    def build_layout(self) -> None:
        t = self.t
        with ui.column().classes("w-full gap-2 px-1"):
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                self.prev = ui.button(icon="chevron_left", on_click=lambda: self.go(self.day - timedelta(days=1))) \
                    .props("flat round dense data-testid=day-prev")
                ui.button(t("manager.board.today"), on_click=lambda: self.go(self.today())) \
                    .props("outline dense data-testid=day-today").classes("px-3")
                ui.button(icon="chevron_right", on_click=lambda: self.go(self.day + timedelta(days=1))) \
                    .props("flat round dense data-testid=day-next")
                with ui.button(icon="event").props("flat round dense data-testid=day-pick"), ui.menu() as menu:
                    self.picker = selectable_days(ui.date(value=self.day.isoformat(),
                                                          on_change=lambda e: self._picked(e.value, menu)),
                                                  self.today()).props("first-day-of-week=1")
                    localize_picker(self.picker, t.lang)
                self.day_text = ui.label().classes("text-xl font-bold whitespace-nowrap").props(
                    "data-testid=board-day")
                self.day_hint = ui.label().classes("text-grey-7 whitespace-nowrap")
                ui.space()
                self.summary = ui.label().classes("text-grey-8 whitespace-nowrap").props("data-testid=board-count")
                with ui.row().classes("items-center gap-3 no-wrap text-sm text-grey-8 pl-4"):
                    for status in STATUSES:
                        with ui.row().classes("items-center gap-0 no-wrap"):
                            ui.element("span").classes(f"mg-swatch is-{status}")
                            ui.label(t(f"appointment.{status}"))
            ui.label(t("manager.board.hint")).classes("text-sm text-grey-7 -mt-1")
            with ui.card().classes("w-full p-0 overflow-hidden").props("flat bordered"):
                self.view = PlanBoardView(rows=[], config=self.config(), labels=self.labels())
                self.view.on("move", self.on_move)
                self.view.on("select", self.on_select)
            self.panel = CapacityPanel(t, on_pick=self.go, today=self.today,
                                       reserve_share=self.page.settings.booking.walk_in_reserve)

    def labels(self) -> dict[str, str]:
        t = self.t
        # the browser fills in {count} and {hours} itself: the texts go as they are in the catalogue
        out = {key: i18n.catalogue(t.lang).get(f"manager.board.{key}") or t(f"manager.board.{key}")
               for key in LABEL_KEYS}
        row_sum = i18n.forms(t.lang, "manager.board.row_sum")
        out |= {"row_sum": row_sum["other"], "row_sum_one": row_sum["one"]}
        out |= {f"status.{s}": t(f"appointment.{s}") for s in STATUSES}
        out |= {f"flag.{f}": t(f"manager.board.flag.{f}") for f in FLAGS}
        out |= {f"flag_short.{f}": t(f"manager.board.flag_short.{f}") for f in FLAGS}
        return out

    def config(self) -> dict[str, Any]:
        site = self.page.settings.site
        now = self.page.clock.now()
        offset = now.astimezone(self.tz).utcoffset() or timedelta(0)
        return {"open_min": site.opening.hour * 60,
                "close_min": site.closing.hour * 60 + (60 if site.closing.minute else 0),
                "slot": self.page.settings.booking.slot_minutes, "day": self.day.isoformat(),
                "is_today": self.day == self.today(), "now_ms": int(now.timestamp() * 1000),
                "tz_offset_min": int(offset.total_seconds() // 60), "below_px": BELOW_BOARD_PX}

    def today(self) -> date:
        return self.page.clock.today()

    # -- data -------------------------------------------------------------------------------------------------
    async def build(self) -> None:
        self.build_layout()
        self.page.store.changed.subscribe(self._store_changed)  # dropped with the page
        await self.load()

    async def load(self) -> None:
        day = self.day
        monday = day - timedelta(days=day.weekday())
        advisors, states, capacity, week = await asyncio.gather(
            io(self.page.auth.advisors), io(self.page.appointments.list_day, day),
            io(self.page.booking.capacity, day), io(self.page.booking.week, monday, 7))
        if day != self.day:
            return  # the manager picked another day meanwhile
        self.rows = [{"id": a.id, "code": a.code, "name": a.name} for a in advisors if a.is_advisor]
        cards = {}
        for state in states:
            card = card_of(state, self.tz)
            shown = self.view.cards.get(card["id"])
            # a bus update that came in while we read is newer than what we read
            cards[card["id"]] = shown if shown is not None and shown["version"] > card["version"] else card
        self.view.show(self.rows, cards, self.config())
        self.capacity, self.week = capacity, week
        self._draw_day()
        self.panel.show(self.capacity, self.week, self.day)

    def _draw_day(self) -> None:
        t = self.t
        self.day_text.text = day_label(t, self.day)
        self.prev.set_enabled(self.day > self.today())
        delta = (self.day - self.today()).days
        self.day_hint.text = t("manager.board.today") if delta == 0 else t("manager.board.tomorrow") \
            if delta == 1 else t("manager.board.in_days", days=delta)
        live = [c for c in self.view.cards.values() if c["status"] not in ("cancelled", "no_show")]
        self.summary.text = t("manager.board.summary", count=len(live),
                              hours=f"{sum(c['hours'] for c in live):.1f}")

    async def go(self, day: date) -> None:
        day = parse_day(day.isoformat(), self.today())
        if day == self.day:
            await self.load()
            return
        self.day = day
        self.picker.value = day.isoformat()
        ui.navigate.history.replace(f"{PATH}?day={day.isoformat()}")
        await self.load()

    async def _picked(self, value: str | None, menu: ui.menu) -> None:
        menu.close()
        if value and value != self.day.isoformat():
            await self.go(date.fromisoformat(value))

    # -- following the bus (on the event loop) ---------------------------------------------------------------
    def _store_changed(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        if kind == topics.APPOINTMENTS:
            self._appointment_changed(entity_id, state)
        elif kind == topics.CAPACITY:
            self._capacity_changed(entity_id, state)
        elif kind == topics.ADVISORS and (self._advisors_task is None or self._advisors_task.done()):
            self._advisors_task = background_tasks.create(self._reload_advisors(), name="manager-board-advisors")

    def _appointment_changed(self, entity_id: str, state: dict[str, Any] | None) -> None:
        try:
            appointment_id = int(entity_id)
        except ValueError:
            return
        if state is None:
            self.view.drop(appointment_id)
        else:
            card = card_of(state, self.tz)
            if card["date"] == self.day.isoformat():
                self.view.upsert(card)
            elif appointment_id in self.view.cards and \
                    card["version"] > self.view.cards[appointment_id]["version"]:
                self.view.drop(appointment_id)  # moved to another day
        self._draw_day()

    def _capacity_changed(self, entity_id: str, state: dict[str, Any] | None) -> None:
        if state is None:
            return
        changed = False
        if entity_id == self.day.isoformat():
            self.capacity = state
            changed = True
        for i, entry in enumerate(self.week):
            if entry["day"] == entity_id:
                self.week[i] = week_entry(state)
                changed = True
        if changed:
            self.panel.show(self.capacity, self.week, self.day)

    async def _reload_advisors(self) -> None:
        advisors = await io(self.page.auth.advisors)
        self.rows = [{"id": a.id, "code": a.code, "name": a.name} for a in advisors if a.is_advisor]
        self.view.show(self.rows, self.view.cards, self.config())

    # -- the manager's hand ----------------------------------------------------------------------------------
    async def on_move(self, e: GenericEventArguments) -> None:
        args = e.args if isinstance(e.args, dict) else {}
        try:
            appointment_id, advisor_id, minutes = int(args["id"]), int(args["advisor_id"]), int(args["start_min"])
        except (KeyError, TypeError, ValueError):
            return
        card = self.view.cards.get(appointment_id)
        if card is None:
            self.view.settle(appointment_id, False)
            return
        start = datetime.combine(self.day, time(minutes // 60, minutes % 60), tzinfo=self.tz)
        try:
            state = await io(self.page.booking.move, appointment_id, start, advisor_id, actor=self.user.actor)
        except BookingRefused as exc:
            self.view.settle(appointment_id, False)
            await self._refused(exc, card, start, advisor_id)
            return
        except DomainError as exc:
            self.view.settle(appointment_id, False)
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            return
        self._moved(state)

    def _moved(self, state: dict[str, Any], override: bool = False) -> None:
        card = card_of(state, self.tz)
        if card["date"] == self.day.isoformat():
            self.view.upsert(card)
        else:
            self.view.drop(card["id"])
        self.view.settle(card["id"], True)
        self._draw_day()
        ui.notify(self.t("manager.board.moved_override" if override else "manager.board.moved",
                         plate=card["plate_display"], time=card["time"], advisor=card["advisor_name"]),
                  type="warning" if override else "positive")

    async def _refused(self, exc: BookingRefused, card: dict[str, Any], start: datetime, advisor_id: int) -> None:
        target = next((r["name"] for r in self.rows if r["id"] == advisor_id), card["advisor_name"])
        reasons = [self.t(v.key, **v.params) if v.key else v.detail for v in exc.violations]
        if not self.user.may(Permission.BOOKING_OVERRIDE):  # no "move anyway" for whoever may not override
            who_may = self.t("access.override", roles=roles_with(self.t, Permission.BOOKING_OVERRIDE))
            ui.notify(" ".join([*reasons, who_may]), type="warning", multi_line=True)
            return
        reason = await refusal_dialog(self.t, card, f"{start:%H:%M}", target, reasons)
        if reason is None:
            return
        try:
            state = await io(self.page.booking.move, card["id"], start, advisor_id, actor=self.user.actor,
                             override_reason=reason)
        except DomainError as exc2:
            ui.notify(exc2.message(self.t.lang), type="negative", multi_line=True)
            return
        log.warning("%s moved appointment %s against the rules (%s): %s", self.user.name, card["id"],
                    ", ".join(v.rule for v in exc.violations), reason)
        self._moved(state, override=True)

    async def on_select(self, e: GenericEventArguments) -> None:
        args = e.args if isinstance(e.args, dict) else {}
        try:
            appointment_id = int(args["id"])
        except (KeyError, TypeError, ValueError):
            return
        try:
            state = await io(self.page.booking.get, appointment_id)
            rows = await io(self.page.audit.for_appointment, appointment_id)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        printers = {p.name: p.label or p.name for p in self.page.settings.printers}
        details_dialog(self.t, state, history_lines(self.t, rows, self.tz, self.today(), printers))

