"""The current state of everything the bus carries, read from the database: what the server republishes
after every (re)connect so the broker's retained messages match the source of truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shopfloor.contract import payloads, topics
from shopfloor.domain.models import Advisor, Appointment, PrintJob, RepairOrder, Technician, Vehicle
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.domain.versions import next_version
from shopfloor.services import views
from shopfloor.services.aftercare.complaints import ComplaintService
from shopfloor.services.capacity import board_days, capacity_state, load_plan
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop import productivity, timeline

Message = tuple[str, bytes, bool]
IN_CHUNK = 500  # ids per IN (...): below SQLite's limit of bound parameters


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
            techs = list(s.scalars(select(Technician).where(Technician.site_id == site)))
            days = productivity.technician_days(s, self.ctx, [t.id for t in techs])
            for t in techs:
                row = views.technician_state(t, tz, days.get(t.id))
                yield topics.state(site, topics.TECHNICIANS, t.id), payloads.encode(row), True
            # Today's board plus tomorrow's early cards: enough for every screen, bounded in size.
            appts = list(s.scalars(select(Appointment).where(
                Appointment.site_id == site, Appointment.start >= day_start,
                Appointment.start < day_end + timedelta(days=1)).options(
                selectinload(Appointment.vehicle).selectinload(Vehicle.customer),
                selectinload(Appointment.advisor), selectinload(Appointment.bay))))
            # each card's repair order number, in one read (the latest order of an appointment, as
            # publishing.ro_number_for_appointment)
            numbers: dict[int, str] = {}
            ids = [appt.id for appt in appts]
            for start in range(0, len(ids), IN_CHUNK):
                for appointment_id, number in s.execute(
                        select(RepairOrder.appointment_id, RepairOrder.number)
                        .where(RepairOrder.appointment_id.in_(ids[start:start + IN_CHUNK])).order_by(RepairOrder.id)):
                    if appointment_id is not None:
                        numbers[appointment_id] = number
            for appt in appts:
                state = views.appointment_state(appt, tz, numbers.get(appt.id))
                yield topics.state(site, topics.APPOINTMENTS, appt.id), payloads.encode(state), True
            # the orders in the workshop and those closed today, each by its own index (an OR of the two read
            # every order there ever was)
            loaded = (selectinload(RepairOrder.vehicle).selectinload(Vehicle.customer),
                      selectinload(RepairOrder.advisor), selectinload(RepairOrder.technician),
                      selectinload(RepairOrder.job_lines))
            ros = list(s.scalars(select(RepairOrder).where(
                RepairOrder.site_id == site, RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
                .options(*loaded).order_by(RepairOrder.id)))
            ros += s.scalars(select(RepairOrder).where(
                RepairOrder.site_id == site, RepairOrder.closed_at >= day_start,
                RepairOrder.status.not_in([x.value for x in OPEN_STATUSES])).options(*loaded).order_by(RepairOrder.id))
            bars = timeline.for_orders(s, self.ctx, ros)  # the job progress board's bars
            for ro in ros:
                yield (topics.state(site, topics.REPAIR_ORDERS, ro.number),
                       payloads.encode(views.repair_order_state(ro, tz, bars)), True)
                lounge = views.lounge_state(ro, tz) if ro.closed_at is None else None
                yield (topics.state(site, topics.LOUNGE, ro.number),
                       payloads.encode(lounge) if lounge is not None else b"", True)
            for day in board_days(self.ctx):
                capacity = capacity_state(load_plan(s, self.ctx, day), site, next_version())
                yield topics.state(site, topics.CAPACITY, day.isoformat()), payloads.encode(capacity), True
            # complaints not closed (a closed one's state was deleted when it closed)
            for complaint in ComplaintService(self.ctx).open_states(s):
                yield topics.state(site, topics.COMPLAINTS, complaint.id), payloads.encode(complaint), True
            jobs = s.execute(select(PrintJob, RepairOrder.number).outerjoin(
                RepairOrder, RepairOrder.id == PrintJob.repair_order_id).where(
                PrintJob.site_id == site, PrintJob.status == "pending"))
            for job, number in jobs:
                payload = payloads.print_job(job_id=job.id, printer=job.printer, version=job.version,
                                             ro_number=number, kind=job.kind, reprint=job.reprint,
                                             created_at=views.at(job.created_at, tz), data=job.data)
                yield topics.print_job(site, job.printer, job.id), payloads.encode(payload), True
