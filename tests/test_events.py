"""How listeners are told (shopfloor/events.py): NiceGUI Events reach the web server's loop from any thread;
ThreadEvents run their listeners at once in the firing thread and never fail the one that fired."""

from __future__ import annotations

import asyncio
import threading

import pytest
from nicegui import Event, core

from shopfloor.events import ThreadEvent, emit_on_loop


async def test_an_event_fired_in_another_thread_reaches_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(core, "loop", loop)
    happened = Event[str]()
    heard: list[tuple[str, int]] = []
    happened.subscribe(lambda text: heard.append((text, threading.get_ident())))

    worker = threading.Thread(target=emit_on_loop, args=(happened, "settled"))
    worker.start()
    worker.join()
    assert heard == []  # not in the worker's thread
    for _ in range(10):
        await asyncio.sleep(0)
    assert heard == [("settled", threading.get_ident())]

    emit_on_loop(happened, "on the loop")  # already there: at once
    assert heard[-1] == ("on the loop", threading.get_ident())


def test_without_a_running_loop_an_event_fires_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "loop", None)
    happened = Event[int]()
    heard: list[int] = []
    happened.subscribe(heard.append)
    emit_on_loop(happened, 7)
    assert heard == [7]


def test_thread_event_listeners_run_in_the_firing_thread_and_a_failure_stops_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    committed = ThreadEvent[[]]()
    threads: list[int] = []

    def broken() -> None:
        raise RuntimeError("probe gone")

    committed.subscribe(broken)
    committed.subscribe(lambda: threads.append(threading.get_ident()))
    worker = threading.Thread(target=committed.emit)
    worker.start()
    worker.join()
    assert threads == [worker.ident]
    assert "probe gone" in caplog.text

    committed.unsubscribe(broken)
    committed.unsubscribe(broken)  # unknown by now: ignored
    assert len(committed.listeners) == 1
