"""The message sender: takes due messages from the outbox one at a time and hands each to its channel's provider.

A message is marked "sending" (and its attempt counted) in a committed transaction of its own before the provider
is called, so a crash in the middle leaves a trace: recover() at the next start turns such rows into "uncertain"
rather than sending them again (the provider may have them; a person decides). After the call a new transaction
writes what came of it: sent; back to queued for a later try (the provider was not reached or was busy), with the
wait doubled each time until [messages] max_attempts; failed (refused, with the provider's code and message);
uncertain (no answer after the request went out). Nothing goes out in the site's quiet hours.

State changes here are the server's, not a person's: they stay on the row (updated_at) and in the log; what staff
do with a message is audited (outbox.MessageService)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from shopfloor.clock import Clock
from shopfloor.domain.aftersales import MessageState
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.providers.base import Outgoing, Provider, Result, Verdict

log = logging.getLogger(__name__)

SEND_EVERY_SECONDS = 5.0  # a retry's time comes round at most this late; a new message wakes the sender at once
BATCH = 50  # at most this many per send_due(), so a backlog does not hold the thread for long
NOT_CONFIGURED = "channel not configured: send it by hand"
CRASHED = "the server stopped while sending: the provider may have it"


def in_quiet_hours(local: time, quiet_from: time, quiet_until: time) -> bool:
    if quiet_from == quiet_until:
        return False  # no quiet hours
    if quiet_from < quiet_until:
        return quiet_from <= local < quiet_until
    return local >= quiet_from or local < quiet_until  # across midnight (21:00–08:00)


class MessageSender:
    def __init__(self, ctx: ServiceContext, providers: Mapping[str, Provider], clock: Clock | None = None) -> None:
        self.ctx = ctx
        self.providers = dict(providers)
        self.clock = clock or ctx.clock

    def now(self) -> datetime:
        return self.clock.now()

    def quiet(self) -> bool:
        m = self.ctx.settings.messages
        return in_quiet_hours(self.now().astimezone(self.ctx.tz).time(), m.quiet_from, m.quiet_until)

    def recover(self) -> int:
        """At start: rows a crash left "sending" become "uncertain" (never sent again without a person)."""
        now = self.now()
        with self.ctx.db.write() as s:
            ids = list(s.scalars(select(CustomerMessage.id).where(
                CustomerMessage.site_id == self.ctx.site, CustomerMessage.state == MessageState.SENDING)))
            if ids:
                s.execute(update(CustomerMessage).where(CustomerMessage.id.in_(ids)).values(
                    state=MessageState.UNCERTAIN, provider_reason=CRASHED, updated_at=now))
        for message_id in ids:
            log.warning("message %s was being sent when the server stopped: uncertain", message_id)
        return len(ids)

    def send_due(self) -> int:
        """Sends what is due now, one message at a time; returns how many were handed to a provider."""
        handed = 0
        for _ in range(BATCH):
            if self.quiet():
                break
            claimed = self._claim()
            if claimed is None:
                break
            outgoing, provider = claimed
            if provider is None:
                continue
            handed += 1
            try:
                result = provider.send(outgoing, self.ctx.settings.messages.timeout_seconds)
            except Exception as exc:  # a bug in an adapter: the request may have gone out
                log.exception("provider failed on message %s", outgoing.id)
                result = Result(Verdict.UNCERTAIN, reason=f"{type(exc).__name__}: {exc}"[:300])
            self._settle(outgoing.id, result)
        return handed

    def _claim(self) -> tuple[Outgoing, Provider | None] | None:
        now = self.now()
        with self.ctx.db.write() as s:
            row = s.scalars(select(CustomerMessage).where(
                CustomerMessage.site_id == self.ctx.site, CustomerMessage.state == MessageState.QUEUED,
                CustomerMessage.send_after <= now,
            ).order_by(CustomerMessage.send_after, CustomerMessage.id).limit(1)).first()
            if row is None:
                return None
            provider = self.providers.get(row.channel)
            if provider is None:  # the channel's settings were removed since it was queued
                row.state, row.provider_reason, row.updated_at = MessageState.MANUAL, NOT_CONFIGURED, now
                log.info("message %s: %s not configured, handed to the advisor", row.id, row.channel)
                return _outgoing(row), None
            row.state, row.attempts, row.updated_at = MessageState.SENDING, row.attempts + 1, now
            return _outgoing(row), provider

    def _settle(self, message_id: int, result: Result) -> None:
        now = self.now()
        settings = self.ctx.settings.messages
        with self.ctx.db.write() as s:
            row = s.get(CustomerMessage, message_id)
            if row is None or row.state != MessageState.SENDING:
                return
            row.updated_at = now
            if result.verdict == Verdict.SENT:
                row.state, row.provider_id, row.sent_at = MessageState.SENT, result.provider_id, now
                row.provider_reason = None
            elif result.verdict == Verdict.RETRY and row.attempts < settings.max_attempts:
                row.state, row.provider_reason = MessageState.QUEUED, result.reason[:300]
                row.send_after = now + timedelta(seconds=settings.retry_seconds * 2 ** (row.attempts - 1))
            elif result.verdict == Verdict.UNCERTAIN:
                row.state, row.provider_reason = MessageState.UNCERTAIN, result.reason[:300]
            else:  # refused, or the tries ran out
                row.state, row.provider_reason = MessageState.FAILED, result.reason[:300]
            log.info("message %s (%s, attempt %s): %s %s", row.id, row.channel, row.attempts, row.state,
                     row.provider_reason or row.provider_id or "")


    async def run_forever(self, io: Callable[[Callable[[], int]], Awaitable[int | None]],
                          every: float = SEND_EVERY_SECONDS) -> None:
        """The server's task: recover() once, then send_due() (in `io`, a worker thread) every `every` seconds
        and as soon as a transaction queued a message."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def woken() -> None:  # in the thread that committed the message
            loop.call_soon_threadsafe(wake.set)

        stop_listening = on_message_queued(woken)
        try:
            await io(self.recover)
            while True:
                wake.clear()
                try:
                    await io(self.send_due)
                except Exception:
                    log.exception("sending customer messages failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), every)
        finally:
            stop_listening()


def _outgoing(row: CustomerMessage) -> Outgoing:
    return Outgoing(id=row.id, site=row.site_id, template=row.template, language=row.language,
                    recipient=row.recipient, subject=row.subject, body=row.body, params=dict(row.params or {}))


# -- waking the sender when a message is queued ------------------------------------------------------------------
_listeners: list[Callable[[], None]] = []
_listeners_lock = threading.Lock()
_QUEUED = "customer_message_queued"


def on_message_queued(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (from the committing thread) after a transaction that added a queued message commits;
    returns the function that stops it."""
    with _listeners_lock:
        _listeners.append(callback)

    def stop() -> None:
        with _listeners_lock:
            if callback in _listeners:
                _listeners.remove(callback)
    return stop


@event.listens_for(Session, "before_flush")
def _note_queued(session: Session, _context: Any, _instances: Any) -> None:
    # new rows, and rows queued again (a withdrawn message revived, one sent again): either may be due now
    if _listeners and any(isinstance(o, CustomerMessage) and o.state == MessageState.QUEUED
                          for o in (*session.new, *session.dirty)):
        session.info[_QUEUED] = True


@event.listens_for(Session, "after_commit")
def _wake(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        with _listeners_lock:
            callbacks = list(_listeners)
        for callback in callbacks:
            callback()
