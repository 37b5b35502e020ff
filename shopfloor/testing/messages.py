"""Helpers for the customer messages' tests: rows queued straight into the outbox, and the demo site with message
channels configured (the demo has none: everything goes by hand)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from shopfloor.domain.aftersales import MessageState, MessageTemplate
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.models import RepairOrder, Vehicle
from shopfloor.services.context import ServiceContext
from shopfloor.settings import MessagesSettings

if TYPE_CHECKING:
    from shopfloor.testing.plugin import Services


def queue(services: Services, n: int = 1, *, channel: str = "sms", recipient: str = "13812345678",
          template: str = "ready", key: str = "t") -> list[int]:
    now = services.clock.now()
    ids = []
    with services.db.write() as s:
        ro, customer_id = s.execute(select(RepairOrder, Vehicle.customer_id).join(
            Vehicle, Vehicle.id == RepairOrder.vehicle_id).order_by(RepairOrder.id).limit(1)).one()
        for i in range(n):
            row = CustomerMessage(
                site_id=services.ctx.site, customer_id=customer_id, repair_order_id=ro.id,
                dedup_key=f"{key}:{channel}:{i}:{ro.number}", template=template, channel=channel,
                language="zh-CN", recipient=recipient, subject="您的爱车可以取车了",
                body=f"王先生您好，您的爱车已可取车 {i}",
                params={"customer": "王先生", "plate": "京A12345", "link": "https://s.example/c/abc"},
                state=MessageState.QUEUED, send_after=now, attempts=0, created_at=now, created_by="system",
                updated_at=now)
            s.add(row)
            s.flush()
            ids.append(row.id)
    return ids


ALL_CODES = {t.value: f"SMS_{i}" for i, t in enumerate(MessageTemplate)}


def configured(svc: Services, **channels: Any) -> ServiceContext:
    """The demo site with message channels configured (the demo has none: everything is by hand)."""
    settings = svc.ctx.settings.model_copy(update={"messages": MessagesSettings(**channels)})
    return ServiceContext(svc.db, settings, svc.clock, server_url="https://shop.example")
