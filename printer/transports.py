"""How job bytes reach a printer: the transport protocol, the demo's file printer, and the one place that turns
a printer's configuration into its transport. Network, USB and serial live in `links.py`, the job protocol
they share (status queries around every job) in `stream.py`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shopfloor.printer.errors import PrinterUnreachable, TransferBroken, TransportError
from shopfloor.printer.links import DeviceTransport, NetworkTransport, SerialTransport
from shopfloor.printer.status import PrinterState, PrinterStatus

if TYPE_CHECKING:
    from shopfloor.settings import PrinterSettings

__all__ = [
    "DeviceTransport", "FileTransport", "NetworkTransport", "PrinterStatus", "PrinterTransport",
    "PrinterUnreachable", "SerialTransport", "TransferBroken", "TransportError", "transport_for",
]


class PrinterTransport(Protocol):
    def send(self, job_id: int, data: bytes) -> None:
        """Deliver the whole job or raise PrinterUnreachable / TransferBroken."""
        ...

    def query_status(self) -> PrinterStatus:
        """Ask the printer how it is, sending no job bytes; never raises for an unreachable printer."""
        ...


# --- file: the demo's simulated printer ---------------------------------------------------------------------


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

    def query_status(self) -> PrinterStatus:
        if self.directory.is_dir() and os.access(self.directory, os.W_OK | os.X_OK):
            return PrinterStatus(PrinterState.READY)
        return PrinterStatus(PrinterState.OFFLINE, f"cannot write to {self.directory}")

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


def transport_for(settings: PrinterSettings, data_dir: Path, *, status_queries: bool = True) -> PrinterTransport:
    """The transport a printer's configuration asks for. `status_queries=False` for printers that do not answer
    ESC/POS real-time status (PrinterSettings has no key for it yet)."""
    timeout = settings.timeout_seconds
    if settings.transport == "file":
        return FileTransport(settings.directory(data_dir))
    if settings.transport == "network":
        return NetworkTransport(settings.host, settings.port, timeout, status_queries=status_queries)
    if settings.transport == "usb":
        return DeviceTransport(settings.device, timeout, status_queries=status_queries)
    if settings.transport == "serial":
        return SerialTransport(settings.device, settings.baudrate, timeout, status_queries=status_queries)
    raise ValueError(f"printer {settings.name!r}: unknown transport {settings.transport!r}")
