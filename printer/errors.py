"""Delivery failures. The one thing a transport must get right is telling apart "nothing was sent" (safe to
retry) from "the transfer broke part way" (paper may have come out: a person decides)."""

from __future__ import annotations

from shopfloor.printer.status import PrinterState, PrinterStatus


class TransportError(Exception):
    """Base for delivery failures; always raise one of the two subclasses."""


class PrinterUnreachable(TransportError):
    """Not a byte of the job reached the printer: retrying cannot print twice. `status` says why."""

    def __init__(self, message: str, status: PrinterStatus | None = None) -> None:
        super().__init__(message)
        self.status = status or PrinterStatus(PrinterState.OFFLINE, message)


class TransferBroken(TransportError):
    """Some bytes went out before the failure: the ticket may be on paper, half-printed, or not at all."""
