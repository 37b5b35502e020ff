"""The boards' stylesheet: one local file (no CDN, screens may have no internet), linked from each board page."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from nicegui import app, ui

STATIC_DIR = Path(__file__).parent / "static"
URL_PATH = "/board-static"


def serve() -> None:
    """Expose board/static once per app (every page class calls this on register)."""
    if not any(getattr(route, "path", None) == URL_PATH for route in app.routes):
        app.add_static_files(URL_PATH, STATIC_DIR)


def link_stylesheet(request: Request) -> None:
    # the mtime busts the screens' cache after an upgrade; the prefix keeps it right behind a proxy
    prefix = quote(request.headers.get("X-Forwarded-Prefix", ""), safe="/:@!$&'()*+,;=%") \
        + request.scope.get("root_path", "")  # as NiceGUI builds its own asset URLs
    version = int((STATIC_DIR / "board.css").stat().st_mtime)
    ui.add_head_html(f'<link rel="stylesheet" href="{html.escape(f"{prefix}{URL_PATH}/board.css?v={version}")}">')
