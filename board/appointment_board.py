"""The appointment management board (预约管理板): advisors as rows, the opening hours as columns, one magnet
card per appointment of today, coloured magnets for arrived / late / no-show / cancelled, a red "now" line.

Below the cards, as on Toyota's board, the capacity strip: today's hours per technician (available, allocated,
free), the maintenance (PM) and general-repair (GR) totals with the walk-in reserve, the hours held for cars
carried over, and one load bar per day for today and the six days after it (levelling the week)."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from shopfloor.board.cards import Card, CardCache, advisor_row, appointment_card, capacity_day
from shopfloor.board.components import AppointmentBoardView
from shopfloor.board.labels import labels
from shopfloor.board.page import BoardPage
from shopfloor.board.store import BoardStore, State
from shopfloor.clock import Clock
from shopfloor.contract import topics
from shopfloor.i18n import Translator
from shopfloor.settings import Settings

if TYPE_CHECKING:
    from shopfloor.services.setup.tokens import TokenAdmin

WEEK_DAYS = 7  # today and the six days after it: what the server publishes capacity for


def _hour_floor(moment: time) -> int:
    return moment.hour * 60


def _hour_ceil(moment: time) -> int:
    return moment.hour * 60 + (60 if moment.minute or moment.second else 0)


def week_of(today: date) -> list[str]:
    """The days the week-load bars show, as ISO dates."""
    return [(today + timedelta(days=i)).isoformat() for i in range(WEEK_DAYS)]


def week_config(t: Translator, today: date) -> list[dict[str, str]]:
    """Each week bar's day and its caption (today, tomorrow, then the weekday) and short date."""
    weekdays = t("board.capacity.weekdays").split(",")
    out = []
    for i in range(WEEK_DAYS):
        day = today + timedelta(days=i)
        if i == 0:
            label = t("board.capacity.today")
        elif i == 1:
            label = t("board.capacity.tomorrow")
        else:
            label = weekdays[day.weekday()] if len(weekdays) == 7 else day.isoformat()
        out.append({"day": day.isoformat(), "label": label,
                    "date": t("board.capacity.day_date", month=day.month, day=day.day)})
    return out


class AppointmentBoardPage(BoardPage):
    title_key = "board.appointments.title"
    card_of = appointment_card
    row_of = advisor_row

    def __init__(self, store: BoardStore, settings: Settings, board_token: str = "", *,
                 clock: Clock | None = None, screens: TokenAdmin | None = None) -> None:
        super().__init__(store, settings, board_token, clock=clock, screens=screens)
        self.capacity = CardCache(capacity_day, self.tz)

    def advisor_rows(self) -> dict[str, Card]:
        """The board's rows: service advisors only (other staff share the advisors' topic)."""
        return self.shown(self.rows, self.store.states(topics.ADVISORS))

    def capacity_days(self, today: date) -> dict[str, Card]:
        """The capacity strip's data: one projected day per ISO date of the week that has a state."""
        week = set(week_of(today))
        return self.shown(self.capacity, self.store.states(topics.CAPACITY), lambda day: day["day"] in week)

    def build(self, t: Translator) -> None:
        config: dict[str, Any] = self.clock_config(t)
        day = config["day"]
        today = date.fromisoformat(day)

        def of_today(card: Card) -> bool:  # an appointment moved to another day leaves today's board
            return bool(card["date"] == day)

        cards = self.shown(self.cards, self.store.states(topics.APPOINTMENTS), of_today)
        site = self.settings.site
        # the columns are whole clock hours, even for a site opening at 08:30
        config |= {"open_min": _hour_floor(site.opening), "close_min": _hour_ceil(site.closing),
                   "week": week_config(t, today)}
        week = set(week_of(today))
        view = AppointmentBoardView(cards=cards, rows=self.advisor_rows(), labels=labels("appointments", t.lang),
                                    config=config, capacity=self.capacity_days(today))

        def on_change(kind: str, entity_id: str, state: State | None) -> None:
            if kind == topics.APPOINTMENTS:
                self.show(self.cards, entity_id, state, view.upsert_card, view.remove_card, of_today)
            elif kind == topics.ADVISORS:
                self.show(self.rows, entity_id, state, view.upsert_row, view.remove_row)
            elif kind == topics.CAPACITY and entity_id in week:
                self.show(self.capacity, entity_id, state, view.upsert_capacity, view.remove_capacity)

        self.follow(on_change)
