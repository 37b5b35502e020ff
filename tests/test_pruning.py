"""Pruning sent outbox rows, finished print jobs and customer messages that are over past the site's retention
(services/pruning.py), on SQLite and PostgreSQL, and the server doing it by itself (shopfloor/main.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shopfloor import main as main_module
from shopfloor import settings as settings_mod
from shopfloor.clock import FixedClock
from shopfloor.credentials import generate
from shopfloor.db import sqlite_url
from shopfloor.domain.aftersales import MessageState
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.models import OutboxMessage, PrintJob, RepairOrder, Vehicle
from shopfloor.services import pruning
from shopfloor.services.context import ServiceContext
from shopfloor.services.pruning import PruningService
from shopfloor.settings import RetentionSettings
from shopfloor.testing.plugin import DEMO_NOW, ON_BOTH_DATABASES, Services, copy_sqlite

DAY = timedelta(days=1)


pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


def add_outbox(services: Services, label: str, created: datetime, sent: datetime | None) -> None:
    with services.db.write() as s:
        s.add(OutboxMessage(topic=f"shopfloor/v1/demo/test/{label}", payload=label.encode(), retain=True,
                            created_at=created, sent_at=sent))


def add_job(services: Services, label: str, status: str, finished: datetime | None,
            decided: datetime | None = None) -> None:
    with services.db.write() as s:
        s.add(PrintJob(site_id="demo", printer="reception", kind="ticket", reprint=False, data=b"\x1b@", status=status,
                       detail=label, requested_by="张伟", created_at=(finished or decided or DEMO_NOW) - DAY,
                       finished_at=finished, decided_at=decided, decided_by="王芳" if decided else None, version=1))


def outbox_topics(services: Services) -> set[str]:
    with services.db.read() as s:
        return {t.rsplit("/", 1)[-1] for t in s.scalars(select(OutboxMessage.topic).where(
            OutboxMessage.topic.like("shopfloor/v1/demo/test/%")))}


def job_labels(services: Services) -> set[str]:
    with services.db.read() as s:
        return set(s.scalars(select(PrintJob.detail).where(PrintJob.detail.like("t-%"))))


def test_sent_rows_and_finished_jobs_past_their_retention_go(services: Services) -> None:
    now = services.ctx.now()
    retention = services.ctx.settings.retention
    old_outbox, old_jobs = now - (retention.outbox_days + 1) * DAY, now - (retention.print_job_days + 1) * DAY
    add_outbox(services, "old-sent", old_outbox, old_outbox + timedelta(seconds=1))
    add_outbox(services, "old-unsent", old_outbox, None)  # the broker never took it: still to send
    add_outbox(services, "recent-sent", now - DAY, now - DAY)
    add_job(services, "t-old-printed", "printed", old_jobs)
    add_job(services, "t-old-moved", "moved", None, decided=old_jobs)
    add_job(services, "t-old-superseded", "superseded", old_jobs, decided=old_jobs)
    add_job(services, "t-decided-lately", "printed", old_jobs, decided=now - DAY)  # confirmed by a person yesterday
    add_job(services, "t-old-uncertain", "uncertain", old_jobs)  # waits for a person, however old
    add_job(services, "t-old-failed", "failed", old_jobs)
    add_job(services, "t-old-pending", "pending", None)
    add_job(services, "t-recent-printed", "printed", now - DAY)

    pruned = PruningService(services.ctx).prune(pause=0)

    assert outbox_topics(services) == {"old-unsent", "recent-sent"}
    assert job_labels(services) == {"t-decided-lately", "t-old-uncertain", "t-old-failed", "t-old-pending",
                                    "t-recent-printed"}
    assert (pruned.outbox, pruned.print_jobs) == (1, 3)


def test_the_retention_comes_from_the_settings_and_many_rows_go_in_batches(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = services.ctx.settings
    short = settings.model_copy(update={"retention": settings.retention.model_copy(update={"outbox_days": 1})})
    ctx = ServiceContext(services.db, short, services.clock)
    now = ctx.now()
    for i in range(11):
        add_outbox(services, f"two-days-{i}", now - 2 * DAY, now - 2 * DAY)
    add_outbox(services, "hours-ago", now - timedelta(hours=5), now - timedelta(hours=5))
    monkeypatch.setattr(pruning, "BATCH", 4)
    writes = 0
    write = services.db.write

    def counting_write():  # type: ignore[no-untyped-def]
        nonlocal writes
        writes += 1
        return write()

    monkeypatch.setattr(services.db, "write", counting_write)
    assert PruningService(ctx).prune(pause=0).outbox == 11
    assert outbox_topics(services) == {"hours-ago"}
    assert writes == 5  # 4 + 4 + 3 outbox rows, then the print jobs, then the customer messages


def add_message(services: Services, label: str, state: MessageState, last_change: datetime) -> None:
    with services.db.write() as s:
        ro_id, customer_id = s.execute(select(RepairOrder.id, Vehicle.customer_id).join(
            Vehicle, Vehicle.id == RepairOrder.vehicle_id).order_by(RepairOrder.id).limit(1)).one()
        s.add(CustomerMessage(
            site_id=services.ctx.site, customer_id=customer_id, repair_order_id=ro_id, dedup_key=f"m-{label}",
            template="ready", channel="sms", language="zh-CN", recipient="13812345678", body=label, params={},
            state=state.value, send_after=last_change - DAY, attempts=1, created_at=last_change - DAY,
            created_by="system", sent_at=last_change if state == MessageState.SENT else None,
            updated_at=last_change))


def message_labels(services: Services) -> set[str]:
    with services.db.read() as s:
        return set(s.scalars(select(CustomerMessage.body).where(CustomerMessage.dedup_key.like("m-%"))))


def test_customer_messages_that_are_over_go_after_their_retention_the_others_stay(services: Services) -> None:
    now = services.ctx.now()
    days = services.ctx.settings.retention.message_days
    old, recent = now - (days + 1) * DAY, now - (days - 1) * DAY
    for state in MessageState:
        add_message(services, f"old-{state.value}", state, old)
    add_message(services, "recent-sent", MessageState.SENT, recent)
    add_message(services, "recent-failed", MessageState.FAILED, recent)
    add_message(services, "at-the-limit-sent", MessageState.SENT, now - days * DAY)  # not older: kept

    pruned = PruningService(services.ctx).prune(pause=0)

    # a message still on its way (queued, sending), waiting for a person (uncertain) or to be sent by hand (manual)
    # stays whatever its age
    assert message_labels(services) == {"old-queued", "old-sending", "old-uncertain", "old-manual", "recent-sent",
                                        "recent-failed", "at-the-limit-sent"}
    assert pruned.messages == 3
    assert pruned.to_dict()["messages"] == 3


def test_many_old_messages_go_in_batches(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    now = services.ctx.now()
    old = now - (services.ctx.settings.retention.message_days + 3) * DAY
    for i in range(9):
        add_message(services, f"old-{i}", MessageState.CANCELLED, old)
    monkeypatch.setattr(pruning, "BATCH", 4)
    assert PruningService(services.ctx).prune(pause=0).messages == 9
    assert message_labels(services) == set()


async def test_the_server_prunes_by_itself(tmp_path: Path, seeded_sqlite_template: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main_module, "HOUSEKEEPING_AFTER_SECONDS", 0)
    demo = settings_mod.load(settings_mod.demo_config_path())
    settings = demo.model_copy(update={"retention": RetentionSettings(outbox_days=1)})
    system = main_module.Shopfloor(settings, generate([]), main_module.Options(
        data_dir=tmp_path, database_url=sqlite_url(copy_sqlite(seeded_sqlite_template, tmp_path)),
        embedded_broker=False, printer_agents=False), clock=FixedClock(DEMO_NOW))
    try:
        with system.db.write() as s:
            s.add(OutboxMessage(topic="shopfloor/v1/demo/test/old", payload=b"x", retain=True,
                                created_at=DEMO_NOW - 3 * DAY, sent_at=DEMO_NOW - 3 * DAY))
        task = asyncio.create_task(system._housekeeping_forever())
        try:
            for _ in range(200):
                with system.db.read() as s:
                    left = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                        OutboxMessage.sent_at < DEMO_NOW - DAY))
                if not left:
                    break
                await asyncio.sleep(0.05)
            assert not left
        finally:
            task.cancel()
    finally:
        system.db.dispose()
