"""Today's appointments, and the server-clock rule that marks one late."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shopfloor.domain.models import Appointment, QrTag, Vehicle
from shopfloor.services import views
from shopfloor.services.context import ServiceContext
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
                state = views.appointment_state(appt, self.ctx.tz, ro_number_for_appointment(s, appt.id))
                tags = [t.token for t in appt.vehicle.tags if t.revoked_at is None]
                state["tag"] = tags[0] if tags else None
                out.append(state)
            return out

    def mark_late(self) -> int:
        """Appointments whose time plus the grace period has passed without arrival become late."""
        grace = timedelta(minutes=self.ctx.settings.site.late_grace_minutes)
        now = self.ctx.now()
        day_start, _ = self.ctx.day_bounds(self.ctx.today())
        with self.ctx.db.write() as s:
            due = list(s.scalars(select(Appointment).where(
                Appointment.site_id == self.ctx.site, Appointment.status.in_(WAITING),
                Appointment.start >= day_start, Appointment.start <= now - grace)))
            for appt in due:
                appt.status = "late"
                publish_appointment(s, self.ctx, appt)
                log.info("appointment %s (%s) is late", appt.id, appt.vehicle.plate)
            return len(due)

    def tag_for_plate(self, plate: str) -> str | None:
        with self.ctx.db.read() as s:
            return s.scalar(select(QrTag.token).join(Vehicle).where(Vehicle.plate == plate,
                                                                     QrTag.revoked_at.is_(None)).limit(1))
