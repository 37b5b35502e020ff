"""Writing to the outbox: the message goes into the same transaction as the change it reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from shopfloor.contract import topics
from shopfloor.contract.payloads import Payload, encode
from shopfloor.db import OUTBOX_PENDING
from shopfloor.domain.models import OutboxMessage


def _add(session: Session, topic: str, payload: bytes, retain: bool, now: datetime) -> None:
    session.add(OutboxMessage(topic=topic, payload=payload, retain=retain, created_at=now))
    session.info[OUTBOX_PENDING] = True


def put_state(session: Session, now: datetime, site: str, kind: str, entity_id: str | int,
              state: Payload | None) -> None:
    """Retained state; None deletes the entity (empty retained payload)."""
    _add(session, topics.state(site, kind, entity_id), encode(state) if state is not None else b"", True, now)


def put_event(session: Session, now: datetime, site: str, kind: str, entity_id: str | int,
              event: Payload) -> None:
    _add(session, topics.event(site, kind, entity_id), encode(event), False, now)


def put_raw(session: Session, now: datetime, topic: str, payload: bytes, retain: bool) -> None:
    _add(session, topic, payload, retain, now)


# ids per UPDATE when marking rows sent: a burst hands over thousands at once, above SQLite's bound parameters
MARK_CHUNK = 500


def pending(session: Session, limit: int, after: int | None = None) -> list[Row[tuple[int, str, bytes, bool]]]:
    """Unsent rows oldest first (id, topic, payload, retain); `after`: only rows numbered above it."""
    stmt = select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.payload, OutboxMessage.retain).where(
        OutboxMessage.sent_at.is_(None))
    if after is not None:
        stmt = stmt.where(OutboxMessage.id > after)
    return list(session.execute(stmt.order_by(OutboxMessage.id).limit(limit)))


def mark_sent(session: Session, ids: list[int], now: datetime) -> None:
    for start in range(0, len(ids), MARK_CHUNK):
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids[start:start + MARK_CHUNK]))
                        .values(sent_at=now))


def count_pending(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None))) or 0)
