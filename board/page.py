"""What every board page shares: language, the wall-screen pairing gate, the clock handed to the browser and
the per-screen store subscription."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from shopfloor.board import assets, pairing
from shopfloor.board.cards import Card, CardCache, Projection
from shopfloor.board.stale import StaleMark
from shopfloor.board.store import BoardStore, Listener, State
from shopfloor.clock import Clock
from shopfloor.i18n import LANGUAGES, Translator, normalize
from shopfloor.settings import Settings

if TYPE_CHECKING:
    from shopfloor.services.setup.tokens import TokenAdmin

log = logging.getLogger(__name__)


def _always(card: Card) -> bool:
    return True


def _no_rows(entity_id: str, state: State, tz: ZoneInfo) -> Card | None:
    return None


class BoardPage:
    """One page class per board; `register(path)` serves it. Subclasses name what they draw of an entity's state
    (`card_of`, `row_of`: board/cards.py) and implement build()."""

    title_key = ""
    needs_pairing = True
    card_of: ClassVar[Projection]
    row_of: ClassVar[Projection] = _no_rows

    def __init__(self, store: BoardStore, settings: Settings, board_token: str = "", *,
                 clock: Clock | None = None, screens: TokenAdmin | None = None) -> None:
        self.store = store
        self.settings = settings
        self.board_token = board_token
        self.screens = screens  # the wall screens' own display tokens (/setup), beside board_token
        self.tz = settings.site.tz
        # the server's clock (shopfloor.clock), the one lateness follows: pass the service context's
        self.clock = clock or Clock()
        # read through the class: a function looked up on the instance would be bound to it as a method
        self.cards = CardCache(type(self).card_of, self.tz)
        self.rows = CardCache(type(self).row_of, self.tz)

    def now(self) -> datetime:
        return self.clock.now().astimezone(self.tz)

    def register(self, path: str) -> None:
        assets.serve()
        ui.page(path, title=self.settings.site.name)(self.serve)

    def serve(self, request: Request, token: str | None = None, lang: str | None = None) -> Response | None:
        """The page builder (query: ?token=… pairs a wall screen, ?lang=en|zh-CN picks the language)."""
        t = Translator(normalize(lang) if lang else self.settings.site.language)
        assets.link_stylesheet(request)
        if self.needs_pairing:
            state = pairing.check(request, token, self.board_token, self.screens)
            if state == pairing.Pairing.JUST_PAIRED:
                return RedirectResponse(pairing.url_without_token(request), status_code=303)
            if state != pairing.Pairing.PAIRED:
                self._unpaired(t, wrong=state == pairing.Pairing.WRONG_TOKEN)
                return None
            pairing.watch(request, self.screens)
        ui.page_title(f"{t(self.title_key)} · {self.settings.site.name}")
        self.build(t)
        StaleMark(self.store, t)  # every board and the lounge: "data may be stale" while the feed is down
        return None

    def build(self, t: Translator) -> None:
        raise NotImplementedError

    def follow(self, listener: Listener) -> None:
        """Feed this screen from the store until its client goes away (not on a mere reconnect): NiceGUI drops
        a subscription made inside a page when that page's client is deleted."""
        self.store.changed.subscribe(listener)

    @staticmethod
    def shown(cache: CardCache, states: Mapping[str, State], shows: Callable[[Card], bool] = _always
              ) -> dict[str, Card]:
        """The cards (rows, days) of `states` that this screen shows; the cache forgets the entities gone."""
        cache.prune(set(states))
        return {entity_id: card for entity_id, state in states.items()
                if (card := cache.card(entity_id, state)) is not None and shows(card)}

    @staticmethod
    def show(cache: CardCache, entity_id: str, state: State | None, upsert: Callable[[Card], None],
             remove: Callable[[str], None], shows: Callable[[Card], bool] = _always) -> None:
        """An entity changed: redraw its card (row, day), or take it off the screen when it is gone or not
        shown."""
        card = cache.card(entity_id, state)
        if card is not None and shows(card):
            upsert(card)
        else:
            remove(entity_id)

    def clock_config(self, t: Translator) -> dict[str, Any]:
        """Server time and the site's UTC offset: the browser's own clock and zone may be wrong."""
        now = self.now()
        offset = now.utcoffset()
        weekdays = t("board.weekdays").split(",")
        months = t("board.months").split(",")
        return {
            "site": self.settings.site.name,
            "lang": t.lang,
            "now_ms": int(now.timestamp() * 1000),
            "tz_offset_min": int(offset.total_seconds() // 60) if offset else 0,
            "day": now.date().isoformat(),
            "date_label": t("board.date", year=now.year, month=now.month, day=now.day,
                            weekday=weekdays[now.weekday()] if len(weekdays) == 7 else "",
                            month_name=months[now.month - 1] if len(months) == 12 else str(now.month)),
        }

    def _unpaired(self, t: Translator, *, wrong: bool) -> None:
        """The pairing hint in the page language, then the other one: whoever sets up the screen can read it."""
        ui.page_title(t("board.unpaired.title"))
        with ui.element("div").classes("sfb-unpaired"):
            for lang in sorted(LANGUAGES, key=lambda code: code != t.lang):
                other = Translator(lang)
                with ui.element("div").classes("sfb-unpaired-block"):
                    ui.label(other("board.unpaired.title")).classes("sfb-unpaired-title")
                    if wrong:
                        ui.label(other("board.unpaired.wrong")).classes("sfb-unpaired-body")
                    ui.label(other("board.unpaired.body")).classes("sfb-unpaired-body")
