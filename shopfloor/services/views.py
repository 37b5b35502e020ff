"""What each entity looks like on the bus: the retained state payloads (docs/asyncapi.yaml)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shopfloor.contract.payloads import SCHEMA
from shopfloor.contract.staff import StaffRole
from shopfloor.domain.identifiers import display_plate, mask_name, mask_plate
from shopfloor.domain.models import Advisor, Appointment, RepairOrder, Technician


def iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def _advisor_ref(advisor: Advisor) -> dict[str, Any]:
    return {"id": advisor.id, "name": advisor.name, "code": advisor.code}


def work_summary(ro: RepairOrder) -> str:
    lines = [line.description for line in ro.job_lines]
    if not lines:
        return ""
    return lines[0] if len(lines) == 1 else f"{lines[0]} +{len(lines) - 1}"


def repair_order_state(ro: RepairOrder, tz: ZoneInfo) -> dict[str, Any]:
    customer = ro.vehicle.customer
    return {
        "schema": SCHEMA,
        "version": ro.version,
        "site": ro.site_id,
        "number": ro.number,
        "status": ro.status,
        "hold_reason": ro.hold_reason,
        "plate": ro.vehicle.plate,
        "plate_display": display_plate(ro.vehicle.plate),
        "vehicle_model": ro.vehicle.model,
        "customer": customer.addressed,
        "advisor": _advisor_ref(ro.advisor),
        "technician": {"id": ro.technician.id, "name": ro.technician.name} if ro.technician else None,
        "appointment_id": ro.appointment_id,
        "promised_at": iso(ro.promised_at, tz),
        "opened_at": iso(ro.opened_at, tz),
        "closed_at": iso(ro.closed_at, tz),
        "work": work_summary(ro),
        "job_lines": [
            {"code": line.operation_code, "description": line.description, "hours": float(line.hours),
             "skill": line.skill}
            for line in ro.job_lines
        ],
        "total_hours": float(ro.total_hours),
        "complaint": ro.complaint,
        "mileage_km": ro.mileage_km,
        "fuel_eighths": ro.fuel_eighths,
    }


def lounge_state(ro: RepairOrder, tz: ZoneInfo) -> dict[str, Any]:
    """No personal data: masked plate, surname + salutation, the step and the promised time; and whether the
    customer is needed (work on hold waiting for their approval)."""
    return {
        "schema": SCHEMA,
        "version": ro.version,
        "site": ro.site_id,
        "number": ro.number,
        "plate_masked": mask_plate(ro.vehicle.plate),
        "customer_masked": mask_name(ro.vehicle.customer.surname, ro.vehicle.customer.salutation),
        "status": ro.status,
        "promised_at": iso(ro.promised_at, tz),
        "needs_customer": ro.status == "on_hold" and ro.hold_reason == "waiting_approval",
    }


def appointment_state(appt: Appointment, tz: ZoneInfo, ro_number: str | None) -> dict[str, Any]:
    from datetime import timedelta

    end = appt.start + timedelta(hours=float(appt.hours))
    return {
        "schema": SCHEMA,
        "version": appt.version,
        "site": appt.site_id,
        "id": appt.id,
        "status": appt.status,
        "start": iso(appt.start, tz),
        "end": iso(end, tz),
        "hours": float(appt.hours),
        "work": appt.work,
        "plate": appt.vehicle.plate,
        "plate_display": display_plate(appt.vehicle.plate),
        "vehicle_model": appt.vehicle.model,
        "customer": appt.vehicle.customer.addressed,
        "advisor": _advisor_ref(appt.advisor),
        "bay": appt.bay.code if appt.bay else None,
        "arrived_at": iso(appt.arrived_at, tz),
        "ro_number": ro_number,
        "skill": appt.skill,
        "job_lines": list(appt.job_lines or []),
        "equipment": appt.equipment,
        "source": appt.source,
        "parts": {"status": appt.parts_status, "eta": appt.parts_eta.isoformat() if appt.parts_eta else None,
                  "numbers": appt.parts_numbers},
        "flags": {"waiting_customer": appt.waiting_customer, "road_test": appt.road_test,
                  "repeat_repair": appt.repeat_repair, "complaining_customer": appt.complaining_customer},
        "call_outcome": appt.call_outcome,
        "no_show_at": iso(appt.no_show_at, tz),
        "cancel_reason": appt.cancel_reason,
        "rebooked_as": appt.rebooked_as_id,
        "notes": appt.notes,
        "overridden": bool(appt.overrides),
    }


def advisor_state(advisor: Advisor) -> dict[str, Any]:
    return {"schema": SCHEMA, "version": advisor.version, "site": advisor.site_id, **_advisor_ref(advisor),
            "active": advisor.active, "roles": sorted(advisor.role_set),
            # "role" says whether the person is a row on the appointment board (advisor) or other staff
            "role": StaffRole.ADVISOR.value if advisor.is_advisor else advisor.roles.split(",")[0]}


def technician_state(tech: Technician) -> dict[str, Any]:
    return {"schema": SCHEMA, "version": tech.version, "site": tech.site_id, "id": tech.id, "name": tech.name,
            "skill": tech.skill, "active": tech.active}
