"""Pruning what the server no longer needs, once older than the site's retention (settings [retention]):

- outbox rows the broker acknowledged (sent_at set): the publisher never reads them again (a reconnect republishes
  the current state from the tables, services/snapshot.py), and each order leaves about 27 of them (~40 kB);
- print jobs that are finished (printed, moved to another printer, superseded by a reprint); a job still pending,
  uncertain or failed waits for its agent or a person and is kept, whatever its age;
- customer messages that are over (sent, failed, cancelled) by their last change (updated_at): the order's message
  list reaches back [retention] message_days. A message still queued, sending, uncertain (a person decides) or manual
  (the advisor has still to send it by hand) is kept, whatever its age.

Rows go in batches, each in a write transaction of its own (a few milliseconds), with a pause between them so that
the day's writes go first. SQLite keeps the freed pages for new rows (the file does not shrink); PostgreSQL's
autovacuum does the same. The server runs `prune` periodically (shopfloor/main.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import MessageState
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.models import OutboxMessage, PrintJob
from shopfloor.services.context import ServiceContext

log = logging.getLogger(__name__)

BATCH = 2000  # rows per write transaction
PAUSE_SECONDS = 0.02  # between batches: the writers waiting meanwhile go first
FINISHED_JOBS = ("printed", "moved", "superseded")
OVER_MESSAGES = (MessageState.SENT.value, MessageState.FAILED.value, MessageState.CANCELLED.value)


@dataclass
class Pruned:
    outbox: int = 0
    print_jobs: int = 0
    messages: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def prune_sent_outbox(session: Session, sent_before: datetime, limit: int = BATCH) -> int:
    """Deletes up to `limit` outbox rows sent before `sent_before`; returns how many."""
    ids = list(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < sent_before).limit(limit)))
    if ids:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)


def prune_finished_print_jobs(session: Session, site: str, before: datetime, limit: int = BATCH) -> int:
    """Deletes up to `limit` finished print jobs whose last word (the agent's ack or a person's decision) is older
    than `before`; returns how many."""
    old = or_(and_(PrintJob.finished_at < before, or_(PrintJob.decided_at.is_(None), PrintJob.decided_at < before)),
              and_(PrintJob.finished_at.is_(None), PrintJob.decided_at < before))
    ids = list(session.scalars(select(PrintJob.id).where(PrintJob.site_id == site,
                                                         PrintJob.status.in_(FINISHED_JOBS), old).limit(limit)))
    if ids:
        session.execute(delete(PrintJob).where(PrintJob.id.in_(ids)))
    return len(ids)


def prune_over_messages(session: Session, site: str, before: datetime, limit: int = BATCH) -> int:
    """Deletes up to `limit` customer messages that are over (sent, failed, cancelled) and last changed before
    `before`; returns how many."""
    ids = list(session.scalars(select(CustomerMessage.id).where(
        CustomerMessage.site_id == site, CustomerMessage.state.in_(OVER_MESSAGES),
        CustomerMessage.updated_at < before).limit(limit)))
    if ids:
        session.execute(delete(CustomerMessage).where(CustomerMessage.id.in_(ids)))
    return len(ids)


class PruningService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def prune(self, *, pause: float = PAUSE_SECONDS) -> Pruned:
        """Everything older than the retention, batch by batch; returns what went."""
        retention = self.ctx.settings.retention
        now = self.ctx.now()
        pruned = Pruned()
        outbox_before = now - timedelta(days=retention.outbox_days)
        jobs_before = now - timedelta(days=retention.print_job_days)
        pruned.outbox = self._batches(lambda s: prune_sent_outbox(s, outbox_before, BATCH), pause)
        pruned.print_jobs = self._batches(lambda s: prune_finished_print_jobs(s, self.ctx.site, jobs_before, BATCH),
                                          pause)
        messages_before = now - timedelta(days=retention.message_days)
        pruned.messages = self._batches(lambda s: prune_over_messages(s, self.ctx.site, messages_before, BATCH), pause)
        if pruned.messages:
            log.info("pruned %d customer messages that were over (older than %d days)", pruned.messages,
                     retention.message_days)
        if pruned.outbox or pruned.print_jobs:
            log.info("pruned %d sent outbox rows (older than %d days) and %d finished print jobs (older than %d "
                     "days)", pruned.outbox, retention.outbox_days, pruned.print_jobs, retention.print_job_days)
        return pruned

    def _batches(self, step: Callable[[Session], int], pause: float) -> int:
        total = 0
        while True:
            with self.ctx.db.write() as s:
                done = step(s)
            total += done
            if done < BATCH:
                return total
            time.sleep(pause)
