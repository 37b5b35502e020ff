"""/manager/figures goes out before its report is ready: a report that has days to compute (none of them cached
yet, after an upgrade) no longer runs into NiceGUI's 3 s limit for building a page, which left it blank."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nicegui import Client, app, ui
from nicegui.storage import Storage
from nicegui.testing import User
from nicegui.testing.user_simulation import user_simulation

from shopfloor import settings as settings_mod
from shopfloor.clock import FixedClock
from shopfloor.credentials import generate
from shopfloor.db import sqlite_url
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import sign_in as sign_in_route
from shopfloor.main import Options, Shopfloor
from shopfloor.services.figures import FiguresService
from shopfloor.testing.plugin import DEMO_NOW, DEMO_PINS, copy_sqlite

ZH = Translator("zh-CN")
MANAGER = "赵经理"
SLOW_SECONDS = 4.0  # longer than NiceGUI's response_timeout (3 s)


@pytest.fixture
async def manager(tmp_path: Path, seeded_sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[User]:
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
                person = next(p for p in system.auth.advisors() if p.name == MANAGER)
                await user.open("/kiosk")
                user.find(marker=f"advisor-{person.id}").click()
                for key in [*DEMO_PINS[MANAGER], "OK"]:
                    user.find(marker=f"pin-{key}").click()
                for _ in range(100):
                    if await _sees(user, marker="signed-in"):
                        break
                    await asyncio.sleep(0.05)
                yield user
            finally:
                Client.page_routes.clear()
    finally:
        system.db.dispose()


async def _sees(user: User, **what: Any) -> bool:
    try:
        await user.should_see(**what, retries=1)
    except AssertionError:
        return False
    return True


async def test_a_slow_report_still_gets_a_page_and_its_figures_follow(manager: User,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    report = FiguresService.report

    def slow_report(self: FiguresService, *args: Any, **kwargs: Any) -> dict[str, Any]:
        time.sleep(SLOW_SECONDS)  # in the thread pool, as a report computing months of days would
        return report(self, *args, **kwargs)

    monkeypatch.setattr(FiguresService, "report", slow_report)
    started = time.monotonic()
    await manager.open("/manager/figures")  # answered with 200, not NiceGUI's 500 after 3 s
    assert time.monotonic() - started < SLOW_SECONDS
    await manager.should_see(ZH("figures.title"))
    await manager.should_not_see(kind=ui.table)
    for _ in range(200):
        if await _sees(manager, kind=ui.table):
            break
        await asyncio.sleep(0.05)
    await manager.should_see(kind=ui.table)  # the figures came once the report was ready
    await manager.should_see(ZH("figures.tile.appointment_rate"))
