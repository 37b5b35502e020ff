"""What a tab of /setup is: built into its panel for the signed-in manager; the page lists the tabs in order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser


class SetupTab(Protocol):
    """One list of the site's setup. `key` names it: its label is t(f"setup.tab.{key}")."""

    key: str
    icon: str

    async def build(self, t: Translator, user: KioskUser) -> None: ...
