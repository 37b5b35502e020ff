"""How a long-lived object tells its listeners that something happened.

Notifications are NiceGUI `Event`s (`from nicegui import Event`), declared where they happen with a one-line
docstring saying what happened and what they carry, and fired on NiceGUI's event loop: a listener may update
a page, which only the loop may touch. Whatever happens in another thread (paho's, the outbox publisher's)
reaches the loop through `emit_on_loop`.

Two notifications belong to worker threads and stay there (`ThreadEvent`): "outbox rows were committed" (fired
by whichever thread committed; it wakes the publisher) and "a printer agent acknowledged a job" (its listener
writes the outcome to the database, which must not happen on the loop).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, ParamSpec

from nicegui import Event, core

P = ParamSpec("P")
log = logging.getLogger(__name__)


def emit_on_loop(event: Event[P], *args: P.args, **kwargs: P.kwargs) -> None:
    """Fire `event` from any thread: handed to NiceGUI's loop while it runs, else fired here and now (a test or
    a command that runs no web server)."""
    loop = core.loop
    if loop is None or not loop.is_running():
        event.emit(*args, **kwargs)
        return
    try:
        on_loop = asyncio.get_running_loop() is loop
    except RuntimeError:  # no loop in this thread
        on_loop = False
    if on_loop:
        event.emit(*args, **kwargs)
        return
    try:
        loop.call_soon_threadsafe(functools.partial(event.emit, *args, **kwargs))
    except RuntimeError:  # the loop closed meanwhile: the server is stopping and no page is left to tell
        log.debug("event loop closed; not telling the listeners")


class ThreadEvent(Generic[P]):
    """An event whose listeners run at once, in the thread that fires it; they must be quick and thread-safe.

    Not a NiceGUI `Event`, which is for telling pages: it would run a coroutine listener as a task on the loop
    (impossible from a database or publisher thread), send a listener's error to the pages' exception handlers,
    and NiceGUI's test fixtures clear every `Event`'s listeners, which would silently stop the publisher from
    waking up. A failing listener is logged; it never fails the commit or the acknowledgement that fired it."""

    def __init__(self) -> None:
        # replaced, never changed in place: emit() iterates a snapshot without taking the lock
        self._listeners: tuple[Callable[P, Any], ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[P, Any]) -> None:
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def unsubscribe(self, listener: Callable[P, Any]) -> None:
        """Stop calling `listener`; unknown listeners are ignored."""
        with self._lock:
            self._listeners = tuple(known for known in self._listeners if known != listener)

    @property
    def listeners(self) -> tuple[Callable[P, Any], ...]:
        return self._listeners

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for listener in self._listeners:
            try:
                listener(*args, **kwargs)
            except Exception:
                log.exception("listener %r failed", listener)
