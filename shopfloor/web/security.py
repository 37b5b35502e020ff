"""What every HTTP answer of the web server carries, and which requests' proxy headers are believed.

The server shares the shop LAN with the customers' Wi-Fi, so:

- every response says how the browser may use it: a Content-Security-Policy as strict as NiceGUI allows (its
  page is an inline module script that compiles Vue templates at run time: 'unsafe-inline' and 'unsafe-eval'
  for scripts, inline styles for Quasar and Tailwind; everything else from this server only), never inside a
  frame (clickjacking a kiosk's sign-in or a booking), no MIME sniffing, no full URL in the Referer (board
  links carry a pairing token);
- X-Forwarded-For/-Proto/-Host/-Prefix and Forwarded are honoured only from the configured reverse proxies
  (`[web] trusted_proxies`) and removed from every other request before anything reads them: NiceGUI writes
  X-Forwarded-Prefix into every page's script and asset URLs and into redirects, and the client address is what
  wrong PINs are counted by.

`install` wraps the application's whole middleware stack: NiceGUI adds its own middlewares (sessions, the
prefix redirect) inside `ui.run`, after our code ran, and they read these headers too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any, cast

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from shopfloor.settings import WebSettings
from shopfloor.web.request_limits import BodySizeLimit, import_paths, photo_body_bytes, photo_paths

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
_SECURITY_HEADER_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)

# Headers a client could use to claim another address, scheme, host or path prefix.
FORWARDED_HEADERS = frozenset({b"forwarded", b"x-real-ip", b"x-client-ip"})
_FORWARDED_PREFIX = b"x-forwarded-"


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response (replacing any a route set itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _SECURITY_HEADER_NAMES]
                message = {**message, "headers": [*headers, *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ForwardedHeadersGuard:
    """Believes proxy headers from `trusted` peers only (client address and scheme from X-Forwarded-For/-Proto,
    as uvicorn's ProxyHeadersMiddleware does; the rest left for NiceGUI), and strips them from anyone else."""

    def __init__(self, app: ASGIApp, trusted: Sequence[IPNetwork]) -> None:
        self.app = app
        self.trusted = tuple(trusted)
        # (uvicorn types ASGI more narrowly than Starlette; the protocol is the same)
        self.via_proxy: ASGIApp = cast(ASGIApp, ProxyHeadersMiddleware(
            cast(Any, app), trusted_hosts=[str(net) for net in self.trusted])) if self.trusted else app

    def is_trusted(self, host: str | None) -> bool:
        if not host or not self.trusted:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:  # a Unix socket's peer has no address
            return False
        return any(address in net for net in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if self.is_trusted(client[0] if client else None):
            await self.via_proxy(scope, receive, send)
            return
        headers = scope.get("headers") or []
        if any(_is_forwarded(name) for name, _ in headers):
            scope = {**scope, "headers": [(k, v) for k, v in headers if not _is_forwarded(k)]}
        await self.app(scope, receive, send)


def _is_forwarded(name: bytes) -> bool:
    name = name.lower()
    return name.startswith(_FORWARDED_PREFIX) or name in FORWARDED_HEADERS


def wrap(app: ASGIApp, web: WebSettings, photo_max_mb: int | None = None) -> ASGIApp:
    """The guards around `app`, outermost first: headers on every answer (the 413 too), proxy headers checked
    before anything else reads them, then the body size limit (a reception photo's: [reception] photo_max_mb)."""
    limited = BodySizeLimit(app, max_bytes=web.max_body_kb * 1024, import_bytes=web.max_import_mb * 1024 * 1024,
                            import_paths=import_paths(), photo_paths=photo_paths(),
                            photo_bytes=photo_body_bytes(photo_max_mb) if photo_max_mb else None)
    return SecurityHeaders(ForwardedHeadersGuard(limited, web.trusted_proxies))


def install(app: FastAPI, web: WebSettings, photo_max_mb: int | None = None) -> None:
    """Put the guards around the application's whole middleware stack once it is built (at the first request or
    lifespan event, after `ui.run` has added NiceGUI's middlewares)."""
    build: Callable[[], ASGIApp] = app.build_middleware_stack
    if getattr(build, "shopfloor_guarded", False):
        return

    def build_guarded() -> ASGIApp:
        return wrap(build(), web, photo_max_mb)

    build_guarded.shopfloor_guarded = True  # type: ignore[attr-defined]
    app.build_middleware_stack = build_guarded  # type: ignore[method-assign]


def uvicorn_options(web: WebSettings) -> dict[str, object]:
    """uvicorn's own proxy handling (by default it believes X-Forwarded-For from 127.0.0.1) is left to the
    guard, which checks the same list; forwarded_allow_ips names it for anyone reading uvicorn's settings."""
    return {"proxy_headers": False, "forwarded_allow_ips": ",".join(str(n) for n in web.trusted_proxies) or ""}
