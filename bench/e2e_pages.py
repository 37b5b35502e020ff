"""Wall-screen board pages simulated as NiceGUI's browser side does it (static/nicegui.js), without a browser:

1. Pairing: GET /board/appointments?token=… with a cookie jar of its own (one browser each); the 303 that
   answers it is not followed. Then GET /board/appointments (the cookie says "paired"): the page HTML carries
   the client id and next message id in its socket.io query. Pairing is done long before the measurements,
   because NiceGUI keeps the client of a page that answered with a redirect, never connected, polling its
   outbox every 100 ms until it prunes it after 60-70 s: not what a screen paired long ago costs.
2. Connect socket.io at /_nicegui_ws/socket.io (websocket transport) with that query plus a document and tab
   id and `implicit_handshake=true`, as nicegui.js's createApp() does; the server puts the socket in the
   client's room and starts sending.
3. Receive `run_javascript` messages (`runMethod(<element>, "upsert", [card])`: what BoardView.upsert_card
   sends) and `update`s; acknowledge the next message id every 3 s when something arrived, like nicegui.js
   (so the server prunes its message history as it would for a browser).

Arrival time = when python-socketio hands the decoded message to the handler (a browser would then still
have to draw it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import socketio

CLIENT_ID = re.compile(r"'client_id': '([0-9a-f-]{36})'")
NEXT_MESSAGE_ID = re.compile(r"'next_message_id': (\d+)")
CARD = re.compile(r'\\"key\\":')

Listener = Callable[[int, float, str], None]


class PageError(RuntimeError):
    pass


class BoardPage:
    def __init__(self, index: int, base: str, path: str, token: str, listener: Listener) -> None:
        self.index = index
        self.base = base
        self.path = path
        self.token = token
        self.listener = listener
        self.http = httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=30)
        self.sio = socketio.AsyncClient(reconnection=False)
        self.client_id = ""
        self.cards = 0
        self.html_bytes = 0
        self.next_message_id = 0
        self.acked = -1
        self.received = 0
        self._ack_task: asyncio.Task[None] | None = None
        self.sio.on("run_javascript", self._on_javascript)
        self.sio.on("update", self._on_update)
        self.sio.on("load_js_components", self._on_other)

    async def pair(self) -> None:
        response = await self.http.get(self.path, params={"token": self.token}, follow_redirects=False)
        if response.status_code != 303:
            raise PageError(f"page {self.index}: pairing answered {response.status_code}, not 303")

    async def open(self) -> None:
        response = await self.http.get(self.path)
        if response.status_code != 200 or response.history:
            raise PageError(f"page {self.index}: {response.status_code} after {len(response.history)} redirects")
        html = response.text
        found, next_id = CLIENT_ID.search(html), NEXT_MESSAGE_ID.search(html)
        if not found or not next_id:
            raise PageError(f"page {self.index}: no socket.io query in the page (unpaired?)")
        self.client_id = found.group(1)
        self.next_message_id = int(next_id.group(1))
        self.cards = len(CARD.findall(html))
        self.html_bytes = len(response.content)
        query = {"client_id": self.client_id, "next_message_id": self.next_message_id, "implicit_handshake": "true",
                 "document_id": str(uuid.uuid4()), "tab_id": str(uuid.uuid4())}
        cookie = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        await self.sio.connect(f"{self.base}?{urlencode(query)}", headers={"Cookie": cookie},
                               transports=["websocket"], socketio_path="/_nicegui_ws/socket.io", wait_timeout=30)
        self._ack_task = asyncio.create_task(self._ack_forever())

    def _seen(self, data: object) -> None:
        if isinstance(data, dict) and isinstance(data.get("_id"), int):
            self.next_message_id = max(self.next_message_id, data["_id"] + 1)
        self.received += 1

    def _on_javascript(self, data: dict[str, object]) -> None:
        at = time.time()
        self._seen(data)
        code = data.get("code")
        if isinstance(code, str):
            self.listener(self.index, at, code)

    def _on_other(self, data: object) -> None:
        self._seen(data)

    def _on_update(self, data: object) -> None:
        """Element updates (props, children) count too: a board may redraw by changing an element's props."""
        at = time.time()
        self._seen(data)
        self.listener(self.index, at, json.dumps(data, ensure_ascii=False, separators=(",", ":")))

    async def _ack_forever(self) -> None:
        while True:
            await asyncio.sleep(3)
            if self.acked < self.next_message_id and self.sio.connected:
                with contextlib.suppress(Exception):
                    await self.sio.emit("ack", {"client_id": self.client_id, "next_message_id": self.next_message_id})
                self.acked = self.next_message_id

    async def close(self) -> None:
        if self._ack_task is not None:
            self._ack_task.cancel()
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        await self.http.aclose()


class Pages:
    """N connected board pages and the arrival of one marked update at each of them."""

    def __init__(self, base: str, path: str, token: str) -> None:
        self.base = base
        self.path = path
        self.token = token
        self.pages: list[BoardPage] = []
        self.paired: list[BoardPage] = []  # browsers paired, pages not opened yet
        self._marker: str | None = None
        self._arrivals: dict[int, float] = {}
        self._want = 0
        self._done: asyncio.Future[None] | None = None
        self.stray = 0  # run_javascript messages that were not the awaited update

    def __len__(self) -> int:
        return len(self.pages)

    def _listen(self, index: int, at: float, code: str) -> None:
        marker = self._marker
        if marker is None or marker not in code:
            self.stray += 1
            return
        if index not in self._arrivals:
            self._arrivals[index] = at
            if len(self._arrivals) >= self._want and self._done is not None and not self._done.done():
                self._done.set_result(None)

    async def pair(self, count: int, parallel: int = 4) -> None:
        """Pair `count` more browsers (each its own cookie jar) for pages opened later."""
        semaphore = asyncio.Semaphore(parallel)

        async def one(page: BoardPage) -> None:
            async with semaphore:
                await page.pair()

        start = len(self.pages) + len(self.paired)
        new = [BoardPage(start + i, self.base, self.path, self.token, self._listen) for i in range(count)]
        self.paired += new
        await asyncio.gather(*(one(p) for p in new))

    async def grow(self, count: int, parallel: int = 4) -> None:
        """Open and connect pages until `count` are connected (pairing more browsers first if needed)."""
        if len(self.pages) + len(self.paired) < count:
            await self.pair(count - len(self.pages) - len(self.paired), parallel)
        semaphore = asyncio.Semaphore(parallel)

        async def one(page: BoardPage) -> None:
            async with semaphore:
                await page.open()

        new, self.paired = self.paired[:count - len(self.pages)], self.paired[count - len(self.pages):]
        self.pages += new
        await asyncio.gather(*(one(p) for p in new))

    def expect(self, marker: str) -> None:
        """Start waiting for a run_javascript message containing `marker` on every page (call before triggering)."""
        self._marker = marker
        self._arrivals = {}
        self._want = len(self.pages)
        self._done = asyncio.get_running_loop().create_future()

    async def arrivals(self, timeout: float) -> dict[int, float]:
        """Page index -> arrival time of the awaited update (pages that missed it are absent)."""
        assert self._done is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._done), timeout)
        arrivals, self._marker = dict(self._arrivals), None
        return arrivals

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.pages + self.paired), return_exceptions=True)
        self.pages, self.paired = [], []
