"""The job protocol on a two-way byte stream (network, USB, serial): each job framed by ESC/POS real-time
status queries (see `status.py`).

* Before the job, on the same connection: DLE EOT 1, 2, 4. No answer within the timeout, or paper out / cover
  open / offline: not a byte of the job is sent (PrinterUnreachable, carrying the status).
* After the job: DLE EOT 1. The printer answers it only once it has taken in every byte before it, so the
  answer proves delivery. Without it a successful write proves nothing: the kernel happily buffers a whole
  ticket for a printer that has hung and never reads again. No answer within the timeout: TransferBroken.

A device that answers with bytes no ESC/POS printer sends (a web server at a wrong address or port) is no
printer: before the job, not a byte of it is sent (PrinterUnreachable, status NOT_ESCPOS); after it, the job
is uncertain (TransferBroken). Its letters must not be read as status answers (many have their shape).

A printer that does not answer status queries needs `status_queries=False`; then a network job counts as
delivered once the printer's TCP stack has acknowledged every byte, a device job once the driver took it.
"""

from __future__ import annotations

import time
from typing import Final, Protocol

from shopfloor.printer import status as rt
from shopfloor.printer.errors import PrinterUnreachable, TransferBroken
from shopfloor.printer.status import PrinterState, PrinterStatus

# A job whose tail is still queued in the printer when our post-job query arrives: give the printer time to
# print its way through the buffer. A slow thermal printer takes in raster data at well over this rate.
SLOWEST_BYTES_PER_SECOND: Final = 8_000


class WriteFailed(Exception):
    def __init__(self, sent: int, reason: str) -> None:
        super().__init__(reason)
        self.sent = sent  # bytes that may have left this host; 0 only when certainly none did
        self.reason = reason


class LinkClosed(Exception):
    """The printer closed the link or the device went away."""


class ForeignAnswer(Exception):
    """The device sent bytes no ESC/POS printer sends; `received`: what it sent."""

    def __init__(self, received: bytes) -> None:
        super().__init__(f"not an ESC/POS answer: {received[:24]!r}")
        self.received = received


class Channel(Protocol):
    def write(self, data: bytes, deadline: float) -> None:
        """All of `data` or WriteFailed."""
        ...

    def read(self, deadline: float) -> bytes:
        """Whatever arrives by the deadline (b"" for nothing); LinkClosed when the link is gone."""
        ...

    def wait_sent(self, deadline: float) -> bool:
        """For printers without status: True once the bytes are as far as this side can see."""
        ...

    def close(self) -> None: ...


class StreamTransport:
    """The job protocol shared by network, USB and serial; subclasses only open a channel."""

    timeout: float
    status_queries: bool

    def _open(self) -> Channel:
        raise NotImplementedError

    def _where(self) -> str:
        raise NotImplementedError

    def _transfer_seconds(self, size: int) -> float:
        return size / SLOWEST_BYTES_PER_SECOND

    def _likely_mismatch(self) -> str:
        """The probable cause when the device answers, but not as an ESC/POS printer."""
        return "not an ESC/POS receipt printer"

    def _not_escpos(self, received: bytes) -> str:
        return rt.not_escpos_detail(self._where(), received, self._likely_mismatch())

    def query_status(self) -> PrinterStatus:
        if not self.status_queries:
            return PrinterStatus(PrinterState.UNKNOWN, "status queries disabled for this printer")
        try:
            channel = self._open()
        except PrinterUnreachable as exc:
            return exc.status
        try:
            return self._ask(channel)
        except PrinterUnreachable as exc:
            return exc.status
        finally:
            channel.close()

    def send(self, job_id: int, data: bytes) -> None:
        channel = self._open()
        try:
            self._send_on(channel, data)
        finally:
            channel.close()

    def _send_on(self, channel: Channel, data: bytes) -> None:
        where = self._where()
        if self.status_queries:
            before = self._ask(channel)
            if not before.ready:
                raise PrinterUnreachable(f"{where}: {before.detail}", before)
        deadline = time.monotonic() + self.timeout + self._transfer_seconds(len(data))
        try:
            channel.write(data + (rt.QUERY_PRINTER if self.status_queries else b""), deadline)
        except WriteFailed as exc:
            if exc.sent == 0:
                raise PrinterUnreachable(f"{where}: nothing sent: {exc.reason}") from exc
            raise TransferBroken(f"{where}: {exc.reason} after sending up to {min(exc.sent, len(data))} of "
                                 f"{len(data)} bytes") from exc
        if not self.status_queries:
            if not channel.wait_sent(deadline):
                raise TransferBroken(f"{where}: the printer did not take all {len(data)} bytes within "
                                     f"{self.timeout:g} s")
            return
        # the job may carry accidental queries; the printer answers those first, ours comes last
        expected = 1 + rt.count_queries(data)
        try:
            answers = self._answers(channel, expected, deadline, partial=True)
        except LinkClosed as exc:
            raise TransferBroken(f"{where}: link closed after all {len(data)} bytes were sent, before the printer "
                                 f"confirmed them ({exc})") from exc
        except ForeignAnswer as exc:
            raise TransferBroken(f"{self._not_escpos(exc.received)}; all {len(data)} bytes of the job "
                                 f"had been sent to it") from exc
        if not answers:
            raise TransferBroken(f"{where}: all {len(data)} bytes sent but no status answer within "
                                 f"{self.timeout:g} s: the printer may not have taken the job")
        if rt.is_offline(answers[-1]):
            raise TransferBroken(f"{where}: the printer went offline while taking the job (paper end, cover open "
                                 f"or error): it may be printed partly or wait in the printer")

    def _ask(self, channel: Channel) -> PrinterStatus:
        """DLE EOT 1, 2, 4 on an open channel; PrinterUnreachable when the printer does not answer."""
        where = self._where()
        self._drain(channel)
        deadline = time.monotonic() + self.timeout
        try:
            channel.write(rt.FULL_QUERY, deadline)
        except WriteFailed as exc:
            # a status query is not part of any job, so a half-sent one is harmless
            raise PrinterUnreachable(f"{where}: cannot ask for status: {exc.reason}") from exc
        try:
            answers = self._answers(channel, 3, deadline)
        except LinkClosed as exc:
            raise PrinterUnreachable(f"{where}: link closed before the printer answered a status query "
                                     f"({exc})") from exc
        except ForeignAnswer as exc:
            detail = self._not_escpos(exc.received)
            raise PrinterUnreachable(detail, PrinterStatus(PrinterState.NOT_ESCPOS, detail)) from exc
        if len(answers) < 3:
            raise PrinterUnreachable(f"{where}: no answer to a status query within {self.timeout:g} s "
                                     f"(printer busy, hung, or not answering status queries)")
        return rt.decode(*answers[:3])

    @staticmethod
    def _answers(channel: Channel, count: int, deadline: float, *, partial: bool = False) -> list[int]:
        """Up to `count` status answers by the deadline. A closed link raises LinkClosed, unless `partial` and
        some answers came first (after a job: the answers that matter arrived). A byte that is no status
        answer, XON/XOFF or ASB raises ForeignAnswer at once: the answers around it mean nothing."""
        reader = rt.AnswerReader()
        while len(reader.answers) < count and time.monotonic() < deadline:
            try:
                chunk = channel.read(deadline)
            except LinkClosed:
                if reader.answers and partial:
                    return reader.answers
                raise
            reader.feed(chunk)
            if reader.foreign:
                raise ForeignAnswer(bytes(reader.received))
        return reader.answers

    @staticmethod
    def _drain(channel: Channel) -> None:
        """Stale bytes (a late answer, automatic status back) would be mistaken for the answers to come."""
        for _ in range(64):
            try:
                if not channel.read(time.monotonic()):
                    return
            except LinkClosed:
                return
