"""pytest fixtures for printing without a printer: a receipt printer simulator on raw TCP (127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shopfloor.printer.simulator import PrinterSimulator


@pytest.fixture
def printer_simulator() -> Iterator[PrinterSimulator]:
    """A started `PrinterSimulator` on a free port of 127.0.0.1 in normal mode; stopped after the test."""
    with PrinterSimulator() as simulator:
        yield simulator
