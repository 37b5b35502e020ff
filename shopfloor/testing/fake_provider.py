"""A local fake of the message gateways (Alibaba Cloud SMS and WeChat's template messages) for tests: a threaded
HTTP server on 127.0.0.1 that records every request and answers as its mode says.

Modes: ok (the gateway's success), fail500 (HTTP 500), busy (the gateway's flow-control code: try later), refuse
(a refusal code: a bad number, a template not approved), hang (reads the request, answers nothing until
release()), down (the port closed). `script(["fail500", "ok"])` gives the next requests' modes in turn; then the
standing `mode`. The token endpoint of WeChat always answers (unless down or hanging): the modes are about
messages."""

from __future__ import annotations

import itertools
import json
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shopfloor.ports import free_port

MODES = ("ok", "fail500", "busy", "refuse", "hang", "down")


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]
    mode: str  # how it was answered

    @property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def is_message(self) -> bool:
        return "/cgi-bin/token" not in self.path


class FakeProvider:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.mode = "ok"
        self._script: list[str] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._ids = itertools.count(1)
        self.tokens_issued = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- control ----------------------------------------------------------------------------------------------
    def start(self) -> FakeProvider:
        handler = _handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-provider").start()
        return self

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: {MODES}")
        if mode == "down" and self._server is not None:
            self._close()
        elif mode != "down" and self._server is None:
            self.start()
        if mode == "hang":
            self._released.clear()
        self.mode = mode

    def script(self, modes: Iterable[str]) -> None:
        with self._lock:
            self._script = list(modes)

    def release(self) -> None:
        """Let the hanging requests answer (ok: the gateway did have them)."""
        self._released.set()

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._close()

    def _close(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    # -- what it saw --------------------------------------------------------------------------------------------
    def messages(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.is_message]

    def accepted(self) -> list[Received]:
        """The message requests answered with success (hanging ones count once released)."""
        return [r for r in self.messages() if r.mode in ("ok", "hang")]

    def _next_mode(self, message: bool) -> str:
        with self._lock:
            if not message:
                return "ok" if self.mode not in ("hang",) else "hang"
            return self._script.pop(0) if self._script else self.mode

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet in the test output
            pass

        def do_GET(self) -> None:
            self._answer(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(self.rfile.read(length))

        def _answer(self, body: bytes) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            message = "/cgi-bin/token" not in parsed.path
            mode = fake._next_mode(message)
            fake._record(Received(self.command, parsed.path, dict(urllib.parse.parse_qsl(parsed.query)), body,
                                  {k.lower(): v for k, v in self.headers.items()}, mode))
            if mode == "hang":
                fake._released.wait()
                mode = "ok"
            if mode == "fail500":
                self._send(500, {"Code": "InternalError", "Message": "fake 500"})
            elif not message:
                fake.tokens_issued += 1
                self._send(200, {"access_token": f"TOKEN{fake.tokens_issued}", "expires_in": 7200})
            elif parsed.path.startswith("/cgi-bin/"):
                self._send(200, _wechat(mode, next(fake._ids)))
            else:
                self._send(200, _aliyun(mode, next(fake._ids)))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a timeout): nothing to tell it

    return Handler


def _aliyun(mode: str, n: int) -> dict[str, Any]:
    if mode == "busy":
        return {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1", "RequestId": f"R{n}"}
    if mode == "refuse":
        return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": f"R{n}"}
    return {"Code": "OK", "Message": "OK", "BizId": f"9{n:05d}^0", "RequestId": f"R{n}"}


def _wechat(mode: str, n: int) -> dict[str, Any]:
    if mode == "busy":
        return {"errcode": -1, "errmsg": "system error"}
    if mode == "refuse":
        return {"errcode": 43004, "errmsg": "require subscribe"}
    return {"errcode": 0, "errmsg": "ok", "msgid": 200000 + n}
