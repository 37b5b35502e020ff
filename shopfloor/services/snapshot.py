"""The current state of everything the bus carries, read from the database: what the server republishes
after every (re)connect so the broker's retained messages match the source of truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import or_, select

from shopfloor.contract import payloads, topics
from shopfloor.domain.models import Advisor, Appointment, PrintJob, RepairOrder, Technician
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.domain.versions import next_version
from shopfloor.services import views
from shopfloor.services.capacity import board_days, capacity_state, load_plan
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import ro_number_for_appointment

Message = tuple[str, bytes, bool]


class SnapshotService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def messages(self) -> list[Message]:
        return list(self._messages())

    def _messages(self) -> Iterator[Message]:
        site, tz = self.ctx.site, self.ctx.tz
        day_start, day_end = self.ctx.day_bounds(self.ctx.today())
        with self.ctx.db.read() as s:
            for a in s.scalars(select(Advisor).where(Advisor.site_id == site)):
                yield topics.state(site, topics.ADVISORS, a.id), payloads.encode(views.advisor_state(a)), True
            for t in s.scalars(select(Technician).where(Technician.site_id == site)):
                yield topics.state(site, topics.TECHNICIANS, t.id), payloads.encode(views.technician_state(t, tz)), True
            # Today's board plus tomorrow's early cards: enough for every screen, bounded in size.
            appts = s.scalars(select(Appointment).where(
                Appointment.site_id == site, Appointment.start >= day_start,
                Appointment.start < day_end + timedelta(days=1)))
            for appt in appts:
                state = views.appointment_state(appt, tz, ro_number_for_appointment(s, appt.id))
                yield topics.state(site, topics.APPOINTMENTS, appt.id), payloads.encode(state), True
            ros = s.scalars(select(RepairOrder).where(RepairOrder.site_id == site, or_(
                RepairOrder.status.in_([x.value for x in OPEN_STATUSES]), RepairOrder.closed_at >= day_start)))
            for ro in ros:
                yield (topics.state(site, topics.REPAIR_ORDERS, ro.number),
                       payloads.encode(views.repair_order_state(ro, tz)), True)
                lounge = views.lounge_state(ro, tz) if ro.closed_at is None else None
                yield (topics.state(site, topics.LOUNGE, ro.number),
                       payloads.encode(lounge) if lounge is not None else b"", True)
            for day in board_days(self.ctx):
                capacity = capacity_state(load_plan(s, self.ctx, day), site, next_version())
                yield topics.state(site, topics.CAPACITY, day.isoformat()), payloads.encode(capacity), True
            jobs = s.execute(select(PrintJob, RepairOrder.number).outerjoin(
                RepairOrder, RepairOrder.id == PrintJob.repair_order_id).where(
                PrintJob.site_id == site, PrintJob.status == "pending"))
            for job, number in jobs:
                payload = payloads.print_job(job_id=job.id, printer=job.printer, version=job.version,
                                             ro_number=number, kind=job.kind, reprint=job.reprint,
                                             created_at=views.at(job.created_at, tz), data=job.data)
                yield topics.print_job(site, job.printer, job.id), payloads.encode(payload), True
