"""How much a client may send: a request body over the limit is answered 413 at once.

A body with a Content-Length over the limit is refused before a byte of it is read. A chunked body (no
Content-Length) is counted as it arrives: the moment it passes the limit the client gets its 413, the
application is told the client went away, and nothing it still tries to send goes out. So no request can make
the server hold (or echo back, in a 422) more than the limit.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# The DMS import: the API's POST and the /data page's upload (NiceGUI's upload route of any client and element).
IMPORT_PATHS = (r"/api/v1/imports", r"/_nicegui/client/[^/]+/upload/[^/]+")
# A reception photo through the API: the photo itself is refused over [reception] photo_max_mb by its route (a 413
# that says so); the body around it may be that much plus its multipart wrapping.
PHOTO_PATHS = (r"/api/v1/repair-orders/[^/]+/photos",)
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers: a few hundred bytes, with room for a long file name


def import_paths() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in IMPORT_PATHS))


def photo_paths() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in PHOTO_PATHS))


def photo_body_bytes(photo_max_mb: int) -> int:
    """The largest request body a photo upload may be: the photo and its multipart wrapping."""
    return photo_max_mb * 1024 * 1024 + MULTIPART_OVERHEAD


class BodySizeLimit:
    """413 {"detail": …} for a body over `max_bytes` (`import_bytes` on paths matching `import_paths`,
    `photo_bytes` on those matching `photo_paths`)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, import_bytes: int | None = None,
                 import_paths: re.Pattern[str] | None = None, photo_bytes: int | None = None,
                 photo_paths: re.Pattern[str] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.import_bytes = import_bytes if import_bytes is not None else max_bytes
        self.import_paths = import_paths
        self.photo_bytes = photo_bytes if photo_bytes is not None else max_bytes
        self.photo_paths = photo_paths

    def limit_for(self, path: str) -> int:
        if self.import_paths is not None and self.import_paths.fullmatch(path):
            return self.import_bytes
        if self.photo_paths is not None and self.photo_paths.fullmatch(path):
            return self.photo_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope.get("headers") or ())
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        await _LimitedRequest(self.app, limit)(scope, receive, send)


class _LimitedRequest:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.response_started = False
        self.refused = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.refused = True
                    if not self.response_started:
                        self.response_started = True
                        await _too_large(send, self.limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if self.refused:
                return  # the client has its 413; the application's own answer goes nowhere
            if message["type"] == "http.response.start":
                self.response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not self.refused:
                raise
            # the application failed on the body it never got (a "client disconnected" of its own kind)
            log.debug("request to %s stopped at %d bytes (limit %d)", scope.get("path"), self.received, self.limit,
                      exc_info=True)


def _content_length(headers: Sequence[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server's HTTP parser refuses it before we are called
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body too large (limit {_size(limit)})"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n % (1024 * 1024) == 0 else f"{n // 1024} kB"
