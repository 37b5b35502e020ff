"""Today's appointments, and the server-clock rule that marks one late."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shopfloor.domain.models import Appointment, QrTag, Vehicle
from shopfloor.services import views
from shopfloor.services.audit import SYSTEM, Entity, record
from shopfloor.services.capacity import publish_capacity
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages import triggers as messages
from shopfloor.services.publishing import publish_appointment, ro_number_for_appointment

log = logging.getLogger(__name__)

WAITING = ("booked", "confirmed")


class AppointmentService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list_day(self, day: date) -> list[dict[str, Any]]:
        start, end = self.ctx.day_bounds(day)
        with self.ctx.db.read() as s:
            rows = list(s.scalars(select(Appointment).where(
                Appointment.site_id == self.ctx.site, Appointment.start >= start, Appointment.start < end)
                .options(selectinload(Appointment.vehicle).selectinload(Vehicle.tags)).order_by(Appointment.start)))
            out = []
            for appt in rows:
                state = views.appointment_state(appt, self.ctx.tz, ro_number_for_appointment(s, appt.id)).to_dict()
                tags = [t.token for t in appt.vehicle.tags if t.revoked_at is None]
                state["tag"] = tags[0] if tags else None
                out.append(state)
            return out

    def mark_late(self) -> int:
        """Appointments whose time plus the grace period has passed without arrival become late; at the
        no-show cut-off they become no-shows (their hours go back on sale; the no-show list calls them back).
        Returns how many changed."""
        grace = timedelta(minutes=self.ctx.settings.site.late_grace_minutes)
        cutoff = timedelta(minutes=self.ctx.settings.booking.no_show_after_minutes)
        now = self.ctx.now()
        day_start, _ = self.ctx.day_bounds(self.ctx.today())
        # yesterday's too: a server that was down over the cut-off still marks them
        since = day_start - timedelta(days=1)
        with self.ctx.db.write() as s:
            due = list(s.scalars(select(Appointment).where(
                Appointment.site_id == self.ctx.site, Appointment.status.in_((*WAITING, "late")),
                Appointment.start >= since, Appointment.start <= now - grace)))
            days = set()
            changed = 0
            for appt in due:
                was = appt.status
                if appt.start <= now - max(cutoff, grace):
                    appt.status, appt.no_show_at = "no_show", now
                    messages.appointment_dropped(s, self.ctx, appt, SYSTEM)
                    days.add(appt.start.astimezone(self.ctx.tz).date())
                    log.info("appointment %s (%s) is a no-show", appt.id, appt.vehicle.plate)
                elif appt.status != "late":
                    appt.status = "late"
                    log.info("appointment %s (%s) is late", appt.id, appt.vehicle.plate)
                else:
                    continue
                publish_appointment(s, self.ctx, appt)
                record(s, self.ctx, SYSTEM, Entity.APPOINTMENT, appt.id, appt.status, from_value=was,
                       to_value=appt.status)
                changed += 1
            for day in days:
                publish_capacity(s, self.ctx, day)
            return changed

    def no_shows(self, first: date, last: date) -> list[dict[str, Any]]:
        """No-shows of these days not yet rebooked: the call-back list."""
        start, _ = self.ctx.day_bounds(first)
        _, end = self.ctx.day_bounds(last)
        with self.ctx.db.read() as s:
            rows = s.scalars(select(Appointment).where(
                Appointment.site_id == self.ctx.site, Appointment.status == "no_show",
                Appointment.rebooked_as_id.is_(None), Appointment.start >= start, Appointment.start < end)
                .order_by(Appointment.start))
            out = []
            for appt in rows:
                state = views.appointment_state(appt, self.ctx.tz, None).to_dict()
                state["phone"] = appt.vehicle.customer.phone
                state["preferred_channel"] = appt.vehicle.customer.preferred_channel
                state["vehicle_id"] = appt.vehicle_id
                out.append(state)
            return out

    def tag_for_plate(self, plate: str) -> str | None:
        with self.ctx.db.read() as s:
            return s.scalar(select(QrTag.token).join(Vehicle).where(Vehicle.plate == plate,
                                                                     QrTag.revoked_at.is_(None)).limit(1))
