"""What tests pick from the seeded demo site (plugin.services, db_fixtures.db_services): today's cars still
waiting to arrive and their tags, and a day ahead with nothing booked (the demo books the next week)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from shopfloor.domain.models import Appointment, QrTag

if TYPE_CHECKING:
    from shopfloor.testing.plugin import Services


def _waiting_today(svc: Services) -> tuple[Any, ...]:
    """The conditions of an appointment today that is still waiting (booked or confirmed)."""
    start, end = svc.ctx.day_bounds(svc.ctx.today())
    return Appointment.status.in_(("booked", "confirmed")), Appointment.start >= start, Appointment.start < end


def waiting_today(svc: Services) -> tuple[Appointment, str]:
    """Today's last appointment still waiting, and its car's tag."""
    with svc.db.read() as s:
        appt = s.scalars(select(Appointment).where(*_waiting_today(svc)).order_by(Appointment.start.desc())).first()
        assert appt is not None
        return appt, str(s.scalar(select(QrTag.token).where(QrTag.vehicle_id == appt.vehicle_id)))


def waiting_tags(svc: Services, *, latest_first: bool = False) -> list[str]:
    """The tags of the cars still waiting today, by the time of their appointment."""
    order = Appointment.start.desc() if latest_first else Appointment.start
    with svc.db.read() as s:
        return list(s.scalars(select(QrTag.token).join(Appointment, Appointment.vehicle_id == QrTag.vehicle_id)
                              .where(*_waiting_today(svc)).order_by(order)))


def quiet_day(svc: Services, offset: int = 20) -> date:
    """The first day from `offset` days ahead with no bookings yet and technicians at work."""
    for k in itertools.count(offset):
        day = svc.ctx.today() + timedelta(days=k)
        cap = svc.booking.capacity(day)
        if cap["appointments"] == 0 and cap["total"]["available"] > 0:
            return day
    raise AssertionError("unreachable")
