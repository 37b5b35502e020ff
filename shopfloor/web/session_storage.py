"""Where NiceGUI keeps each browser's server-side storage, and for how long.

NiceGUI writes `storage-user-<session id>.json` for a browser once something is stored for it (who signed in,
the language, a wall screen's pairing), by default into `.nicegui/` of whatever directory the server was
started in, and never deletes it. Here the files live in DATA_DIR/sessions (only the server's user may read
them), and a file is deleted once it is empty or unused for longer than the session cookie lives: the browser
has forgotten its cookie by then, so nobody can reach that storage again. A file counts as used while a page
of its browser is connected (a wall screen stays connected for weeks) and is touched on every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from nicegui import Client, app
from nicegui.storage import USER_PREFIX, Storage

log = logging.getLogger(__name__)

SESSIONS_DIR = "sessions"
# The session cookie's Max-Age (the browser drops the cookie this long after the server last sent it).
SESSION_LIFETIME = timedelta(days=14)
PRUNE_EVERY_SECONDS = 3600.0


def use_data_dir(data_dir: Path) -> Path:
    """Point NiceGUI's file storage at DATA_DIR/sessions; call before the server takes its first request."""
    folder = (data_dir / SESSIONS_DIR).resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    Storage.path = folder
    os.environ["NICEGUI_STORAGE_PATH"] = str(folder)  # for anything that reads it later
    return folder


def session_file(folder: Path, session_id: str) -> Path:
    return folder / f"storage-{USER_PREFIX}{session_id}.json"


def touch(folder: Path, session_id: str | None) -> None:
    """Mark a session's file used now (nothing happens when the browser has nothing stored)."""
    if not session_id:
        return
    with contextlib.suppress(FileNotFoundError):
        os.utime(session_file(folder, session_id))


def prune(folder: Path, *, max_age: timedelta = SESSION_LIFETIME, in_use: Iterable[str] = (),
          now: float | None = None) -> list[Path]:
    """Delete session files that are empty or unused for longer than `max_age`; those of `in_use` sessions are
    kept (and touched). Returns what was deleted."""
    now = time.time() if now is None else now
    keep = {session_file(folder, sid).name for sid in in_use}
    removed = []
    for path in folder.glob(f"storage-{USER_PREFIX}*.json"):
        if path.name in keep:
            with contextlib.suppress(FileNotFoundError):
                os.utime(path)
            continue
        try:
            stale = path.stat().st_mtime < now - max_age.total_seconds() or _is_empty(path)
            if stale:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue
    return removed


def _is_empty(path: Path) -> bool:
    if path.stat().st_size > 64:
        return False
    try:
        return not json.loads(path.read_text(encoding="utf-8") or "{}")
    except ValueError:
        return False  # half-written or foreign: let its age decide


def connected_sessions() -> set[str]:
    """Session ids of the browsers that have a page open now."""
    ids = set()
    for client in list(Client.instances.values()):
        with contextlib.suppress(AssertionError, AttributeError, KeyError):
            session_id = client.request.session.get("id")
            if isinstance(session_id, str):
                ids.add(session_id)
    return ids


def keep_tidy(folder: Path, *, every_seconds: float = PRUNE_EVERY_SECONDS) -> None:
    """Touch a session's file whenever one of its pages connects, and prune the folder at startup and then
    every `every_seconds` (register before ui.run)."""

    def on_connect(client: Client) -> None:
        with contextlib.suppress(AssertionError, AttributeError):
            touch(folder, client.request.session.get("id"))

    async def prune_forever() -> None:
        while True:
            try:
                removed = await asyncio.to_thread(prune, folder, in_use=connected_sessions())
                if removed:
                    log.info("removed %d stale browser session files from %s", len(removed), folder)
            except Exception:
                log.exception("pruning browser session files in %s failed", folder)
            await asyncio.sleep(every_seconds)

    tasks: list[asyncio.Task[None]] = []

    def start() -> None:
        tasks.append(asyncio.create_task(prune_forever()))

    def stop() -> None:
        for task in tasks:
            task.cancel()

    app.on_connect(on_connect)
    app.on_startup(start)
    app.on_shutdown(stop)
