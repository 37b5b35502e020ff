"""/data in NiceGUI's simulated browser: an import shows its report, and one that stopped mid-way says at which line
and that the same file again finishes it."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from shopfloor.domain.identifiers import with_check_digit
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services import dms_import
from shopfloor.testing.db_fixtures import failing_write
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

ZH = Translator("zh-CN")
MANAGER = "赵经理"
HEADER = "预约单号,客户姓名,手机,车牌号,车架号,车型,行驶里程,预约时间,工时,维修项目,服务顾问"


def export(count: int) -> bytes:
    """`count` new customers with a car and a booking each; every tenth names an advisor the site does not have."""
    rows = [HEADER] + [f"YY{i:05d},客户{i},1390000{i:04d},京A{i:05d},{with_check_digit(f'LFMAP22C0R0{i:06d}')},卡罗拉,"
                       f"{30000 + i},2026-11-24 {9 + i % 8:02d}:00,1.5,更换机油机滤,{'赵六' if i % 10 == 9 else '张伟'}"
                       for i in range(count)]
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


@pytest.fixture
async def signed_in(staff_app: tuple[User, Shopfloor]) -> tuple[User, Shopfloor]:
    user, system = staff_app
    await sign_in(user, staff_member(system, MANAGER))
    return user, system


async def _upload(user: User, data: bytes) -> None:
    await user.open("/data")
    upload = user.find(kind=ui.upload).elements.pop()
    await upload.handle_uploads([SmallFileUpload("dms.csv", "text/csv", data)])
    for _ in range(100):
        if user.find(marker="import-run").elements.pop().enabled:
            return
        await asyncio.sleep(0.05)


async def test_an_import_shows_its_report(signed_in: tuple[User, Shopfloor]) -> None:
    user, _system = signed_in
    await _upload(user, export(30))
    user.find(marker="import-run").click()
    # the report replaces the progress bar once the import is through: the file's bad rows, by line
    await until(lambda: sees(user, marker="import-problems"), timeout=10.0)
    await user.should_not_see(marker="import-progress")
    await user.should_not_see(marker="import-stopped")


async def test_an_import_that_stopped_says_where(signed_in: tuple[User, Shopfloor],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    user, system = signed_in
    monkeypatch.setattr(dms_import, "BATCH_ROWS", 10)
    monkeypatch.setattr(dms_import, "BATCH_SECONDS", float("inf"))
    monkeypatch.setattr(system.db, "write", failing_write(system.db, 2))  # the second batch fails
    await _upload(user, export(30))
    user.find(marker="import-run").click()
    await until(lambda: sees(user, marker="import-stopped"), timeout=10.0)
    stopped = user.find(marker="import-stopped").elements.pop().text
    assert "12" in stopped and ZH("dms_import.stopped", detail="OperationalError") in stopped
