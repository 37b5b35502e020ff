"""What the workshop does as the clock moves, without anyone asking: clockings still open after a shift are closed
(assumed), orders whose risk or projected finish the time changed go out again, and at closing the open orders
are carried over into the next day. The server runs it every few seconds (shopfloor/main.py)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_moved_projections
from shopfloor.services.workshop import projection
from shopfloor.services.workshop.carry_over import CarryOverService
from shopfloor.services.workshop.clocking import ClockingService

log = logging.getLogger(__name__)


class WorkshopTick:
    def __init__(self, ctx: ServiceContext, clocking: ClockingService, carry_over: CarryOverService) -> None:
        self.ctx = ctx
        self.clocking = clocking
        self.carry_over = carry_over
        self._closed: date | None = None  # the last closing carried over by this process

    def run(self) -> None:
        closed = self.clocking.close_at_shift_end()
        if closed:
            log.info("closed %d clocking(s) at the end of their shift, marked assumed", closed)
        self.publish_moved()
        closing = self.last_closing(self.ctx.now())
        if closing != self._closed:
            carried = self.carry_over.close_day(closing)
            if carried:
                log.info("%d order(s) carried over into %s", len(carried), closing + timedelta(days=1))
            self._closed = closing

    def publish_moved(self) -> int:
        """Publish the orders the passing time moved (risk, projected finish): looked at in a read first, so a
        quiet workshop takes no write lock."""
        with self.ctx.db.read() as s:
            if not projection.changes(s, self.ctx):
                return 0
        with self.ctx.db.write() as s:
            return publish_moved_projections(s, self.ctx)

    def last_closing(self, now: datetime) -> date:
        """Today once the site has closed, else yesterday."""
        local = now.astimezone(self.ctx.tz)
        return local.date() if local.time() >= self.ctx.settings.site.closing else local.date() - timedelta(days=1)
