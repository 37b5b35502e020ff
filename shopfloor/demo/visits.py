"""The demo's visits: the work a booking sells (catalogue operations by a mix), its appointment, and the repair
order the workshop opened for it with the history of its moves."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shopfloor.demo.data import (
    COMPLAINTS,
    ENGINE_ONLY,
    EV_MAINTENANCE_MIX,
    EV_MODELS,
    EV_REPAIR_MIX,
    MAINTENANCE_MIX,
    PARTS,
    REPAIR_MIX,
)
from shopfloor.demo.people import weighted
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    Bay,
    JobLine,
    LabourOperation,
    Leave,
    RepairOrder,
    RoEvent,
    Technician,
    Vehicle,
)
from shopfloor.domain.states import HoldReason, RoStatus
from shopfloor.domain.versions import next_version
from shopfloor.domain.workshop import LineStatus, lines_of_status
from shopfloor.domain.workshop_models import JobLineTechnician, QcResult
from shopfloor.services.context import ServiceContext


def job_line(position: int, op: LabourOperation, lang: str, status: RoStatus, hold: str | None,
             tech: Technician | None, at: datetime) -> JobLine:
    """A line of an order the story opens straight in `status`: its status and technician as the workshop would
    have left them."""
    state = lines_of_status(status, HoldReason(hold) if hold else None)
    line = JobLine(position=position, operation_code=op.code, description=op.name(lang), hours=op.hours,
                   skill=op.skill, status=state.status.value,
                   pause_reason=state.pause_reason.value if state.pause_reason else None)
    if tech is not None and state.status != LineStatus.WAITING:
        line.assignments.append(JobLineTechnician(technician_id=tech.id, sequence=0, dispatched_at=at,
                                                  dispatched_by=""))
    return line


def is_ev(vehicle: Vehicle) -> bool:
    return vehicle.model in EV_MODELS


def suits(op: LabourOperation, vehicle: Vehicle) -> bool:
    """Whether the car can have this work: no oil, timing belt or engine diagnosis on an electric car, and the
    electric car's service on no other."""
    return op.code not in ENGINE_ONLY if is_ev(vehicle) else op.code != "EVS"


def package_for(ops: dict[str, LabourOperation], km: int, interval: int) -> LabourOperation | None:
    """The maintenance package the odometer calls for, as the call lists choose it: the next multiple of the
    service interval (26,851 km: the 30,000 km service), then the package with the largest interval dividing it
    (30,000 km: the 10,000 km package)."""
    milestone = max(-(-km // interval), 1) * interval
    packages = sorted((op for op in ops.values() if op.interval_km), key=lambda op: -(op.interval_km or 0))
    return next((op for op in packages if milestone % (op.interval_km or 1) == 0), None)


def pick_job(rng: random.Random, ops: dict[str, LabourOperation], repair_share: float = 0.3,
             vehicle: Vehicle | None = None, km: int | None = None, interval: int = 5000) -> list[LabourOperation]:
    """A visit's work by the mixes; an electric car gets its own; a maintenance package is the one its
    odometer (`km`) is due for."""
    ev = vehicle is not None and is_ev(vehicle)
    if rng.random() < repair_share:
        lines = [ops[weighted(rng, EV_REPAIR_MIX if ev else REPAIR_MIX)]]
        if rng.random() < 0.15 and not ev:
            lines.append(ops["OIL"])
    else:
        lines = [ops[weighted(rng, EV_MAINTENANCE_MIX if ev else MAINTENANCE_MIX)]]
        if lines[0].interval_km and km is not None:
            lines = [package_for(ops, km, interval) or lines[0]]
        if rng.random() < 0.15:
            lines.append(ops["WSH"])
    return lines


def lines_json(ops: Sequence[LabourOperation], lang: str) -> list[dict[str, object]]:
    return [{"code": op.code, "description": op.name(lang), "hours": float(op.hours), "skill": op.skill,
             "equipment": op.equipment} for op in ops]


def part_numbers_of(ops: Sequence[LabourOperation]) -> str:
    seen: list[str] = []
    for op in ops:
        for number in PARTS.get(op.code, "").split(", "):
            if number and number not in seen:
                seen.append(number)
    return ", ".join(seen)


def new_appointment(ctx: ServiceContext, vehicle: Vehicle, advisor: Advisor, bay: Bay | None, start: datetime,
                 ops: Sequence[LabourOperation], **fields: Any) -> Appointment:
    lang = ctx.settings.site.language
    numbers = part_numbers_of(ops)
    appt = Appointment(
        site_id=ctx.site, vehicle=vehicle, advisor=advisor, bay=bay, start=start,
        hours=sum((op.hours for op in ops), Decimal(0)), work=" + ".join(op.name(lang) for op in ops),
        status="booked", version=next_version(), job_lines=lines_json(ops, lang),
        skill="repair" if any(op.skill == "repair" for op in ops) else "maintenance",
        equipment=next((op.equipment for op in ops if op.equipment), None), source="passive",
        parts_status="in_stock" if numbers else "none", parts_numbers=numbers,
        waiting_customer=False, road_test=any(op.code in ("BRK", "ALN", "DGN") for op in ops),
        repeat_repair=False, complaining_customer=bool(vehicle.customer.complaining), notes="",
        created_by=advisor.name)
    for key, value in fields.items():
        setattr(appt, key, value)
    return appt


def promise(start: datetime, hours: float) -> datetime:
    done = start + timedelta(hours=hours + 1)
    return done.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=30 * -(-done.minute // 30))


@dataclass
class Workshop:
    """Repair orders as the workshop opened them: numbers per day, a qualified technician with hours left."""

    s: Session
    ctx: ServiceContext
    techs: list[Technician]
    numbers: Counter[date] = field(default_factory=Counter)
    load: dict[tuple[date, int], float] = field(default_factory=dict)
    made: int = 0
    working: dict[date, list[Technician]] = field(default_factory=dict)
    events: list[tuple[RepairOrder, list[dict[str, Any]]]] = field(default_factory=list)

    def technician(self, day: date, skill: str) -> Technician:
        if day not in self.working:
            on_leave = set(self.s.scalars(select(Leave.technician_id).where(Leave.day == day,
                                                                            Leave.hours.is_(None))))
            self.working[day] = [t for t in self.techs if t.id not in on_leave and (
                not t.shifts or any(sh.weekday == day.weekday() for sh in t.shifts))]
        working = self.working[day] or self.techs
        fit = [t for t in working if skill == "maintenance" or t.skill == "repair"] or working
        return min(fit, key=lambda t: (self.load.get((day, t.id), 0.0) + (0.5 if t.skill != skill else 0), t.id))

    def open(self, vehicle: Vehicle, appt: Appointment | None, advisor: Advisor, ops: Sequence[LabourOperation],
             arrived: datetime, km: int, status: RoStatus, rng: random.Random, hold: str | None = None,
             complaint: str | None = None) -> RepairOrder:
        lang = self.ctx.settings.site.language
        day = arrived.astimezone(self.ctx.tz).date()
        self.numbers[day] += 1
        hours = float(sum((op.hours for op in ops), Decimal(0)))
        skill = "repair" if any(op.skill == "repair" for op in ops) else "maintenance"
        tech = self.technician(day, skill)
        self.load[(day, tech.id)] = self.load.get((day, tech.id), 0.0) + hours
        ro = RepairOrder(
            site_id=self.ctx.site, number=f"{self.ctx.settings.site.ro_prefix}{day:%Y%m%d}-{self.numbers[day]:03d}",
            vehicle=vehicle, appointment=appt, advisor=advisor,
            technician=None if status == RoStatus.CHECKED_IN else tech, status=status.value, hold_reason=hold,
            complaint=complaint if complaint is not None else next(
                (COMPLAINTS[op.code] for op in ops if op.code in COMPLAINTS), "按时保养"),
            mileage_km=km, fuel_eighths=rng.randrange(1, 9), promised_at=promise(arrived, hours), opened_at=arrived,
            version=next_version())
        for pos, op in enumerate(ops):
            ro.job_lines.append(job_line(pos, op, lang, status, hold, tech, arrived))
        self.s.add(ro)
        at = arrived
        path = [RoStatus.DISPATCHED, RoStatus.IN_PROGRESS, RoStatus.ON_HOLD, RoStatus.QUALITY_CHECK, RoStatus.READY,
                RoStatus.DELIVERED]
        target = path.index(status) if status in path else -1
        events: list[dict[str, Any]] = [dict(at=arrived, actor=advisor.name, kind="checked_in", from_status=None,
                                             to_status=RoStatus.CHECKED_IN.value, technician_id=None, reason=None)]
        previous = RoStatus.CHECKED_IN
        for step, to in enumerate(path[:target + 1]):
            if to == RoStatus.ON_HOLD and status != RoStatus.ON_HOLD:
                continue
            gap = {RoStatus.DISPATCHED: rng.randrange(10, 30), RoStatus.IN_PROGRESS: rng.randrange(5, 20),
                   RoStatus.ON_HOLD: rng.randrange(30, 90),
                   RoStatus.QUALITY_CHECK: int(hours * 60) + rng.randrange(-10, 20),
                   RoStatus.READY: rng.randrange(10, 25), RoStatus.DELIVERED: rng.randrange(15, 80)}[to]
            at = at + timedelta(minutes=max(gap, 5))
            actor = advisor.name if to in (RoStatus.DISPATCHED, RoStatus.DELIVERED) else tech.name
            events.append(dict(at=at, actor=actor, kind="transition", from_status=previous.value, to_status=to.value,
                               technician_id=tech.id if step == 0 else None,
                               reason=hold if to == RoStatus.ON_HOLD else None))
            previous = to
        if status == RoStatus.DELIVERED:
            ro.closed_at = at
        self.events.append((ro, events))
        self.made += 1
        return ro

    def finish(self) -> None:
        """The orders' histories, in one statement once the orders have their keys (hundreds of rows)."""
        self.s.flush()
        rows = [{"repair_order_id": ro.id, **event} for ro, events in self.events for event in events]
        if rows:
            self.s.execute(insert(RoEvent), rows)
        # a car that reached ready passed the site's quality checks on the way (delivery asks for the last one)
        stages = self.ctx.settings.workshop.qc_stages
        checks = [{"repair_order_id": ro.id, "stage": stage.value, "round": 0, "passed": True, "reason": None,
                   "responsible_technician_id": None, "found_by": event["actor"], "at": event["at"]}
                  for ro, events in self.events for event in events
                  if event["to_status"] == RoStatus.READY.value for stage in stages]
        if checks:
            self.s.execute(insert(QcResult), checks)
        self.events.clear()

