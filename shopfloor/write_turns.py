"""First come, first served: the order in which one process's writers get the database (shopfloor/db.py).

A plain lock lets the thread that releases it take it straight back (a DMS import or the pruner writing batch
after batch) while a check-in waits; SQLite's own busy handler is worse, sleeping 1, 2, 5 … 100 ms between
retries instead of waking when the lock is free. Here the writer that finishes hands the turn to the one that
has waited longest.
"""

from __future__ import annotations

import threading
from collections import deque


class WriteTurns:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken = False
        self._waiting: deque[threading.Event] = deque()

    @property
    def waiting(self) -> int:
        """Writers waiting for their turn."""
        with self._lock:
            return len(self._waiting)

    def acquire(self, timeout: float) -> bool:
        """Wait for this thread's turn; False when `timeout` seconds passed first (the turn is not taken)."""
        with self._lock:
            if not self._taken:
                self._taken = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._lock:
            if turn.is_set():  # handed over just as the wait gave up: ours after all
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        """End this turn: the longest waiting writer's begins (the turn passes without ever being free)."""
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._taken = False
