"""The staff pages in NiceGUI's simulated browser (nicegui.testing.User): the server as `shopfloor serve` builds it
on a copy of the seeded demo site, a staff member signing in on the PIN keypad, and waiting for what a page shows
(clicks and navigation run as background tasks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from nicegui import Client, app, events
from nicegui.storage import Storage

from shopfloor import settings as settings_mod
from shopfloor.clock import FixedClock
from shopfloor.credentials import generate
from shopfloor.db import sqlite_url
from shopfloor.testing.plugin import DEMO_NOW, DEMO_PINS, copy_sqlite

if TYPE_CHECKING:
    from nicegui.testing import User

    from shopfloor.main import Shopfloor
    from shopfloor.services.auth import AdvisorInfo


@pytest.fixture
async def staff_app(tmp_path: Path, seeded_sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
                    ) -> AsyncIterator[tuple[User, Shopfloor]]:
    """The server as `shopfloor serve` builds it, on a copy of the seeded demo site, with no broker behind it."""
    # imported here: the whole server and NiceGUI's test client would slow down every run of the plugin
    from nicegui.testing.user_simulation import user_simulation

    from shopfloor.kiosk.common import sign_in as sign_in_route
    from shopfloor.main import Options, Shopfloor

    monkeypatch.setattr(Storage, "path", tmp_path / "storage")
    settings = settings_mod.load(settings_mod.demo_config_path())
    system = Shopfloor(settings, generate([]), Options(
        data_dir=tmp_path, database_url=sqlite_url(copy_sqlite(seeded_sqlite_template, tmp_path)),
        embedded_broker=False, printer_agents=False), clock=FixedClock(DEMO_NOW))
    try:
        async with user_simulation() as user:
            try:
                system.register_pages()
                sign_in_route.register(app)
                yield user, system
            finally:
                # NiceGUI's reset drops the modules of registered page functions from sys.modules (meant for an
                # app's main file); ours are library modules the other tests go on using
                Client.page_routes.clear()
    finally:
        system.db.dispose()


async def sees(user: User, **what: Any) -> bool:
    """Whether the page shows `what` now (User.should_see's arguments), without failing the test."""
    try:
        await user.should_see(**what, retries=1)
    except AssertionError:
        return False
    return True


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> None:
    """Wait until `check()` is true; fail the test after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting for {check}")
        await asyncio.sleep(0.05)


def staff_member(system: Shopfloor, name: str) -> AdvisorInfo:
    """The demo staff member called `name` (plugin.DEMO_PINS holds their PIN)."""
    return next(p for p in system.auth.advisors() if p.name == name)


async def sign_in(user: User, person: AdvisorInfo) -> None:
    """Sign `person` in on the reception kiosk's keypad with their demo PIN."""
    await user.open("/kiosk")
    user.find(marker=f"advisor-{person.id}").click()
    for key in [*DEMO_PINS[person.name], "OK"]:
        user.find(marker=f"pin-{key}").click()
    await until(lambda: sees(user, marker="signed-in"))


def scan(user: User, text: str) -> None:
    """What kiosk/common/static/wedge_scanner.js sends the server when a scanner types a code: the page-wide
    `tag_scanned` event."""
    client = user.client
    assert client is not None
    listeners = [li for li in client.layout._event_listeners.values() if li.type == "tag_scanned"]
    assert listeners, "the page does not listen to the scanner"
    with client:
        for listener in listeners:
            events.handle_event(listener.handler, events.GenericEventArguments(sender=client.layout, client=client,
                                                                                args=text))
