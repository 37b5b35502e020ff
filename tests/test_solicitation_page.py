"""The call lists on /calls draw a page of entries at a time: a store with years of history has thousands of cars
due (10,603 due for maintenance in the bench store), which as cards at once would not render."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from nicegui import Client, app
from nicegui.storage import Storage
from nicegui.testing import User
from nicegui.testing.user_simulation import user_simulation

from shopfloor import settings as settings_mod
from shopfloor.clock import FixedClock
from shopfloor.credentials import generate
from shopfloor.db import sqlite_url
from shopfloor.kiosk.calls import solicit
from shopfloor.kiosk.common import sign_in as sign_in_route
from shopfloor.main import Options, Shopfloor
from shopfloor.services.solicitation import KINDS, SolicitationService
from shopfloor.testing.plugin import DEMO_NOW, DEMO_PINS, copy_sqlite

CS_AGENT = "孙丽"
MANY = 2 * solicit.PAGE + 20


def entry(i: int) -> dict[str, Any]:
    return {"kind": KINDS[0], "vehicle_id": 10_000 + i, "customer_id": 10_000 + i, "plate": f"京H{i:05d}",
            "plate_display": f"京H·{i:05d}", "model": "卡罗拉", "customer": "王先生", "phone": "13800000000",
            "preferred_channel": "sms", "complaining": False,
            "due": (date(2026, 11, 24) + timedelta(days=i // 10)).isoformat(), "detail": f"entry {i}",
            "suggested_work": None, "booked": True, "booked_on": "2026-11-30", "item_id": None}


@pytest.fixture
async def cs_agent(tmp_path: Path, seeded_sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> AsyncIterator[User]:
    monkeypatch.setattr(Storage, "path", tmp_path / "storage")
    monkeypatch.setattr(SolicitationService, "lists", lambda self, today=None, lang=None: {
        kind: [entry(i) for i in range(MANY)] if kind == KINDS[0] else [] for kind in KINDS})
    settings = settings_mod.load(settings_mod.demo_config_path())
    system = Shopfloor(settings, generate([]), Options(
        data_dir=tmp_path, database_url=sqlite_url(copy_sqlite(seeded_sqlite_template, tmp_path)),
        embedded_broker=False, printer_agents=False), clock=FixedClock(DEMO_NOW))
    try:
        async with user_simulation() as user:
            try:
                system.register_pages()
                sign_in_route.register(app)
                person = next(p for p in system.auth.advisors() if p.name == CS_AGENT)
                await user.open("/kiosk")
                user.find(marker=f"advisor-{person.id}").click()
                for key in [*DEMO_PINS[CS_AGENT], "OK"]:
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


async def test_a_long_list_is_drawn_a_page_at_a_time(cs_agent: User) -> None:
    user = cs_agent
    await user.open("/calls?tab=solicitation")
    await user.should_see("entry 0")
    await user.should_see(f"entry {solicit.PAGE - 1}")
    await user.should_not_see(f"entry {solicit.PAGE}")
    user.find(marker="more-entries").click()
    await user.should_see(f"entry {2 * solicit.PAGE - 1}")
    await user.should_not_see(f"entry {2 * solicit.PAGE}")
    user.find(marker="more-entries").click()
    await user.should_see(f"entry {MANY - 1}")
    await user.should_not_see(marker="more-entries")  # all shown
