"""The capacity refresher: turns the days marked changed (services/capacity.py publish_capacity) into retained
capacity states in the outbox, at most once per INTERVAL_SECONDS however many changes came meanwhile.

Run by the outbox publisher, beside it: woken by every commit that wrote to the outbox or marked a day, it waits
out the rest of the interval, computes the marked days from a plain read and stores their states with one short
write (services/capacity.py compute_marked, store_marked). The marks are rows written with the change, deleted
with the state that covers them: a server stopped or killed in between leaves them for the next start, which
refreshes first thing.
"""

from __future__ import annotations

import logging
import threading
import time

from shopfloor.services.capacity import refresh_marked
from shopfloor.services.context import ServiceContext

log = logging.getLogger(__name__)

# the capacity strip follows a change within about this long; at 60 events/s the refresh costs ~2 % of a core
INTERVAL_SECONDS = 0.5
# marks another process made (or a round that failed) are found within this long without a commit here
POLL_SECONDS = 10.0
RETRY_SECONDS = 1.0


class CapacityRefresher:
    def __init__(self, ctx: ServiceContext, interval: float = INTERVAL_SECONDS) -> None:
        self.ctx = ctx
        self.interval = interval
        self._wake = threading.Event()
        self._wake.set()  # marks left by a server that stopped before it refreshed them
        self._stopping = threading.Event()
        self._killed = False
        self._thread: threading.Thread | None = None
        self._last = 0.0
        self.rounds = 0

    def _committed(self) -> None:
        if threading.current_thread() is not self._thread:  # not for the states it wrote itself
            self._wake.set()

    def start(self) -> None:
        self.ctx.db.outbox_committed.subscribe(self._committed)
        self._thread = threading.Thread(target=self._run, name="capacity-refresher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Refresh what is marked, then end."""
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=15)
        self.ctx.db.outbox_committed.unsubscribe(self._committed)

    def kill(self) -> None:
        """End as a crash would: marks stay for the next start (fault tests)."""
        self._killed = True
        self.stop()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=POLL_SECONDS)
            self._wake.clear()
            pause = self._last + self.interval - time.monotonic()
            if pause > 0 and self._stopping.wait(pause):
                break
            self._round()
        if not self._killed:
            self._round()

    def _round(self) -> None:
        self._last = time.monotonic()
        try:
            refresh_marked(self.ctx)
            self.rounds += 1
        except Exception:
            log.exception("capacity refresh failed; the marks stay, retrying")
            self._stopping.wait(RETRY_SECONDS)
            self._wake.set()
