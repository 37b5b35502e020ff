"""The call lists on /calls draw a page of entries at a time: a store with years of history has thousands of cars
due (10,603 due for maintenance in the bench store), which as cards at once would not render."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pytest
from nicegui.testing import User

from shopfloor.kiosk.calls import solicit
from shopfloor.main import Shopfloor
from shopfloor.services.solicitation import KINDS, SolicitationService
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

CS_AGENT = "孙丽"
MANY = 2 * solicit.PAGE + 20
SLOW_SECONDS = 4.0  # longer than NiceGUI's response_timeout (3 s)


def entry(i: int) -> dict[str, Any]:
    return {"kind": KINDS[0], "vehicle_id": 10_000 + i, "customer_id": 10_000 + i, "plate": f"京H{i:05d}",
            "plate_display": f"京H·{i:05d}", "model": "卡罗拉", "customer": "王先生", "phone": "13800000000",
            "preferred_channel": "sms", "complaining": False,
            "due": (date(2026, 11, 24) + timedelta(days=i // 10)).isoformat(), "detail": f"entry {i}",
            "suggested_work": None, "booked": True, "booked_on": "2026-11-30", "item_id": None}


@pytest.fixture
async def cs_agent(staff_app: tuple[User, Shopfloor], monkeypatch: pytest.MonkeyPatch) -> User:
    monkeypatch.setattr(SolicitationService, "lists", lambda self, today=None, lang=None: {
        kind: [entry(i) for i in range(MANY)] if kind == KINDS[0] else [] for kind in KINDS})
    user, system = staff_app
    await sign_in(user, staff_member(system, CS_AGENT))
    return user


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


async def test_the_lists_tab_opened_with_the_page_goes_out_before_its_lists(
        staff_app: tuple[User, Shopfloor], monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every car of a big store took longer than NiceGUI's 3 s for building a page: /calls?tab=solicitation
    answered 500 on the bench store. The page goes out first and the lists follow."""

    def slow_lists(self: SolicitationService, today: date | None = None, lang: str | None = None
                   ) -> dict[str, list[dict[str, Any]]]:
        time.sleep(SLOW_SECONDS)  # in the thread pool, as reading 37,000 cars would
        return {kind: [entry(i) for i in range(3)] if kind == KINDS[0] else [] for kind in KINDS}

    monkeypatch.setattr(SolicitationService, "lists", slow_lists)
    user, system = staff_app
    await sign_in(user, staff_member(system, CS_AGENT))
    started = time.monotonic()
    await user.open("/calls?tab=solicitation")  # 200, not NiceGUI's 500 after 3 s
    assert time.monotonic() - started < SLOW_SECONDS
    await until(lambda: sees(user, content="entry 2"), timeout=30.0)
