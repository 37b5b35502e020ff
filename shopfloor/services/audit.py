"""The audit trail: every change to an appointment or repair order as an append-only row with its real actor.

Services call `record()` inside the write transaction of the change itself, so a change and its audit row
commit together or not at all. Nothing here updates or deletes a row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.models import AuditEntry, RepairOrder
from shopfloor.services.context import ServiceContext


class ActorKind(StrEnum):
    STAFF = "staff"  # a person signed in on a staff page
    API = "api"  # an integration, by its API token's name
    SYSTEM = "system"  # the server itself: late marks, no-shows, roll-over
    CUSTOMER = "customer"  # the customer on their own page (/c/<token>), after proving the plate


class Entity(StrEnum):
    APPOINTMENT = "appointment"
    REPAIR_ORDER = "repair_order"
    STAFF = "staff"
    PART = "part"  # the parts catalogue (the parts counter's lines are the repair order's)
    CUSTOMER = "customer"  # a message about neither an order nor an appointment (a new car's follow-up)
    FOLLOW_UP = "follow_up"  # a follow-up call (issue 12)
    COMPLAINT = "complaint"
    # the site's setup (issue 13)
    TECHNICIAN = "technician"
    BAY = "bay"
    HOLIDAY = "holiday"
    OPERATION = "operation"  # the labour-operation catalogue
    SITE_CONFIG = "site_config"  # site.toml: opening hours, labour rates, printers, message texts
    API_CLIENT = "api_client"
    DISPLAY_SCREEN = "display_screen"
    DATABASE = "database"  # a backup put back in place


@dataclass(frozen=True)
class Actor:
    """Who makes a change: never free text from a request body."""

    name: str
    kind: ActorKind = ActorKind.STAFF
    staff_id: int | None = None

    def __str__(self) -> str:
        return self.name


SYSTEM = Actor("system", ActorKind.SYSTEM)


def as_actor(actor: Actor | str) -> Actor:
    """Services still take a name in older call sites (tests, the demo seed): a bare name is the system's
    or a staff member's as the caller said; pages and the API pass an Actor."""
    if isinstance(actor, Actor):
        return actor
    return SYSTEM if actor == "system" else Actor(actor, ActorKind.STAFF)


def slot(start: datetime, advisor: str, tz: tzinfo) -> str:
    """An appointment's place on the board as an audit value: "2026-11-24 10:00 张伟"."""
    return f"{start.astimezone(tz):%Y-%m-%d %H:%M} {advisor}"


def record(session: Session, ctx: ServiceContext, actor: Actor | str, entity: Entity, entity_id: int | str,
           action: str, *, from_value: Any = None, to_value: Any = None, reason: str | None = None,
           detail: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    who = as_actor(actor)
    session.add(AuditEntry(
        site_id=ctx.site, at=at or ctx.now(), actor=who.name[:80], actor_kind=who.kind.value, actor_id=who.staff_id,
        entity=entity.value, entity_id=str(entity_id), action=action,
        from_value=None if from_value is None else str(from_value)[:200],
        to_value=None if to_value is None else str(to_value)[:200],
        reason=reason[:300] if reason else None,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None))


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    actor_kind: str
    actor_id: int | None
    entity: str
    entity_id: str
    action: str
    from_value: str | None
    to_value: str | None
    reason: str | None
    detail: dict[str, Any] | None


class AuditService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def read(self, entity: Entity | None = None, entity_id: str | None = None, start: datetime | None = None,
             end: datetime | None = None, limit: int = 1000) -> list[AuditRow]:
        """Oldest first; `end` is exclusive."""
        q = select(AuditEntry).where(AuditEntry.site_id == self.ctx.site)
        if entity is not None:
            q = q.where(AuditEntry.entity == entity.value)
        if entity_id is not None:
            q = q.where(AuditEntry.entity_id == entity_id)
        if start is not None:
            q = q.where(AuditEntry.at >= start)
        if end is not None:
            q = q.where(AuditEntry.at < end)
        with self.ctx.db.read() as s:
            rows = s.scalars(q.order_by(AuditEntry.at, AuditEntry.id).limit(limit))
            return [AuditRow(r.id, r.at, r.actor, r.actor_kind, r.actor_id, r.entity, r.entity_id, r.action,
                             r.from_value, r.to_value, r.reason, json.loads(r.detail) if r.detail else None)
                    for r in rows]

    def for_appointment(self, appointment_id: int) -> list[AuditRow]:
        """One card's story, oldest first: the appointment's rows, then (interleaved by time) those of the repair
        order that served it: its check-in, its moves through the workshop, its tickets."""
        with self.ctx.db.read() as s:
            numbers = list(s.scalars(select(RepairOrder.number).where(RepairOrder.appointment_id == appointment_id)))
        rows = self.read(Entity.APPOINTMENT, str(appointment_id))
        for number in numbers:
            rows += self.read(Entity.REPAIR_ORDER, number)
        return sorted(rows, key=lambda r: (r.at, r.id))
