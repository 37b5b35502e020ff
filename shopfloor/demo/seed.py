"""The demo site: 4 advisors plus a service manager, a customer-service agent and a parts clerk; 8 technicians
with their shifts (one on leave tomorrow, a closed day in ten days); 6 lifts and an alignment bay; a few hundred
customers with vehicles and QR tags.

Today: appointments around the current hour (some already past their time), the cars that came in already, and
2 carried over from yesterday (one on hold for parts). The 14 days before: appointments that arrived, did not show
or were cancelled, their delivered repair orders, and walk-ins (the manager's figures). Tomorrow and the 5 days
after: 12–22 levelled appointments a day (one arrival per advisor per quarter hour, work done before closing, hours
below what the technicians can sell). Vehicle dates so that every call list (services/solicitation.py) has a few
entries.

Deterministic with the rng, apart from the tags' random tokens and the current time."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shopfloor.domain.identifiers import new_tag_token, with_check_digit
from shopfloor.domain.models import (
    Advisor,
    Appointment,
    Bay,
    Customer,
    Holiday,
    JobLine,
    LabourOperation,
    Leave,
    QrTag,
    RepairOrder,
    RoEvent,
    Shift,
    Site,
    Technician,
    Vehicle,
    VehicleItem,
)
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.versions import next_version
from shopfloor.services.auth import hash_pin, verify_pin
from shopfloor.services.context import ServiceContext
from shopfloor.services.solicitation import add_months

ADVISORS = [("A", "张伟"), ("B", "李娜"), ("C", "王芳"), ("D", "刘洋")]
# staff who log in but have no row on the appointment board: (code, name, role)
STAFF = [("M", "赵经理", "manager"), ("S", "孙丽", "cs"), ("P", "钱进", "parts"), ("F", "郑强", "foreman"),
         ("T", "陈刚", "technician"), ("K", "林静", "cashier")]
CS_AGENT = "孙丽"
TECHNICIANS = [("陈刚", "repair"), ("杨帆", "repair"), ("赵磊", "repair"), ("黄强", "repair"),
               ("周杰", "maintenance"), ("吴昊", "maintenance"), ("徐明", "maintenance"), ("孙涛", "maintenance")]
# (start, end, break minutes, weekdays with 0 = Monday); a technician not named here works DEFAULT_SHIFT
DEFAULT_SHIFT = (time(8, 30), time(17, 30), 60, (0, 1, 2, 3, 4, 5, 6))
SHIFTS = {"黄强": (time(8, 30), time(17, 30), 60, (0, 1, 2, 3, 4)),   # Monday to Friday only
          "孙涛": (time(12, 0), time(20, 0), 60, (0, 1, 2, 3, 4, 5, 6))}  # the late maintenance shift
ON_LEAVE_TOMORROW = ("杨帆", "年假")
HOLIDAY = (10, "店庆闭店日")  # days ahead, name: after the week bars, so they stay full
BAYS = ["1", "2", "3", "4", "5", "6"]
ALIGNMENT_BAYS = ["A1"]
# code, Chinese, English, flat-rate hours, skill, equipment (a bay kind), interval_km (maintenance packages)
OPERATIONS: list[tuple[str, str, str, str, str, str | None, int | None]] = [
    ("M05", "5000公里保养", "5,000 km service", "0.8", "maintenance", None, 5000),
    ("M10", "10000公里保养", "10,000 km service", "1.2", "maintenance", None, 10000),
    ("M20", "20000公里保养", "20,000 km service", "1.8", "maintenance", None, 20000),
    ("M40", "40000公里保养", "40,000 km service", "2.5", "maintenance", None, 40000),
    ("OIL", "更换机油机滤", "Oil and filter change", "0.5", "maintenance", None, None),
    ("ACX", "空调系统检查", "A/C system check", "0.8", "maintenance", None, None),
    ("WSH", "精洗车", "Full wash", "0.3", "maintenance", None, None),
    ("BRK", "更换前刹车片", "Replace front brake pads", "1.5", "repair", None, None),
    ("ALN", "四轮定位", "Wheel alignment", "1.0", "repair", "alignment", None),
    ("TBT", "更换正时皮带", "Replace timing belt", "3.0", "repair", None, None),
    ("DGN", "故障诊断", "Fault diagnosis", "1.0", "repair", None, None),
    ("BAT", "更换蓄电池", "Replace battery", "0.5", "repair", None, None),
]
# genuine part numbers the parts counter picks per operation
PARTS = {
    "M05": "04152-YZZA6, 08880-13505",
    "M10": "04152-YZZA6, 08880-13505, 87139-0K060",
    "M20": "04152-YZZA6, 08880-13505, 87139-0K060, 17801-21050",
    "M40": "04152-YZZA6, 08880-13505, 87139-0K060, 17801-21050, 90919-01253",
    "OIL": "04152-YZZA6, 08880-13505",
    "ACX": "87139-0K060",
    "BRK": "04465-02220",
    "TBT": "13568-09130, 13505-0H020",
    "BAT": "28800-0T120",
}
COMPLAINTS = {
    "BRK": "刹车时有异响", "ALN": "方向跑偏，方向盘不正", "TBT": "按保养手册更换正时皮带",
    "DGN": "发动机故障灯亮，怠速抖动", "BAT": "早上启动困难", "ACX": "空调不凉，出风有异味",
}
MAINTENANCE_MIX = [("M05", 3), ("M10", 3), ("M20", 2), ("M40", 1), ("OIL", 2), ("ACX", 1)]
REPAIR_MIX = [("BRK", 3), ("DGN", 3), ("ALN", 2), ("BAT", 2), ("TBT", 1)]
FUTURE_APPOINTMENTS = (22, 20, 18, 16, 14, 12)  # tomorrow and the 5 days after
PAST_DAYS = 14
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
            "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "欧阳", "司马"]
GIVEN = ["建国", "秀英", "志强", "丽", "海燕", "俊杰", "静", "磊", "敏", "晓明", "婷", "强", "芳", "军", "洁"]
MODELS = [("卡罗拉", "LFMA"), ("凯美瑞", "LVGB"), ("RAV4荣放", "LFMK"), ("汉兰达", "LVGD"), ("雷凌", "LVGC"),
          ("亚洲龙", "LFMJ"), ("bZ4X", "LFMZ"), ("索纳塔", "LBEH"), ("途胜", "LBET")]
PLATE_AREAS = ["京A", "京B", "京N", "京Q", "京E", "冀R", "津C", "京F"]
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
CHANNELS = [("sms", 8), ("wechat", 7), ("phone", 4), ("letter", 1)]
STREETS = ["朝阳区建国路", "朝阳区望京西路", "东城区东四十条", "海淀区中关村大街", "丰台区南三环西路", "通州区新华大街"]
CANCEL_REASONS = ["客户出差，改日再约", "车辆已在外地保养", "客户临时有事", "客户改约到下周"]
RELEASED = ("cancelled", "no_show")
DECLINED = [("客户暂不更换：后刹车片剩余 3 mm", "04466-02150"), ("客户暂不处理：空调滤芯脏污", "87139-0K060")]


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


def _plate(rng: random.Random, nev: bool) -> str:
    area = rng.choice(PLATE_AREAS)
    if nev:
        return f"{area}{rng.choice('DF')}{rng.choice(PLATE_CHARS)}{rng.randrange(10000):04d}"
    return area + "".join(rng.choice(PLATE_CHARS) for _ in range(3)) + f"{rng.randrange(100):02d}"


def _vin(rng: random.Random, wmi4: str, serial: int) -> str:
    vds = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(4))
    return with_check_digit(f"{wmi4}{vds}0{rng.choice('LMNPR')}{rng.choice('ABCS')}{serial:06d}")


def _weighted(rng: random.Random, mix: Sequence[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in mix], weights=[w for _, w in mix])[0]


def sync_advisor_pins(session: Session, site_id: str, pins: dict[str, str]) -> None:
    """credentials.toml holds the demo PINs; the database keeps only their hashes."""
    for advisor in session.scalars(select(Advisor).where(Advisor.site_id == site_id)):
        pin = pins.get(advisor.name)
        if pin is not None and not verify_pin(pin, advisor.pin_hash):
            advisor.pin_hash = hash_pin(pin)


def has_site(ctx: ServiceContext) -> bool:
    with ctx.db.read() as s:
        return s.get(Site, ctx.site) is not None


# -- vehicles and their dates ------------------------------------------------------------------------------------
class _People:
    """Makes customers with one vehicle (and its QR tag) each, and gives the vehicles their dates: sale, last
    service and mileage, insurance, annual inspection, warranty. A car's odometer grows at its own km per day."""

    def __init__(self, s: Session, ctx: ServiceContext, rng: random.Random) -> None:
        self.s, self.ctx, self.rng = s, ctx, rng
        self.today = ctx.today()
        cfg = ctx.settings.booking
        self.horizon = cfg.call_ahead_days
        self.interval_days = cfg.service_interval_days
        self.interval_km = cfg.service_interval_km
        self.count = 0
        self.plates: set[str] = set()
        self.kmpd: dict[int, float] = {}  # id(vehicle) -> km per day
        self.tagged: list[Vehicle] = []

    def finish(self) -> None:
        """Every vehicle's QR tag, in one statement once the vehicles have their keys."""
        self.s.flush()
        now = self.ctx.now()
        if self.tagged:
            self.s.execute(insert(QrTag), [{"token": new_tag_token(), "vehicle_id": v.id, "issued_at": now}
                                           for v in self.tagged])
        self.tagged.clear()

    def add(self, customer: Customer, vehicle: Vehicle) -> Vehicle:
        self.plates.add(vehicle.plate)
        self.s.add_all([customer, vehicle])
        self.tagged.append(vehicle)
        customer.preferred_channel = _weighted(self.rng, CHANNELS)
        if customer.preferred_channel == "letter" or self.rng.random() < 0.3:
            customer.address = f"北京市{self.rng.choice(STREETS)}{self.rng.randrange(1, 300)}号"
        return vehicle

    def new(self) -> Vehicle:
        rng = self.rng
        i = 30 + self.count
        customer = Customer(site_id=self.ctx.site, surname=rng.choice(SURNAMES), given_name=rng.choice(GIVEN),
                            salutation=rng.choice(["先生", "女士"]),
                            phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}")
        model, wmi = MODELS[rng.randrange(len(MODELS))]
        plate = _plate(rng, nev=model == "bZ4X")
        while plate in self.plates:
            plate = _plate(rng, nev=model == "bZ4X")
        vehicle = Vehicle(site_id=self.ctx.site, customer=customer, vin=_vin(rng, wmi, 100000 + i), plate=plate,
                          model=model)
        self.add(customer, vehicle)
        self.plain(vehicle)
        self.count += 1
        return vehicle

    # -- dates -----------------------------------------------------------------------------------------------
    def km_on(self, v: Vehicle, day: date) -> int:
        assert v.sold_on is not None
        return round(15 + self.kmpd[id(v)] * max((day - v.sold_on).days, 0))

    def _set(self, v: Vehicle, sold: date, kmpd: float, last: date | None, reading: date) -> None:
        self.kmpd[id(v)] = kmpd
        v.sold_on = sold
        v.last_service_on = last
        v.last_service_km = self.km_on(v, last) if last is not None else None
        v.mileage_at = reading
        v.mileage_km = self.km_on(v, reading)
        v.warranty_expires_on = add_months(sold, 36)
        v.insurance_expires_on = self.today + timedelta(days=self.rng.randrange(self.horizon + 5, 365))
        v.inspection_due_on = self.today + timedelta(days=self.rng.randrange(self.horizon + 5, 700))

    def _sold_outside_warranty_window(self, days_ago: int) -> date:
        """A sale date whose 3-year warranty does not end inside the call-ahead window."""
        sold = self.today - timedelta(days=days_ago)
        end = add_months(sold, 36)
        if self.today - timedelta(days=5) <= end <= self.today + timedelta(days=self.horizon + 5):
            sold -= timedelta(days=self.horizon + 15)
        return sold

    def plain(self, v: Vehicle, last_age: int | None = None) -> None:
        """On no call list: serviced recently, insurance, inspection and warranty not due."""
        rng = self.rng
        room = max(self.interval_days - self.horizon - 10, 16)
        last_age = last_age if last_age is not None else rng.randrange(15, min(room, 100))
        sold = self._sold_outside_warranty_window(rng.randrange(max(400, last_age + 200), 2200))
        # the mileage interval must not come within the window either
        kmpd = min(rng.uniform(15, 40), 0.9 * self.interval_km / (last_age + self.horizon + 5))
        last = self.today - timedelta(days=last_age)
        reading = last if rng.random() < 0.5 else last + timedelta(days=rng.randrange(1, last_age))
        self._set(v, sold, kmpd, last, reading)

    def first_service(self, v: Vehicle, sold_days_ago: int) -> None:
        sold = self.today - timedelta(days=sold_days_ago)
        self._set(v, sold, self.rng.uniform(25, 45), None, sold)
        v.insurance_expires_on = add_months(sold, 12)
        v.inspection_due_on = add_months(sold, 72)

    def maintenance_by_days(self, v: Vehicle, due_in: int) -> None:
        """Periodic maintenance due in `due_in` days by the day interval (a car that is driven little)."""
        last_age = self.interval_days - due_in
        sold = self._sold_outside_warranty_window(self.rng.randrange(last_age + 300, 2000))
        kmpd = 0.6 * self.interval_km / self.interval_days
        self._set(v, sold, kmpd, self.today - timedelta(days=last_age),
                  self.today - timedelta(days=self.rng.randrange(5, 40)))

    def maintenance_by_km(self, v: Vehicle, due_in: int) -> None:
        """Due in `due_in` days by the projected mileage (a car driven a lot), long before the day interval."""
        last_age = self.rng.randrange(70, 110)
        kmpd = self.interval_km / (last_age + due_in)
        sold = self._sold_outside_warranty_window(self.rng.randrange(last_age + 300, 1500))
        self._set(v, sold, kmpd, self.today - timedelta(days=last_age),
                  self.today - timedelta(days=self.rng.randrange(3, 15)))

    def lapsed(self, v: Vehicle, months: int) -> None:
        last = add_months(self.today, -months) - timedelta(days=self.rng.randrange(0, 20))
        sold = last - timedelta(days=self.rng.randrange(300, 900))
        self._set(v, sold, self.rng.uniform(20, 35), last, last)
        if self.today <= (v.warranty_expires_on or sold) <= self.today + timedelta(days=self.horizon + 5):
            v.warranty_expires_on = None  # not also on the warranty list

    def warranty(self, v: Vehicle, due_in: int) -> None:
        self.plain(v)
        end = self.today + timedelta(days=due_in)
        v.sold_on = add_months(end, -36)
        v.warranty_expires_on = end
        v.last_service_km = self.km_on(v, v.last_service_on) if v.last_service_on else None
        v.mileage_km = self.km_on(v, v.mileage_at) if v.mileage_at else None

    def serviced_on(self, v: Vehicle, day: date, maintenance: bool) -> int:
        """A visit on `day`: the odometer read at reception; maintenance resets the last service."""
        km = self.km_on(v, day)
        if maintenance:
            v.last_service_on, v.last_service_km = day, km
        if v.mileage_at is None or day >= v.mileage_at:
            v.mileage_at, v.mileage_km = day, km
        return km


# -- technicians' hours ------------------------------------------------------------------------------------------
def _shift_hours(start: time, end: time, break_minutes: int) -> float:
    return max((end.hour * 60 + end.minute) - (start.hour * 60 + start.minute) - break_minutes, 0) / 60


def technician_hours(s: Session, ctx: ServiceContext, day: date) -> dict[str, float]:
    """Technician hours on `day`, repair (skilled) and all: shifts less breaks and leave, none on a holiday;
    a technician without shift rows works the [booking] default shift."""
    cfg = ctx.settings.booking
    out = {"repair": 0.0, "total": 0.0}
    if s.scalar(select(Holiday.id).where(Holiday.site_id == ctx.site, Holiday.day == day)) is not None:
        return out
    techs = list(s.scalars(select(Technician).where(Technician.site_id == ctx.site, Technician.active.is_(True))))
    shifts: dict[int, list[Shift]] = {}
    for sh in s.scalars(select(Shift).where(Shift.technician_id.in_([t.id for t in techs]))):
        shifts.setdefault(sh.technician_id, []).append(sh)
    away: dict[int, list[Leave]] = {}
    for leave in s.scalars(select(Leave).where(Leave.day == day, Leave.technician_id.in_([t.id for t in techs]))):
        away.setdefault(leave.technician_id, []).append(leave)
    for tech in techs:
        if tech.id in shifts:
            on_day = [sh for sh in shifts[tech.id] if sh.weekday == day.weekday()]
            hours = _shift_hours(on_day[0].start, on_day[0].end, on_day[0].break_minutes) if on_day else 0.0
        else:
            hours = _shift_hours(cfg.shift_start, cfg.shift_end, cfg.break_minutes) \
                if day.isoweekday() in cfg.workdays else 0.0
        for leave in away.get(tech.id, []):
            hours = 0.0 if leave.hours is None else max(hours - float(leave.hours), 0.0)
        out["total"] += hours
        if tech.skill == "repair":
            out["repair"] += hours
    return out


# -- levelled placement of one day's bookings --------------------------------------------------------------------
def _hours(ops: Sequence[LabourOperation]) -> dict[str, float]:
    repair = sum(float(op.hours) for op in ops if op.skill == "repair")
    return {"repair": repair, "total": sum(float(op.hours) for op in ops)}


@dataclass
class _Day:
    """One day's bookings as they are placed: hours sold per group, arrivals per quarter hour and per advisor,
    bays taken."""

    day: date
    opening: datetime
    closing: datetime
    sellable: dict[str, float]
    booked: dict[str, float] = field(default_factory=lambda: {"repair": 0.0, "total": 0.0})
    arrivals: Counter[datetime] = field(default_factory=Counter)
    advisor_quarters: set[tuple[int, datetime]] = field(default_factory=set)
    advisor_load: Counter[int] = field(default_factory=Counter)
    bay_busy: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    bay_use: Counter[int] = field(default_factory=Counter)

    def fits(self, ops: Sequence[LabourOperation]) -> bool:
        need = _hours(ops)
        return all(self.booked[g] + need[g] <= self.sellable[g] + 1e-6 for g in need)

    def bay_free(self, bay: Bay, start: datetime, end: datetime) -> bool:
        return all(end <= a or b <= start for a, b in self.bay_busy.get(bay.id, []))

    def take(self, ops: Sequence[LabourOperation], start: datetime, advisor: Advisor | None, bay: Bay | None) -> None:
        need = _hours(ops)
        for g in need:
            self.booked[g] += need[g]
        self.arrivals[start] += 1
        if advisor is not None:
            self.advisor_quarters.add((advisor.id, start))
            self.advisor_load[advisor.id] += 1
        if bay is not None:
            end = start + timedelta(hours=max(need["total"], 0.25))
            self.bay_busy.setdefault(bay.id, []).append((start, end))
            self.bay_use[bay.id] += 1

    def _preference(self, q: datetime) -> float:
        """Customers like mornings; lunch and late afternoon less."""
        h = q.hour + q.minute / 60
        return 0.0 if h < 10.5 else 0.6 if h < 13 else 0.3 if h < 15.5 else 0.8

    def place(self, rng: random.Random, ops: Sequence[LabourOperation], advisors: Sequence[Advisor],
              bays: dict[str, list[Bay]], earliest: datetime | None = None
              ) -> tuple[datetime, Advisor, Bay | None] | None:
        """A levelled start: the quarter hour with the fewest arrivals around it, an advisor free in that quarter
        (fewest write-ups that day), a bay of the kind the work needs free for its hours; work done before
        closing. None when the hours are sold or nothing is free."""
        if not self.fits(ops):
            return None
        hours = _hours(ops)["total"]
        equipment = next((op.equipment for op in ops if op.equipment), None)
        candidates_bays = bays.get(equipment or "lift", [])
        cutoff = self.opening + timedelta(hours=7 if hours > 2 or any(op.skill == "repair" for op in ops) else 9)
        latest = min(self.closing - timedelta(hours=hours), cutoff)
        q = self.opening
        if earliest is not None and earliest > q:
            q = self.opening + timedelta(minutes=15 * -(-int((earliest - self.opening).total_seconds()) // 900))
        options: list[tuple[float, datetime]] = []
        quarter = timedelta(minutes=15)
        while q <= latest:
            near = (4 * self.arrivals[q] + 1.5 * (self.arrivals[q - quarter] + self.arrivals[q + quarter])
                    + 0.5 * (self.arrivals[q - 2 * quarter] + self.arrivals[q + 2 * quarter]))
            options.append((near + self._preference(q) + rng.random() * 0.8, q))
            q += quarter
        for _, start in sorted(options):
            free = [a for a in advisors if (a.id, start) not in self.advisor_quarters]
            if not free:
                continue
            advisor = min(free, key=lambda a: (self.advisor_load[a.id], rng.random()))
            end = start + timedelta(hours=max(hours, 0.25))
            open_bays = [b for b in candidates_bays if self.bay_free(b, start, end)]
            if candidates_bays and not open_bays:
                continue
            bay = min(open_bays, key=lambda b: (self.bay_use[b.id], b.code)) if open_bays else None
            return start, advisor, bay
        return None


def _new_day(s: Session, ctx: ServiceContext, day: date) -> _Day:
    site = ctx.settings.site
    available = technician_hours(s, ctx, day)
    keep = 1 - ctx.settings.booking.walk_in_reserve
    return _Day(day, datetime.combine(day, site.opening, tzinfo=ctx.tz), datetime.combine(day, site.closing,
                                                                                           tzinfo=ctx.tz),
                {g: h * keep for g, h in available.items()})


def _bays_by_kind(bays: Sequence[Bay]) -> dict[str, list[Bay]]:
    out: dict[str, list[Bay]] = {}
    for b in bays:
        out.setdefault(b.kind, []).append(b)
    return out


# -- appointments and repair orders ------------------------------------------------------------------------------
def _job(rng: random.Random, ops: dict[str, LabourOperation], repair_share: float = 0.3) -> list[LabourOperation]:
    if rng.random() < repair_share:
        lines = [ops[_weighted(rng, REPAIR_MIX)]]
        if rng.random() < 0.15:
            lines.append(ops["OIL"])
    else:
        lines = [ops[_weighted(rng, MAINTENANCE_MIX)]]
        if rng.random() < 0.15:
            lines.append(ops["WSH"])
    return lines


def _lines_json(ops: Sequence[LabourOperation], lang: str) -> list[dict[str, object]]:
    return [{"code": op.code, "description": op.name(lang), "hours": float(op.hours), "skill": op.skill,
             "equipment": op.equipment} for op in ops]


def _parts_numbers(ops: Sequence[LabourOperation]) -> str:
    seen: list[str] = []
    for op in ops:
        for number in PARTS.get(op.code, "").split(", "):
            if number and number not in seen:
                seen.append(number)
    return ", ".join(seen)


def _appointment(ctx: ServiceContext, vehicle: Vehicle, advisor: Advisor, bay: Bay | None, start: datetime,
                 ops: Sequence[LabourOperation], **fields: Any) -> Appointment:
    lang = ctx.settings.site.language
    numbers = _parts_numbers(ops)
    appt = Appointment(
        site_id=ctx.site, vehicle=vehicle, advisor=advisor, bay=bay, start=start,
        hours=sum((op.hours for op in ops), Decimal(0)), work=" + ".join(op.name(lang) for op in ops),
        status="booked", version=next_version(), job_lines=_lines_json(ops, lang),
        skill="repair" if any(op.skill == "repair" for op in ops) else "maintenance",
        equipment=next((op.equipment for op in ops if op.equipment), None), source="passive",
        parts_status="in_stock" if numbers else "none", parts_numbers=numbers,
        waiting_customer=False, road_test=any(op.code in ("BRK", "ALN", "DGN") for op in ops),
        repeat_repair=False, complaining_customer=bool(vehicle.customer.complaining), notes="",
        created_by=advisor.name)
    for key, value in fields.items():
        setattr(appt, key, value)
    return appt


def _promise(start: datetime, hours: float) -> datetime:
    done = start + timedelta(hours=hours + 1)
    return done.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=30 * -(-done.minute // 30))


@dataclass
class _Workshop:
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
            mileage_km=km, fuel_eighths=rng.randrange(1, 9), promised_at=_promise(arrived, hours), opened_at=arrived,
            version=next_version())
        for pos, op in enumerate(ops):
            ro.job_lines.append(JobLine(position=pos, operation_code=op.code, description=op.name(lang),
                                        hours=op.hours, skill=op.skill))
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
        self.events.clear()


# -- the seed ----------------------------------------------------------------------------------------------------
def seed(ctx: ServiceContext, pins: dict[str, str], rng_seed: int = 7) -> DemoSummary:
    rng = random.Random(rng_seed)
    extra = random.Random(rng_seed * 7919 + 1)  # everything beyond the original day, so that day stays the same
    now = ctx.now()
    today = ctx.today()
    site_cfg = ctx.settings.site
    with ctx.db.write() as s:
        s.add(Site(id=ctx.site, name=site_cfg.name))
        s.flush()  # other rows refer to the site by key only, so the unit of work cannot order them itself
        advisors = [Advisor(site_id=ctx.site, code=code, name=name, roles="advisor",
                            pin_hash=hash_pin(pins.get(name, "0000")), version=next_version())
                    for code, name in ADVISORS]
        staff = [Advisor(site_id=ctx.site, code=code, name=name, roles=role, pin_hash=hash_pin(pins.get(name, "0000")),
                         version=next_version()) for code, name, role in STAFF]
        techs = [Technician(site_id=ctx.site, name=name, skill=skill, version=next_version())
                 for name, skill in TECHNICIANS]
        bays = [Bay(site_id=ctx.site, code=code, kind="lift") for code in BAYS] + \
               [Bay(site_id=ctx.site, code=code, kind="alignment") for code in ALIGNMENT_BAYS]
        ops = [LabourOperation(site_id=ctx.site, code=c, name_zh=zh, name_en=en, hours=Decimal(h), skill=sk,
                               equipment=eq, interval_km=km)
               for c, zh, en, h, sk, eq, km in OPERATIONS]
        s.add_all([*advisors, *staff, *techs, *bays, *ops])
        s.flush()
        for tech in techs:
            start, end, brk, weekdays = SHIFTS.get(tech.name, DEFAULT_SHIFT)
            tech.shifts.extend(Shift(weekday=wd, start=start, end=end, break_minutes=brk) for wd in weekdays)
        by_name = {t.name: t for t in techs}
        s.add(Leave(technician_id=by_name[ON_LEAVE_TOMORROW[0]].id, day=today + timedelta(days=1), hours=None,
                    reason=ON_LEAVE_TOMORROW[1]))
        s.add(Holiday(site_id=ctx.site, day=today + timedelta(days=HOLIDAY[0]), name=HOLIDAY[1]))
        people = _People(s, ctx, extra)
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
            people.add(customer, vehicle)
            people.plain(vehicle)
            vehicles.append(vehicle)
        s.flush()
        appointments, ros = seed_day(s, ctx, rng, vehicles, advisors, techs, bays, ops)
        more_appointments, more_ros = _seed_calendar(s, ctx, extra, people, vehicles, advisors, techs, bays, ops, now)
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
    repair_ops = [o for o in ops if o.skill == "repair"]
    progress = [RoStatus.IN_PROGRESS, RoStatus.DISPATCHED, RoStatus.ON_HOLD, RoStatus.QUALITY_CHECK,
                RoStatus.READY, RoStatus.CHECKED_IN]
    advisors = [a for a in advisors if a.is_advisor] or advisors
    by_kind = _bays_by_kind(bays)
    plan = _Day(day, opening, closing, {"repair": 1e9, "total": 1e9})
    yesterday = datetime.combine(day - timedelta(days=1), time(16, 0), tzinfo=ctx.tz)
    appts = 0
    ros = 0
    number_prefix = f"{site_cfg.ro_prefix}{local_now:%Y%m%d}-"
    for i, vehicle in enumerate(vehicles[:24]):
        start = first + timedelta(minutes=20 * i)
        if start >= closing:
            break
        op = rng.choice(repair_ops if i % 3 == 2 else maint_ops)
        advisor = advisors[i % len(advisors)]
        kind_bays = by_kind.get(op.equipment or "lift") or bays
        end = start + timedelta(hours=float(op.hours))
        bay = min(kind_bays, key=lambda b: (not plan.bay_free(b, start, end), plan.bay_use[b.id], b.code))
        plan.take([op], start, None, bay)
        confirmed = bool(i % 4)
        numbers = _parts_numbers([op])
        appt = Appointment(site_id=ctx.site, vehicle_id=vehicle.id, advisor_id=advisor.id,
                           bay_id=bay.id, start=start, hours=op.hours,
                           work=op.name(lang), status="confirmed" if confirmed else "booked",
                           version=next_version(), job_lines=_lines_json([op], lang), skill=op.skill,
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
            ro.job_lines.append(JobLine(position=0, operation_code=op.code, description=op.name(lang),
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


@dataclass
class _Special:
    """An appointment the story needs on a given day (a repeat repair, a complaining customer…)."""

    vehicle: Vehicle
    ops: list[LabourOperation]
    fields: dict[str, Any] = field(default_factory=dict)
    link: Appointment | None = None  # a no-show this appointment rebooks


def _seed_calendar(s: Session, ctx: ServiceContext, rng: random.Random, people: _People, today_vehicles: list[Vehicle],
                   advisors: list[Advisor], techs: list[Technician], bays: list[Bay], ops_list: list[LabourOperation],
                   now: datetime) -> tuple[int, int]:
    """The story around today: the call-list cars, 14 days of history, two cars carried over from yesterday and
    the bookings for the next six days. Returns (appointments, repair orders) added."""
    today = ctx.today()
    tz = ctx.tz
    ops = {op.code: op for op in ops_list}
    board = [a for a in advisors if a.is_advisor]
    by_kind = _bays_by_kind(bays)
    cfg = ctx.settings.booking
    horizon = cfg.call_ahead_days
    shop = _Workshop(s, ctx, techs)
    appts = 0

    def within(days: int) -> int:
        return max(1, min(days, horizon - 1))

    # -- the call lists: a few cars on each ------------------------------------------------------------------
    first_service = []
    for ago in (5, 14, 30, 55):
        v = people.new()
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
    booked_maintenance = people.new()
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
    parts_booked, parts_waiting, parts_coming = people.new(), people.new(), people.new()
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
        (people.new(), recall),
    ]

    # -- the last 14 days --------------------------------------------------------------------------------------
    repaired: list[tuple[Vehicle, date]] = []
    no_shows: list[tuple[Vehicle, Appointment]] = []
    complainer: Vehicle | None = None
    declined = 0
    for ago in range(PAST_DAYS, 0, -1):
        day = today - timedelta(days=ago)
        plan = _new_day(s, ctx, day)
        for _ in range(rng.randint(11, 16)):
            v = people.new()
            job = _job(rng, ops)
            spot = plan.place(rng, job, board, by_kind)
            if spot is None:
                continue
            start, advisor, bay = spot
            r = rng.random()
            created = datetime.combine(day - timedelta(days=rng.randrange(1, 10)), time(rng.randrange(9, 18),
                                       rng.randrange(60)), tzinfo=tz)
            appt = _appointment(ctx, v, advisor, bay, start, job, created_at=created,
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
            job = _job(rng, ops, repair_share=0.5)
            arrived = datetime.combine(day, time(rng.randrange(8, 15), rng.randrange(0, 60, 5)), tzinfo=tz)
            maintenance_visit = any(op.interval_km or op.code == "OIL" for op in job)
            km = people.serviced_on(v, day, maintenance_visit)
            shop.open(v, None, rng.choice(board), job, arrived, km, RoStatus.DELIVERED, rng)
        if ago == 1:
            # carried over: one on hold for parts (booked yesterday), one walk-in still being worked on
            v = people.new()
            job = [ops["TBT"], ops["M40"]]
            spot = plan.place(rng, job, board, by_kind)
            start, advisor, bay = spot if spot else (plan.opening + timedelta(hours=1), board[0], None)
            plan.take(job, start, advisor, bay)
            appt = _appointment(ctx, v, advisor, bay, start, job, status="arrived", arrived_at=start,
                                created_at=start - timedelta(days=5), parts_status="to_order",
                                parts_eta=today + timedelta(days=1), call_outcome="confirmed",
                                called_at=start - timedelta(hours=17), called_by=CS_AGENT)
            s.add(appt)
            appts += 1
            km = people.serviced_on(v, day, False)
            shop.open(v, appt, advisor, job, start, km, RoStatus.ON_HOLD, rng, hold="waiting_parts",
                      complaint="40000公里保养，按手册更换正时皮带；正时皮带套件缺货")
            v = people.new()
            arrived = datetime.combine(day, time(15, 40), tzinfo=tz)
            km = people.serviced_on(v, day, False)
            shop.open(v, None, board[1 % len(board)], [ops["DGN"], ops["BRK"]], arrived, km, RoStatus.IN_PROGRESS,
                      rng, complaint="发动机故障灯亮，怠速抖动；刹车有异响")

    # -- tomorrow and the five days after ---------------------------------------------------------------------
    specials: dict[int, list[_Special]] = {k: [] for k in range(1, len(FUTURE_APPOINTMENTS) + 1)}
    if repaired:
        v, _ = repaired[-1]
        specials[1].append(_Special(v, [ops["DGN"]], {"repeat_repair": True, "road_test": True,
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
        specials[2 + 2 * k].append(_Special(v, [ops[c] for c in codes if c in ops] or [ops["OIL"]],
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
    plan = _new_day(s, ctx, day)
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
            job = _job(rng, ops)
            fields: dict[str, Any] = {}
        else:
            vehicle, job, fields = special.vehicle, special.ops, dict(special.fields)
        spot = plan.place(rng, job, advisors, by_kind)
        if spot is None and special is None:
            job = [ops["OIL"]]
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
        appt = _appointment(ctx, vehicle, advisor, bay, start, job, **fields)
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
        if not all(code in by_code for code in ("OIL", "WSH", *(c for c, _ in MAINTENANCE_MIX + REPAIR_MIX))):
            return added
        for k, count in enumerate(FUTURE_APPOINTMENTS, start=1):
            day_start, day_end = ctx.day_bounds(ctx.today() + timedelta(days=k))
            if s.scalar(select(func.count()).select_from(Appointment).where(
                    Appointment.site_id == ctx.site, Appointment.start >= day_start, Appointment.start < day_end)):
                continue
            added += _future_day(s, ctx, rng, ctx.today() + timedelta(days=k), count, lambda: next(pool, None),
                                 board, _bays_by_kind(bays), by_code, [], ctx.now())
        return added
