"""The appointment management board (预约管理板): advisors as rows, the opening hours as columns, one magnet
card per appointment of today, coloured magnets for arrived / late / no-show / cancelled, a red "now" line."""

from __future__ import annotations

from datetime import time

from shopfloor.board.cards import CardCache, advisor_row, appointment_card
from shopfloor.board.components import AppointmentBoardView
from shopfloor.board.labels import labels
from shopfloor.board.page import BoardPage
from shopfloor.board.store import BoardStore, State
from shopfloor.clock import Clock
from shopfloor.contract import topics
from shopfloor.i18n import Translator
from shopfloor.settings import Settings


def _hour_floor(moment: time) -> int:
    return moment.hour * 60


def _hour_ceil(moment: time) -> int:
    return moment.hour * 60 + (60 if moment.minute or moment.second else 0)


class AppointmentBoardPage(BoardPage):
    title_key = "board.appointments.title"

    def __init__(self, store: BoardStore, settings: Settings, board_token: str = "", *,
                 clock: Clock | None = None) -> None:
        super().__init__(store, settings, board_token, clock=clock)
        self.cards = CardCache(appointment_card, self.tz)
        self.rows = CardCache(advisor_row, self.tz)

    def build(self, t: Translator) -> None:
        config = self.clock_config(t)
        day = config["day"]
        appointments = self.store.states(topics.APPOINTMENTS)
        advisors = self.store.states(topics.ADVISORS)
        self.cards.prune(set(appointments))
        self.rows.prune(set(advisors))
        cards = {}
        for entity_id, state in appointments.items():
            card = self.cards.card(entity_id, state)
            if card is not None and card["date"] == day:
                cards[entity_id] = card
        rows = {}
        for entity_id, state in advisors.items():
            row = self.rows.card(entity_id, state)
            if row is not None:
                rows[entity_id] = row
        site = self.settings.site
        # the columns are whole clock hours, even for a site opening at 08:30
        config |= {"open_min": _hour_floor(site.opening), "close_min": _hour_ceil(site.closing)}
        view = AppointmentBoardView(cards=cards, rows=rows, labels=labels("appointments", t.lang), config=config)

        def on_change(kind: str, entity_id: str, state: State | None) -> None:
            if kind == topics.APPOINTMENTS:
                card = self.cards.card(entity_id, state)
                # an appointment moved to another day leaves today's board
                if card is not None and card["date"] == day:
                    view.upsert_card(card)
                else:
                    view.remove_card(entity_id)
            elif kind == topics.ADVISORS:
                self.update_row(view, self.rows, entity_id, state)

        self.follow(on_change)
