"""pytest fixtures for a real embedded MQTT broker (load as a plugin, or import the fixtures by name)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from shopfloor.broker.embedded import EmbeddedBroker
from shopfloor.credentials import Credentials, generate

TEST_SITE = "test"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (another process may still take it before you bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def credentials() -> Credentials:
    return generate([])


@pytest.fixture
def embedded_broker(credentials: Credentials) -> Iterator[EmbeddedBroker]:
    """A started broker for site "test" on 127.0.0.1; `.address` is its `BrokerAddress`."""
    # Port 0 lets the kernel pick while binding, so no other process can grab the port in between.
    with EmbeddedBroker("127.0.0.1", 0, TEST_SITE, credentials) as broker:
        yield broker
