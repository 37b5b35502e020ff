"""Waiting in tests for what another thread, process or the bus does: a condition polled until it holds or the
time is up. `eventually` answers (assert it, with a message that says what was left), `wait_until` fails the test
itself; `eventually_async` polls without blocking the event loop the condition depends on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05) -> T:
    """`predicate()`'s first truthy answer, asked every `interval` seconds; after `timeout`, its answer at the
    deadline (falsy)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = "") -> T:
    """As `eventually`, but a condition still false after `timeout` fails the test (naming `what`)."""
    value = eventually(predicate, timeout, interval)
    if not value:
        raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
    return value


def until_true(what: str, check: Callable[[], T], timeout: float = 20.0) -> T:
    """Poll `check` every 0.2 s until it gives something true; fails naming `what` and the last answer (a whole-flow
    test's API read: the answer says where the flow stopped)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: still {last!r} after {timeout} s")


async def eventually_async(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02,
                           ignoring: tuple[type[Exception], ...] = ()) -> T | None:
    """`eventually` on the event loop: sleeps with asyncio, so that the tasks making the condition true run.
    `ignoring`: exceptions that mean "not yet" (a state still missing); None if the last look raised one."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            value: T | None = predicate()
        except ignoring:
            value = None
        if value or loop.time() >= deadline:
            return value
        await asyncio.sleep(interval)
