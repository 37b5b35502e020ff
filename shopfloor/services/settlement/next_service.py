"""The next service told at delivery (domain.md §4: "advise … the next maintenance (date/mileage) — this reminder is
the hook for the next visit"), from the site's maintenance interval and the car's own history.

The kilometres: a car that keeps to the schedule (its last maintenance at or up to a fifth of an interval past a
milestone, e.g. 35,210 km for the 35,000 km service) is told the next milestone (40,000 km), never the interval
itself ("5,000 km" was offered to a car at 35,210 km); a car off the schedule its last maintenance + the interval.
Always above this visit's odometer and at most one interval past it.

The date: when the car, driven as it has been (its own km per day between the readings of its visits, its record
and its sale), reaches that mileage; never later than the day interval, and with no history the day interval.

`plan()` is the arithmetic alone (unit-tested); `next_service()` reads the car's history for it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.models import JobLine, LabourOperation, RepairOrder, Vehicle
from shopfloor.domain.states import RoStatus
from shopfloor.domain.workshop import LineStatus
from shopfloor.i18n import t
from shopfloor.services.context import ServiceContext

# a maintenance done up to this share of the interval after its milestone still keeps the car on the schedule
ON_SCHEDULE_SHARE = 0.2


@dataclass(frozen=True)
class Reading:
    on: date
    km: int


@dataclass(frozen=True)
class NextService:
    on: date
    km: int | None
    basis: str  # in words, in the site's language: how it was computed (the sheet and the page show it)
    keys: tuple[str, ...] = ()  # the basis' text keys (the km's, the date's) and their values, for other languages
    params: dict[str, Any] = field(default_factory=dict)

    def explain(self, lang: str) -> str:
        return explain(lang, self.keys, self.params) if self.keys else self.basis


def explain(lang: str, keys: tuple[str, ...], params: dict[str, Any]) -> str:
    return t(lang, "delivery.basis.join").join(t(lang, key, **params) for key in keys)


def fmt_km(km: int) -> str:
    return f"{km:,}"


def next_multiple(km: int, interval: int) -> int:
    """The first milestone of the schedule strictly above `km`."""
    return (km // interval + 1) * interval


def on_schedule(km: int, interval: int) -> bool:
    return km % interval <= interval * ON_SCHEDULE_SHARE


def next_km(odometer: int, interval: int, last_maintenance_km: int | None) -> tuple[int, str]:
    """(the km of the next service, which rule gave it: "schedule" | "overdue" | "off_schedule" | "no_record")."""
    milestone = next_multiple(odometer, interval)
    if last_maintenance_km is None or last_maintenance_km > odometer:  # a record above the odometer is a typo
        return milestone, "no_record"
    due = last_maintenance_km + interval
    if due <= odometer:
        return milestone, "overdue"
    if on_schedule(last_maintenance_km, interval):
        scheduled = last_maintenance_km // interval * interval + interval
        return (scheduled, "schedule") if scheduled > odometer else (due, "off_schedule")
    return due, "off_schedule"


def km_per_day(readings: list[Reading]) -> float | None:
    """The car's own pace: km between its first and its latest reading over the days between; None without two
    readings apart in time and distance (or with an odometer that went back)."""
    dated = sorted(readings, key=lambda r: (r.on, r.km))
    if len(dated) < 2:
        return None
    first, last = dated[0], dated[-1]
    days = (last.on - first.on).days
    if days <= 0 or last.km <= first.km:
        return None
    return (last.km - first.km) / days


def plan(today: date, odometer: int | None, interval_km: int, interval_days: int,
         last_maintenance_km: int | None, readings: list[Reading], lang: str = "zh-CN") -> NextService:
    """The next service for a car at `odometer` today (see the module's docstring)."""
    latest = today + timedelta(days=interval_days)
    params: dict[str, Any] = {"days": interval_days, "interval": fmt_km(interval_km)}
    if odometer is None:
        return _said(lang, latest, None, ("delivery.basis.date.no_mileage",), params)
    km, rule = next_km(odometer, interval_km, last_maintenance_km)
    params |= {"odometer": fmt_km(odometer), "km": fmt_km(km),
               "last": fmt_km(last_maintenance_km) if last_maintenance_km is not None else ""}
    pace = km_per_day(readings)
    rule_key = f"delivery.basis.km.{rule}"
    if pace is None:
        return _said(lang, latest, km, (rule_key, "delivery.basis.date.no_pace"), params)
    params |= {"pace": max(1, round(pace))}
    needed = max(1, math.ceil((km - odometer) / pace))
    if needed >= interval_days:
        return _said(lang, latest, km, (rule_key, "delivery.basis.date.days_first"), params)
    params |= {"needed": needed}
    return _said(lang, today + timedelta(days=needed), km, (rule_key, "delivery.basis.date.pace"), params)


def _said(lang: str, on: date, km: int | None, keys: tuple[str, ...], params: dict[str, Any]) -> NextService:
    return NextService(on, km, explain(lang, keys, params), keys, params)


def maintenance_codes(s: Session, site: str) -> set[str]:
    """The labour operations that are periodic maintenance (they have a km interval), as the call lists read them."""
    return set(s.scalars(select(LabourOperation.code).where(
        LabourOperation.site_id == site, LabourOperation.interval_km.is_not(None), LabourOperation.interval_km > 0)))


def had_maintenance(s: Session, ctx: ServiceContext, ro: RepairOrder) -> bool:
    codes = maintenance_codes(s, ro.site_id)
    return any(line.operation_code in codes for line in ro.job_lines
               if line.status != LineStatus.CANCELLED and line.operation_code)


def last_maintenance_km(s: Session, ctx: ServiceContext, ro: RepairOrder) -> int | None:
    """The km of the car's last maintenance before this visit: its latest delivered maintenance order here or the
    vehicle's record, whichever is later."""
    vehicle = ro.vehicle
    codes = maintenance_codes(s, ro.site_id)
    ours = None
    if codes:
        ours = s.execute(select(RepairOrder.opened_at, RepairOrder.mileage_km).where(
            RepairOrder.vehicle_id == vehicle.id, RepairOrder.id != ro.id,
            RepairOrder.status == RoStatus.DELIVERED.value, RepairOrder.mileage_km.is_not(None),
            RepairOrder.id.in_(select(JobLine.repair_order_id).where(JobLine.operation_code.in_(codes),
                                                                     JobLine.status != LineStatus.CANCELLED.value)))
            .order_by(RepairOrder.opened_at.desc()).limit(1)).first()
    if ours is not None and ours[1] is not None and (
            vehicle.last_service_on is None or ours[0].astimezone(ctx.tz).date() >= vehicle.last_service_on):
        return int(ours[1])
    return vehicle.last_service_km


def readings(s: Session, ctx: ServiceContext, ro: RepairOrder) -> list[Reading]:
    """Every odometer reading known of the car: its visits here (not cancelled), its own record, its sale (0 km)."""
    vehicle: Vehicle = ro.vehicle
    out = [Reading(opened.astimezone(ctx.tz).date(), km) for opened, km in s.execute(
        select(RepairOrder.opened_at, RepairOrder.mileage_km).where(
            RepairOrder.vehicle_id == vehicle.id, RepairOrder.status != RoStatus.CANCELLED.value,
            RepairOrder.mileage_km.is_not(None))) if km is not None]
    if vehicle.mileage_at is not None and vehicle.mileage_km is not None:
        out.append(Reading(vehicle.mileage_at, vehicle.mileage_km))
    if vehicle.sold_on is not None:
        out.append(Reading(vehicle.sold_on, 0))
    return out


def next_service(s: Session, ctx: ServiceContext, ro: RepairOrder) -> NextService:
    """The next service of the car of `ro`, delivered today: this visit is its last maintenance when it had one."""
    cfg = ctx.settings.booking
    odometer = ro.mileage_km if ro.mileage_km is not None else ro.vehicle.mileage_km
    last = odometer if had_maintenance(s, ctx, ro) and odometer is not None else last_maintenance_km(s, ctx, ro)
    return plan(ctx.today(), odometer, cfg.service_interval_km, cfg.service_interval_days, last,
                readings(s, ctx, ro), ctx.settings.site.language)
