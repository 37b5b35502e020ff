"""Service calls from the kiosk: blocking database work goes to NiceGUI's thread pool, never the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

from nicegui import app, run

P = ParamSpec("P")
T = TypeVar("T")


async def io(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """run.io_bound, except that a call the server can no longer make (it is shutting down) is cancelled instead
    of answering None, which callers took for a result (NiceGUI 4.0 does the same)."""
    if app.is_stopping:
        raise asyncio.CancelledError
    try:
        return await asyncio.get_running_loop().run_in_executor(run.thread_pool, partial(fn, *args, **kwargs))
    except RuntimeError as exc:
        if "cannot schedule new futures after shutdown" in str(exc):
            raise asyncio.CancelledError from exc
        raise
