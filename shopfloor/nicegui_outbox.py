"""NiceGUI's per-page outbox loop, waiting for its next message without polling.

NiceGUI 3.18's `Outbox.loop` (nicegui/outbox.py) waits for something to send with
`asyncio.wait_for(event.wait(), timeout=1.0)` and loops again on the timeout: every connected page wakes the
server once a second for nothing. With 50 wall screens that was about half of the server's idle CPU
(docs/benchmarks.md); the timeout serves no purpose, because everything that gives the loop work, or asks it to
stop (`Outbox.stop`), sets the event. `install()` replaces the loop with the same code minus the timeout, for
the NiceGUI version it was copied from only: another version keeps its own loop (and tests/test_idle.py fails,
asking for the copy to be renewed).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from typing import Any

import nicegui
from nicegui import core, outbox
from nicegui.dependencies import JsComponent

log = logging.getLogger(__name__)

COPIED_FROM = "3.18.0"
# sha256 of inspect.getsource(nicegui.outbox.Outbox.loop) in that version: a changed loop is not replaced
ORIGINAL_SHA256 = "efb7d8934c322314ea07ef57f5558569fca7194e93c755c7bc7c8d36dca16d1a"

_original = outbox.Outbox.loop


def original_source_sha256() -> str:
    return hashlib.sha256(inspect.getsource(_original).encode()).hexdigest()


async def _loop(self: Any) -> None:
    """Send updates and messages to all clients in an endless loop (NiceGUI's, without the 1-s timeout)."""
    self._enqueue_event = asyncio.Event()
    self._enqueue_event.set()

    while not self._should_stop:
        try:
            if not self._enqueue_event.is_set():
                await self._enqueue_event.wait()  # NiceGUI: wait_for(…, timeout=1.0), and on timeout `continue`
                continue

            client = self.client
            if not client or not client.has_socket_connection:
                await asyncio.sleep(0.1)
                continue

            self._enqueue_event.clear()

            coros = []
            if self.updates:
                data = {
                    element_id: None if element is outbox.deleted else element._to_dict()
                    for element_id, element in self.updates.items()
                }
                js_components = [
                    component
                    for element in self.updates.values()
                    if not isinstance(element, outbox.Deleted)
                    and isinstance((component := element.component), JsComponent)
                    and component.name not in self._loaded_components
                ]
                if js_components:
                    coros.append(self._emit((client.id, "load_js_components", {
                        "components": [{"key": c.key, "tag": c.tag} for c in js_components],
                    })))
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


def install() -> bool:
    """Replace NiceGUI's outbox loop (before any page is served); False when this NiceGUI is not the one copied."""
    if nicegui.__version__ != COPIED_FROM or original_source_sha256() != ORIGINAL_SHA256:
        log.warning("NiceGUI %s: its outbox loop is not the one shopfloor/nicegui_outbox.py copied from %s; every "
                    "connected page keeps waking the server once a second", nicegui.__version__, COPIED_FROM)
        return False
    outbox.Outbox.loop = _loop  # type: ignore[method-assign]
    return True
