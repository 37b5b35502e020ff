"""ESC/POS real-time status (DLE EOT n): what we ask a printer before and after a job, and what its answers mean.

Real-time commands are executed as soon as they reach the printer's receive buffer, even while it is offline
or its buffer is full, and each is answered with one byte. Bit meanings, from Epson's ESC/POS reference
(bit 0 is the least significant):

    every answer      bits 1 and 4 are 1, bits 0 and 7 are 0  (mask 0x93 == 0x12). Automatic status back
                      (ASB) packets and XON/XOFF never have this shape and are skipped. Any other byte means
                      the device is no ESC/POS printer (a web server or another service at the address): its
                      text is full of letters of the answers' shape ("R", "r", "v" …), read as paper out.
    n=1 printer       bit 3: offline.  bit 5: waiting for online recovery.  (bit 2: drawer pin 3, unused here)
    n=2 offline cause bit 2: cover open.  bit 3: paper being fed by the FEED button.
                      bit 5: printing stopped by paper end.  bit 6: an error occurred.
    n=4 roll paper    bits 2+3: paper near end.  bits 5+6: paper end (no paper).

A printer out of paper therefore answers 0x1A, 0x32, 0x7E to n=1, 2, 4; a ready one 0x12, 0x12, 0x12.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

DLE_EOT: Final = b"\x10\x04"
QUERY_PRINTER: Final = DLE_EOT + b"\x01"
QUERY_OFFLINE_CAUSE: Final = DLE_EOT + b"\x02"
QUERY_PAPER: Final = DLE_EOT + b"\x04"
# asked together: three one-byte answers come back in this order
FULL_QUERY: Final = QUERY_PRINTER + QUERY_OFFLINE_CAUSE + QUERY_PAPER
REALTIME_QUERIES: Final = frozenset({1, 2, 3, 4})

_SHAPE_MASK: Final = 0x93
_SHAPE: Final = 0x12
# XON and XOFF: a serial printer's flow control, not answers
FLOW_CONTROL: Final = frozenset({0x11, 0x13})
# automatic status back: four bytes, the first with bit 4 set and bits 0, 1 and 7 clear, the rest with bits 4
# and 7 clear (a printer sends them on a status change once ASB is enabled)
_ASB_FIRST_MASK: Final = 0x93
_ASB_FIRST: Final = 0x10
_ASB_REST_MASK: Final = 0x90
ASB_LENGTH: Final = 4
# n=1
OFFLINE_BIT: Final = 0x08
# n=2
COVER_OPEN_BIT: Final = 0x04
PAPER_END_STOP_BIT: Final = 0x20
ERROR_BIT: Final = 0x40
# n=4
PAPER_NEAR_END_BITS: Final = 0x0C
PAPER_END_BITS: Final = 0x60

READY_ANSWER: Final = 0x12


class PrinterState(StrEnum):
    READY = "ready"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"        # unreachable, not answering, or offline for a reason it does not tell
    NOT_ESCPOS = "not_escpos"  # something answers at the address, but not as an ESC/POS printer (wrong address)
    ERROR = "error"            # the printer reports an error (cutter jam, head temperature, …)
    UNKNOWN = "unknown"        # this transport cannot ask (status queries unsupported or disabled)


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    detail: str = ""
    paper_near_end: bool = False

    @property
    def ready(self) -> bool:
        """Worth sending a job to: ready, or a printer that cannot tell (sending is the only way to find out)."""
        return self.state in (PrinterState.READY, PrinterState.UNKNOWN)


def is_status_byte(value: int) -> bool:
    return value & _SHAPE_MASK == _SHAPE


class AnswerReader:
    """Sorts the bytes a printer sends back into status answers, skipping XON/XOFF and ASB packets (which may be
    cut across reads). Any other byte sets `foreign`: the device is no ESC/POS printer; `received` keeps what
    it sent, to show a person."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.foreign = False
        self.received = bytearray()
        self._asb_left = 0  # bytes of an ASB packet still to come

    def feed(self, chunk: bytes) -> None:
        self.received += chunk
        for b in chunk:
            if self._asb_left:
                self._asb_left -= 1
                if b & _ASB_REST_MASK == 0:
                    continue
                self._asb_left = 0
                self.foreign = True  # not an ASB packet after all
            elif is_status_byte(b):
                self.answers.append(b)
            elif b in FLOW_CONTROL:
                continue
            elif b & _ASB_FIRST_MASK == _ASB_FIRST:
                self._asb_left = ASB_LENGTH - 1
            else:
                self.foreign = True


def not_escpos_detail(where: str, received: bytes, likely: str) -> str:
    """What a person reads when the device at `where` (printer host:port, or device path) answers, but not as an
    ESC/POS printer: the start of what it sent, escaped, tells a web server's error from another service;
    `likely`: the probable cause for this kind of link."""
    sample = repr(bytes(received[:24]))[2:-1] + ("…" if len(received) > 24 else "")
    return f"{where}: does not answer as an ESC/POS printer (it sent \"{sample}\"): {likely}"


def is_offline(printer_answer: int) -> bool:
    return bool(printer_answer & OFFLINE_BIT)


def decode(printer: int, offline_cause: int, paper: int) -> PrinterStatus:
    """The answers to DLE EOT 1, 2 and 4 as one status; the most specific cause wins."""
    near_end = paper & PAPER_NEAR_END_BITS == PAPER_NEAR_END_BITS
    if paper & PAPER_END_BITS == PAPER_END_BITS or offline_cause & PAPER_END_STOP_BIT:
        return PrinterStatus(PrinterState.PAPER_OUT, "paper out", near_end)
    if offline_cause & COVER_OPEN_BIT:
        return PrinterStatus(PrinterState.COVER_OPEN, "cover open", near_end)
    if offline_cause & ERROR_BIT:
        return PrinterStatus(PrinterState.ERROR, "printer reports an error (cutter, head or mechanism)", near_end)
    if printer & OFFLINE_BIT:
        return PrinterStatus(PrinterState.OFFLINE, "printer is offline", near_end)
    return PrinterStatus(PrinterState.READY, "paper near end" if near_end else "", near_end)


def count_queries(data: bytes) -> int:
    """How many real-time status queries a job carries by accident (e.g. inside raster image bytes): a printer
    that executes them answers each, ahead of the answer to our own query after the job."""
    count, start = 0, 0
    while (at := data.find(DLE_EOT, start)) != -1 and at + 2 < len(data):
        if data[at + 2] in REALTIME_QUERIES:
            count += 1
            start = at + 3
        else:
            start = at + 1
    return count
