"""/board/progress: the job progress control board (服务进程控制看板) on the workshop wall, read-only: technicians ×
the hours of the day with planned and actual bars, the queue waiting for dispatch, a status summary in the footer
(board/job_board.py; the foreman's desk /workshop/dispatch draws the same component). Delivered and cancelled
orders have left the lane and are not shown."""

from __future__ import annotations

from shopfloor.board import job_board
from shopfloor.board.job_board import JobBoardView
from shopfloor.board.page import BoardPage
from shopfloor.board.store import State
from shopfloor.contract import topics
from shopfloor.i18n import Translator


class ProgressBoardPage(BoardPage):
    title_key = "jobboard.title"
    card_of = job_board.order_card
    row_of = job_board.technician_row

    def build(self, t: Translator) -> None:
        config = self.clock_config(t) | job_board.hours_config(self.settings, editable=False)
        view = JobBoardView(cards=self.shown(self.cards, self.store.states(topics.REPAIR_ORDERS), job_board.shown),
                            rows=self.shown(self.rows, self.store.states(topics.TECHNICIANS)),
                            labels=job_board.labels(t), config=config)

        def on_change(kind: str, entity_id: str, state: State | None) -> None:
            if kind == topics.REPAIR_ORDERS:
                self.show(self.cards, entity_id, state, view.upsert_card, view.remove_card, job_board.shown)
            elif kind == topics.TECHNICIANS:
                self.show(self.rows, entity_id, state, view.upsert_row, view.remove_row)

        self.follow(on_change)
