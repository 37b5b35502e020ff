"""The messages to the customer about an order, on the advisor's order panel: each with its state (waiting, sent,
failed with the provider's reason, not sure it was sent, to send by hand), "send again" for a failed or uncertain
one, and for a manual one the text to send by hand and "sent" — once it is due: one for later (the next service's
reminder) says from when and asks for nothing yet. The texts are labels: never markup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from shopfloor.clock import SiteClock
from shopfloor.contract.staff import Permission
from shopfloor.domain.aftersales import MessageState
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.session import KioskUser
from shopfloor.services.customer_messages.outbox import MessageService, MessageView

STATE_COLOURS = {
    MessageState.QUEUED: "blue-grey", MessageState.SENDING: "primary", MessageState.SENT: "positive",
    MessageState.FAILED: "negative", MessageState.UNCERTAIN: "orange-9", MessageState.MANUAL: "purple",
    MessageState.CANCELLED: "grey",
}
STATE_ICONS = {
    MessageState.QUEUED: "schedule", MessageState.SENDING: "outgoing_mail", MessageState.SENT: "done",
    MessageState.FAILED: "error", MessageState.UNCERTAIN: "help", MessageState.MANUAL: "front_hand",
    MessageState.CANCELLED: "block",
}


class MessagesPanel:
    """Read with the order (load, before anything is drawn), drawn with it (render); after an action the order
    panel is read and drawn again (on_change), as for its other actions."""

    def __init__(self, service: MessageService, t: Translator, user: KioskUser, clock: SiteClock,
                 on_change: Callable[[str], Awaitable[None]]) -> None:
        self.service = service
        self.t = t
        self.user = user
        self.clock = clock
        self.on_change = on_change
        self.number = ""

    @staticmethod
    async def load(service: MessageService | None, user: KioskUser, number: str) -> list[MessageView]:
        if service is None or not user.may(Permission.MESSAGES_READ):
            return []
        return await io(service.for_order, number)

    def render(self, number: str, messages: list[MessageView]) -> None:
        if not self.user.may(Permission.MESSAGES_READ):
            return
        self.number = number
        with ui.column().classes("w-full gap-1 pt-2").mark("messages-panel"):
            ui.label(self.t("messages.panel.title")).classes("text-grey-8")
            if not messages:
                ui.label(self.t("messages.panel.none")).classes("text-sm text-grey-7").mark("messages-none")
            for m in messages:
                self._message(m)

    def _message(self, m: MessageView) -> None:
        t = self.t
        may_send = self.user.may(Permission.MESSAGES_SEND)
        with ui.card().classes("w-full q-pa-sm").props("flat bordered").mark(f"message-{m.state}"):
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                state = MessageState(m.state)
                later = state is MessageState.MANUAL and not m.due  # by hand, but not yet: nothing to do today
                colour = STATE_COLOURS[MessageState.QUEUED] if later else STATE_COLOURS.get(state, "grey")
                icon = STATE_ICONS[MessageState.QUEUED] if later else STATE_ICONS.get(state, "mail")
                ui.icon(icon, color=colour).classes("text-xl")
                ui.badge(t("messages.panel.manual_later") if later else t(f"messages.state.{m.state}"),
                         color=colour).classes("text-sm px-2 py-1").mark("message-state")
                ui.label(t(f"messages.template.{m.template}")).classes("font-medium")
                details = [t(f"messages.channel.{m.channel}")]
                if m.recipient:
                    details.append(m.recipient)
                if m.sent_at:
                    at = m.sent_at.astimezone(self.clock.tz)
                    details.append(t("messages.panel.sent_at", time=f"{at:%m-%d %H:%M}"))
                if not m.due and state in (MessageState.MANUAL, MessageState.QUEUED):
                    details.append(self._from(m))
                if m.attempts > 1:
                    details.append(t("messages.panel.attempts", n=m.attempts))
                ui.label(" · ".join(details)).classes("text-sm text-grey-7")
                ui.space()
                if may_send and m.state in (MessageState.FAILED, MessageState.UNCERTAIN):
                    ui.button(t("messages.panel.send_again"), icon="replay",
                              on_click=lambda i=m.id: self._act(i, "resend")).props("outline dense") \
                        .mark("message-resend")
                if may_send and (state is MessageState.UNCERTAIN or (state is MessageState.MANUAL and m.due)):
                    ui.button(t("messages.panel.mark_sent"), icon="done",
                              on_click=lambda i=m.id: self._act(i, "mark_sent")).props("unelevated dense") \
                        .mark("message-mark-sent")
            if m.state == MessageState.FAILED and m.provider_reason:
                ui.label(m.provider_reason).classes("text-sm text-negative").mark("message-reason")
            if m.state == MessageState.UNCERTAIN:
                hint = t("messages.panel.uncertain_hint")
                ui.label(f"{hint} ({m.provider_reason})" if m.provider_reason else hint) \
                    .classes("text-sm text-orange-9")
            if m.state == MessageState.MANUAL:
                hint = t("messages.panel.by_hand" if m.due else "messages.panel.by_hand_later")
                ui.label(hint).classes("text-sm text-grey-8").mark("message-hint")
                ui.label(m.body).classes("text-base bg-grey-2 q-pa-sm rounded-borders w-full select-all") \
                    .style("white-space: pre-wrap").mark("message-text")

    def _from(self, m: MessageView) -> str:
        """When a message waiting for its time goes out: the day, or the hour when that is today."""
        at = m.send_after.astimezone(self.clock.tz)
        today = self.clock.today()
        return self.t("messages.panel.from", time=f"{at:%H:%M}" if at.date() == today else f"{at:%Y-%m-%d}")

    async def _act(self, message_id: int, what: str) -> None:
        if not frame.allowed(self.t, self.user, Permission.MESSAGES_SEND):
            return
        action = {"resend": self.service.resend, "mark_sent": self.service.mark_sent,
                  "cancel": self.service.cancel}[what]
        try:
            await io(action, message_id, actor=self.user.actor)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
        else:
            done = {"resend": "done_resend", "mark_sent": "done_sent", "cancel": "done_cancel"}[what]
            ui.notify(self.t(f"messages.panel.{done}"), type="positive")
        await self.on_change(self.number)
