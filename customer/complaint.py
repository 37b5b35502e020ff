"""The customer's "not happy? tell us" on their own page, after the plate proof: what it is about (the seeds' classes)
and their words, registered as a complaint on their order (source customer_page, the customer as the actor); the
answer says in words when we will call (the acknowledgement deadline) and when they will hear what we found.

Limited per link and per phone (as the plate proof is): a page left open must not become a way to flood the desk.
Counted in memory like the proof's tries; a restart forgives them."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.aftersales import ComplaintSource, ProblemClass, Severity
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.audit import Actor, ActorKind
from shopfloor.services.reception.customer_page import token_key

if TYPE_CHECKING:
    from shopfloor.services.aftercare.complaints import ComplaintService

TEXT_MAX = 500
PER_LINK = 3  # complaints per order's link …
PER_CLIENT = 5  # … and per client address …
WINDOW = timedelta(hours=24)  # … within this long


@dataclass
class ComplaintLimit:
    """Complaints sent per key (a token's digest, a client's address) in the last WINDOW."""

    sent: dict[str, deque[datetime]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allowed(self, token: str, client: str, now: datetime) -> bool:
        with self.lock:
            return all(len(self._recent(key, now)) < most for key, most in self._keys(token, client))

    def count(self, token: str, client: str, now: datetime) -> None:
        with self.lock:
            if len(self.sent) > 10_000:
                for key in [k for k, v in self.sent.items() if not v or v[-1] < now - WINDOW]:
                    del self.sent[key]
            for key, most in self._keys(token, client):
                self.sent.setdefault(key, deque(maxlen=most)).append(now)

    @staticmethod
    def _keys(token: str, client: str) -> list[tuple[str, int]]:
        return [(f"t:{token_key(token)}", PER_LINK), *([(f"c:{client}", PER_CLIENT)] if client else [])]

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self.sent.get(key) or deque()
        while times and times[0] <= now - WINDOW:
            times.popleft()
        return times


class ComplaintForm:
    """The button that opens the form, the form, and the answer, in a box of its own: the page's refresh redraws
    the order's details every few seconds and must not take what the customer is typing."""

    def __init__(self, box: ui.column, t: Translator, *, complaints: ComplaintService, limit: ComplaintLimit,
                 token: str, client: str, number: str, customer: str, proved: Callable[[], bool]) -> None:
        self.t = t
        self.complaints = complaints
        self.limit = limit
        self.token, self.client, self.number, self.customer = token, client, number, customer
        self.proved = proved
        self.box = box
        self._closed()

    def _closed(self) -> None:
        self.box.clear()
        with self.box:
            ui.button(self.t("complaints.page.customer.open"), icon="sentiment_dissatisfied", on_click=self._form) \
                .props("outline no-caps size=lg color=blue-grey-8").classes("w-full").mark("cp-complain-open")

    def _form(self) -> None:
        t = self.t
        self.box.clear()
        with self.box, ui.column().classes("cp-card").mark("cp-complain"):
            ui.label(t("complaints.page.customer.title")).classes("cp-title")
            ui.label(t("complaints.page.customer.hint")).classes("cp-muted")
            ui.label(t("complaints.page.customer.class")).classes("font-medium")
            self.problem = ui.radio({c.value: t(f"complaints.page.class.{c.value}") for c in ProblemClass}) \
                .props("inline color=blue-8").classes("w-full").mark("cp-complain-class")
            self.text = ui.textarea(t("complaints.page.customer.text")) \
                .props(f"outlined autogrow maxlength={TEXT_MAX}").classes("w-full").mark("cp-complain-text")
            self.error = ui.label("").classes("cp-error").mark("cp-complain-error")
            with ui.element("div").classes("cp-buttons"):
                ui.button(t("complaints.page.customer.cancel"), on_click=self._closed).props("flat no-caps")
                ui.button(t("complaints.page.customer.send"), on_click=self._send) \
                    .props("unelevated no-caps color=blue-8").mark("cp-complain-send")

    async def _send(self) -> None:
        t = self.t
        words = (self.text.value or "").strip()
        if not self.problem.value:
            self.error.text = t("complaints.page.customer.pick_class")
            return
        if not words:
            self.error.text = t("complaints.page.customer.say_what")
            return
        if not self.proved():  # the proof expired while the page stayed open
            self.error.text = t("customer_page.proof.hint")
            return
        now = self.complaints.ctx.now()
        if not self.limit.allowed(self.token, self.client, now):
            self.error.text = t("complaints.page.customer.too_many")
            return
        try:
            view = await io(self.complaints.register, actor=Actor(self.customer[:80] or "customer",
                                                                  ActorKind.CUSTOMER),
                            problem_class=str(self.problem.value), severity=Severity.NORMAL.value,
                            text=words[:TEXT_MAX], repair_order=self.number,
                            source=ComplaintSource.CUSTOMER_PAGE.value)
        except DomainError as exc:
            self.error.text = exc.message(t.lang)  # what was typed stays in the form
            return
        self.limit.count(self.token, self.client, now)
        rules = self.complaints.ctx.settings.follow_up
        self.box.clear()
        with self.box, ui.column().classes("cp-card").mark("cp-complain-done"):
            ui.label(t("complaints.page.customer.thanks", number=view.id,
                       acknowledge=t("complaints.page.customer.hours", count=f"{rules.acknowledge_hours:g}"),
                       investigate=t("complaints.page.customer.hours", count=f"{rules.investigate_hours:g}"))) \
                .classes("cp-ok").mark("cp-complain-thanks")
