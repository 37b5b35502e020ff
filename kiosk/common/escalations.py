"""The service manager's escalation (domain.md §5): an important complaint still open shows as a red banner on every
staff page of whoever handles complaints and reads the figures (the manager), live from the bus — opened anywhere
(a follow-up call, the desk, the customer's own page), it appears without a reload, and it goes once acknowledged.
The banner holds the bus's state only (no personal data): the class, why important, the order, the masked plate and
the acknowledgement deadline; it links to /complaints."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.contract import topics
from shopfloor.contract.staff import Permission
from shopfloor.domain.aftersales import ComplaintStatus, Severity

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser

COMPLAINTS_PATH = "/complaints"
SHOWN = 3  # banners at most: more would push the page itself off a tablet's screen


def escalates_to(user: KioskUser) -> bool:
    """Whose screens an important complaint reaches: who handles complaints and reads the figures."""
    return user.may(Permission.COMPLAINT_HANDLE) and user.may(Permission.FIGURES)


def escalated(state: dict[str, Any] | None) -> bool:
    return state is not None and state.get("severity") == Severity.IMPORTANT.value \
        and state.get("status") == ComplaintStatus.OPEN.value


class EscalationBanner:
    """The banner on one page: drawn from the store now, redrawn as complaints change on the bus."""

    def __init__(self, store: BoardStore, t: Translator) -> None:
        self.store = store
        self.t = t
        self.shown: set[str] = set()
        self.box = ui.column().classes("w-full gap-1").mark("escalations")
        self._draw(announce=False)
        store.changed.subscribe(self._changed)  # dropped with the page

    def _changed(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        if kind != topics.COMPLAINTS:
            return
        if escalated(state) != (entity_id in self.shown):
            self._draw(announce=escalated(state))

    def _open(self) -> list[dict[str, Any]]:
        states = [s for s in self.store.states(topics.COMPLAINTS).values() if escalated(s)]
        return sorted(states, key=lambda s: str(s.get("acknowledge_by", "")))

    def _draw(self, *, announce: bool) -> None:
        t = self.t
        states = self._open()
        self.shown = {str(s["id"]) for s in states}
        self.box.clear()
        with self.box:
            for state in states[:SHOWN]:
                with ui.row().classes("w-full items-center no-wrap gap-3 bg-negative text-white rounded px-4 py-2") \
                        .mark("escalation", f"escalation-{state['id']}"):
                    ui.icon("campaign", size="md")
                    ui.label(self._text(state)).classes("text-lg font-bold grow")
                    ui.button(t("complaints.page.escalation_open"), icon="arrow_forward",
                              on_click=lambda: ui.navigate.to(COMPLAINTS_PATH)) \
                        .props("unelevated color=white text-color=negative").mark("escalation-go")
            if len(states) > SHOWN:
                ui.label(t("complaints.page.escalation_more", count=len(states) - SHOWN)) \
                    .classes("w-full text-negative font-bold px-4").mark("escalation-more")
        if announce and states:
            ui.notify(self._text(states[-1]), type="negative", position="top", multi_line=True, timeout=15000,
                      classes="text-lg")

    def _text(self, state: dict[str, Any]) -> str:
        t = self.t
        parts = [t("complaints.page.escalation", number=state["id"])]
        if state.get("important_because"):
            parts.append(t(f"complaints.page.reason.{state['important_because']}"))
        parts.append(t(f"complaints.page.class.{state['class']}"))
        parts += [str(state[k]) for k in ("ro_number", "plate_masked") if state.get(k)]
        by = datetime.fromisoformat(str(state["acknowledge_by"]))
        parts.append(t("complaints.page.escalation_by", time=f"{by:%m-%d %H:%M}"))
        return " · ".join(parts)


def banner(store: BoardStore | None, t: Translator, user: KioskUser) -> None:
    """Called by the staff frame under the header of every page: nothing for whom complaints do not escalate to."""
    if store is not None and escalates_to(user):
        EscalationBanner(store, t)
