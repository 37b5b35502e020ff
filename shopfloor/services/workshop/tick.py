"""What the workshop does as the clock moves, without anyone asking: clockings still open after a shift are closed
(assumed), orders whose risk or projected finish the time changed go out again, and at closing the open orders
are carried over into the next day. The server runs it every few seconds (shopfloor/main.py)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select

from shopfloor.domain.models import RepairOrder, Technician
from shopfloor.domain.workshop_models import CarryOver
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_moved_projections, publish_orders, publish_technician
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
        self._day: date | None = None  # the day the technicians' rows were last published for

    def run(self) -> None:
        closed = self.clocking.close_at_shift_end()
        if closed:
            log.info("closed %d clocking(s) at the end of their shift, marked assumed", closed)
        self.publish_moved()
        self.new_day()
        closing = self.last_closing(self.ctx.now())
        if closing != self._closed:
            carried = self.carry_over.close_day(closing)
            if carried:
                log.info("%d order(s) carried over into %s", len(carried), closing + timedelta(days=1))
            self._closed = closing

    def new_day(self) -> None:
        """A new day: every technician's row (shift, breaks, figures) and the cars carried over into it (first in
        the dispatch queue, yesterday's bars gone) go out again for the job progress board. Not at the first run:
        the server's snapshot has just published them."""
        today = self.ctx.today()
        if self._day is not None and today != self._day:
            with self.ctx.db.write() as s:
                for tech in s.scalars(select(Technician).where(Technician.site_id == self.ctx.site)):
                    publish_technician(s, self.ctx, tech)
                publish_orders(s, self.ctx, list(s.scalars(select(RepairOrder).where(
                    RepairOrder.site_id == self.ctx.site, RepairOrder.status.in_(projection.PROJECTED),
                    RepairOrder.id.in_(select(CarryOver.repair_order_id).where(CarryOver.day <= today))))))
        self._day = today

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
