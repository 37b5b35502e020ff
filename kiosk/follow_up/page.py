"""/follow-up: customer service's call list (domain.md §5) at a 1280×800 tablet — the day's 3-day calls after a
service, the 7-day calls after a new car's sale and the second calls after a complaint, each with whom to call
(tap to dial), the car, what was done and by whom, and the tries so far; overdue ones first and marked. A call opens
its script and the outcomes (kiosk/follow_up/call_panel.py)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.aftersales import FollowUpKind, FollowUpOutcome, FollowUpStatus
from shopfloor.kiosk.calls.common import DayPicker, call, empty_state, phone_link
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.follow_up.call_panel import CallPanel

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.aftercare.follow_ups import FollowUpView
    from shopfloor.services.aftercare.services import AftercareServices
    from shopfloor.services.booking import BookingService

PATH = "/follow-up"
ALL = "all"
FILTERS = (ALL, FollowUpKind.AFTER_SERVICE.value, FollowUpKind.NEW_CAR.value, FollowUpKind.COMPLAINT.value)
KIND_COLOURS = {FollowUpKind.AFTER_SERVICE.value: "primary", FollowUpKind.NEW_CAR.value: "teal",
                FollowUpKind.COMPLAINT.value: "negative"}
OUTCOME_COLOURS = {"satisfied": "positive", "problem": "negative", "unreachable": "orange-9"}
REFRESH_SECONDS = 60.0  # a colleague at the next desk works the same list


class FollowUpPage:
    def __init__(self, frame: StaffFrame, clock: SiteClock, *, aftercare: AftercareServices,
                 booking: BookingService) -> None:
        self.frame = frame
        self.clock = clock
        self.aftercare = aftercare
        self.booking = booking

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · follow-up")(self.build)

    async def build(self, lang: str | None = None, day: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        chosen = self.clock.today()
        if day:
            try:
                chosen = date.fromisoformat(day)
            except ValueError:
                ui.notify(t("follow_up.page.bad_day", day=day[:20]), type="warning")
        await Desk(self, t, user, chosen).build()


class Desk:
    """One person's call list in one browser."""

    def __init__(self, page: FollowUpPage, t: Translator, user: KioskUser, day: date) -> None:
        self.page = page
        self.t = t
        self.user = user
        self.day = day
        self.rows: list[FollowUpView] = []

    async def build(self) -> None:
        t = self.t
        with ui.column().classes("w-full gap-3 px-2").mark("follow-up-list"):
            with ui.row().classes("w-full items-center justify-between no-wrap"):
                DayPicker(t, self.day, self.page.clock.today(), self._day_changed, marker="follow-up-day")
                self.filter = ui.toggle({f: t(f"follow_up.page.filter.{f}") for f in FILTERS}, value=ALL,
                                        on_change=lambda: self._draw()) \
                    .props("no-caps unelevated toggle-color=primary").classes("text-base").mark("follow-up-filter")
                ui.button(t("follow_up.page.refresh"), icon="refresh", on_click=self.refresh).props("flat") \
                    .mark("follow-up-refresh")
            self.counts = ui.row().classes("items-center gap-2").mark("follow-up-counts")
            self.list = ui.column().classes("w-full gap-2").mark("follow-up-calls")
            self.panel = CallPanel(self.page.aftercare, self.page.booking, self.page.clock, t, self.user,
                                   on_done=self.refresh)
        await self.refresh()
        ui.timer(REFRESH_SECONDS, self.refresh)

    async def _day_changed(self, day: date) -> None:
        self.day = day
        await self.refresh()

    async def refresh(self) -> None:
        rows = await call(self.t, self.page.aftercare.follow_ups.due, self.day, lang=self.t.lang, include_done=True)
        if rows is None:
            return
        today = self.page.clock.today()
        # overdue first (the longest waiting first), then by when the car left
        self.rows = sorted(rows, key=lambda r: (r.status != FollowUpStatus.DUE.value, not _overdue(r, today),
                                                r.first_due_on, r.id))
        self._draw()

    def _draw(self) -> None:
        t = self.t
        wanted = self.filter.value or ALL
        shown = [r for r in self.rows if wanted == ALL or r.kind == wanted]
        self.counts.clear()
        with self.counts:
            due = sum(1 for r in self.rows if r.status == FollowUpStatus.DUE.value)
            overdue = sum(1 for r in self.rows if _overdue(r, self.page.clock.today()))
            set_attrs(ui.badge(t("follow_up.page.count_due", count=due), color="primary")
                      .classes("text-base px-3 py-1"), data_count="due", data_value=due)
            if overdue:
                set_attrs(ui.badge(t("follow_up.page.count_overdue", count=overdue), color="negative")
                          .classes("text-base px-3 py-1"), data_count="overdue", data_value=overdue)
            done = len(self.rows) - due
            set_attrs(ui.badge(t("follow_up.page.count_done", count=done), color="grey-7", outline=True)
                      .classes("text-base px-3 py-1"), data_count="done", data_value=done)
        self.list.clear()
        with self.list:
            if not shown:
                empty_state("support_agent", t("follow_up.page.empty"))
            for row in shown:
                self._row(row)

    def _row(self, row: FollowUpView) -> None:
        t = self.t
        today = self.page.clock.today()
        due = row.status == FollowUpStatus.DUE.value
        late = _overdue(row, today)
        card = ui.card().classes("w-full py-2 px-3" + ("" if due else " opacity-70")).props("flat bordered") \
            .mark("follow-up-call", f"follow-up-{row.id}")
        set_attrs(card, data_kind=row.kind, data_status=row.status)
        if late:
            card.classes("border-l-8 border-negative bg-red-1")
        with card, ui.row().classes("w-full items-center no-wrap gap-3"):
            with ui.column().classes("gap-0 w-48 shrink-0"):
                ui.label(row.plate).classes("text-xl font-bold whitespace-nowrap")
                ui.label(row.customer).classes("whitespace-nowrap truncate")
                phone_link(row.phone)
            with ui.column().classes("gap-1 grow min-w-0"):
                with ui.row().classes("items-center gap-2 no-wrap"):
                    ui.badge(t(f"follow_up.page.kind.{row.kind}"), color=KIND_COLOURS.get(row.kind, "grey")) \
                        .classes("text-sm")
                    if row.repair_order:
                        ui.label(row.repair_order).classes("font-mono text-grey-8")
                    if row.model:
                        ui.label(row.model).classes("text-grey-8")
                    if late:
                        ui.badge(t("follow_up.page.overdue", day=f"{row.first_due_on:%m-%d}"), color="negative") \
                            .classes("text-sm").mark("overdue")
                ui.label(_work(t, row, self.page.clock.tz)).classes("text-base truncate w-full").mark("follow-up-work")
                with ui.row().classes("items-center gap-3 text-grey-8"):
                    if row.advisor:
                        ui.label(t("follow_up.page.advisor", name=row.advisor))
                    ui.label(t("follow_up.page.attempts", done=row.attempts, most=row.max_attempts)) \
                        .mark("attempts")
            with ui.column().classes("gap-1 items-end shrink-0"):
                if due:
                    ui.button(t("follow_up.page.call"), icon="call", on_click=lambda r=row: self.panel.open(r)) \
                        .props("unelevated size=lg").mark("follow-up-open", f"follow-up-open-{row.id}")
                else:
                    self._outcome(row)

    def _outcome(self, row: FollowUpView) -> None:
        t = self.t
        gave_up = row.status == FollowUpStatus.GAVE_UP.value
        outcome = row.status if gave_up else row.outcome or row.status
        text = t(f"follow_up.page.outcome.{outcome}")
        if row.score is not None:
            text += " · " + t("follow_up.page.score_of", score=row.score)
        if row.problem_class:
            text += " · " + t(f"complaints.page.class.{row.problem_class}")
        ui.badge(text, color=OUTCOME_COLOURS.get(outcome, "grey-7")).classes("text-base px-2").mark("outcome")
        details: list[str] = []
        if row.called_by:
            details.append(row.called_by)
        if row.appointment_id is not None:
            details.append(t("follow_up.page.booked"))
        if details:
            ui.label(" · ".join(details)).classes("text-sm text-grey-7")
        if row.outcome == FollowUpOutcome.PROBLEM.value and row.appointment_id is None:
            # the complaint is in but the car is not booked: the way back to booking is here, not only in the call
            ui.button(t("follow_up.page.book_return"), icon="event_available",
                      on_click=lambda r=row: self.panel.open_booking(r)) \
                .props("unelevated color=negative").mark("book-return", f"book-return-{row.id}")


def _work(t: Translator, row: FollowUpView, tz: ZoneInfo) -> str:
    """What the call is about: the work done (and when the car left), a new car's sale, a complaint's number."""
    if row.kind == FollowUpKind.NEW_CAR.value:
        return t("follow_up.page.sold_on", day=f"{row.sold_on:%Y-%m-%d}" if row.sold_on else "—")
    done = ("、" if t.lang == "zh-CN" else ", ").join(row.work) or t("follow_up.page.no_work")
    if row.kind == FollowUpKind.COMPLAINT.value and row.complaint_id is not None:
        return t("follow_up.page.about_complaint", number=row.complaint_id, work=done)
    if row.delivered_at is not None:
        return t("follow_up.page.delivered", day=f"{row.delivered_at.astimezone(tz):%m-%d}", work=done)
    return done


def _overdue(row: Any, today: date) -> bool:
    """Due and left from an earlier day (unreachable then, or nobody called)."""
    return bool(row.status == FollowUpStatus.DUE.value and row.first_due_on < today)
