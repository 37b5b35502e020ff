"""Look at the boards without a broker or database: a synthetic busy day (4 advisors x 50 appointments,
8 technicians, ~40 repair orders, their lounge entries) fed through BoardStore.apply, served by NiceGUI.

    python bench/board_preview.py [--port 8090] [--at 14:30] [--live]

then open /board/appointments?token=dev-token (once), /board/progress, /lounge; add ?lang=en for English.
--live changes a random order every few seconds, to watch the incremental updates.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shopfloor.board.appointment_board import AppointmentBoardPage
from shopfloor.board.lounge import LoungePage
from shopfloor.board.progress_board import ProgressBoardPage
from shopfloor.board.store import BoardStore
from shopfloor.clock import Clock
from shopfloor.contract import payloads, topics
from shopfloor.domain.capacity import Booking, DayPlan, TechnicianDay
from shopfloor.domain.identifiers import display_plate, mask_plate
from shopfloor.services.capacity import capacity_view
from shopfloor.settings import PrinterSettings, Settings, SiteSettings

SITE = "demo"
TOKEN = "dev-token"
TZ = ZoneInfo("Asia/Shanghai")

ADVISORS = [("A", "张伟"), ("B", "李娜"), ("C", "王芳"), ("D", "刘洋")]
TECHNICIANS = [("陈刚", "repair"), ("杨帆", "repair"), ("赵磊", "repair"), ("黄强", "repair"),
               ("周杰", "maintenance"), ("吴昊", "maintenance"), ("徐明", "maintenance"), ("孙涛", "maintenance")]
WORK = [("5000公里保养", 0.8), ("10000公里保养", 1.2), ("20000公里保养", 1.8), ("40000公里保养", 2.5),
        ("更换机油机滤", 0.5), ("空调系统检查", 0.8), ("更换前刹车片", 1.5), ("四轮定位", 1.0),
        ("更换正时皮带", 3.0), ("故障诊断", 1.0), ("更换蓄电池", 0.5), ("更换刹车片", 1.5), ("钣金喷漆", 2.5)]
MODELS = ["卡罗拉", "凯美瑞", "RAV4荣放", "汉兰达", "雷凌", "亚洲龙", "bZ4X", "威兰达", "赛那"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
AREAS = ["京A", "京B", "京N", "京Q", "京E", "京F", "京G", "冀R", "津C"]
CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


class Synthetic:
    """Payloads in the shapes of shopfloor/services/views.py, with growing versions."""

    def __init__(self, now: datetime, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.version = int(now.timestamp() * 1_000_000)
        self.plates: set[str] = set()

    def next_version(self) -> int:
        self.version += 1
        return self.version

    def plate(self) -> str:
        while True:
            area = self.rng.choice(AREAS)
            if self.rng.random() < 0.15:  # new-energy plate
                plate = f"{area}{self.rng.choice('DF')}{self.rng.choice(CHARS)}{self.rng.randrange(10000):04d}"
            else:
                plate = area + "".join(self.rng.choice(CHARS) for _ in range(3)) + f"{self.rng.randrange(100):02d}"
            if plate not in self.plates:
                self.plates.add(plate)
                return plate

    def customer(self) -> str:
        surname = self.rng.choice(SURNAMES) if self.rng.random() > 0.03 else self.rng.choice(["欧阳", "司马"])
        return surname + self.rng.choice(["先生", "女士"])

    def iso(self, moment: datetime | None) -> str | None:
        return moment.astimezone(TZ).isoformat(timespec="seconds") if moment else None

    def advisors(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, (code, name) in enumerate(ADVISORS, start=1):
            yield topics.state(SITE, topics.ADVISORS, i), {
                "schema": 1, "version": self.next_version(), "site": SITE, "id": i, "name": name, "code": code,
                "active": True, "roles": ["advisor"], "role": "advisor"}

    def technicians(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, (name, skill) in enumerate(TECHNICIANS, start=1):
            yield topics.state(SITE, topics.TECHNICIANS, i), {
                "schema": 1, "version": self.next_version(), "site": SITE, "id": i, "name": name, "skill": skill,
                "active": True}

    def appointments(self, per_advisor: int = 50) -> Iterator[tuple[str, dict[str, Any]]]:
        day = self.now.astimezone(TZ).date()
        opening = datetime.combine(day, time(8, 0), tzinfo=TZ)
        appt_id = 0
        for adv_id, (code, name) in enumerate(ADVISORS, start=1):
            # 08:00-19:30 in 10-minute slots, one car per slot: an advisor receives one customer at a time
            slots = sorted(self.rng.sample(range(70), k=min(per_advisor, 70)))
            for slot in slots:
                appt_id += 1
                start = opening + timedelta(minutes=10 * slot)
                work, hours = self.rng.choice(WORK)
                status = self.appointment_status(start)
                arrived = start - timedelta(minutes=self.rng.randrange(0, 12)) if status == "arrived" else None
                plate = self.plate()
                yield topics.state(SITE, topics.APPOINTMENTS, appt_id), {
                    "schema": 1, "version": self.next_version(), "site": SITE, "id": appt_id, "status": status,
                    "start": self.iso(start), "end": self.iso(start + timedelta(hours=hours)), "hours": hours,
                    "work": work, "plate": plate, "plate_display": display_plate(plate),
                    "vehicle_model": self.rng.choice(MODELS), "customer": self.customer(),
                    "advisor": {"id": adv_id, "name": name, "code": code}, "bay": str(self.rng.randrange(1, 9)),
                    "arrived_at": self.iso(arrived), "ro_number": None, "skill": "maintenance",
                    "job_lines": [{"code": None, "description": work, "hours": hours, "skill": "maintenance",
                                   "equipment": None}],
                    "equipment": None, "source": "passive", "parts": {"status": "none", "eta": None, "numbers": ""},
                    "flags": {"waiting_customer": self.rng.random() < 0.3, "road_test": False,
                              "repeat_repair": self.rng.random() < 0.05, "complaining_customer": False},
                    "call_outcome": None, "no_show_at": None, "cancel_reason": None, "rebooked_as": None,
                    "notes": "", "overridden": False}

    def appointment_status(self, start: datetime) -> str:
        roll = self.rng.random()
        if roll < 0.03:
            return "cancelled"
        if start > self.now:
            return "confirmed" if roll < 0.7 else "booked"
        if start < self.now - timedelta(hours=2) and roll > 0.95:
            return "no_show"
        if start > self.now - timedelta(minutes=50) and roll > 0.8:
            return "late"
        return "arrived"

    def repair_orders(self, count: int = 40) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        statuses = (["checked_in"] * 6 + ["dispatched"] * 7 + ["in_progress"] * 11 + ["on_hold"] * 4
                    + ["quality_check"] * 5 + ["ready"] * 4 + ["delivered"] * 2 + ["cancelled"] * 1)
        statuses = (statuses * 2)[:count]
        local = self.now.astimezone(TZ)
        for i, status in enumerate(statuses, start=1):
            work, hours = self.rng.choice(WORK)
            extra = self.rng.random() < 0.25
            plate = self.plate()
            tech = None if status == "checked_in" else (i % len(TECHNICIANS)) + 1
            adv = (i % len(ADVISORS)) + 1
            opened = self.now - timedelta(minutes=self.rng.randrange(20, 300))
            # most promises still ahead, a few already missed (those the foreman must chase)
            promised = self.now + timedelta(minutes=self.rng.choice([-40, -15, 20, 45, 60, 90, 120, 150, 180, 240]))
            customer = self.customer()
            number = f"RO{local:%Y%m%d}-{i:03d}"
            ro = {
                "schema": 1, "version": self.next_version(), "site": SITE, "number": number, "status": status,
                "hold_reason": self.rng.choice(["waiting_parts", "waiting_approval", "other"])
                if status == "on_hold" else None,
                "plate": plate, "plate_display": display_plate(plate), "vehicle_model": self.rng.choice(MODELS),
                "customer": customer,
                "advisor": {"id": adv, "name": ADVISORS[adv - 1][1], "code": ADVISORS[adv - 1][0]},
                "technician": {"id": tech, "name": TECHNICIANS[tech - 1][0]} if tech else None,
                "appointment_id": None, "promised_at": self.iso(promised), "opened_at": self.iso(opened),
                "closed_at": None, "work": f"{work} +1" if extra else work,
                "job_lines": [{"code": "X", "description": work, "hours": hours, "skill": "maintenance"}],
                "total_hours": hours + (0.5 if extra else 0), "complaint": "", "mileage_km": None,
                "fuel_eighths": None,
            }
            lounge = {
                "schema": 1, "version": ro["version"], "site": SITE, "number": number,
                "plate_masked": mask_plate(plate), "customer_masked": customer, "status": status,
                "promised_at": ro["promised_at"],
                "needs_customer": status == "on_hold" and ro["hold_reason"] == "waiting_approval",
            }
            yield topics.state(SITE, topics.REPAIR_ORDERS, i), ro, lounge


    def capacity(self, appointments: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The week's capacity states, computed by the real rules from today's cards and lighter later days."""
        today = self.now.astimezone(TZ).date()
        for offset in range(7):
            day = today + timedelta(days=offset)
            techs = [TechnicianDay(i, name, skill, 8.0 if (i + offset) % 7 else 0.0)
                     for i, (name, skill) in enumerate(TECHNICIANS, start=1)]
            if offset == 0:
                hours = [(a["advisor"]["id"], datetime.fromisoformat(a["start"]), a["hours"]) for a in appointments
                         if a["status"] not in ("cancelled", "no_show")]
            else:
                hours = [(1 + k % len(ADVISORS), datetime.combine(day, time(8 + k % 11), tzinfo=TZ),
                          self.rng.choice(WORK)[1]) for k in range(self.rng.randrange(14, 30))]
            bookings = [Booking(k, adv, start, {"repair" if k % 3 == 0 else "maintenance": h})
                        for k, (adv, start, h) in enumerate(hours)]
            plan = DayPlan(day=day, opening=datetime.combine(day, time(8), tzinfo=TZ),
                           closing=datetime.combine(day, time(20), tzinfo=TZ), technicians=techs, bays=[],
                           bookings=bookings)
            yield (topics.state(SITE, topics.CAPACITY, day.isoformat()),
                   {"schema": 1, "version": self.next_version(), "site": SITE, **capacity_view(plan)})


def synthetic_day(now: datetime, *, per_advisor: int = 50, orders: int = 40) -> tuple[BoardStore, BoardStore]:
    """(board store, lounge store), filled through apply() exactly as the MQTT feed would."""
    board, lounge = BoardStore(SITE), BoardStore(SITE)
    syn = Synthetic(now)
    appointments = list(syn.appointments(per_advisor))
    for topic, payload in [*syn.advisors(), *syn.technicians(), *appointments,
                           *syn.capacity([a for _, a in appointments])]:
        board.apply(topic, payloads.encode(payload))
    for topic, ro, entry in syn.repair_orders(orders):
        board.apply(topic, payloads.encode(ro))
        lounge.apply(topics.state(SITE, topics.LOUNGE, topic.split("/")[4]), payloads.encode(entry))
    return board, lounge


def demo_settings() -> Settings:
    site = SiteSettings(id=SITE, name="星辰丰田4S店 · 朝阳")
    return Settings(site=site, printers=[PrinterSettings(name="reception")])


def fixed_clock(at: str | None) -> datetime:
    """Today at HH:MM (site time), or now; outside opening hours the boards have little to show, so 14:30."""
    now = datetime.now(TZ)
    if at is None and time(8, 0) <= now.time() <= time(19, 30):
        return now
    hh, mm = (at or "14:30").split(":")
    return datetime.combine(date.today(), time(int(hh), int(mm)), tzinfo=TZ)


class ShiftedClock(Clock):
    """The real clock moved to the pretended time: the boards' clocks keep ticking from there."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return super().now() + self.offset


async def wiggle(board: BoardStore, lounge: BoardStore) -> None:
    """Move a random open order one step every few seconds: the screens must follow without a reload."""
    rng = random.Random(5)
    steps = {"checked_in": "dispatched", "dispatched": "in_progress", "in_progress": "quality_check",
             "on_hold": "in_progress", "quality_check": "ready", "ready": "delivered"}
    while True:
        await asyncio.sleep(3)
        entity_id, state = rng.choice(list(board.states(topics.REPAIR_ORDERS).items()))
        if state["status"] not in steps:
            continue
        new = dict(state, status=steps[state["status"]], version=state["version"] + 1_000_000)
        if new["status"] == "dispatched":
            new["technician"] = {"id": 1, "name": TECHNICIANS[0][0]}
        board.apply(topics.state(SITE, topics.REPAIR_ORDERS, entity_id), payloads.encode(new))
        entry = dict(lounge.states(topics.LOUNGE)[entity_id], status=new["status"], version=new["version"])
        lounge.apply(topics.state(SITE, topics.LOUNGE, entity_id), payloads.encode(entry))
        print(f"live: {new['plate']} {entry['plate_masked']} {new['status']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--at", help="pretend the site clock shows HH:MM today (default: now, or 14:30 after hours)")
    parser.add_argument("--live", action="store_true", help="move an order along every 3 seconds")
    parser.add_argument("--per-advisor", type=int, default=50, help="appointments per advisor (default 50)")
    args = parser.parse_args()

    from nicegui import app, background_tasks, ui
    from nicegui.storage import Storage

    # paired-screen cookies of a dev session belong in /tmp, not in a .nicegui/ of the checkout
    Storage.path = Path(tempfile.mkdtemp(prefix="board-preview-storage-"))
    app.storage = Storage()

    now = fixed_clock(args.at)
    offset = now - datetime.now(TZ)
    board, lounge = synthetic_day(now, per_advisor=args.per_advisor)
    settings = demo_settings()

    clock = ShiftedClock(offset)
    AppointmentBoardPage(board, settings, TOKEN, clock=clock).register("/board/appointments")
    ProgressBoardPage(board, settings, TOKEN, clock=clock).register("/board/progress")
    LoungePage(lounge, settings, clock=clock).register("/lounge")
    if args.live:
        app.on_startup(lambda: background_tasks.create(wiggle(board, lounge), name="wiggle"))
    print(f"board token: {TOKEN}  ({len(board)} board entities, {len(lounge)} lounge entries, clock {now:%H:%M})")
    ui.run(port=args.port, show=False, reload=False, storage_secret="dev", title="shopfloor boards")


if __name__ == "__main__":
    main()
