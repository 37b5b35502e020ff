"""Writing to the outbox: the message goes into the same transaction as the change it reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
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


def pending(session: Session, limit: int) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id).limit(limit)
    return list(session.scalars(stmt))


def mark_sent(session: Session, ids: list[int], now: datetime) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(sent_at=now))


def count_pending(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None))) or 0)
