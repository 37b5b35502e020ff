"""The job control board (服务进程控制看板): technicians as rows, the job's stage as columns, and a first row of
cars checked in and waiting for dispatch. Delivered and cancelled orders have left the lane and are not shown."""

from __future__ import annotations

from shopfloor.board.cards import CLOSED, CardCache, repair_order_card, technician_row
from shopfloor.board.components import ProgressBoardView
from shopfloor.board.labels import labels
from shopfloor.board.page import BoardPage
from shopfloor.board.store import BoardStore, State
from shopfloor.clock import Clock
from shopfloor.contract import topics
from shopfloor.i18n import Translator
from shopfloor.settings import Settings


class ProgressBoardPage(BoardPage):
    title_key = "board.progress.title"

    def __init__(self, store: BoardStore, settings: Settings, board_token: str = "", *,
                 clock: Clock | None = None) -> None:
        super().__init__(store, settings, board_token, clock=clock)
        self.cards = CardCache(repair_order_card, self.tz)
        self.rows = CardCache(technician_row, self.tz)

    def build(self, t: Translator) -> None:
        orders = self.store.states(topics.REPAIR_ORDERS)
        technicians = self.store.states(topics.TECHNICIANS)
        self.cards.prune(set(orders))
        self.rows.prune(set(technicians))
        cards = {}
        for entity_id, state in orders.items():
            card = self.cards.card(entity_id, state)
            if card is not None and card["status"] not in CLOSED:
                cards[entity_id] = card
        rows = {}
        for entity_id, state in technicians.items():
            row = self.rows.card(entity_id, state)
            if row is not None:
                rows[entity_id] = row
        view = ProgressBoardView(cards=cards, rows=rows, labels=labels("progress", t.lang),
                                 config=self.clock_config(t))

        def on_change(kind: str, entity_id: str, state: State | None) -> None:
            if kind == topics.REPAIR_ORDERS:
                card = self.cards.card(entity_id, state)
                if card is not None and card["status"] not in CLOSED:
                    view.upsert_card(card)
                else:
                    view.remove_card(entity_id)
            elif kind == topics.TECHNICIANS:
                self.update_row(view, self.rows, entity_id, state)

        self.follow(on_change)
