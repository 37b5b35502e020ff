"""Marking outbox rows sent, off the publisher's path.

The publisher reads pending rows with a plain read (SQLite WAL: never blocked by writers) and, once the broker
acknowledged them, hands their ids here. This thread writes them as sent, batched: one short write for
everything acknowledged meanwhile. The publisher never waits for the write lock itself, so the next change
goes out while the API's writes hold it. A crash before the mark resends those rows after the restart, as a
crash between PUBACK and the mark always could: states carry versions and consumers keep the newest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from shopfloor.db import Database
from shopfloor.services import outbox

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class SentMarker:
    def __init__(self, db: Database, now: Callable[[], datetime]) -> None:
        self.db = db
        self.now = now
        self._ids: list[int] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._writing = False  # a batch taken from _ids is being written
        self.marked_count = 0

    def add(self, ids: list[int]) -> None:
        """These rows were acknowledged by the broker: mark them sent soon."""
        with self._lock:
            self._ids.extend(ids)
        self._wake.set()

    @property
    def outstanding(self) -> bool:
        """Some acknowledged rows are not marked sent in the database yet."""
        with self._lock:
            return bool(self._ids) or self._writing

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox-sent", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Mark what was handed over, then end."""
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=15)

    def kill(self) -> None:
        """End as a crash would: what was not marked yet stays pending (fault tests)."""
        with self._lock:
            self._ids.clear()
        self.stop()

    def _run(self) -> None:
        while True:
            self._wake.wait()  # no timeout: an idle server is not woken for nothing
            self._wake.clear()
            stopping = self._stopping.is_set()
            while self._mark_batch() is False and not stopping:
                self._stopping.wait(RETRY_SECONDS)
                stopping = self._stopping.is_set()
            if stopping:
                return

    def _mark_batch(self) -> bool | None:
        """Mark everything handed over so far: True when written, None when there was nothing, False when the
        write failed (the ids are kept for the next try)."""
        with self._lock:
            ids, self._ids = self._ids, []
            self._writing = bool(ids)
        if not ids:
            return None
        try:
            with self.db.write() as s:
                outbox.mark_sent(s, ids, self.now())
        except Exception:
            log.exception("could not mark %d outbox rows sent; retrying", len(ids))
            with self._lock:
                self._ids[:0] = ids
                self._writing = False
            return False
        with self._lock:
            self._writing = False
        self.marked_count += len(ids)
        return True
