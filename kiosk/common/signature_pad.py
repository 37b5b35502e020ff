"""A signature pad (static/signature_pad.js, vendored, written for shopfloor): the customer signs with a finger or a
stylus on the tablet; the server holds the PNG of the ink after every stroke, so signing needs no round trip to the
browser and a tap on "sign" right after the last stroke still has all of it (events arrive in the order sent)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from nicegui import ui

PNG_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 2 * 1024 * 1024  # far above a signature's few tens of kB: anything bigger did not come from the pad


def decode_png(data_url: Any) -> bytes | None:
    """The PNG inside a data URL the pad sent, or None for anything else (blank pad, damaged or foreign data)."""
    if not isinstance(data_url, str) or not data_url.startswith(PNG_PREFIX):
        return None
    encoded = data_url[len(PNG_PREFIX):]
    if len(encoded) > MAX_PNG_BYTES * 4 // 3 + 4:
        return None
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return png if png.startswith(PNG_MAGIC) else None


class SignaturePad(ui.element, component="static/signature_pad.js"):
    """`png` is the signature drawn so far (None while the pad is blank); `on_ink` is called after each stroke and
    after wipe() with it."""

    def __init__(self, *, placeholder: str = "", height: int = 260,
                 on_ink: Callable[[bytes | None], Any] | None = None) -> None:
        super().__init__()
        self.png: bytes | None = None
        self.strokes = 0
        self._on_ink = on_ink
        self._props["placeholder"] = placeholder
        self._props["height"] = height
        self._props["disabled"] = False
        self.classes("w-full")
        self.on("ink", self._ink, ["png", "strokes"])

    async def _ink(self, event: Any) -> None:
        args = event.args if isinstance(event.args, dict) else {}
        self.png = decode_png(args.get("png"))
        self.strokes = int(args.get("strokes") or 0)
        if self._on_ink is not None:
            result = self._on_ink(self.png)
            if hasattr(result, "__await__"):
                await result

    def wipe(self) -> None:
        """Clears the ink (Element.clear() would remove children); the browser answers with an empty "ink" event,
        and `png` is None at once."""
        self.png = None
        self.strokes = 0
        self.run_method("clear")

    def set_enabled(self, enabled: bool) -> None:
        self._props["disabled"] = not enabled
        self.update()
