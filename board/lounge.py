"""The customer lounge TV: each car's step towards pick-up. No personal data: it reads only the lounge
entities, fed by the lounge MQTT role whose payloads carry a masked plate and "王先生", never a full name."""

from __future__ import annotations

from shopfloor.board.cards import in_the_lane, lounge_card
from shopfloor.board.components import LoungeView
from shopfloor.board.labels import labels
from shopfloor.board.page import BoardPage
from shopfloor.board.store import BoardStore, State
from shopfloor.clock import Clock
from shopfloor.contract import topics
from shopfloor.i18n import Translator
from shopfloor.settings import Settings


class LoungePage(BoardPage):
    title_key = "board.lounge.title"
    needs_pairing = False  # a public screen, so it shows nothing that needs hiding
    card_of = lounge_card

    def __init__(self, store: BoardStore, settings: Settings, *, clock: Clock | None = None) -> None:
        super().__init__(store, settings, "", clock=clock)

    def build(self, t: Translator) -> None:
        view = LoungeView(cards=self.shown(self.cards, self.store.states(topics.LOUNGE), in_the_lane),
                          labels=labels("lounge", t.lang), config=self.clock_config(t))

        def on_change(kind: str, entity_id: str, state: State | None) -> None:
            if kind == topics.LOUNGE:
                self.show(self.cards, entity_id, state, view.upsert_card, view.remove_card, in_the_lane)

        self.follow(on_change)
