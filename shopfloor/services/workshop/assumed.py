"""Clockings the server closed at the end of a shift (assumed) that the foreman has not confirmed yet: the list the
dispatch desk offers to confirm (ClockingService.confirm)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shopfloor.domain.workshop_models import Clocking
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop.clocking import ClockingInfo, info

LOOK_BACK_DAYS = 14  # older ones are history: the foreman cannot remember when the work ended anyway
LIMIT = 50


class AssumedClockings:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def unconfirmed(self) -> list[ClockingInfo]:
        since = self.ctx.now() - timedelta(days=LOOK_BACK_DAYS)
        with self.ctx.db.read() as s:
            return [info(c) for c in s.scalars(select(Clocking).where(
                Clocking.site_id == self.ctx.site, Clocking.assumed, Clocking.confirmed_by.is_(None),
                Clocking.started_at >= since).order_by(Clocking.started_at.desc()).limit(LIMIT))]
