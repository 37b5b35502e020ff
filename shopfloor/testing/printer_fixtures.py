"""Printing without a printer or a broker: a receipt printer simulator on raw TCP (127.0.0.1), and a recorder that
stands in for the printer agent's MQTT link."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shopfloor.printer.simulator import PrinterSimulator


@pytest.fixture
def printer_simulator() -> Iterator[PrinterSimulator]:
    """A started `PrinterSimulator` on a free port of 127.0.0.1 in normal mode; stopped after the test."""
    with PrinterSimulator() as simulator:
        yield simulator


class RecordingLink:
    """Stands in for MqttLink (PrinterAgent's link_factory): connects at once, records what the agent publishes as
    (topic, decoded payload, retain); tests feed messages in through agent.on_message."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.connected = threading.Event()
        self.published: list[tuple[str, dict[str, Any], bool]] = []
        self.last_error: str | None = None

    def start(self, wait: float | None = None) -> bool:
        self.connected.set()
        self.kwargs["on_connected"]()
        return True

    def stop(self) -> None:
        self.connected.clear()

    def publish(self, topic: str, payload: bytes, *, retain: bool, qos: int = 1) -> _Sent:
        self.published.append((topic, json.loads(payload), retain))
        return _Sent()


class _Sent:
    def wait_for_publish(self, timeout: float | None = None) -> None:
        return None
