"""No-shows of today and the last week (domain.md §2: every no-show is followed up and rebooked): call, then one
tap books the same work at a proposed time; or close it when the customer no longer wants it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from nicegui import ui

from shopfloor.kiosk.calls.common import (
    CallTab,
    DayPicker,
    ask_reason,
    call,
    hours_text,
    short_when,
    who_to_call,
)
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.services.day_prep import NO_SHOW_DAYS


class NoShowsTab(CallTab):
    async def build(self) -> None:
        t = self.t
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            with ui.column().classes("gap-0"):
                ui.label(t("calls.noshow.title", days=NO_SHOW_DAYS)).classes("text-lg font-bold")
                self.counts = ui.label("").classes("text-grey-8").mark("noshow-counts")
            DayPicker(t, self.day, self.today, self._day_changed, earliest=self.today,
                      label=t("calls.noshow.rebook_on"), marker="rebook-day")
        self.list = ui.column().classes("w-full gap-2").mark("noshow-list")
        await self.refresh()

    async def refresh(self) -> None:
        rows = await call(self.t, self.prep.no_shows, self.today)
        if rows is None:
            return
        done = sum(1 for r in rows if r["done"])
        self.counts.text = self.t("calls.noshow.counts", open=len(rows) - done, done=done)
        self._draw(rows, "sentiment_satisfied", self.t("calls.noshow.empty", days=NO_SHOW_DAYS))

    def _row(self, row: dict[str, Any]) -> None:
        t = self.t
        card = set_attrs(ui.card().classes("w-full py-2 px-3" + (" bg-grey-2" if row["done"] else ""))
                         .props("flat bordered"),
                         data_appointment=row["id"], data_plate=row["plate"], data_done=str(row["done"]).lower())
        actions = self._offer_slots(card, lambda: self._info(row), not row["done"],
                                    lambda day: self._slots(row, day), lambda slot: self._rebook(row, slot))
        if actions is None:
            return
        with actions:
            ui.button(t("calls.noshow.close"), icon="block", on_click=lambda: self._close(row)) \
                .props("flat color=negative").mark("close-noshow")

    def _info(self, row: dict[str, Any]) -> ui.row:
        """The card's text; returns the row its buttons go into."""
        t = self.t
        with ui.column().classes("gap-0 w-24 shrink-0"):
            ui.label(row["time"]).classes("text-2xl font-bold")
            ui.label(row["date"][5:] if row["date"] != self.today.isoformat() else t("calls.day.today")) \
                .classes("text-sm text-grey-7")
        who_to_call(t, row["plate_display"], row["customer"], row["preferred_channel"], row["phone"])
        with ui.column().classes("gap-0 grow min-w-0"):
            ui.label(f"{row['work']} · {hours_text(t, row['hours'])}").classes("text-base truncate w-full")
            ui.label(t("calls.advisor", name=row["advisor"]["name"])).classes("text-grey-8")
        with ui.column().classes("gap-1 items-end shrink-0"):
            if row["rebooked"]:
                new = row["rebooked"]
                ui.badge(t("calls.noshow.rebooked", when=short_when(new["start"], self.today),
                           advisor=new["advisor"]), color="positive").classes("text-base px-3 py-1") \
                    .props('data-rebooked="true"')
            elif row["closed_reason"]:
                ui.badge(t("calls.noshow.closed", reason=row["closed_reason"]), color="grey") \
                    .classes("text-base px-3 py-1")
            return ui.row().classes("items-center gap-2 no-wrap")

    async def _slots(self, row: dict[str, Any], day: date) -> list[dict[str, Any]] | None:
        return await call(self.t, self.prep.slots_for, row["id"], day, 3)

    async def _rebook(self, row: dict[str, Any], slot: dict[str, Any]) -> bool:
        new = await call(self.t, self.prep.rebook, row["id"], datetime.fromisoformat(slot["start"]),
                         slot["advisor"]["id"], actor=self.user.actor)
        if new is None:
            return False
        ui.notify(self.t("calls.noshow.booked", plate=row["plate_display"], when=short_when(new["start"], self.today)),
                  type="positive")
        await self.refresh()
        return True

    async def _close(self, row: dict[str, Any]) -> None:
        t = self.t
        reason = await ask_reason(t, t("calls.noshow.close_title", plate=row["plate_display"]), t("calls.noshow.close"),
                                  "block")
        if reason is None:
            return
        if await call(t, self.prep.close_no_show, row["id"], actor=self.user.actor, reason=reason) is not None:
            await self.refresh()
