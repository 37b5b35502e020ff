"""/manager/figures goes out before its report is ready: a report that has days to compute (none of them cached
yet, after an upgrade) no longer runs into NiceGUI's 3 s limit for building a page, which left it blank."""

from __future__ import annotations

import time
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User

from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.figures import FiguresService
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

ZH = Translator("zh-CN")
MANAGER = "赵经理"
SLOW_SECONDS = 4.0  # longer than NiceGUI's response_timeout (3 s)


@pytest.fixture
async def manager(staff_app: tuple[User, Shopfloor]) -> User:
    user, system = staff_app
    await sign_in(user, staff_member(system, MANAGER))
    return user


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
    await until(lambda: sees(manager, kind=ui.table), timeout=10.0)  # the figures came once the report was ready
    await manager.should_see(ZH("figures.tile.appointment_rate"))
