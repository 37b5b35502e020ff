"""What each entity looks like on the bus: builds the retained state payloads (the models are in
shopfloor/contract/entity_states.py, documented in docs/asyncapi.yaml)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from shopfloor.contract.entity_states import (
    AdditionalWorkRef,
    AdvisorRef,
    AdvisorState,
    AppointmentFlags,
    AppointmentLine,
    AppointmentParts,
    AppointmentState,
    AppointmentStatus,
    BookingSource,
    CallOutcome,
    ClockedSpan,
    LoungeState,
    OrderFlags,
    PartsStatus,
    PlannedSpan,
    RepairOrderLine,
    RepairOrderState,
    Skill,
    TechnicianDay,
    TechnicianFigures,
    TechnicianRef,
    TechnicianState,
    TimeSpan,
)
from shopfloor.contract.payloads import SCHEMA
from shopfloor.contract.staff import StaffRole
from shopfloor.domain.identifiers import display_plate, mask_name, mask_plate
from shopfloor.domain.models import Advisor, Appointment, JobLine, RepairOrder, Technician
from shopfloor.domain.parts import line_parts
from shopfloor.domain.states import HoldReason, RoStatus
from shopfloor.domain.workshop import STARTED_LINE_STATUSES, FindingStatus, LineStatus, PauseReason, Risk
from shopfloor.services.workshop.photos import url as photo_url

if TYPE_CHECKING:
    from shopfloor.services.workshop import productivity
    from shopfloor.services.workshop.timeline import Timelines


def iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    return at(value, tz) if value else None


def at(value: datetime, tz: ZoneInfo) -> str:
    """A moment as the bus carries it: ISO 8601 in the site's zone, whole seconds."""
    return value.astimezone(tz).isoformat(timespec="seconds")


def _advisor_ref(advisor: Advisor) -> AdvisorRef:
    return AdvisorRef(id=advisor.id, name=advisor.name, code=advisor.code)


def work_summary(ro: RepairOrder) -> str:
    lines = [line.description for line in ro.job_lines]
    if not lines:
        return ""
    return lines[0] if len(lines) == 1 else f"{lines[0]} +{len(lines) - 1}"


def repair_order_state(ro: RepairOrder, tz: ZoneInfo, timelines: Timelines | None = None) -> RepairOrderState:
    """`timelines`: the job progress board's bars (services/workshop/timeline.py); without them the lines carry
    none and the order is not flagged carried over."""
    customer = ro.vehicle.customer
    return RepairOrderState(
        schema=SCHEMA,
        version=ro.version,
        site=ro.site_id,
        number=ro.number,
        status=RoStatus(ro.status),
        hold_reason=HoldReason(ro.hold_reason) if ro.hold_reason else None,
        plate=ro.vehicle.plate,
        plate_display=display_plate(ro.vehicle.plate),
        vehicle_model=ro.vehicle.model,
        customer=customer.addressed,
        advisor=_advisor_ref(ro.advisor),
        technician=TechnicianRef(id=ro.technician.id, name=ro.technician.name) if ro.technician else None,
        appointment_id=ro.appointment_id,
        promised_at=iso(ro.promised_at, tz),
        opened_at=at(ro.opened_at, tz),
        closed_at=iso(ro.closed_at, tz),
        work=work_summary(ro),
        job_lines=[_line(line, tz, timelines) for line in ro.job_lines],
        total_hours=float(ro.total_hours),
        complaint=ro.complaint,
        mileage_km=ro.mileage_km,
        fuel_eighths=ro.fuel_eighths,
        projected_ready_at=iso(ro.projected_ready_at, tz),
        risk=Risk(ro.risk),
        additional_work=[AdditionalWorkRef(id=f.id, description=f.description, hours=float(f.hours),
                                           status=FindingStatus(f.status), photo=photo_url(f.photo),
                                           technician=TechnicianRef(id=f.technician.id, name=f.technician.name))
                         for f in ro.additional_work],
        flags=_flags(ro, timelines),
    )


def _flags(ro: RepairOrder, timelines: Timelines | None) -> OrderFlags:
    appt = ro.appointment
    return OrderFlags(waiting_customer=bool(appt and appt.waiting_customer),
                      repeat_repair=bool(appt and appt.repeat_repair) or ro.comeback_of_id is not None,
                      complaint=bool(appt and appt.complaining_customer) or ro.vehicle.customer.complaining,
                      carried_over=timelines is not None and ro.id in timelines.carried_over)


def _bars(line: JobLine, tz: ZoneInfo, timelines: Timelines | None) -> tuple[list[PlannedSpan], list[ClockedSpan]]:
    """The job progress board's planned and actual bars of the line (none without timelines)."""
    if timelines is None:
        return [], []
    planned = [PlannedSpan(technician=p.technician_id, start=at(p.start, tz), end=at(p.end, tz))
               for p in timelines.planned.get(line.id, []) if p.end is not None]
    clocked = [ClockedSpan(technician=c.technician_id, clocking=c.clocking_id or 0, start=at(c.start, tz),
                           end=iso(c.end, tz), assumed=c.assumed) for c in timelines.clocked.get(line.id, [])]
    return planned, clocked


def _line(line: JobLine, tz: ZoneInfo, timelines: Timelines | None = None) -> RepairOrderLine:
    crew = [TechnicianRef(id=a.technician.id, name=a.technician.name) for a in line.assignments]
    planned, clocked = _bars(line, tz, timelines)
    parts, eta = line_parts([(p.status, p.eta) for p in line.parts])
    return RepairOrderLine(code=line.operation_code, description=line.description, hours=float(line.hours),
                           skill=Skill(line.skill), id=line.id, status=LineStatus(line.status),
                           pause_reason=PauseReason(line.pause_reason) if line.pause_reason else None,
                           technician=crew[0] if crew else None, technicians=crew,
                           additional=line.origin == "additional", parts_status=parts,
                           parts_eta=eta.isoformat() if eta else None, planned=planned, clocked_today=clocked)


def lounge_state(ro: RepairOrder, tz: ZoneInfo) -> LoungeState:
    """No personal data: masked plate, surname + salutation, the step and the promised time; and whether the
    customer is needed (work on hold waiting for their approval)."""
    return LoungeState(
        schema=SCHEMA,
        version=ro.version,
        site=ro.site_id,
        number=ro.number,
        plate_masked=mask_plate(ro.vehicle.plate),
        customer_masked=mask_name(ro.vehicle.customer.surname, ro.vehicle.customer.salutation),
        status=RoStatus(ro.status),
        promised_at=iso(ro.promised_at, tz),
        needs_customer=ro.status == "on_hold" and ro.hold_reason == "waiting_approval",
        projected_ready_at=iso(ro.projected_ready_at, tz),
        # an order opened without lines is moved by hand: its status says whether work started
        work_started=any(line.status in STARTED_LINE_STATUSES for line in ro.job_lines) or (
            not ro.job_lines and ro.status not in (RoStatus.CHECKED_IN, RoStatus.DISPATCHED)),
    )


def appointment_state(appt: Appointment, tz: ZoneInfo, ro_number: str | None) -> AppointmentState:
    end = appt.start + timedelta(hours=float(appt.hours))
    return AppointmentState(
        schema=SCHEMA,
        version=appt.version,
        site=appt.site_id,
        id=appt.id,
        status=AppointmentStatus(appt.status),
        start=at(appt.start, tz),
        end=at(end, tz),
        hours=float(appt.hours),
        work=appt.work,
        plate=appt.vehicle.plate,
        plate_display=display_plate(appt.vehicle.plate),
        vehicle_model=appt.vehicle.model,
        customer=appt.vehicle.customer.addressed,
        advisor=_advisor_ref(appt.advisor),
        bay=appt.bay.code if appt.bay else None,
        arrived_at=iso(appt.arrived_at, tz),
        ro_number=ro_number,
        skill=Skill(appt.skill),
        # stored as JSON by the booking desk, the DMS import and the demo: checked here, not trusted
        job_lines=[AppointmentLine.model_validate(line) for line in appt.job_lines or []],
        equipment=appt.equipment,
        source=BookingSource(appt.source),
        parts=AppointmentParts(status=PartsStatus(appt.parts_status),
                               eta=appt.parts_eta.isoformat() if appt.parts_eta else None,
                               numbers=appt.parts_numbers),
        flags=AppointmentFlags(waiting_customer=appt.waiting_customer, road_test=appt.road_test,
                               repeat_repair=appt.repeat_repair, complaining_customer=appt.complaining_customer),
        call_outcome=CallOutcome(appt.call_outcome) if appt.call_outcome else None,
        no_show_at=iso(appt.no_show_at, tz),
        cancel_reason=appt.cancel_reason,
        rebooked_as=appt.rebooked_as_id,
        notes=appt.notes,
        overridden=bool(appt.overrides),
    )


def advisor_state(advisor: Advisor) -> AdvisorState:
    return AdvisorState(
        schema=SCHEMA, version=advisor.version, site=advisor.site_id, id=advisor.id, name=advisor.name,
        code=advisor.code, active=advisor.active, roles=sorted(advisor.role_set),
        # "role" says whether the person is a row on the appointment board (advisor) or other staff
        role=StaffRole.ADVISOR if advisor.is_advisor else StaffRole(advisor.roles.split(",")[0].strip()))


def technician_state(tech: Technician, tz: ZoneInfo, day: productivity.TechnicianDay | None = None
                     ) -> TechnicianState:
    """`day`: today's shift and figures (services/workshop/productivity.py), for the job progress board."""
    clocking = tech.open_clocking
    return TechnicianState(schema=SCHEMA, version=tech.version, site=tech.site_id, id=tech.id, name=tech.name,
                           skill=Skill(tech.skill), active=tech.active,
                           current_job=clocking.repair_order.number if clocking else None,
                           clocked_on_at=at(clocking.started_at, tz) if clocking else None,
                           today=_technician_day(day, tz) if day is not None else None)


def _technician_day(day: productivity.TechnicianDay, tz: ZoneInfo) -> TechnicianDay:
    def spans(windows: list[tuple[datetime, datetime]]) -> list[TimeSpan]:
        return [TimeSpan(start=at(a, tz), end=at(b, tz)) for a, b in windows]

    r, f = day.roster, day.figures
    return TechnicianDay(
        day=day.day.isoformat(), as_of=at(day.as_of, tz),
        shift=TimeSpan(start=at(r.shift[0], tz), end=at(r.shift[1], tz)) if r.shift else None,
        working=spans(r.working), breaks=spans(r.breaks), leave=spans(r.leave),
        figures=TechnicianFigures(sold_hours=f.sold, worked_hours=f.worked, attended_hours=f.attended,
                                  finished_hours=f.finished, finished_worked_hours=f.finished_worked,
                                  productivity=f.productivity, efficiency=f.efficiency))
