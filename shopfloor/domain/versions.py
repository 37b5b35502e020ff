"""Clock-based entity versions: microseconds since the epoch, never less than the previous version + 1.

Taken from the clock rather than a counter so that versions keep growing across restarts and demo resets
(a wiped database starts again from "now", above anything a running board has already seen).
"""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_last = 0


def next_version(previous: int = 0) -> int:
    global _last
    with _lock:
        _last = max(time.time_ns() // 1000, _last + 1, previous + 1)
        return _last
