"""/setup (manager, desk browser or tablet 1280×800): one tab per list of the site's setup, the tabs in the order a
new site fills them in. Each tab is its own class (kiosk/setup/*_tab.py) built by the composition root with the
services it uses.

A tab's content is built when it is first opened (thirteen lists read at once would make the page slow to come
up), and the open tab is kept in the address (?tab=staff): a reload, or the link sent to a colleague, opens it
again."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.attributes import set_attrs

if TYPE_CHECKING:
    from nicegui import events

    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.frame import StaffFrame
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.kiosk.setup.tab import SetupTab

PATH = "/setup"
log = logging.getLogger(__name__)


class SetupPage:
    def __init__(self, frame: StaffFrame, tabs: list[SetupTab]) -> None:
        self.frame = frame
        self.tabs = tabs

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · setup")(self.build)

    async def build(self, lang: str | None = None, tab: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, user = signed_in
        if not self.tabs:
            return
        await SetupView(self.tabs, t, user, lang).build(tab)


class SetupView:
    """One manager's /setup in one browser tab."""

    def __init__(self, tabs: list[SetupTab], t: Translator, user: KioskUser, lang: str | None) -> None:
        self.tabs = {tab.key: tab for tab in tabs}
        self.t = t
        self.user = user
        self.lang = lang
        self.panels: dict[str, ui.tab_panel] = {}
        self.built: set[str] = set()

    async def build(self, chosen: str | None) -> None:
        t = self.t
        keys = list(self.tabs)
        first = chosen if chosen in self.tabs else keys[0]
        with ui.row().classes("w-full no-wrap items-start gap-0"):
            with ui.tabs().props("vertical dense no-caps active-color=primary indicator-color=primary") \
                    .classes("w-48 shrink-0").mark("setup-tabs") as tabs:
                buttons = {key: set_attrs(ui.tab(key, label=t(f"setup.tab.{key}"), icon=tab.icon)
                                          .mark(f"setup-tab-{key}"), data_testid=f"setup-tab-{key}")
                           for key, tab in self.tabs.items()}
            tabs.set_value(buttons[first])
            tabs.on_value_change(self._switched)
            with ui.tab_panels(tabs, value=buttons[first]).props("animated=false").classes("grow min-w-0"):
                for key in keys:
                    self.panels[key] = ui.tab_panel(key).classes("p-2").mark(f"setup-panel-{key}")
        await self._open(first)

    async def _switched(self, e: events.ValueChangeEventArguments) -> None:
        key = str(e.value.props.get("name")) if isinstance(e.value, ui.tab) else str(e.value)
        if key not in self.tabs:
            return
        # the key is one of our own tab names, never input: safe inside the script
        ui.run_javascript(f"const u = new URL(window.location.href); u.searchParams.set('tab', {json.dumps(key)});"
                          "history.replaceState(history.state, '', u.toString());")
        await self._open(key)

    async def _open(self, key: str) -> None:
        if key in self.built:
            return
        self.built.add(key)
        with self.panels[key]:
            try:
                await self.tabs[key].build(self.t, self.user)
            except DomainError as exc:  # a tab that cannot read its list says why, and the others still work
                self.built.discard(key)
                ui.label(exc.message(self.t.lang)).classes("text-negative")
            except Exception:
                self.built.discard(key)
                log.exception("the setup tab %s failed to build", key)
                ui.label(self.t("setup_people.tab_failed")).classes("text-negative")
