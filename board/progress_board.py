"""The job control board (服务进程控制看板): technicians as rows, the job's stage as columns, and a first row of
cars checked in and waiting for dispatch. Delivered and cancelled orders have left the lane and are not shown."""

from __future__ import annotations

from shopfloor.board.cards import in_the_lane, repair_order_card, technician_row
from shopfloor.board.components import ProgressBoardView
from shopfloor.board.labels import labels
from shopfloor.board.page import BoardPage
from shopfloor.board.store import State
from shopfloor.contract import topics
from shopfloor.i18n import Translator


class ProgressBoardPage(BoardPage):
    title_key = "board.progress.title"
    card_of = repair_order_card
    row_of = technician_row

    def build(self, t: Translator) -> None:
        view = ProgressBoardView(cards=self.shown(self.cards, self.store.states(topics.REPAIR_ORDERS), in_the_lane),
                                 rows=self.shown(self.rows, self.store.states(topics.TECHNICIANS)),
                                 labels=labels("progress", t.lang), config=self.clock_config(t))

        def on_change(kind: str, entity_id: str, state: State | None) -> None:
            if kind == topics.REPAIR_ORDERS:
                self.show(self.cards, entity_id, state, view.upsert_card, view.remove_card, in_the_lane)
            elif kind == topics.TECHNICIANS:
                self.show(self.rows, entity_id, state, view.upsert_row, view.remove_row)

        self.follow(on_change)
