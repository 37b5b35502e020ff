"""The right column of /booking: the day (a week strip with each day's load, a date picker for later days), the
advisor, the proposed slots best first with why in plain words, and a manual time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from nicegui import ui

from shopfloor.domain.capacity import Violation
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.attributes import selectable_days, set_attrs
from shopfloor.services.auth import AdvisorInfo
from shopfloor.services.booking import MAX_DAYS_AHEAD

WEEK_DAYS = 7
ANY = 0  # the advisor select's "any advisor"


def load_colour(load: float | None) -> str:
    if load is None:
        return "grey"
    return "positive" if load < 0.7 else "orange" if load < 0.9 else "negative"


def why(t: Translator, slot: dict[str, Any]) -> str:
    """The slot's reasons in the reader's language (the service's own `why` is English, for logs)."""
    r = slot["reasons"]
    parts = [t("booking_page.why.quiet") if r["site_arrivals"] == 0 else
             t("booking_page.why.arrivals", count=r["site_arrivals"], mean=f"{r['mean_per_hour']:.1f}")]
    parts.append(t("booking_page.why.advisor_day", name=slot["advisor"]["name"], count=r["advisor_day"]))
    if slot.get("bay"):
        parts.append(t("booking_page.why.bay", bay=slot["bay"]))
    return " · ".join(parts)


def free_text(t: Translator, slot: dict[str, Any]) -> str:
    """What the day still sells of each skill class this work needs (the same for every slot of the day)."""
    return " · ".join(t("booking_page.why.free", hours=f"{hours:g}", skill=t(f"skill.{skill}"))
                      for skill, hours in slot["reasons"]["free"].items())


def violation_text(t: Translator, v: Violation) -> str:
    return t(v.key or f"booking.refused.{v.rule}", **v.params)


class DayPicker:
    def __init__(self, t: Translator, today: date, advisors: list[AdvisorInfo], on_change: Callable[[], None]
                 ) -> None:
        self.t = t
        self.today = today
        self.advisors = [a for a in advisors if a.is_advisor]
        self.on_change = on_change
        self.day = today
        self.tiles: dict[date, ui.element] = {}

    @property
    def advisor_id(self) -> int | None:
        return self.advisor.value or None

    def build(self) -> None:
        t = self.t
        ui.label(t("booking_page.day_title")).classes("text-lg font-bold")
        self.strip = ui.row().classes("w-full no-wrap gap-1").mark("week-strip").props("data-testid=week-strip")
        with ui.row().classes("w-full no-wrap items-center gap-2"):
            with ui.button(t("booking_page.later"), icon="calendar_month").props("outline") \
                    .classes("shrink-0") \
                    .mark("pick-date").props("data-testid=pick-date") as self.later, ui.menu() as self.menu:
                last = self.today + timedelta(days=MAX_DAYS_AHEAD)
                selectable_days(ui.date(value=self.day.isoformat(), on_change=self._picked), self.today, last) \
                    .props("first-day-of-week=1").mark("date-picker").props("data-testid=date-picker")
            options: dict[int, str] = {ANY: t("booking_page.any_advisor")}
            options |= {a.id: f"{a.code} · {a.name}" for a in self.advisors}
            self.advisor = ui.select(options, value=ANY, label=t("booking_page.advisor"),
                                     on_change=lambda: self.on_change()) \
                .props("outlined dense").classes("grow").mark("advisor").props("data-testid=advisor")

    def preset_advisor(self, advisor_id: int | None) -> None:
        if advisor_id is not None and advisor_id in self.advisor.options:
            self.advisor.value = advisor_id

    def render_week(self, days: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
        """The strip: a tile per day (weekday, date, load bar, free hours); `extra`: a later day picked."""
        t = self.t
        short = t("booking_page.weekdays_short").split(",")
        self.strip.clear()
        self.tiles = {}
        with self.strip:
            for info in days + ([extra] if extra else []):
                day = date.fromisoformat(info["day"])
                label = t("booking_page.today") if day == self.today else short[day.weekday()]
                tile = ui.column().classes("grow basis-0 min-w-0 gap-0 items-center rounded border px-1 py-1 "
                                           "cursor-pointer select-none")
                set_attrs(tile.mark(f"day-{day.isoformat()}"), data_testid=f"day-{day.isoformat()}")
                with tile:
                    ui.label(label).classes("text-sm font-bold")
                    ui.label(f"{day:%m-%d}").classes("text-xs")
                    if info["holiday"] or not info["available"]:
                        ui.label(t("booking_page.closed")).classes("text-xs text-grey-7 h-8")
                    else:
                        load = info["load"] or 0.0
                        ui.linear_progress(min(load, 1.0), show_value=False, size="8px",
                                           color=load_colour(load)).classes("w-full rounded")
                        free = info["free"]
                        ui.label(t("booking_page.free_hours", hours=f"{free:.0f}" if free >= 10 else f"{free:g}")) \
                            .classes("text-xs text-grey-8 whitespace-nowrap")
                tile.on("click", lambda d=day: self.choose(d))
                self.tiles[day] = tile
        self._highlight()

    def _highlight(self) -> None:
        for day, tile in self.tiles.items():
            tile.classes(remove="bg-primary text-white bg-white")
            tile.classes("bg-primary text-white" if day == self.day else "bg-white")

    def choose(self, day: date) -> None:
        if day == self.day:
            return
        self.day = day
        self._highlight()
        self.on_change()

    def _picked(self, e: Any) -> None:
        self.menu.close()
        if e.value:
            self.choose(date.fromisoformat(str(e.value)))


SlotAction = Callable[[dict[str, Any]], Awaitable[None]]


class SlotList:
    def __init__(self, t: Translator, on_book: SlotAction, on_manual: Callable[[str], Awaitable[None]]) -> None:
        self.t = t
        self.on_book = on_book
        self.on_manual = on_manual

    def build(self) -> None:
        t = self.t
        self.title = ui.label(t("booking_page.slots_title")).classes("text-lg font-bold pt-1")
        self.list = ui.column().classes("w-full gap-1").mark("slots").props("data-testid=slots")
        with ui.expansion(t("booking_page.manual_title"), icon="schedule").classes("w-full border rounded") \
                .props("dense header-class=text-base").mark("manual").props("data-testid=manual"):
            with ui.row().classes("w-full no-wrap items-center gap-2"):
                # 24-hour HH:MM: the browser's own time input shows AM/PM in some locales
                self.time = ui.input(t("booking_page.manual_time"), placeholder="HH:MM") \
                    .props('outlined dense mask="##:##" inputmode=numeric').classes("w-32") \
                    .mark("manual-time").props("data-testid=manual-time")
                ui.button(t("booking_page.manual_book"), icon="event_available", on_click=self._manual) \
                    .props("unelevated").mark("manual-book").props("data-testid=manual-book")
            ui.label(t("booking_page.manual_hint")).classes("text-xs text-grey-7")

    def hint(self, text: str) -> None:
        self.list.clear()
        with self.list:
            ui.label(text).classes("text-grey-7 py-2").mark("slots-hint").props("data-testid=slots-hint")

    def render(self, slots: list[dict[str, Any]], bookable: bool) -> None:
        t = self.t
        self.list.clear()
        with self.list:
            if not slots:
                ui.label(t("booking_page.no_slots")).classes("text-orange-9 py-2") \
                    .mark("no-slots").props("data-testid=no-slots")
                return
            ui.label(free_text(t, slots[0])).classes("text-sm text-grey-8").mark("day-free") \
                .props("data-testid=day-free")
            for i, slot in enumerate(slots):
                start, end = slot["start"][11:16], slot["end"][11:16]
                item = ui.item(on_click=lambda s=slot: self.on_book(s)) \
                    .classes("w-full rounded border " + ("bg-green-1" if i == 0 else "bg-white")) \
                    .props("clickable").mark(f"slot-{i}")
                with set_attrs(item, data_testid=f"slot-{i}"):
                    with ui.item_section().props("avatar").classes("min-w-[5.5rem]"):
                        ui.label(start).classes("text-2xl font-bold")
                        ui.label(f"–{end}").classes("text-xs text-grey-7")
                    with ui.item_section():
                        with ui.row().classes("items-center gap-2"):
                            ui.label(f"{slot['advisor']['code']} · {slot['advisor']['name']}") \
                                .classes("text-base font-bold")
                            if i == 0:
                                ui.badge(t("booking_page.best"), color="positive")
                        ui.label(why(t, slot)).classes("text-xs text-grey-8 leading-tight")
                    with ui.item_section().props("side"):
                        ui.icon("event_available" if bookable else "lock", color="primary", size="md")

    async def _manual(self) -> None:
        await self.on_manual((self.time.value or "").strip())


async def ask_override(t: Translator, violations: list[Violation], *, who_may: str | None = None) -> str | None:
    """The rules say no: show why; booking anyway needs a reason, logged with who. `who_may`: the reader may not
    book against the rules, and these roles may (said instead of asking for a reason)."""
    with ui.dialog().props("persistent") as dialog, \
            ui.card().classes("w-[40rem] gap-3").mark("override").props("data-testid=override"):
        with ui.row().classes("items-center gap-2 no-wrap"):
            ui.icon("report", color="negative", size="lg")
            ui.label(t("booking_page.refused_title")).classes("text-xl font-bold")
        for v in violations:
            set_attrs(ui.label(violation_text(t, v)).classes("text-lg").mark(f"refused-{v.rule}"),
                      data_testid=f"refused-{v.rule}")
        if who_may is not None:
            ui.label(t("access.override", roles=who_may)).classes("text-grey-8") \
                .mark("override-not-allowed").props("data-testid=override-not-allowed")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("booking_page.override_back"), on_click=lambda: dialog.submit(None)).props("unelevated")
        else:
            ui.label(t("booking_page.override_hint")).classes("text-grey-8")
            reason = ui.textarea(t("booking_page.override_reason")).props("outlined autogrow maxlength=300") \
                .classes("w-full").mark("override-reason").props("data-testid=override-reason")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("booking_page.override_back"), on_click=lambda: dialog.submit(None)).props("flat")
                anyway = ui.button(t("booking_page.override_book"), icon="warning",
                                   on_click=lambda: dialog.submit((reason.value or "").strip() or None)) \
                    .props("unelevated color=negative").mark("override-book").props("data-testid=override-book")
                anyway.bind_enabled_from(reason, "value", backward=lambda v: bool((v or "").strip()))
    answer = await dialog
    dialog.delete()
    return answer if isinstance(answer, str) else None
