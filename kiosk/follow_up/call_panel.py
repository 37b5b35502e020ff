"""One follow-up call on the tablet: the script to read, then the outcome in one tap — satisfied with a score from 1
to 10, a problem (the seeds' class and what the customer said: a complaint is registered, and the repair is booked
in the same dialog from the first day with a free time, or later from the call list), or unreachable with the tries
left."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.aftersales import FollowUpOutcome, FollowUpStatus, Severity
from shopfloor.kiosk.calls.common import DayPicker, SlotChooser, call, day_label, phone_link, slot_row
from shopfloor.kiosk.follow_up.common import TEXT_MAX, class_picker, reason_options
from shopfloor.services.aftercare.follow_ups import RETURN_DAYS

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.aftercare.follow_ups import FollowUpView
    from shopfloor.services.aftercare.services import AftercareServices
    from shopfloor.services.booking import BookingService

SCORES = range(1, 11)


def score_colour(score: int) -> str:
    return "negative" if score <= 6 else "orange-8" if score <= 8 else "positive"


class CallPanel:
    def __init__(self, aftercare: AftercareServices, booking: BookingService, clock: SiteClock, t: Translator,
                 user: KioskUser, *, on_done: Callable[[], Awaitable[None]]) -> None:
        self.aftercare = aftercare
        self.booking = booking
        self.clock = clock
        self.t = t
        self.user = user
        self.on_done = on_done
        # dialogs live outside the list a refresh redraws (opened from a card's button, they would go with it)
        self.home = ui.element("div")

    def _header(self, row: FollowUpView, dialog: ui.dialog) -> None:
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            with ui.row().classes("items-baseline gap-3 no-wrap"):
                ui.label(row.plate).classes("text-2xl font-bold")
                ui.label(row.customer).classes("text-xl")
                phone_link(row.phone)
            ui.button(icon="close", on_click=dialog.close).props("flat round").mark("panel-close")

    async def open(self, row: FollowUpView) -> None:
        with self.home, ui.dialog() as dialog, \
                ui.card().classes("w-[68rem] max-w-full gap-3").mark("call-panel"):
            self._header(row, dialog)
            ui.label(row.script).classes("w-full whitespace-pre-wrap text-lg p-3 bg-blue-1 rounded") \
                .style("user-select: text").mark("call-script")
            self.body = ui.column().classes("w-full gap-3")
            with self.body:
                self._outcomes(row, dialog)
        dialog.open()
        await dialog
        dialog.delete()
        await self.on_done()

    async def open_booking(self, row: FollowUpView) -> None:
        """A problem call done without a booking (the dialog closed before a time was chosen, or the customer
        wanted to think about it): the return visit booked from the call list."""
        t = self.t
        with self.home, ui.dialog() as dialog, \
                ui.card().classes("w-[68rem] max-w-full gap-3").mark("book-panel"):
            self._header(row, dialog)
            about = t(f"complaints.page.class.{row.problem_class}") if row.problem_class else ""
            ui.label(" · ".join(x for x in (about, row.note) if x)) \
                .classes("w-full whitespace-pre-wrap text-lg p-3 bg-red-1 rounded").mark("book-problem")
            self.body = ui.column().classes("w-full gap-3")
        dialog.open()
        await self._offer_booking(row, made=False)
        await dialog
        dialog.delete()
        await self.on_done()

    def _outcomes(self, row: FollowUpView, dialog: ui.dialog) -> None:
        t = self.t
        ui.label(t("follow_up.page.satisfied_title")).classes("text-lg font-bold text-positive")
        with ui.row().classes("w-full no-wrap gap-2"):
            for score in SCORES:
                ui.button(str(score), on_click=lambda s=score: self._satisfied(row, s, dialog)) \
                    .props(f"unelevated color={score_colour(score)} size=xl").classes("grow basis-0 text-2xl") \
                    .mark("score", f"score-{score}")
        ui.separator()
        ui.label(t("follow_up.page.problem_title")).classes("text-lg font-bold text-negative")
        problem = class_picker(t, "problem-class")
        with ui.row().classes("w-full items-center no-wrap gap-3"):
            severity = ui.toggle({s.value: t(f"complaints.page.severity.{s.value}") for s in Severity},
                                 value=Severity.NORMAL.value) \
                .props("no-caps toggle-color=negative").classes("text-base").mark("problem-severity")
            because = ui.select(reason_options(t), label=t("complaints.page.because")) \
                .props("outlined dense").classes("w-72").mark("problem-because")
            because.bind_visibility_from(severity, "value", value=Severity.IMPORTANT.value)
        note = ui.textarea(t("follow_up.page.problem_note")).props(f"outlined autogrow maxlength={TEXT_MAX}") \
            .classes("w-full").mark("problem-note")
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            left = max(row.max_attempts - row.attempts - 1, 0)
            ui.button(t("follow_up.page.unreachable", left=left) if left else t("follow_up.page.unreachable_last"),
                      icon="phone_missed",
                      on_click=lambda: self._unreachable(row, dialog)) \
                .props("outline color=orange-9 size=lg").mark("unreachable")
            ui.button(t("follow_up.page.problem_register"), icon="report_problem",
                      on_click=lambda: self._problem(row, problem.value, note.value or "", str(severity.value),
                                                     because.value)) \
                .props("unelevated color=negative size=lg").mark("problem-register")

    async def _satisfied(self, row: FollowUpView, score: int, dialog: ui.dialog) -> None:
        done = await call(self.t, self.aftercare.follow_ups.record, row.id, FollowUpOutcome.SATISFIED.value,
                          actor=self.user.actor, score=score)
        if done is not None:
            ui.notify(self.t("follow_up.page.recorded_satisfied", plate=row.plate, score=score), type="positive")
            dialog.submit(True)

    async def _unreachable(self, row: FollowUpView, dialog: ui.dialog) -> None:
        done = await call(self.t, self.aftercare.follow_ups.record, row.id, FollowUpOutcome.UNREACHABLE.value,
                          actor=self.user.actor)
        if done is None:
            return
        if done.status == FollowUpStatus.GAVE_UP.value:
            ui.notify(self.t("follow_up.page.gave_up", plate=row.plate), type="warning", multi_line=True)
        else:
            ui.notify(self.t("follow_up.page.retry_on", plate=row.plate, day=f"{done.due_on:%m-%d}"), type="info")
        dialog.submit(True)

    async def _problem(self, row: FollowUpView, problem_class: str | None, note: str, severity: str,
                       because: str | None) -> None:
        t = self.t
        if not problem_class:
            ui.notify(t("follow_up.page.pick_class"), type="warning", position="center", classes="text-lg")
            return
        if not note.strip():
            ui.notify(t("follow_up.page.say_what"), type="warning", position="center", classes="text-lg")
            return
        done = await call(t, self.aftercare.follow_ups.record, row.id, FollowUpOutcome.PROBLEM.value,
                          actor=self.user.actor, problem_class=problem_class, note=note.strip(), severity=severity,
                          important_because=because if severity == Severity.IMPORTANT.value else None,
                          lang=t.lang)
        if done is None:
            return
        ui.notify(t("follow_up.page.recorded_problem", plate=row.plate), type="positive", multi_line=True)
        self.body.clear()
        await self._offer_booking(done, made=True)

    async def _offer_booking(self, row: FollowUpView, *, made: bool) -> None:
        """The complaint is in (`made`: just now); the repair is one tap away: the free times of the first day that
        has any (today is often full), with a day picker for another day."""
        t = self.t
        today = self.clock.today()
        found = await call(t, self.aftercare.follow_ups.first_free_day, row.id)
        first = found[0] if found is not None else today
        ready: dict[date, list[dict[str, Any]]] = {first: found[1]} if found is not None else {}
        state: dict[str, date] = {"day": first}
        with self.body:
            if made:
                with ui.row().classes("w-full items-center gap-2 no-wrap text-positive"):
                    ui.icon("check_circle", size="md")
                    ui.label(t("follow_up.page.complaint_made", number=row.raised_complaint_id or "")) \
                        .classes("text-lg").mark("complaint-made")
            with ui.row().classes("w-full items-baseline gap-3"):
                ui.label(t("follow_up.page.book_title")).classes("text-lg font-bold")
                if found is None:
                    ui.label(t("follow_up.page.book_none", days=RETURN_DAYS)).classes("text-orange-9") \
                        .mark("book-none")
                elif first != today:
                    ui.label(t("follow_up.page.book_first", day=day_label(t, first, today))) \
                        .classes("text-grey-8").mark("book-first")

        async def day_changed(day: date) -> None:
            state["day"] = day
            await chooser.load()

        async def fetch(day: date) -> list[dict[str, Any]] | None:
            if day in ready:  # the first free day's times came with it: not asked twice
                return ready.pop(day)
            return await call(t, self.aftercare.follow_ups.return_slots, row.id, day)

        async def choose(slot: dict[str, Any]) -> bool:
            booked = await call(t, self.aftercare.follow_ups.book, row.id, datetime.fromisoformat(slot["start"]),
                                actor=self.user.actor, advisor_id=slot["advisor"]["id"])
            if booked is None:
                return False
            ui.notify(t("follow_up.page.booked_at", plate=row.plate, when=slot["start"][5:16].replace("T", " ")),
                      type="positive")
            self.body.clear()
            with self.body:
                ui.label(t("follow_up.page.booked_done", when=slot["start"][5:16].replace("T", " "))) \
                    .classes("text-lg text-positive").mark("booked-done")
            return True

        with self.body:
            slots = slot_row()
            with ui.row().classes("w-full items-center gap-4").mark("book-row"):
                DayPicker(t, first, today, day_changed, earliest=today, label=t("follow_up.page.book_day"),
                          marker="book-day")
                chooser = SlotChooser(t, fetch, choose, lambda: state["day"], slots)
            slots.move(self.body)
        await chooser.load()
