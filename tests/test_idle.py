"""An idle server is not woken for nothing: NiceGUI's per-page outbox loop waits for work instead of polling every
second (shopfloor/nicegui_outbox.py), and still sends what a page is given and stops when told; the outbox
publisher does not look at the outbox while nothing is committed, and still sends a commit at once."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import nicegui
import pytest

from shopfloor import nicegui_outbox
from shopfloor.broker.embedded import EmbeddedBroker
from shopfloor.contract.access import Role
from shopfloor.credentials import Credentials
from shopfloor.publisher import OutboxPublisher
from shopfloor.services import outbox
from shopfloor.testing.plugin import Services


class FakeOutbox:
    """What Outbox.loop touches of its outbox and client; counts the loop's rounds (each reads _should_stop)."""

    def __init__(self) -> None:
        self.rounds = 0
        self.stop_asked = False
        self.updates: dict[int, Any] = {}
        self.messages: deque[tuple[str, str, dict[str, Any]]] = deque()
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self._loaded_components: set[str] = set()
        self._enqueue_event: asyncio.Event | None = None
        self.client = self
        self.id = "client-1"
        self.has_socket_connection = True

    @property
    def _should_stop(self) -> bool:
        self.rounds += 1
        return self.stop_asked

    async def _emit(self, message: tuple[str, str, dict[str, Any]]) -> None:
        self.sent.append(message)

    def enqueue_message(self, kind: str, data: dict[str, Any]) -> None:
        self.messages.append((self.id, kind, data))
        assert self._enqueue_event is not None
        self._enqueue_event.set()

    def stop(self) -> None:
        self.stop_asked = True
        assert self._enqueue_event is not None
        self._enqueue_event.set()


def test_the_copy_is_installed_for_the_nicegui_it_was_made_from() -> None:
    """Fails after a NiceGUI upgrade that changed Outbox.loop: copy the new loop without its timeout, then update
    COPIED_FROM and ORIGINAL_SHA256."""
    assert nicegui.__version__ == nicegui_outbox.COPIED_FROM
    assert nicegui_outbox.original_source_sha256() == nicegui_outbox.ORIGINAL_SHA256


async def _idle_rounds(loop: Any, seconds: float) -> tuple[FakeOutbox, asyncio.Task[None]]:
    fake = FakeOutbox()
    task = asyncio.create_task(loop(fake))
    await asyncio.sleep(0.05)  # the first round: nothing to send
    fake.rounds = 0
    await asyncio.sleep(seconds)
    return fake, task


async def test_an_idle_page_costs_no_rounds_and_a_message_still_goes_out_at_once() -> None:
    fake, task = await _idle_rounds(nicegui_outbox._loop, 2.2)
    assert fake.rounds == 0
    fake.enqueue_message("run_javascript", {"code": "1"})
    await asyncio.sleep(0.05)
    assert fake.sent == [("client-1", "run_javascript", {"code": "1"})]
    fake.stop()
    await asyncio.wait_for(task, 1)


async def test_nicegui_s_own_loop_polls_every_second() -> None:
    """What the copy removes (and that the test above would see it)."""
    fake, task = await _idle_rounds(nicegui_outbox._original, 2.2)
    assert fake.rounds >= 2
    fake.stop()
    await asyncio.wait_for(task, 2)


def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_an_idle_publisher_leaves_the_outbox_alone_until_a_commit(services: Services, demo_broker: EmbeddedBroker,
                                                                  credentials: Credentials,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[float] = []
    pending = outbox.pending

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(time.monotonic())
        return pending(*args, **kwargs)

    monkeypatch.setattr(outbox, "pending", counted)
    publisher = OutboxPublisher(services.ctx, demo_broker.address, credentials.account(Role.SERVER))
    try:
        assert publisher.start(wait=10)
        assert _until(lambda: publisher.resync_count == 1 and publisher.pending() == 0)
        time.sleep(0.3)  # the rounds the start and the resync began are over
        settled = len(reads)
        time.sleep(2.5)  # the former 1-s poll would have read twice by now
        assert len(reads) == settled
        services.booking.set_parts(_any_appointment(services), "to_order")
        assert _until(lambda: publisher.pending() == 0 and len(reads) > settled)
    finally:
        publisher.stop()


def _any_appointment(services: Services) -> int:
    from sqlalchemy import select

    from shopfloor.domain.models import Appointment

    with services.db.read() as s:
        found = s.scalar(select(Appointment.id).where(Appointment.status.in_(("booked", "confirmed"))).limit(1))
    assert found is not None
    return found
