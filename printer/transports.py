"""How job bytes reach a printer. The one thing a transport must get right is telling apart "nothing was
sent" (safe to retry) from "the transfer broke part way" (paper may have come out: a person decides)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol


class TransportError(Exception):
    """Base for delivery failures; always raise one of the two subclasses."""


class PrinterUnreachable(TransportError):
    """Not a byte reached the printer: retrying cannot print twice."""


class TransferBroken(TransportError):
    """Some bytes went out before the failure: the ticket may be on paper, half-printed, or not at all."""


class PrinterTransport(Protocol):
    def send(self, job_id: int, data: bytes) -> None:
        """Deliver the whole job or raise PrinterUnreachable / TransferBroken."""
        ...


class FileTransport:
    """A simulated printer: each job lands complete as `<directory>/<YYYYmmdd-HHMMSS>-job<id>.bin`.

    Written to a temporary file and renamed, so a reader (ticket preview, demo) never sees half a job; a
    missing or unwritable directory plays the part of a printer that is switched off.
    """

    def __init__(self, directory: Path, clock: Callable[[], datetime] = datetime.now) -> None:
        self.directory = directory
        self._clock = clock
        directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"FileTransport({str(self.directory)!r})"

    def path_for(self, job_id: int, at: datetime) -> Path:
        return self.directory / f"{at.strftime('%Y%m%d-%H%M%S')}-job{job_id}.bin"

    def send(self, job_id: int, data: bytes) -> None:
        target = self.path_for(job_id, self._clock())
        try:
            fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=f".job{job_id}-", suffix=".tmp")
        except OSError as exc:
            raise PrinterUnreachable(f"cannot write to {self.directory}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_name, target)
        except OSError as exc:
            # the rename is the moment of printing: before it, nothing is visible in the directory
            Path(tmp_name).unlink(missing_ok=True)
            raise PrinterUnreachable(f"cannot write {target.name}: {exc.strerror or exc}") from exc
        _fsync_directory(self.directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; best effort, the job is already complete and visible."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
