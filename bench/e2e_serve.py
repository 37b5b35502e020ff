"""`shopfloor demo …` exactly as `python -m shopfloor.cli demo …` runs it, plus probes for bench/latency.py that
append one line per event to the file named by $SHOPFLOOR_BENCH_PROBES ("<event> <unix time> [detail]"):

- `commit`: a commit that wrote outbox rows. Taken in `Database.outbox_committed`, the product's own event
  that wakes the outbox publisher right after such a commit (subscribed first, so before the wake-up).
  Detail: the topics of the rows that transaction wrote, space-separated (so bench/sustained.py can tell
  which of many concurrent commits carried which change).
- `publish`: the outbox publisher starts sending a batch (detail: its first topic).
- `apply` / `applied`: the board store takes one MQTT message on the event loop, before and after it told
  every page (detail: the topic). Board and lounge stores alike.
- `gc`: a garbage collection of generation 2, or of any generation taking over 5 ms (detail: generation and
  milliseconds; the time is its start).

Each probe costs a few microseconds (one line-buffered write). Nothing else changes, unless a what-if is asked
for (latency.py --what-if …; never the product as shipped):

- $SHOPFLOOR_BENCH_GC_FREEZE=1: on SIGUSR1 (the bench sends it once the day is loaded and warm), collect and
  `gc.freeze()`, so later full collections skip everything alive by then.
- $SHOPFLOOR_BENCH_GC_THRESHOLD=A,B,C: `gc.set_threshold(A, B, C)` at start (Python's default: 700, 10, 10).
- $SHOPFLOOR_BENCH_OUTBOX_NO_POLL=1: NiceGUI's per-page outbox loop waits for its next message without the
  1-second timeout it polls with (nicegui/outbox.py, Outbox.loop; copied from NiceGUI 3.18 with only that
  changed; `Outbox.stop()` sets the event, so the loop still ends).
- $SHOPFLOOR_BENCH_RECONNECT_TIMEOUT=S: `ui.run(reconnect_timeout=S)` instead of the product's value (NiceGUI
  pings every page's socket every 0.8 × S seconds).

A diagnosis, not a what-if: $SHOPFLOOR_BENCH_LOOP_CENSUS=FILE runs the server on the stdlib's asyncio loop
instead of uvloop (whose callbacks run in C), counts every callback the loop runs (a task's step by its
coroutine's name, other callbacks by theirs) and every time the loop wakes from its selector, and writes the
counts since the last SIGUSR2 to FILE on each SIGUSR2 (bench/idle_wakeups.py --census).

    python bench/e2e_serve.py demo --data-dir DIR --http-port N --mqtt-port M …
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from shopfloor import cli
from shopfloor import db as db_module

ENV = "SHOPFLOOR_BENCH_PROBES"


def install(path: str) -> None:
    from shopfloor import publisher as publisher_module
    from shopfloor.board import store as store_module
    from shopfloor.services import outbox as outbox_module

    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    lock = threading.Lock()

    def note(event: str, at: float, detail: str = "") -> None:
        with lock:
            out.write(f"{event} {at:.6f} {detail}\n")

    # the topics the current thread's write transaction put in the outbox (a transaction runs in one thread)
    written = threading.local()
    original_add = outbox_module._add

    def add(session: Any, topic: str, *args: Any, **kwargs: Any) -> None:
        original_add(session, topic, *args, **kwargs)
        written.topics = [*getattr(written, "topics", []), topic]

    outbox_module._add = add

    original_write = db_module.Database.write

    def write(self: db_module.Database) -> Any:
        written.topics = []  # a rolled-back transaction's topics are not the next one's
        return original_write(self)

    db_module.Database.write = write  # type: ignore[method-assign]

    def committed() -> None:
        note("commit", time.time(), " ".join(getattr(written, "topics", [])))
        written.topics = []

    original_init = db_module.Database.__init__

    def init(self: db_module.Database, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # before the publisher (built later) subscribes its wake-up
        self.outbox_committed.subscribe(committed)

    db_module.Database.__init__ = init  # type: ignore[method-assign]

    original_publish_all = publisher_module.OutboxPublisher._publish_all

    def publish_all(self: Any, messages: list[tuple[str, bytes, bool]]) -> bool:
        if messages:
            note("publish", time.time(), f"{messages[0][0]} {len(messages)}")
        return bool(original_publish_all(self, messages))

    publisher_module.OutboxPublisher._publish_all = publish_all  # type: ignore[method-assign]

    original_apply = store_module.BoardStore.apply

    def apply(self: Any, topic: str, raw: bytes) -> None:
        note("apply", time.time(), topic)
        original_apply(self, topic, raw)
        note("applied", time.time(), topic)

    store_module.BoardStore.apply = apply  # type: ignore[method-assign]

    started: dict[int, float] = {}

    def collected(phase: str, info: dict[str, Any]) -> None:
        ident = threading.get_ident()
        if phase == "start":
            started[ident] = time.time()
            return
        begin = started.pop(ident, None)
        if begin is None:
            return
        ms = (time.time() - begin) * 1000
        if info.get("generation") == 2 or ms > 5:
            note("gc", begin, f"{info.get('generation')} {ms:.1f}")

    gc.callbacks.append(collected)


def install_loop_census(path: str) -> None:
    import asyncio
    import collections
    import json
    import selectors

    import uvicorn.config

    # the stdlib loop, whose callbacks Python can count (uvloop runs them in C); the timers are the same
    uvicorn.config.LOOP_FACTORIES["auto"] = uvicorn.config.LOOP_FACTORIES["asyncio"]
    counts: collections.Counter[str] = collections.Counter()
    original_run = asyncio.events.Handle._run

    def name_of(callback: Any) -> str:
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            coro = owner.get_coro()
            return f"task {getattr(coro, '__qualname__', repr(coro))}"
        if isinstance(owner, asyncio.Future):
            return "future callback"
        return getattr(callback, "__qualname__", repr(callback))[:120]

    def run(self: Any) -> None:
        counts[name_of(self._callback)] += 1
        original_run(self)

    asyncio.events.Handle._run = run  # type: ignore[method-assign]
    original_select = selectors.EpollSelector.select

    def select(self: Any, timeout: float | None = None) -> Any:
        ready = original_select(self, timeout)
        counts["(loop woke: I/O)" if ready else "(loop woke: timer)"] += 1
        return ready

    selectors.EpollSelector.select = select  # type: ignore[method-assign]

    def dump(_signum: int, _frame: object) -> None:
        Path(path).write_text(json.dumps(dict(counts.most_common())), encoding="utf-8")
        counts.clear()

    signal.signal(signal.SIGUSR2, dump)


def install_what_ifs() -> None:
    if os.environ.get("SHOPFLOOR_BENCH_GC_FREEZE"):
        def freeze(_signum: int, _frame: object) -> None:
            gc.collect()
            gc.freeze()

        signal.signal(signal.SIGUSR1, freeze)
    if os.environ.get("SHOPFLOOR_BENCH_GC_THRESHOLD"):
        gc.set_threshold(*(int(x) for x in os.environ["SHOPFLOOR_BENCH_GC_THRESHOLD"].split(",")))
    if os.environ.get("SHOPFLOOR_BENCH_OUTBOX_NO_POLL"):
        _outbox_without_poll()
    if os.environ.get("SHOPFLOOR_BENCH_RECONNECT_TIMEOUT"):
        from nicegui import ui

        seconds = float(os.environ["SHOPFLOOR_BENCH_RECONNECT_TIMEOUT"])
        original_run = ui.run

        def run(*args: Any, **kwargs: Any) -> Any:
            kwargs["reconnect_timeout"] = seconds
            return original_run(*args, **kwargs)

        ui.run = run  # type: ignore[assignment]



def _outbox_without_poll() -> None:
    import asyncio

    import nicegui
    from nicegui import core, outbox
    from nicegui.dependencies import JsComponent

    if not nicegui.__version__.startswith("3.18."):
        raise RuntimeError(f"the outbox what-if copies NiceGUI 3.18's Outbox.loop, not {nicegui.__version__}'s")

    async def loop(self: Any) -> None:
        self._enqueue_event = asyncio.Event()
        self._enqueue_event.set()
        while not self._should_stop:
            try:
                if not self._enqueue_event.is_set():
                    await self._enqueue_event.wait()  # NiceGUI: wait_for(…, timeout=1.0) and loop again
                    continue
                client = self.client
                if not client or not client.has_socket_connection:
                    await asyncio.sleep(0.1)
                    continue
                self._enqueue_event.clear()
                coros = []
                if self.updates:
                    data = {element_id: None if element is outbox.deleted else element._to_dict()
                            for element_id, element in self.updates.items()}
                    js_components = [
                        component for element in self.updates.values()
                        if not isinstance(element, outbox.Deleted)
                        and isinstance((component := element.component), JsComponent)
                        and component.name not in self._loaded_components]
                    if js_components:
                        coros.append(self._emit((client.id, "load_js_components", {
                            "components": [{"key": c.key, "tag": c.tag} for c in js_components]})))
                        self._loaded_components.update(c.name for c in js_components)
                    coros.append(self._emit((client.id, "update", data)))
                    self.updates.clear()
                if self.messages:
                    for message in self.messages:
                        coros.append(self._emit(message))
                    self.messages.clear()
                for coro in coros:
                    try:
                        await coro
                    except Exception as e:
                        core.app.handle_exception(e)
            except asyncio.CancelledError:
                break
            except Exception as e:
                core.app.handle_exception(e)
                await asyncio.sleep(0.1)

    outbox.Outbox.loop = loop  # type: ignore[method-assign]


if __name__ == "__main__":
    if os.environ.get(ENV):
        install(os.environ[ENV])
    if os.environ.get("SHOPFLOOR_BENCH_LOOP_CENSUS"):
        install_loop_census(os.environ["SHOPFLOOR_BENCH_LOOP_CENSUS"])
    install_what_ifs()
    sys.exit(cli.main(sys.argv[1:]))
