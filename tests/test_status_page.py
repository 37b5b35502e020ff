"""/status in the simulated browser: the server's board feed on a real broker, a real printer agent and the
server's own connection; when the agent stops or the server's link goes, the open page says so without a
reload. The manager opens it; an advisor is refused."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shopfloor import backup
from shopfloor.board.feed import BoardFeed
from shopfloor.broker.embedded import EmbeddedBroker
from shopfloor.contract.access import Role
from shopfloor.credentials import Credentials, generate
from shopfloor.mqtt import MqttLink
from shopfloor.printer.agent import PrinterAgent
from shopfloor.printer.journal import PrintJournal
from shopfloor.printer.transports import transport_for
from shopfloor.testing.plugin import DEMO_NOW
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

if TYPE_CHECKING:
    from nicegui.testing import User

    from shopfloor.main import Shopfloor


@dataclass
class Site:
    user: User
    system: Shopfloor
    credentials: Credentials
    broker: EmbeddedBroker
    feed: BoardFeed
    agent: PrinterAgent
    server_link: MqttLink


@pytest.fixture
async def site(staff_app: tuple[User, Shopfloor], tmp_path: Path) -> AsyncIterator[Site]:
    user, system = staff_app
    printer = system.settings.printers[0]
    creds = generate([], [p.name for p in system.settings.printers])
    broker = EmbeddedBroker("127.0.0.1", 0, "demo", creds)
    await asyncio.to_thread(broker.start)
    feed = BoardFeed(system.board_store, address=broker.address, account=creds.account(Role.BOARD), site="demo",
                     role=Role.BOARD, loop=asyncio.get_running_loop())
    feed.start()
    # the server's own broker connection, as its publisher holds it (its availability: clients/server/…)
    server_link = MqttLink(address=broker.address, account=creds.account(Role.SERVER), site="demo",
                           role=Role.SERVER, client_id="server-demo")
    agent = PrinterAgent("demo", printer.name, transport_for(printer, tmp_path, status_queries=False),
                         PrintJournal(tmp_path / "agents" / f"{printer.name}.journal"), broker.address,
                         creds.printer_account(printer.name))
    assert await asyncio.to_thread(server_link.start, 10)
    assert await asyncio.to_thread(agent.start, 10)
    try:
        yield Site(user, system, creds, broker, feed, agent, server_link)
    finally:
        await asyncio.to_thread(agent.stop)
        await asyncio.to_thread(server_link.stop)
        feed.stop()
        await asyncio.to_thread(broker.stop)


async def test_a_printer_agent_going_offline_shows_on_the_open_page(site: Site) -> None:
    user, printer = site.user, site.agent.printer_name
    await sign_in(user, staff_member(site.system, "赵经理"))
    await user.open("/status")
    await until(lambda: sees(user, marker=f"printer-{printer}", content="就绪"), timeout=10)
    label = next(p.label for p in site.system.settings.printers if p.name == printer)
    assert label and label != printer
    await user.should_see(marker=f"printer-{printer}-name", content=label)  # the label staff see, not the name
    # the agent among the MQTT clients: its printer's status topic is its availability
    await until(lambda: sees(user, marker=f"client-printer-{printer}", content="在线"), timeout=10)
    await user.should_see(marker=f"client-printer-{printer}-name", content=f"{label} ({printer})")
    await until(lambda: sees(user, marker="client-board-board-feed-demo", content="在线"), timeout=10)
    await until(lambda: sees(user, marker="client-server-server-demo", content="在线"), timeout=10)
    await user.should_see(marker="status-database", content="正常")
    await user.should_see(marker="status-last-backup")

    await asyncio.to_thread(site.agent.stop)  # the agent says "offline" as it goes (a crash: its will says it)
    await until(lambda: sees(user, marker=f"printer-{printer}", content="离线"), timeout=10)
    await until(lambda: sees(user, marker=f"client-printer-{printer}", content="离线"), timeout=10)

    site.server_link.kill()  # the server's link dies without a goodbye: the broker publishes its will
    await until(lambda: sees(user, marker="client-server-server-demo", content="离线"), timeout=30)


async def test_the_backlog_the_database_and_an_old_backup(site: Site, tmp_path: Path) -> None:
    user = site.user
    # the server's data dir is tmp_path: a nightly copy of its database, 40 hours before the site's clock
    made = backup.backup_sqlite(tmp_path / "shopfloor.sqlite3",
                                backup.backups_dir(tmp_path) / f"nightly-20261121T103000Z{backup.SUFFIX}")
    at = DEMO_NOW - timedelta(hours=40)
    os.utime(made.path, (at.timestamp(), at.timestamp()))
    await sign_in(user, staff_member(site.system, "赵经理"))
    await user.open("/status")
    report = await site.system.health.check_soon()
    assert report.outbox_pending is not None
    await until(lambda: sees(user, marker="status-outbox", content=str(report.outbox_pending)), timeout=10)
    await user.should_see(marker="status-messages", content=str(report.messages_pending))
    await user.should_see(marker="status-last-backup", content="超过 36 小时")
    # the browsers connected now, by page: this one at least (shown at the next refresh)
    await until(lambda: sees(user, marker="browsers-/status", content="1 个"), timeout=15)


async def test_an_advisor_may_not_open_status(site: Site) -> None:
    user = site.user
    await sign_in(user, staff_member(site.system, "张伟"))
    await user.open("/status")
    await user.should_not_see(marker="status-server")
