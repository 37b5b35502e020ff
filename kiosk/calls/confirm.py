"""The confirmation calls (domain.md §2, the day before): every appointment of the day with its phone, channel,
work, parts and flags; one tap records the outcome; the message in the customer's channel is one tap from the
clipboard; rescheduling moves the card to a proposed time."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from nicegui import background_tasks, ui

from shopfloor.contract import topics
from shopfloor.i18n import Translator
from shopfloor.kiosk.calls.common import (
    OUTCOME_COLOURS,
    OUTCOME_ICONS,
    CallTab,
    DayPicker,
    SlotChooser,
    ask_reason,
    call,
    copy_text,
    flag_chips,
    hours_text,
    parts_badge,
    phone_link,
    short_when,
    slot_row,
    who_to_call,
)
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.services.day_prep import OUTCOMES, DayPrepService, call_counts, day_text
from shopfloor.services.messages import CHANNELS

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.services.booking import BookingService

COUNTS = ("to_call", "confirmed", "unreachable", "rescheduled", "cancelled")
COUNT_COLOURS = {"to_call": "primary", **OUTCOME_COLOURS}


class CallsTab(CallTab):
    def __init__(self, prep: DayPrepService, booking: BookingService, store: BoardStore, today: date, t: Translator,
                 user: KioskUser) -> None:
        super().__init__(prep, today, t, user)
        self.booking = booking
        self.store = store
        self.rows: list[dict[str, Any]] = []

    async def build(self) -> None:
        t = self.t
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            self.picker = DayPicker(t, self.day, self.today, self._day_changed, earliest=self.today)
            self.counts = ui.row().classes("items-center gap-2 no-wrap").mark("call-counts")
        self.list = ui.column().classes("w-full gap-2").mark("call-list")
        await self.refresh()
        self.store.changed.subscribe(self._store_changed)  # dropped with the page

    async def _day_changed(self, day: date) -> None:
        await super()._day_changed(day)
        await self.refresh()

    def _store_changed(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        """Someone else booked, moved or called: refresh once the burst is over."""
        if kind != topics.APPOINTMENTS or self._refresh_pending:
            return
        if state is not None and str(state.get("start", ""))[:10] != self.day.isoformat() \
                and not any(str(r["id"]) == entity_id for r in self.rows):
            return
        background_tasks.create(self._refresh_after_burst(), name="calls-refresh")

    async def refresh(self) -> None:
        rows = await call(self.t, self.prep.call_list, self.day)
        if rows is None:
            return
        self.rows = rows
        self._render_counts()
        self._draw(rows, "event_available", self.t("calls.empty", day=day_text(self.t.lang, self.day)))

    def _render_counts(self) -> None:
        counts = call_counts(self.rows)
        self.counts.clear()
        with self.counts:
            for key in COUNTS:
                if key in ("rescheduled", "cancelled") and not counts[key]:
                    continue
                badge = ui.badge(self.t(f"calls.count.{key}", count=counts[key]), color=COUNT_COLOURS[key],
                                 outline=key != "to_call").classes("text-base px-3 py-1")
                set_attrs(badge, data_count=key, data_value=counts[key])

    def _row(self, row: dict[str, Any]) -> None:
        t = self.t
        outcome = row["call_outcome"] or ""
        done = row["status"] == "cancelled"
        card = set_attrs(ui.card().classes("w-full py-2 px-3" + (" opacity-60" if done else "")).props("flat bordered"),
                         data_appointment=row["id"], data_outcome=outcome, data_plate=row["plate"])
        if outcome == "confirmed":
            card.classes("bg-green-1")
        elif outcome == "unreachable":
            card.classes("bg-orange-1")
        with card, ui.row().classes("w-full items-center no-wrap gap-3"):
            ui.label(row["time"]).classes("text-2xl font-bold w-16 shrink-0")
            who_to_call(t, row["plate_display"], row["customer"], row["channel"], row["phone"])
            with ui.column().classes("gap-1 grow min-w-0"):
                ui.label(f"{row['work']} · {hours_text(t, row['hours'])}").classes("text-base truncate w-full")
                with ui.row().classes("items-center gap-1"):
                    ui.label(t("calls.advisor", name=row["advisor"]["name"])).classes("text-grey-8 pr-1")
                    parts_badge(t, row["parts"])
                    flag_chips(t, row["flags"])
            with ui.column().classes("gap-1 items-end shrink-0"):
                with ui.row().classes("gap-1 no-wrap"):
                    for choice in OUTCOMES:
                        chosen = choice == outcome
                        button = ui.button(t(f"calls.outcome.{choice}"), icon=OUTCOME_ICONS[choice],
                                           on_click=lambda r=row, c=choice: self._outcome(r, c)) \
                            .props("unelevated" if chosen else "outline").classes("px-2")
                        set_attrs(button, color=OUTCOME_COLOURS[choice], data_outcome_button=choice)
                        if done:
                            button.disable()
                with ui.row().classes("items-center gap-2 no-wrap"):
                    if row["called_at"]:
                        ui.label(t("calls.called", who=row["called_by"] or "",
                                   when=short_when(row["called_at"], self.today))).classes("text-sm text-grey-7")
                    ui.button(t("calls.message"), icon="content_copy", on_click=lambda r=row: self._message(r)) \
                        .props("flat dense color=primary").mark("message")

    async def _outcome(self, row: dict[str, Any], outcome: str) -> None:
        if outcome == "rescheduled":
            await self._reschedule(row)
            return
        note = ""
        if outcome == "cancelled":
            t = self.t
            reason = await ask_reason(t, t("calls.cancel_title", plate=row["plate_display"], time=row["time"]),
                                      t("calls.cancel_confirm"), "event_busy", marker="confirm-cancel")
            if reason is None:
                return
            note = reason
        result = await call(self.t, self.booking.record_call, row["id"], outcome, actor=self.user.actor,
                            note=note)
        if result is not None:
            ui.notify(self.t("calls.recorded", plate=row["plate_display"], outcome=self.t(f"calls.outcome.{outcome}")),
                      type="positive")
        await self.refresh()

    async def _reschedule(self, row: dict[str, Any]) -> None:
        t = self.t
        with ui.dialog() as dialog, ui.card().classes("w-[52rem] max-w-full gap-3"):
            ui.label(t("calls.reschedule_title", plate=row["plate_display"], customer=row["customer"],
                       when=f"{row['date'][5:]} {row['time']}")).classes("text-lg font-bold")
            ui.label(f"{row['work']} · {hours_text(t, row['hours'])}").classes("text-grey-8")
            state = {"day": self.day}

            async def day_changed(day: date) -> None:
                state["day"] = day
                await chooser.load()

            picker_row = ui.row().classes("items-center gap-4")
            slots = slot_row()

            async def fetch(day: date) -> list[dict[str, Any]] | None:
                return await call(t, self.prep.slots_for, row["id"], day)

            async def choose(slot: dict[str, Any]) -> bool:
                moved = await call(t, self.prep.reschedule, row["id"], datetime.fromisoformat(slot["start"]),
                                   slot["advisor"]["id"], actor=self.user.actor)
                if moved is None:
                    return False
                ui.notify(t("calls.rescheduled_to", plate=row["plate_display"],
                            when=short_when(moved["start"], self.today)), type="positive")
                dialog.submit(True)
                return True

            with picker_row:
                DayPicker(t, self.day, self.today, day_changed, earliest=self.today, label=t("calls.new_day"))
                chooser = SlotChooser(t, fetch, choose, lambda: state["day"], slots)
            with ui.row().classes("w-full justify-end"):
                ui.button(t("calls.back"), on_click=lambda: dialog.submit(None)).props("flat")
        dialog.open()
        background_tasks.create(chooser.load(), name="calls-reschedule-slots")
        if await dialog:
            await self.refresh()

    async def _message(self, row: dict[str, Any]) -> None:
        t = self.t
        texts = await call(t, self.prep.messages, row["id"])
        if texts is None:
            return
        preferred = row["channel"]
        with ui.dialog() as dialog, ui.card().classes("w-[44rem] max-w-full gap-3"):
            with ui.row().classes("w-full items-center justify-between no-wrap"):
                ui.label(t("calls.message_title", customer=row["customer"], plate=row["plate_display"])) \
                    .classes("text-lg font-bold")
                phone_link(row["phone"])
            options = {c: t(f"solicitation.channel.{c}") + (" ★" if c == preferred else "") for c in CHANNELS}
            toggle = ui.toggle(options, value=preferred).props("no-caps spread").classes("w-full")
            text = ui.label(texts[preferred]).classes("w-full whitespace-pre-wrap text-base p-3 bg-grey-2 rounded") \
                .style("user-select: text").mark("message-text")
            toggle.on_value_change(lambda e: text.set_text(texts[e.value]))
            ui.label(t("calls.preferred", channel=t(f"solicitation.channel.{preferred}"))) \
                .classes("text-sm text-grey-7")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("calls.close"), on_click=dialog.close).props("flat")
                ui.button(t("calls.copy"), icon="content_copy",
                          on_click=lambda: copy_text(t, texts[toggle.value])).props("unelevated").mark("copy")
        dialog.open()
