"""The demo site: 4 advisors plus a service manager, a customer-service agent, a parts clerk, a foreman, a
technician and a cashier who sign in; 8 technicians with their shifts (one on leave tomorrow, a closed day in ten
days); 6 lifts and an alignment bay; a few hundred customers with vehicles and QR tags. The site itself is set up
through shopfloor.services.site_setup, as a real site is; the lists are in shopfloor.demo.data.

Today: appointments around the current hour (some already past their time), the cars that came in already, and
2 carried over from yesterday (one on hold for parts). The 14 days before: appointments that arrived, did not show
or were cancelled, their delivered repair orders, and walk-ins (the manager's figures). Tomorrow and the 5 days
after: 12–22 levelled appointments a day (one arrival per advisor per quarter hour, work done before closing, hours
below what the technicians can sell). Vehicle dates so that every call list (services/solicitation.py) has a few
entries.

Deterministic with the rng, apart from the tags' random tokens and the current time."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.demo.aftersales import seed_aftersales
from shopfloor.demo.data import (
    ADVISORS,
    ALIGNMENT_BAYS,
    BAYS,
    CANCEL_REASONS,
    COMPLAINTS,
    CS_AGENT,
    DECLINED,
    DEFAULT_SHIFT,
    EV_MAINTENANCE_MIX,
    EV_MODELS,
    EV_REPAIR_MIX,
    FUTURE_APPOINTMENTS,
    GIVEN,
    HOLIDAY,
    MAINTENANCE_MIX,
    MEASURED,
    MODELS,
    ON_LEAVE_TOMORROW,
    OPERATIONS,
    PARTS,
    PAST_DAYS,
    RELEASED,
    REPAIR_MIX,
    SHIFTS,
    STAFF,
    SURNAMES,
    TECHNICIANS,
)
from shopfloor.demo.parts import seed_parts
from shopfloor.demo.people import People, random_plate, random_vin
from shopfloor.demo.placement import LevelledDay, bays_by_kind, new_day
from shopfloor.demo.visits import (
    Workshop,
    is_ev,
    job_line,
    lines_json,
    new_appointment,
    package_for,
    part_numbers_of,
    pick_job,
    suits,
)
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    Bay,
    Customer,
    LabourOperation,
    RepairOrder,
    RoEvent,
    Technician,
    Vehicle,
    VehicleItem,
)
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.versions import next_version
from shopfloor.domain.workshop_models import QcResult
from shopfloor.services import site_setup
from shopfloor.services.context import ServiceContext
from shopfloor.services.solicitation import add_months


@dataclass(frozen=True)
class DemoSummary:
    advisors: int  # rows on the appointment board (other staff not counted)
    technicians: int
    customers: int
    appointments: int  # every day seeded: the history, today and the days ahead
    repair_orders: int


def staff_names() -> list[str]:
    """Everybody who logs in with a PIN (credentials.toml [advisors]): the advisors, then the other staff."""
    return [name for _, name in ADVISORS] + [name for _, name, _ in STAFF]


def seed(ctx: ServiceContext, pins: dict[str, str], rng_seed: int = 7) -> DemoSummary:
    rng = random.Random(rng_seed)
    extra = random.Random(rng_seed * 7919 + 1)  # everything beyond the original day, so that day stays the same
    now = ctx.now()
    today = ctx.today()
    with ctx.db.write() as s:
        site_setup.add_site(s, ctx)
        advisors = [site_setup.add_staff(s, ctx, code, name, "advisor", pins.get(name, "0000"))
                    for code, name in ADVISORS]
        for code, name, role in STAFF:
            site_setup.add_staff(s, ctx, code, name, role, pins.get(name, "0000"))
        techs = [site_setup.add_technician(s, ctx, name, skill, SHIFTS.get(name, DEFAULT_SHIFT))
                 for name, skill in TECHNICIANS]
        bays = site_setup.add_bays(s, ctx, "lift", BAYS) + site_setup.add_bays(s, ctx, "alignment", ALIGNMENT_BAYS)
        ops = site_setup.add_operations(s, ctx, OPERATIONS)
        for op in ops:
            op.measurements = MEASURED.get(op.code, "")
        s.flush()
        by_name = {t.name: t for t in techs}
        site_setup.add_leave(s, by_name[ON_LEAVE_TOMORROW[0]], today + timedelta(days=1), ON_LEAVE_TOMORROW[1])
        site_setup.add_holiday(s, ctx, today + timedelta(days=HOLIDAY[0]), HOLIDAY[1])
        people = People(s, ctx, extra)
        vehicles = []
        for i in range(30):
            surname = SURNAMES[i]
            given, salutation = rng.choice(GIVEN)
            customer = Customer(site_id=ctx.site, surname=surname, given_name=given, salutation=salutation,
                                phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}")
            model, wmi = MODELS[i % len(MODELS)]
            vehicle = Vehicle(site_id=ctx.site, customer=customer, vin=random_vin(rng, wmi, 100000 + i),
                              plate=random_plate(rng, nev=model in EV_MODELS), model=model,
                              mileage_km=rng.randrange(3000, 120000))
            people.add(customer, vehicle)
            people.plain(vehicle)
            vehicles.append(vehicle)
        s.flush()
        appointments, ros = seed_day(s, ctx, rng, vehicles, advisors, techs, bays, ops)
        more_appointments, more_ros = _seed_calendar(s, ctx, extra, people, vehicles, advisors, techs, bays, ops, now)
        s.flush()
        seed_parts(s, ctx)  # the catalogue, and the parts of the open orders' lines
        seed_aftersales(s, ctx, random.Random(rng_seed * 104729 + 3))  # settlement, follow-up, complaints
        return DemoSummary(len(advisors), len(techs), len(vehicles) + people.count, appointments + more_appointments,
                           ros + more_ros)


def seed_day(s: Session, ctx: ServiceContext, rng: random.Random, vehicles: list[Vehicle], advisors: list[Advisor],
             techs: list[Technician], bays: list[Bay], ops: list[LabourOperation]) -> tuple[int, int]:
    """Today's appointments: every 20 minutes from three hours before the current hour (kept inside the
    opening hours), some with cars already in the workshop."""
    site_cfg = ctx.settings.site
    lang = site_cfg.language
    now = ctx.now()
    local_now = now.astimezone(ctx.tz)
    day = local_now.date()
    opening = datetime.combine(day, site_cfg.opening, tzinfo=ctx.tz)
    closing = datetime.combine(day, site_cfg.closing, tzinfo=ctx.tz)
    anchor = min(max(local_now.replace(minute=0, second=0, microsecond=0), opening + timedelta(hours=3)),
                 closing - timedelta(hours=5))
    first = max(anchor - timedelta(hours=3), opening)
    maint_ops = [o for o in ops if o.skill == "maintenance" and o.code != "WSH"]
    interval_km = ctx.settings.booking.service_interval_km
    repair_ops = [o for o in ops if o.skill == "repair"]
    # by mid-afternoon two cars are ready for the cashier and one is in its final check, with different advisors
    progress = [RoStatus.IN_PROGRESS, RoStatus.DISPATCHED, RoStatus.ON_HOLD, RoStatus.QUALITY_CHECK,
                RoStatus.READY, RoStatus.READY, RoStatus.IN_PROGRESS, RoStatus.CHECKED_IN]
    billed = 5  # that ready car (张伟's) shows the cashier a warranty line and a discount
    advisors = [a for a in advisors if a.is_advisor] or advisors
    by_kind = bays_by_kind(bays)
    plan = LevelledDay(day, opening, closing, {"repair": 1e9, "total": 1e9})
    yesterday = datetime.combine(day - timedelta(days=1), time(16, 0), tzinfo=ctx.tz)
    appts = 0
    ros = 0
    number_prefix = f"{site_cfg.ro_prefix}{local_now:%Y%m%d}-"
    for i, vehicle in enumerate(vehicles[:24]):
        start = first + timedelta(minutes=20 * i)
        if start >= closing:
            break
        op = rng.choice([o for o in (repair_ops if i % 3 == 2 else maint_ops) if suits(o, vehicle)])
        if op.interval_km and vehicle.mileage_km is not None:  # the package the odometer is due for
            op = package_for({o.code: o for o in ops}, vehicle.mileage_km, interval_km) or op
        # Cars whose time is more than 40 minutes past are mostly in the workshop already.
        arrives = start < local_now - timedelta(minutes=40) and i % 5 != 4 and ros < len(progress)
        advisor = advisors[0] if arrives and ros == billed else advisors[i % len(advisors)]
        kind_bays = by_kind.get(op.equipment or "lift") or bays
        end = start + timedelta(hours=float(op.hours))
        bay = min(kind_bays, key=lambda b: (not plan.bay_free(b, start, end), plan.bay_use[b.id], b.code))
        plan.take([op], start, None, bay)
        confirmed = bool(i % 4)
        numbers = part_numbers_of([op])
        appt = Appointment(site_id=ctx.site, vehicle_id=vehicle.id, advisor_id=advisor.id,
                           bay_id=bay.id, start=start, hours=op.hours,
                           work=op.name(lang), status="confirmed" if confirmed else "booked",
                           version=next_version(), job_lines=lines_json([op], lang), skill=op.skill,
                           equipment=op.equipment, source="active" if op.interval_km and i % 3 == 1 else "passive",
                           parts_status=("arrived" if op.code in ("BRK", "TBT") else "in_stock") if numbers else "none",
                           parts_numbers=numbers, waiting_customer=float(op.hours) <= 1.0 and i % 2 == 0,
                           road_test=op.code in ("BRK", "ALN", "DGN"), repeat_repair=False,
                           complaining_customer=bool(vehicle.customer.complaining),
                           created_at=now - timedelta(days=1 + i % 6, hours=i % 5), created_by=advisor.name,
                           call_outcome="confirmed" if confirmed else None,
                           called_at=yesterday + timedelta(minutes=7 * i) if confirmed else None,
                           called_by=CS_AGENT if confirmed else None)
        s.add(appt)
        appts += 1
        if arrives:
            status = progress[ros]
            arrived = start - timedelta(minutes=rng.randrange(0, 10))
            appt.status, appt.arrived_at = "arrived", arrived
            s.flush()
            tech = next(t for t in techs[ros % len(techs):] + techs if op.skill == "maintenance" or t.skill == "repair")
            ro = RepairOrder(site_id=ctx.site, number=f"{number_prefix}{ros + 1:03d}", vehicle_id=vehicle.id,
                             appointment_id=appt.id, advisor_id=advisor.id,
                             technician_id=None if status == RoStatus.CHECKED_IN else tech.id, status=status.value,
                             hold_reason="waiting_parts" if status == RoStatus.ON_HOLD else None,
                             complaint=COMPLAINTS.get(op.code) or (
                                 "按时保养，顺便检查一下右前轮有异响" if i % 2 else "仪表盘保养提示灯亮"),
                             mileage_km=vehicle.mileage_km, fuel_eighths=rng.randrange(1, 9),
                             promised_at=arrived + timedelta(hours=float(op.hours) + 1.5), opened_at=arrived,
                             version=next_version())
            ro.job_lines.append(job_line(0, op, lang, status, ro.hold_reason, tech, arrived))
            if ros == billed:
                _warranty_and_discount(ctx, ro, vehicle, {o.code: o for o in ops}, status, tech, arrived)
            s.add(ro)
            s.flush()
            s.add(RoEvent(repair_order_id=ro.id, at=arrived, actor=advisor.name, kind="checked_in", from_status=None,
                          to_status=RoStatus.CHECKED_IN.value, technician_id=None, reason=None))
            if status != RoStatus.CHECKED_IN:
                s.add(RoEvent(repair_order_id=ro.id, at=arrived + timedelta(minutes=10), actor="demo",
                              kind="transition", from_status=RoStatus.CHECKED_IN.value, to_status=status.value,
                              technician_id=ro.technician_id, reason=ro.hold_reason))
            if status == RoStatus.READY:  # it passed the site's quality checks (delivery asks for the last one)
                s.add_all(QcResult(repair_order_id=ro.id, stage=stage.value, round=0, passed=True, reason=None,
                                   found_by=tech.name, at=arrived + timedelta(minutes=10))
                          for stage in ctx.settings.workshop.qc_stages)
            ros += 1
    return appts, ros


def _warranty_and_discount(ctx: ServiceContext, ro: RepairOrder, vehicle: Vehicle, ops: dict[str, LabourOperation],
                           status: RoStatus, tech: Technician, arrived: datetime) -> None:
    """A 12 V battery that failed within the warranty, replaced at the maker's cost, and a loyal customer's discount
    off their own part of the bill."""
    battery = ops.get("BAT")
    if battery is None:
        return
    today = ctx.today()
    if vehicle.sold_on is None or (vehicle.warranty_expires_on or today) <= today + timedelta(days=120):
        vehicle.sold_on = today - timedelta(days=500)  # a car well inside its 3-year warranty
        vehicle.warranty_expires_on = add_months(vehicle.sold_on, 36)
    line = job_line(len(ro.job_lines), battery, ctx.settings.site.language, status, None, tech, arrived)
    line.payer = "warranty"
    ro.job_lines.append(line)
    ro.complaint = f"{ro.complaint}；早上启动困难"
    ro.discount, ro.discount_reason = Decimal("50.00"), "老客户优惠"


@dataclass
class _Special:
    """An appointment the story needs on a given day (a repeat repair, a complaining customer…)."""

    vehicle: Vehicle
    ops: list[LabourOperation]
    fields: dict[str, Any] = field(default_factory=dict)
    link: Appointment | None = None  # a no-show this appointment rebooks


def _seed_calendar(s: Session, ctx: ServiceContext, rng: random.Random, people: People, today_vehicles: list[Vehicle],
                   advisors: list[Advisor], techs: list[Technician], bays: list[Bay], ops_list: list[LabourOperation],
                   now: datetime) -> tuple[int, int]:
    """The story around today: the call-list cars, 14 days of history, two cars carried over from yesterday and
    the bookings for the next six days. Returns (appointments, repair orders) added."""
    today = ctx.today()
    tz = ctx.tz
    ops = {op.code: op for op in ops_list}
    board = [a for a in advisors if a.is_advisor]
    by_kind = bays_by_kind(bays)
    cfg = ctx.settings.booking
    horizon = cfg.call_ahead_days
    shop = Workshop(s, ctx, techs)
    appts = 0

    def within(days: int) -> int:
        return max(1, min(days, horizon - 1))

    # -- the call lists: a few cars on each ------------------------------------------------------------------
    first_service = []
    for ago in (5, 14, 30, 55):
        v = people.new(ev=False if ago == 5 else None)  # the first one is booked for its 5,000 km service
        people.first_service(v, ago)
        first_service.append(v)
    maintenance = []
    for due_in in (4, 12, 25):
        v = people.new()
        people.maintenance_by_days(v, within(due_in))
        maintenance.append(v)
    for due_in in (-4, 9):
        v = people.new()
        people.maintenance_by_km(v, min(due_in, horizon - 1))
        maintenance.append(v)
    booked_maintenance = people.new(ev=False)
    people.maintenance_by_days(booked_maintenance, within(20))
    for due_in in (3, 9, 17, 26):
        v = people.new()
        v.insurance_expires_on = today + timedelta(days=within(due_in))
    for due_in in (6, 15, 28):
        v = people.new()
        v.inspection_due_on = today + timedelta(days=within(due_in))
    for due_in in (4, 13, 22):
        people.warranty(people.new(), within(due_in))
    for months in (7, 8, 9, 11, 13, 16, 22):
        people.lapsed(people.new(), months)
    # parts ordered for customers: two arrived (one of them booked in already), one on its way
    parts_booked, parts_waiting, parts_coming = people.new(ev=False), people.new(ev=False), people.new(ev=False)
    recall = {"kind": "recall", "description": "召回 R-2026-118：燃油泵叶轮检查更换", "part_numbers": "23221-F0030",
              "created_on": today - timedelta(days=40)}
    # vehicle items refer to their vehicle by key only: added once the vehicles have theirs
    items: list[tuple[Vehicle, dict[str, Any]]] = [
        (parts_booked, {"kind": "parts_order", "description": "前刹车片（客户订购）", "part_numbers": PARTS["BRK"],
                        "created_on": today - timedelta(days=9), "eta": today - timedelta(days=2),
                        "arrived_on": today - timedelta(days=2)}),
        (parts_waiting, {"kind": "parts_order", "description": "原厂蓄电池（客户订购）", "part_numbers": PARTS["BAT"],
                         "created_on": today - timedelta(days=12), "eta": today - timedelta(days=1),
                         "arrived_on": today - timedelta(days=1)}),
        (parts_coming, {"kind": "parts_order", "description": "正时皮带套件（缺货订购）", "part_numbers": PARTS["TBT"],
                        "created_on": today - timedelta(days=6), "eta": today + timedelta(days=4)}),
        (today_vehicles[3], recall),
        (people.new(ev=False), recall),  # a fuel pump
    ]

    # -- the last 14 days --------------------------------------------------------------------------------------
    repaired: list[tuple[Vehicle, date]] = []
    no_shows: list[tuple[Vehicle, Appointment]] = []
    complainer: Vehicle | None = None
    declined = 0
    for ago in range(PAST_DAYS, 0, -1):
        day = today - timedelta(days=ago)
        plan = new_day(s, ctx, day)
        for _ in range(rng.randint(11, 16)):
            v = people.new()
            job = pick_job(rng, ops, vehicle=v, km=people.km_on(v, day), interval=cfg.service_interval_km)
            spot = plan.place(rng, job, board, by_kind)
            if spot is None:
                continue
            start, advisor, bay = spot
            r = rng.random()
            created = datetime.combine(day - timedelta(days=rng.randrange(1, 10)), time(rng.randrange(9, 18),
                                       rng.randrange(60)), tzinfo=tz)
            appt = new_appointment(ctx, v, advisor, bay, start, job, created_at=created,
                                source="active" if rng.random() < 0.15 and job[0].interval_km else "passive")
            called = datetime.combine(day - timedelta(days=1), time(15, rng.randrange(60)), tzinfo=tz)
            if r < 0.07:  # cancelled the day before: its hours and slot went back
                appt.status, appt.cancel_reason = "cancelled", rng.choice(CANCEL_REASONS)
                appt.call_outcome, appt.called_at, appt.called_by = "cancelled", called, CS_AGENT
            elif r < 0.16:
                plan.take(job, start, advisor, bay)
                appt.status = "no_show"
                appt.no_show_at = start + timedelta(minutes=cfg.no_show_after_minutes)
                appt.call_outcome = rng.choice(["confirmed", "unreachable", None])
                if appt.call_outcome:
                    appt.called_at, appt.called_by = called, CS_AGENT
            else:
                plan.take(job, start, advisor, bay)
                appt.status = "arrived"
                if rng.random() < 0.8:
                    appt.call_outcome, appt.called_at, appt.called_by = "confirmed", called, CS_AGENT
                appt.arrived_at = start + timedelta(minutes=rng.randrange(-10, 12))
            s.add(appt)
            appts += 1
            if appt.status == "no_show":
                no_shows.append((v, appt))
            if appt.status != "arrived" or appt.arrived_at is None:
                continue
            maintenance_visit = any(op.interval_km or op.code == "OIL" for op in job)
            km = people.serviced_on(v, day, maintenance_visit)
            shop.open(v, appt, advisor, job, appt.arrived_at, km, RoStatus.DELIVERED, rng)
            if any(op.skill == "repair" for op in job):
                repaired.append((v, day))
            elif complainer is None and ago >= 5:
                complainer = v
            if declined < 2 and rng.random() < 0.1:
                declined += 1
                description, numbers = DECLINED[declined - 1]
                items.append((v, {"kind": "declined", "description": description, "part_numbers": numbers,
                                   "created_on": day}))
        # walk-ins: no appointment
        for _ in range(rng.randint(1, 3)):
            v = people.new()
            job = pick_job(rng, ops, repair_share=0.5, vehicle=v, km=people.km_on(v, day),
                           interval=cfg.service_interval_km)
            arrived = datetime.combine(day, time(rng.randrange(8, 15), rng.randrange(0, 60, 5)), tzinfo=tz)
            maintenance_visit = any(op.interval_km or op.code == "OIL" for op in job)
            km = people.serviced_on(v, day, maintenance_visit)
            shop.open(v, None, rng.choice(board), job, arrived, km, RoStatus.DELIVERED, rng)
        if ago == 1:
            # carried over: one on hold for parts (booked yesterday), one walk-in still being worked on
            v = people.new(ev=False)
            package = package_for(ops, people.km_on(v, day), cfg.service_interval_km) or ops["M40"]
            job = [ops["TBT"], package]
            spot = plan.place(rng, job, board, by_kind)
            start, advisor, bay = spot if spot else (plan.opening + timedelta(hours=1), board[0], None)
            plan.take(job, start, advisor, bay)
            appt = new_appointment(ctx, v, advisor, bay, start, job, status="arrived", arrived_at=start,
                                created_at=start - timedelta(days=5), parts_status="to_order",
                                parts_eta=today + timedelta(days=1), call_outcome="confirmed",
                                called_at=start - timedelta(hours=17), called_by=CS_AGENT)
            s.add(appt)
            appts += 1
            km = people.serviced_on(v, day, False)
            shop.open(v, appt, advisor, job, start, km, RoStatus.ON_HOLD, rng, hold="waiting_parts",
                      complaint=f"{package.name_zh}，按手册更换正时皮带；正时皮带套件缺货")
            v = people.new(ev=False)
            arrived = datetime.combine(day, time(15, 40), tzinfo=tz)
            km = people.serviced_on(v, day, False)
            shop.open(v, None, board[1 % len(board)], [ops["DGN"], ops["BRK"]], arrived, km, RoStatus.IN_PROGRESS,
                      rng, complaint="发动机故障灯亮，怠速抖动；刹车有异响")

    # -- tomorrow and the five days after ---------------------------------------------------------------------
    specials: dict[int, list[_Special]] = {k: [] for k in range(1, len(FUTURE_APPOINTMENTS) + 1)}
    if repaired:
        v, _ = repaired[-1]
        specials[1].append(_Special(v, [ops["BRK" if is_ev(v) else "DGN"]], {"repeat_repair": True, "road_test": True,
                                                      "notes": "上次维修后刹车仍有异响，技术总监跟进"}))
    if complainer is not None:
        complainer.customer.complaining = True
        specials[1].append(_Special(complainer, [ops["ACX"]], {
            "complaining_customer": True, "notes": "上次交车延误已投诉，服务经理到场接待"}))
    specials[1].append(_Special(parts_booked, [ops["BRK"]], {"parts_status": "arrived", "source": "active",
                                                             "notes": "订购的刹车片已到货"}))
    specials[2].append(_Special(booked_maintenance, [ops["M10"]], {"source": "active"}))
    specials[3].append(_Special(first_service[0], [ops["M05"]], {"source": "active", "notes": "新车首保"}))
    specials[5].append(_Special(parts_coming, [ops["TBT"]], {"parts_status": "to_order",
                                                             "parts_eta": today + timedelta(days=4)}))
    for k, (v, appt) in enumerate(no_shows[:2]):
        codes = [str(line.get("code")) for line in appt.job_lines]
        specials[2 + 2 * k].append(_Special(v, [ops[c] for c in codes if c in ops] or pick_job(rng, ops, 0, v),
                                            {"notes": "爽约后改约"}, link=appt))
    for k, count in enumerate(FUTURE_APPOINTMENTS, start=1):
        day = today + timedelta(days=k)
        appts += _future_day(s, ctx, rng, day, count, people.new, board, by_kind, ops, specials[k], now)
    shop.finish()
    people.finish()
    s.add_all(VehicleItem(vehicle_id=v.id, **fields) for v, fields in items)
    return appts, shop.made


def _future_day(s: Session, ctx: ServiceContext, rng: random.Random, day: date, count: int,
                next_vehicle: Callable[[], Vehicle | None], advisors: list[Advisor], by_kind: dict[str, list[Bay]],
                ops: dict[str, LabourOperation], specials: Sequence[_Special], now: datetime) -> int:
    """One day ahead: the special bookings first, then new ones up to `count`, levelled; tomorrow's partly
    confirmed by the customer-service call already."""
    plan = new_day(s, ctx, day)
    if plan.sellable["total"] <= 0:
        return 0
    today = ctx.today()
    tomorrow = day == today + timedelta(days=1)
    made = 0
    links: list[tuple[Appointment, Appointment]] = []
    jobs: list[_Special | None] = [*specials, *([None] * max(count - len(specials), 0))]
    for special in jobs:
        if special is None:
            vehicle = next_vehicle()
            if vehicle is None:
                break
            job = pick_job(rng, ops, vehicle=vehicle, km=vehicle.mileage_km,
                           interval=ctx.settings.booking.service_interval_km)
            fields: dict[str, Any] = {}
        else:
            vehicle, job, fields = special.vehicle, special.ops, dict(special.fields)
        spot = plan.place(rng, job, advisors, by_kind)
        if spot is None and special is None:
            job = [ops["EVS" if is_ev(vehicle) else "OIL"]]
            spot = plan.place(rng, job, advisors, by_kind)
        if spot is None:
            continue
        start, advisor, bay = spot
        plan.take(job, start, advisor, bay)
        hours = float(sum((op.hours for op in job), Decimal(0)))
        created = now - timedelta(days=rng.randrange(1, 12), minutes=rng.randrange(600))
        fields.setdefault("created_at", created)
        fields.setdefault("waiting_customer", hours <= 1.0 and rng.random() < 0.5)
        if any(op.interval_km for op in job) and "source" not in fields and rng.random() < 0.15:
            fields["source"], fields["created_by"] = "active", CS_AGENT
        if "parts_status" not in fields and any(op.code in ("BRK", "TBT") for op in job):
            r = rng.random()
            if r < 0.4:
                fields["parts_status"] = "to_order"
                fields["parts_eta"] = max(today, day - timedelta(days=rng.randrange(1, 3)))
            elif r < 0.6:
                fields["parts_status"] = "arrived"
        calls_from = datetime.combine(today, time(9, 0), tzinfo=ctx.tz)
        if tomorrow and made == 3:
            fields.update(call_outcome="unreachable", called_by=CS_AGENT,
                          called_at=min(now, calls_from + timedelta(minutes=25)))
        elif tomorrow and rng.random() < 0.6:
            fields.update(status="confirmed", call_outcome="confirmed", called_by=CS_AGENT,
                          called_at=min(now, calls_from + timedelta(minutes=rng.randrange(90))))
        elif not tomorrow and rng.random() < 0.08:
            fields.update(status="confirmed", call_outcome="confirmed", called_by=CS_AGENT,
                          called_at=now - timedelta(hours=rng.randrange(1, 30)))
        appt = new_appointment(ctx, vehicle, advisor, bay, start, job, **fields)
        s.add(appt)
        if special is not None and special.link is not None:
            links.append((special.link, appt))
        made += 1
    if links:
        s.flush()
        for no_show, rebooked in links:
            no_show.rebooked_as_id = rebooked.id
    return made


def ensure_today(ctx: ServiceContext) -> int:
    """On a restart on a later day, give the demo a fresh day of appointments, and bookings on the days ahead
    that have none. Returns how many appointments were added."""
    start, end = ctx.day_bounds(ctx.today())
    added = 0
    with ctx.db.write() as s:
        vehicles = list(s.scalars(select(Vehicle).where(Vehicle.site_id == ctx.site).order_by(Vehicle.id)))
        open_vehicle_ids = set(s.scalars(select(RepairOrder.vehicle_id).where(
            RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))))
        coming = set(s.scalars(select(Appointment.vehicle_id).where(
            Appointment.site_id == ctx.site, Appointment.start >= start, Appointment.status.not_in(RELEASED))))
        free = [v for v in vehicles if v.id not in open_vehicle_ids and v.id not in coming]
        advisors = list(s.scalars(select(Advisor).where(Advisor.site_id == ctx.site).order_by(Advisor.code)))
        techs = list(s.scalars(select(Technician).where(Technician.site_id == ctx.site).order_by(Technician.id)))
        bays = list(s.scalars(select(Bay).where(Bay.site_id == ctx.site).order_by(Bay.id)))
        ops = list(s.scalars(select(LabourOperation).where(LabourOperation.site_id == ctx.site)))
        rng = random.Random(ctx.today().toordinal())
        if not s.scalar(select(func.count()).select_from(Appointment).where(
                Appointment.site_id == ctx.site, Appointment.start >= start, Appointment.start < end)):
            added, _ = seed_day(s, ctx, rng, free, advisors, techs, bays, ops)
            free = free[24:]
        pool = iter(free)
        board = [a for a in advisors if a.is_advisor] or advisors
        by_code = {op.code: op for op in ops}
        mixes = MAINTENANCE_MIX + REPAIR_MIX + EV_MAINTENANCE_MIX + EV_REPAIR_MIX
        if not all(code in by_code for code in ("OIL", "WSH", *(c for c, _ in mixes))):
            return added
        for k, count in enumerate(FUTURE_APPOINTMENTS, start=1):
            day_start, day_end = ctx.day_bounds(ctx.today() + timedelta(days=k))
            if s.scalar(select(func.count()).select_from(Appointment).where(
                    Appointment.site_id == ctx.site, Appointment.start >= day_start, Appointment.start < day_end)):
                continue
            added += _future_day(s, ctx, rng, ctx.today() + timedelta(days=k), count, lambda: next(pool, None),
                                 board, bays_by_kind(bays), by_code, [], ctx.now())
        return added

