"""The MQTT topic tree, shopfloor/v1/<site>/…  (documented in docs/asyncapi.yaml).

State topics are retained and carry versioned JSON; an empty retained payload deletes the entity.
Event topics are never retained.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "shopfloor/v1"

# entity kind -> path segment; each has a retained ".../<kind>/<id>/state" topic
REPAIR_ORDERS = "repair-orders"
APPOINTMENTS = "appointments"
ADVISORS = "advisors"
TECHNICIANS = "technicians"
LOUNGE = "lounge"
# one entity per day (id YYYY-MM-DD): technician hours available, allocated, free, reserved
CAPACITY = "capacity"
# a customer's complaint (issue 12): its status and deadlines, no personal data; an important one also as an event
COMPLAINTS = "complaints"
STATE_KINDS = (REPAIR_ORDERS, APPOINTMENTS, ADVISORS, TECHNICIANS, LOUNGE, CAPACITY, COMPLAINTS)


def site_root(site: str) -> str:
    return f"{ROOT}/{site}"


def state(site: str, kind: str, entity_id: str | int) -> str:
    return f"{ROOT}/{site}/{kind}/{entity_id}/state"


def state_filter(site: str, kind: str) -> str:
    return f"{ROOT}/{site}/{kind}/+/state"


def event(site: str, kind: str, entity_id: str | int) -> str:
    return f"{ROOT}/{site}/events/{kind}/{entity_id}"


def print_job(site: str, printer: str, job_id: int) -> str:
    return f"{ROOT}/{site}/printers/{printer}/jobs/{job_id}"


def print_jobs_filter(site: str, printer: str) -> str:
    return f"{ROOT}/{site}/printers/{printer}/jobs/+"


def print_ack(site: str, printer: str) -> str:
    return f"{ROOT}/{site}/printers/{printer}/acks"


def print_acks_filter(site: str) -> str:
    return f"{ROOT}/{site}/printers/+/acks"


def printer_status(site: str, printer: str) -> str:
    return f"{ROOT}/{site}/printers/{printer}/status"


def printer_status_filter(site: str) -> str:
    return f"{ROOT}/{site}/printers/+/status"


def client_status(site: str, role: str, client_id: str) -> str:
    """Retained online/offline availability of one MQTT client, set by its last will."""
    return f"{ROOT}/{site}/clients/{role}/{client_id}"


@dataclass(frozen=True)
class ParsedState:
    site: str
    kind: str
    entity_id: str


def parse_state(topic: str) -> ParsedState | None:
    parts = topic.split("/")
    if len(parts) != 6 or f"{parts[0]}/{parts[1]}" != ROOT or parts[5] != "state":
        return None
    if parts[3] not in STATE_KINDS:
        return None
    return ParsedState(site=parts[2], kind=parts[3], entity_id=parts[4])


@dataclass(frozen=True)
class ParsedPrintJob:
    site: str
    printer: str
    job_id: int


def parse_print_job(topic: str) -> ParsedPrintJob | None:
    parts = topic.split("/")
    if len(parts) != 7 or f"{parts[0]}/{parts[1]}" != ROOT or parts[3] != "printers" or parts[5] != "jobs":
        return None
    try:
        return ParsedPrintJob(site=parts[2], printer=parts[4], job_id=int(parts[6]))
    except ValueError:
        return None
