"""One process's writers take turns in arrival order (shopfloor/write_turns.py, used by Database.write): a waiting
check-in is neither starved by a writer that writes batch after batch nor left to SQLite's sleep-and-retry; a
writer that waited too long gives up with WriteWaitTimeout and leaves the queue. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from shopfloor import db as db_module
from shopfloor.db import Database, WriteWaitTimeout
from shopfloor.testing.polling import wait_until
from shopfloor.write_turns import WriteTurns


def test_writers_commit_in_the_order_they_arrived(database: Database) -> None:
    order: list[str] = []
    first_may_finish = threading.Event()

    def write(name: str, hold: threading.Event | None = None) -> None:
        with database.write() as s:
            s.execute(text("SELECT 1"))
            order.append(name)
            if hold is not None:
                hold.wait(10)

    first = threading.Thread(target=write, args=("first", first_may_finish))
    first.start()
    wait_until(lambda: order == ["first"], 10, 0.005)
    others = []
    for i, name in enumerate(["second", "third", "fourth"]):
        thread = threading.Thread(target=write, args=(name,))
        thread.start()
        others.append(thread)
        wait_until(lambda i=i: database.write_turns.waiting == i + 1, 10, 0.005)  # queued before the next one arrives
    first_may_finish.set()
    for thread in [first, *others]:
        thread.join(10)
    assert order == ["first", "second", "third", "fourth"]


def test_a_writer_that_waited_too_long_gives_up_and_leaves_the_queue(database: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "WRITE_WAIT_SECONDS", 0.2)
    holding, may_finish = threading.Event(), threading.Event()

    def hold() -> None:
        with database.write():
            holding.set()
            may_finish.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    with pytest.raises(WriteWaitTimeout), database.write():
        pass
    assert database.write_turns.waiting == 0
    may_finish.set()
    holder.join(10)
    with database.write() as s:  # the turn is free again
        s.execute(text("SELECT 1"))


def test_the_writer_that_finishes_cannot_take_the_turn_back_from_one_waiting() -> None:
    turns = WriteTurns()
    got: list[str] = []
    assert turns.acquire(1)

    def waiter() -> None:
        assert turns.acquire(10)
        got.append("waiter")
        turns.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_until(lambda: turns.waiting == 1, 10, 0.005)
    turns.release()
    assert turns.acquire(10)  # at once again, as a batch writer would: after the one that waited
    got.append("batch")
    turns.release()
    thread.join(10)
    assert got == ["waiter", "batch"]
