"""The boards' "data may be stale" mark (数据可能不是最新), as Home Assistant marks what it shows when its own
link is down: a wall screen otherwise keeps showing the last cards as if they were current.

Shown while the server's board feed is not connected to the broker, or while the server's own broker connection
is down (BoardStore.stale); gone again by itself when both are back. A lost connection between the browser and
the web server is NiceGUI's to show (its own "reconnecting" notice), not this mark's.
"""

from __future__ import annotations

from nicegui import ui

from shopfloor.board.store import BoardStore
from shopfloor.i18n import Translator

# Discreet: a small amber tag in the header bar, between the date and the clock, where it covers no card and no
# legend; readable from a few metres.
CSS = """
.sfb-stale {
  position: fixed; right: 210px; top: 23px; z-index: 50; display: flex; align-items: center; gap: 10px;
  padding: 8px 16px; border-radius: 999px; background: rgba(180, 83, 9, 0.92); color: #fff;
  font-size: 22px; line-height: 1.2; box-shadow: 0 2px 8px rgba(15, 23, 42, 0.25); pointer-events: none;
}
.sfb-stale-dot { width: 12px; height: 12px; border-radius: 50%; background: #fde68a; }
"""


class StaleMark:
    """Built inside a board page; follows its store until the page's client goes away."""

    def __init__(self, store: BoardStore, t: Translator) -> None:
        ui.add_css(CSS)
        with ui.element("div").classes("sfb-stale").mark("board-stale") as self.element:
            ui.element("span").classes("sfb-stale-dot")
            ui.label(t("status.stale_mark"))
        self.element.set_visibility(store.stale)
        store.stale_changed.subscribe(self._changed)  # dropped with the page's client

    def _changed(self, stale: bool) -> None:
        self.element.set_visibility(stale)
