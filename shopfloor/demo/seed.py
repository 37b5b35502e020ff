"""A demo day: a site with 4 advisors, 8 technicians, 6 bays, 30 customers with vehicles and QR tags,
today's appointments around the current hour (some already past their time) and a few cars already in
the workshop. Deterministic apart from the tags' random tokens and the current time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.identifiers import new_tag_token, with_check_digit
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    Bay,
    Customer,
    JobLine,
    LabourOperation,
    QrTag,
    RepairOrder,
    RoEvent,
    Site,
    Technician,
    Vehicle,
)
from shopfloor.domain.states import RoStatus
from shopfloor.domain.versions import next_version
from shopfloor.services.auth import hash_pin, verify_pin
from shopfloor.services.context import ServiceContext

ADVISORS = [("A", "张伟"), ("B", "李娜"), ("C", "王芳"), ("D", "刘洋")]
TECHNICIANS = [("陈刚", "repair"), ("杨帆", "repair"), ("赵磊", "repair"), ("黄强", "repair"),
               ("周杰", "maintenance"), ("吴昊", "maintenance"), ("徐明", "maintenance"), ("孙涛", "maintenance")]
BAYS = ["1", "2", "3", "4", "5", "6"]
OPERATIONS = [
    ("M05", "5000公里保养", "5,000 km service", "0.8", "maintenance"),
    ("M10", "10000公里保养", "10,000 km service", "1.2", "maintenance"),
    ("M20", "20000公里保养", "20,000 km service", "1.8", "maintenance"),
    ("M40", "40000公里保养", "40,000 km service", "2.5", "maintenance"),
    ("OIL", "更换机油机滤", "Oil and filter change", "0.5", "maintenance"),
    ("ACX", "空调系统检查", "A/C system check", "0.8", "maintenance"),
    ("WSH", "精洗车", "Full wash", "0.3", "maintenance"),
    ("BRK", "更换前刹车片", "Replace front brake pads", "1.5", "repair"),
    ("ALN", "四轮定位", "Wheel alignment", "1.0", "repair"),
    ("TBT", "更换正时皮带", "Replace timing belt", "3.0", "repair"),
    ("DGN", "故障诊断", "Fault diagnosis", "1.0", "repair"),
    ("BAT", "更换蓄电池", "Replace battery", "0.5", "repair"),
]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
            "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "欧阳", "司马"]
GIVEN = ["建国", "秀英", "志强", "丽", "海燕", "俊杰", "静", "磊", "敏", "晓明", "婷", "强", "芳", "军", "洁"]
MODELS = [("卡罗拉", "LFMA"), ("凯美瑞", "LVGB"), ("RAV4荣放", "LFMK"), ("汉兰达", "LVGD"), ("雷凌", "LVGC"),
          ("亚洲龙", "LFMJ"), ("bZ4X", "LFMZ"), ("索纳塔", "LBEH"), ("途胜", "LBET")]
PLATE_AREAS = ["京A", "京B", "京N", "京Q", "京E", "冀R", "津C", "京F"]
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class DemoSummary:
    advisors: int
    technicians: int
    customers: int
    appointments: int
    repair_orders: int


def _plate(rng: random.Random, nev: bool) -> str:
    area = rng.choice(PLATE_AREAS)
    if nev:
        return f"{area}{rng.choice('DF')}{rng.choice(PLATE_CHARS)}{rng.randrange(10000):04d}"
    return area + "".join(rng.choice(PLATE_CHARS) for _ in range(3)) + f"{rng.randrange(100):02d}"


def _vin(rng: random.Random, wmi4: str, serial: int) -> str:
    vds = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(4))
    return with_check_digit(f"{wmi4}{vds}0{rng.choice('LMNPR')}{rng.choice('ABCS')}{serial:06d}")


def sync_advisor_pins(session: Session, site_id: str, pins: dict[str, str]) -> None:
    """credentials.toml holds the demo PINs; the database keeps only their hashes."""
    for advisor in session.scalars(select(Advisor).where(Advisor.site_id == site_id)):
        pin = pins.get(advisor.name)
        if pin is not None and not verify_pin(pin, advisor.pin_hash):
            advisor.pin_hash = hash_pin(pin)


def has_site(ctx: ServiceContext) -> bool:
    with ctx.db.read() as s:
        return s.get(Site, ctx.site) is not None


def seed(ctx: ServiceContext, pins: dict[str, str], rng_seed: int = 7) -> DemoSummary:
    rng = random.Random(rng_seed)
    now = ctx.now()
    site_cfg = ctx.settings.site
    with ctx.db.write() as s:
        s.add(Site(id=ctx.site, name=site_cfg.name))
        s.flush()  # other rows refer to the site by key only, so the unit of work cannot order them itself
        advisors = [Advisor(site_id=ctx.site, code=code, name=name, pin_hash=hash_pin(pins.get(name, "0000")),
                            version=next_version()) for code, name in ADVISORS]
        techs = [Technician(site_id=ctx.site, name=name, skill=skill, version=next_version())
                 for name, skill in TECHNICIANS]
        bays = [Bay(site_id=ctx.site, code=code, kind="lift") for code in BAYS]
        ops = [LabourOperation(site_id=ctx.site, code=c, name_zh=zh, name_en=en, hours=Decimal(h), skill=sk)
               for c, zh, en, h, sk in OPERATIONS]
        s.add_all([*advisors, *techs, *bays, *ops])
        vehicles = []
        for i in range(30):
            surname = SURNAMES[i]
            customer = Customer(site_id=ctx.site, surname=surname, given_name=rng.choice(GIVEN),
                                salutation=rng.choice(["先生", "女士"]),
                                phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}")
            model, wmi = MODELS[i % len(MODELS)]
            vehicle = Vehicle(site_id=ctx.site, customer=customer, vin=_vin(rng, wmi, 100000 + i),
                              plate=_plate(rng, nev=model == "bZ4X"), model=model,
                              mileage_km=rng.randrange(3000, 120000))
            s.add_all([customer, vehicle])
            s.add(QrTag(token=new_tag_token(), vehicle=vehicle, issued_at=now))
            vehicles.append(vehicle)
        s.flush()
        appointments, ros = seed_day(s, ctx, rng, vehicles, advisors, techs, bays, ops)
        return DemoSummary(len(advisors), len(techs), len(vehicles), appointments, ros)


def seed_day(s: Session, ctx: ServiceContext, rng: random.Random, vehicles: list[Vehicle], advisors: list[Advisor],
             techs: list[Technician], bays: list[Bay], ops: list[LabourOperation]) -> tuple[int, int]:
    """Today's appointments: every 20 minutes from three hours before the current hour (kept inside the
    opening hours), some with cars already in the workshop."""
    site_cfg = ctx.settings.site
    now = ctx.now()
    local_now = now.astimezone(ctx.tz)
    day = local_now.date()
    opening = datetime.combine(day, site_cfg.opening, tzinfo=ctx.tz)
    closing = datetime.combine(day, site_cfg.closing, tzinfo=ctx.tz)
    anchor = min(max(local_now.replace(minute=0, second=0, microsecond=0), opening + timedelta(hours=3)),
                 closing - timedelta(hours=5))
    first = max(anchor - timedelta(hours=3), opening)
    maint_ops = [o for o in ops if o.skill == "maintenance" and o.code != "WSH"]
    repair_ops = [o for o in ops if o.skill == "repair"]
    progress = [RoStatus.IN_PROGRESS, RoStatus.DISPATCHED, RoStatus.ON_HOLD, RoStatus.QUALITY_CHECK,
                RoStatus.READY, RoStatus.CHECKED_IN]
    appts = 0
    ros = 0
    number_prefix = f"{site_cfg.ro_prefix}{local_now:%Y%m%d}-"
    for i, vehicle in enumerate(vehicles[:24]):
        start = first + timedelta(minutes=20 * i)
        if start >= closing:
            break
        op = rng.choice(repair_ops if i % 3 == 2 else maint_ops)
        advisor = advisors[i % len(advisors)]
        appt = Appointment(site_id=ctx.site, vehicle_id=vehicle.id, advisor_id=advisor.id,
                           bay_id=bays[i % len(bays)].id, start=start, hours=op.hours,
                           work=op.name(site_cfg.language), status="confirmed" if i % 4 else "booked",
                           version=next_version())
        s.add(appt)
        appts += 1
        # Cars whose time is more than 40 minutes past are mostly in the workshop already.
        if start < local_now - timedelta(minutes=40) and i % 5 != 4 and ros < len(progress):
            status = progress[ros]
            arrived = start - timedelta(minutes=rng.randrange(0, 10))
            appt.status, appt.arrived_at = "arrived", arrived
            s.flush()
            tech = next(t for t in techs[ros % len(techs):] + techs if op.skill == "maintenance" or t.skill == "repair")
            ro = RepairOrder(site_id=ctx.site, number=f"{number_prefix}{ros + 1:03d}", vehicle_id=vehicle.id,
                             appointment_id=appt.id, advisor_id=advisor.id,
                             technician_id=None if status == RoStatus.CHECKED_IN else tech.id, status=status.value,
                             hold_reason="waiting_parts" if status == RoStatus.ON_HOLD else None,
                             complaint="按时保养，顺便检查一下右前轮有异响" if i % 2 else "仪表盘保养提示灯亮",
                             mileage_km=vehicle.mileage_km, fuel_eighths=rng.randrange(1, 9),
                             promised_at=arrived + timedelta(hours=float(op.hours) + 1.5), opened_at=arrived,
                             version=next_version())
            ro.job_lines.append(JobLine(position=0, operation_code=op.code, description=op.name(site_cfg.language),
                                        hours=op.hours, skill=op.skill))
            s.add(ro)
            s.flush()
            s.add(RoEvent(repair_order_id=ro.id, at=arrived, actor=advisor.name, kind="checked_in", from_status=None,
                          to_status=RoStatus.CHECKED_IN.value, technician_id=None, reason=None))
            if status != RoStatus.CHECKED_IN:
                s.add(RoEvent(repair_order_id=ro.id, at=arrived + timedelta(minutes=10), actor="demo",
                              kind="transition", from_status=RoStatus.CHECKED_IN.value, to_status=status.value,
                              technician_id=ro.technician_id, reason=ro.hold_reason))
            ros += 1
    return appts, ros


def ensure_today(ctx: ServiceContext) -> int:
    """On a restart on a later day, give the demo a fresh day of appointments. Returns how many were added."""
    start, end = ctx.day_bounds(ctx.today())
    with ctx.db.write() as s:
        if s.scalar(select(func.count()).select_from(Appointment).where(
                Appointment.site_id == ctx.site, Appointment.start >= start, Appointment.start < end)):
            return 0
        vehicles = list(s.scalars(select(Vehicle).where(Vehicle.site_id == ctx.site).order_by(Vehicle.id)))
        open_vehicle_ids = set(s.scalars(select(RepairOrder.vehicle_id).where(RepairOrder.closed_at.is_(None))))
        vehicles = [v for v in vehicles if v.id not in open_vehicle_ids]
        advisors = list(s.scalars(select(Advisor).where(Advisor.site_id == ctx.site).order_by(Advisor.code)))
        techs = list(s.scalars(select(Technician).where(Technician.site_id == ctx.site).order_by(Technician.id)))
        bays = list(s.scalars(select(Bay).where(Bay.site_id == ctx.site).order_by(Bay.id)))
        ops = list(s.scalars(select(LabourOperation).where(LabourOperation.site_id == ctx.site)))
        rng = random.Random(ctx.today().toordinal())
        appts, _ = seed_day(s, ctx, rng, vehicles, advisors, techs, bays, ops)
        return appts
