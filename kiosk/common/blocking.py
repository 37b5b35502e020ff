"""Service calls from the kiosk: blocking database work goes to NiceGUI's thread pool, never the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from nicegui import run

P = ParamSpec("P")
T = TypeVar("T")


async def io(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    # run.io_bound answers None only while the server shuts down, when no page is left to show the result.
    return cast(T, await run.io_bound(fn, *args, **kwargs))
