"""Pieces the /calls tabs share: the tab's day and refreshing, the day chooser, whom to call, channel icons,
copying a message, proposed slots as buttons, asking for a reason, and running a service call with its refusal
shown in the person's language."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.services.day_prep import DayPrepService, day_text

log = logging.getLogger(__name__)
Rows = list[dict[str, Any]]  # a tab's rows (or a day's proposed times) as the services give them
P = ParamSpec("P")
T = TypeVar("T")

CHANNEL_ICONS = {"sms": "sms", "wechat": "forum", "phone": "call", "letter": "mail"}
OUTCOME_ICONS = {"confirmed": "check_circle", "rescheduled": "event_repeat", "cancelled": "event_busy",
                 "unreachable": "phone_missed"}
OUTCOME_COLOURS = {"confirmed": "positive", "rescheduled": "primary", "cancelled": "negative",
                   "unreachable": "orange-9"}
FLAG_COLOURS = {"complaining_customer": "red-8", "repeat_repair": "deep-orange-8", "waiting_customer": "indigo",
                "road_test": "teal", "late_parts": "orange-9", "parts_missing": "red-8"}
PARTS_COLOURS = {"none": "grey-6", "in_stock": "positive", "arrived": "positive", "to_order": "orange-9"}

# Copies with the Clipboard API where the browser allows it (https, localhost), else the old way: a tablet on
# the shop's plain-http LAN still copies.
_COPY_JS = """
(async (text) => {
  try { await navigator.clipboard.writeText(text); return true; } catch (e) {}
  const area = document.createElement('textarea');
  area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
  document.body.appendChild(area); area.select();
  let ok = false; try { ok = document.execCommand('copy'); } catch (e) {}
  area.remove(); return ok;
})(%s)
"""


async def call(t: Translator, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """A service call off the event loop; a refusal is shown (in the person's language) and gives None."""
    try:
        return await io(fn, *args, **kwargs)
    except DomainError as exc:
        log.info("calls page: %s refused: %s", getattr(fn, "__name__", fn), exc.message("en"))
        ui.notify(exc.message(t.lang), type="negative", multi_line=True, position="center", classes="text-lg")
        return None


async def copy_text(t: Translator, text: str) -> None:
    try:
        ok = await ui.run_javascript(_COPY_JS % json.dumps(text), timeout=3)
    except TimeoutError:
        ok = False
    if ok:
        ui.notify(t("calls.copied"), type="positive")
    else:
        ui.notify(t("calls.copy_failed"), type="warning", multi_line=True)


def day_label(t: Translator, day: date, today: date) -> str:
    relative = {0: "calls.day.today", 1: "calls.day.tomorrow", -1: "calls.day.yesterday"}.get((day - today).days)
    text = day_text(t.lang, day)
    return f"{text} · {t(relative)}" if relative else text


def hours_text(t: Translator, hours: float) -> str:
    return t("calls.hours", hours=f"{hours:g}")


def short_when(iso: str | None, today: date) -> str:
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso)
    return f"{moment:%H:%M}" if moment.date() == today else f"{moment:%m-%d %H:%M}"


class DayPicker:
    """◀ 11月24日 周二 · 明天 ▶, with a calendar behind the date."""

    def __init__(self, t: Translator, value: date, today: date, on_change: Callable[[date], Awaitable[None]],
                 *, earliest: date | None = None, label: str | None = None, marker: str = "day") -> None:
        self.t = t
        self.value = value
        self.today = today
        self.on_change = on_change
        self.earliest = earliest
        with ui.row().classes("items-center gap-1 no-wrap").mark(marker):
            if label:
                ui.label(label).classes("text-grey-8 pr-1")
            self.prev = ui.button(icon="chevron_left", on_click=lambda: self.set(self.value - timedelta(days=1))) \
                .props("flat round dense size=lg")
            with ui.button().props("outline no-caps").classes("text-lg px-3") as self.button:
                self.text = ui.label(day_label(t, value, today))
                with ui.menu() as self.menu:
                    self.calendar = ui.date(value.isoformat(), on_change=self._picked).props("first-day-of-week=1")
            ui.button(icon="chevron_right", on_click=lambda: self.set(self.value + timedelta(days=1))) \
                .props("flat round dense size=lg")
        self._limits()

    async def _picked(self, e: Any) -> None:
        self.menu.close()
        if e.value:
            await self.set(date.fromisoformat(str(e.value)))

    def _limits(self) -> None:
        self.prev.set_enabled(self.earliest is None or self.value > self.earliest)

    async def set(self, day: date) -> None:
        if self.earliest is not None and day < self.earliest:
            day = self.earliest
        if day == self.value:
            return
        self.value = day
        self.text.text = day_label(self.t, day, self.today)
        self.calendar.set_value(day.isoformat())
        self._limits()
        await self.on_change(day)


class CallTab:
    """A tab of /calls: its service, the person's language and who they are, today, and the day the tab is at
    (tomorrow, to begin with)."""

    def __init__(self, prep: DayPrepService, today: date, t: Translator, user: KioskUser) -> None:
        self.prep = prep
        self.today = today
        self.day = today + timedelta(days=1)
        self.t = t
        self.user = user
        self._refresh_pending = False

    list: ui.column  # where the tab's cards go (its build() makes it)

    async def refresh(self) -> None:
        raise NotImplementedError

    def _row(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def _draw(self, rows: Rows, empty_icon: str, empty_text: str) -> None:
        """The tab's list again: a card per row, or what the tab says when it has none."""
        self.list.clear()
        with self.list:
            if not rows:
                empty_state(empty_icon, empty_text)
            for row in rows:
                self._row(row)

    def _offer_slots(self, card: ui.card, info: Callable[[], ui.element], still_open: bool,
                     fetch: Callable[[date], Awaitable[Rows | None]],
                     choose: Callable[[dict[str, Any]], Awaitable[bool]]) -> ui.element | None:
        """A card's text in a row (`info` draws it and returns where its buttons go) and, while the card is still
        open, the button that proposes times for the tab's day, the times below the text. The buttons' place, or
        None for a card closed."""
        with card, ui.row().classes("w-full items-center no-wrap gap-3"):
            actions = info()
        if not still_open:
            return None
        with card:
            slots = slot_row()
        with actions:
            SlotChooser(self.t, fetch, choose, lambda: self.day, slots)
        return actions

    async def _day_changed(self, day: date) -> None:
        self.day = day

    async def _refresh_after_burst(self) -> None:
        """Refresh once, a second after the first change of a burst (the others arrive meanwhile)."""
        if self._refresh_pending:
            return
        self._refresh_pending = True
        await asyncio.sleep(1.0)
        self._refresh_pending = False
        await self.refresh()


def channel_icon(t: Translator, channel: str) -> None:
    ui.icon(CHANNEL_ICONS.get(channel, "sms"), size="sm").classes("text-primary") \
        .tooltip(t(f"solicitation.channel.{channel}"))


def phone_link(phone: str) -> None:
    if phone:
        ui.link(phone, f"tel:{phone}").classes("text-primary no-underline font-mono whitespace-nowrap")


def who_to_call(t: Translator, plate: str, name: str, channel: str, phone: str, *, narrow: bool = False) -> None:
    """The car and whom to call about it: the plate, the name with the icon of the channel they prefer, and the
    phone number to tap."""
    with ui.column().classes("gap-0 shrink-0 " + ("w-48" if narrow else "w-52")):
        ui.label(plate).classes(("text-lg" if narrow else "text-xl") + " font-bold whitespace-nowrap")
        with ui.row().classes("items-center gap-1 no-wrap"):
            ui.label(name).classes("whitespace-nowrap" + (" truncate" if narrow else ""))
            channel_icon(t, channel)
        phone_link(phone)


async def ask_reason(t: Translator, title: str, confirm: str, icon: str, marker: str | None = None) -> str | None:
    """A dialog asking why (to cancel, to close a no-show): the reason typed, or None if the person went back."""
    with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
        ui.label(title).classes("text-lg")
        reason = ui.input(t("calls.cancel_reason")).props("outlined autofocus").classes("w-full")
        with ui.row().classes("w-full justify-end"):
            ui.button(t("calls.back"), on_click=lambda: dialog.submit(None)).props("flat")
            ok = ui.button(confirm, icon=icon, on_click=lambda: dialog.submit((reason.value or "").strip() or None)) \
                .props("unelevated color=negative")
            if marker:
                ok.mark(marker)
            ok.bind_enabled_from(reason, "value", backward=lambda v: bool((v or "").strip()))
    result = await dialog
    return str(result) if result else None


def flag_chips(t: Translator, flags: list[str]) -> None:
    for flag in flags:
        set_attrs(ui.badge(t(f"calls.flag.{flag}"), color=FLAG_COLOURS.get(flag, "grey")).classes("text-sm"),
                  data_flag=flag)


def parts_badge(t: Translator, parts: dict[str, Any]) -> None:
    status = parts.get("status") or "none"
    text = t(f"calls.parts.{status}")
    if status == "to_order" and parts.get("eta"):
        text += " " + t("calls.parts.eta", day=str(parts["eta"])[5:])
    ui.badge(text, color=PARTS_COLOURS.get(status, "grey")).classes("text-sm").props("outline")


class SlotChooser:
    """Proposed times for a day as buttons, best first; a tap books (or moves) and reports back. The "find times"
    button goes where the caller is building; the times go into `slots` (a row of their own, so a card's text
    keeps its width)."""

    def __init__(self, t: Translator, fetch: Callable[[date], Awaitable[list[dict[str, Any]] | None]],
                 choose: Callable[[dict[str, Any]], Awaitable[bool]], day: Callable[[], date], slots: ui.row) -> None:
        self.t = t
        self.fetch = fetch
        self.choose = choose
        self.day = day
        self.slots = slots
        self.button = ui.button(t("calls.find_slots"), icon="event_available", on_click=self.load) \
            .props("outline").mark("find-slots")

    def clear(self) -> None:
        self.slots.clear()
        self.slots.set_visibility(False)

    async def load(self) -> None:
        day = self.day()
        slots = await self.fetch(day)
        self.slots.clear()
        if slots is None:
            self.clear()
            return
        self.slots.set_visibility(True)
        with self.slots:
            if not slots:
                ui.label(self.t("calls.no_slots", day=day_text(self.t.lang, day))).classes("text-orange-9")
            for slot in slots:
                start = datetime.fromisoformat(slot["start"])
                text = self.t("calls.slot", time=f"{start:%H:%M}", advisor=slot["advisor"]["name"])
                if slot.get("bay"):
                    text += " · " + self.t("calls.slot_bay", bay=slot["bay"])
                ui.button(text, on_click=lambda s=slot: self._chosen(s)).props("unelevated color=primary") \
                    .mark("slot")
            ui.button(icon="close", on_click=self.clear).props("flat round dense")

    async def _chosen(self, slot: dict[str, Any]) -> None:
        if not await self.choose(slot):
            await self.load()  # refused (taken meanwhile): show what is free now


def slot_row() -> ui.row:
    """Where a card's proposed times appear, under its text, right-aligned; hidden until asked for."""
    row = ui.row().classes("w-full justify-end items-center gap-2 pt-1")
    row.set_visibility(False)
    return row


def empty_state(icon: str, text: str) -> None:
    """What a tab shows when its list is empty."""
    with ui.column().classes("w-full items-center pt-12 gap-2 text-grey-7"):
        ui.icon(icon, size="4rem")
        ui.label(text).classes("text-xl")
