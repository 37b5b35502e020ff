"""Which jobs this agent already put on paper, so a redelivered job (retained messages come back on every
reconnect) is acknowledged again instead of printed twice.

An append-only JSON-lines file, fsync'ed per record: a crash can at worst cut the last line short, which
loading drops (and trims so the next record starts on a clean line).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

PRINTED: Final = "printed"
UNCERTAIN: Final = "uncertain"  # the transfer broke: never retried by itself, a person decides
# Written before the first byte goes out and settled by one of the others, so a crash or power cut mid-job
# leaves it behind: after a restart such a job counts as uncertain, not as never printed.
SENDING: Final = "sending"
NOT_SENT: Final = "not_sent"    # settles SENDING when the printer took nothing: the job is unknown again
OUTCOMES: Final = frozenset({PRINTED, UNCERTAIN, SENDING})
RECORDS: Final = OUTCOMES | {NOT_SENT}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PrintJournal:
    def __init__(self, path: Path, clock: Callable[[], datetime] = _utc_now) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._outcomes: dict[int, str] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        self._load()

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._outcomes

    def __len__(self) -> int:
        return len(self._outcomes)

    def outcome(self, job_id: int) -> str | None:
        """PRINTED, UNCERTAIN, SENDING (left by a crash mid-job), or None when no byte of it went out."""
        return self._outcomes.get(job_id)

    def record(self, job_id: int, outcome: str, detail: str = "") -> None:
        """Remember the outcome, durably. Memory is updated first, so even when the disk write fails
        (OSError, re-raised) this process still will not print the job again."""
        if outcome not in RECORDS:
            raise ValueError(f"journal outcome {outcome!r}: expected one of {', '.join(sorted(RECORDS))}")
        line = json.dumps({"job_id": job_id, "outcome": outcome, "detail": detail,
                           "at": self._clock().isoformat()}, ensure_ascii=False) + "\n"
        with self._lock:
            self._apply(job_id, outcome)
            with open(self.path, "ab") as f:
                f.write(line.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        if not raw:
            return
        good_end = 0
        lines = raw.split(b"\n")
        for number, chunk in enumerate(lines, start=1):
            is_last = number == len(lines)
            if is_last and not chunk:
                break
            entry = self._parse(chunk)
            if entry is None:
                if is_last:
                    log.warning("%s: dropping a record cut short at the end (crash while writing)", self.path)
                    break
                log.error("%s line %d is damaged and skipped: %r", self.path, number, chunk[:80])
            else:
                self._apply(*entry)
            good_end += len(chunk) + (0 if is_last else 1)
        if good_end == len(raw) and raw.endswith(b"\n"):
            return
        # appending after a half line, or a whole one without its newline, would glue the next record onto it
        with open(self.path, "r+b") as f:
            f.truncate(good_end)
            if good_end and not raw[:good_end].endswith(b"\n"):
                f.seek(good_end)
                f.write(b"\n")
            os.fsync(f.fileno())

    def _apply(self, job_id: int, outcome: str) -> None:
        if outcome == NOT_SENT:
            self._outcomes.pop(job_id, None)
        else:
            self._outcomes[job_id] = outcome

    @staticmethod
    def _parse(chunk: bytes) -> tuple[int, str] | None:
        try:
            data = json.loads(chunk.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        job_id, outcome = data.get("job_id"), data.get("outcome")
        if not isinstance(job_id, int) or isinstance(job_id, bool) or outcome not in RECORDS:
            return None
        return job_id, str(outcome)
