"""The demo's parts counter: a small catalogue of real-looking parts (the numbers the labour operations name in
shopfloor.demo.data.PARTS, and more), and parts lines on the open orders as the day so far left them: issued for
work started, to pick for work not started, and a back-order for each order on hold for parts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.demo.data import PARTS
from shopfloor.domain.models import RepairOrder
from shopfloor.domain.parts import PartsLineStatus
from shopfloor.domain.parts_models import Part, PartsLine
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.domain.workshop import LineStatus, PauseReason
from shopfloor.services import site_setup
from shopfloor.services.context import ServiceContext

# number, name, price (yuan), stock on hand
CATALOGUE = [
    ("04152-YZZA6", "机油滤清器", "68", "40"),
    ("08880-13505", "全合成机油 0W-20 4L", "398", "25"),
    ("87139-0K060", "空调滤清器", "128", "18"),
    ("17801-21050", "空气滤清器", "145", "12"),
    ("90919-01253", "火花塞（铱金）", "95", "32"),
    ("04465-02220", "前刹车片", "620", "2"),
    ("04466-02210", "后刹车片", "520", "6"),
    ("43512-02320", "前刹车盘", "780", "4"),
    ("42431-02250", "后刹车盘", "690", "2"),
    ("13568-09130", "正时皮带", "860", "1"),
    ("13505-0H020", "正时皮带张紧轮", "540", "0"),
    ("28800-0T120", "蓄电池 12V 60Ah", "980", "4"),
    ("85222-02220", "雨刮片（主驾）", "88", "20"),
    ("85214-02220", "雨刮片（副驾）", "78", "20"),
    ("08823-80010", "刹车油 DOT4 1L", "85", "15"),
    ("08889-80060", "长效防冻液 4L", "165", "10"),
    ("90430-12031", "放油螺塞垫片", "6", "200"),
    ("16400-0T330", "散热器总成", "1680", "1"),
    ("90916-02500", "发电机多楔带", "210", "5"),
    ("48510-02D40", "前减震器", "880", "2"),
    ("48820-02060", "前稳定杆连杆", "180", "6"),
    ("04111-37195", "发动机大修包", "1250", "0"),
    ("23300-21010", "燃油滤清器", "260", "8"),
    ("81170-02L40", "左前大灯总成", "2350", "0"),
    ("87910-02K90", "左后视镜总成", "980", "1"),
    ("08886-81210", "自动变速箱油 ATF WS 1L", "120", "24"),
    ("89467-02080", "氧传感器", "860", "2"),
    ("90915-YZZE1", "机油滤清器（旋装式）", "58", "30"),
    ("08886-02505", "空调制冷剂 R134a", "160", "6"),
    ("04152-38020", "机油滤清器（V6）", "92", "8"),
]
# parts sold by more than one: the rest are one each
QUANTITY = {"90919-01253": Decimal(4)}
STARTED = (LineStatus.IN_PROGRESS.value, LineStatus.DONE.value)


def seed_parts(s: Session, ctx: ServiceContext) -> int:
    """The catalogue, and parts lines on today's open orders; the number of parts lines made."""
    site_setup.add_parts(s, ctx, CATALOGUE, "demo")
    s.flush()
    parts = {p.number: p for p in s.scalars(select(Part).where(Part.site_id == ctx.site))}
    now, tomorrow = ctx.now(), ctx.today() + timedelta(days=1)
    made = 0
    orders = s.scalars(select(RepairOrder).where(RepairOrder.site_id == ctx.site,
                                                 RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
                       .order_by(RepairOrder.id))
    for ro in orders:
        wanted = [(line, [n for n in PARTS.get(line.operation_code or "", "").split(", ") if n in parts])
                  for line in ro.job_lines]
        held = [(line, numbers) for line, numbers in wanted if numbers and line.status == LineStatus.PAUSED
                and line.pause_reason == PauseReason.WAITING_PARTS]
        # an order on hold for parts waits for one: out of stock, else the last of its first held line
        short = next((n for _, numbers in held for n in numbers if parts[n].stock == 0),
                     held[0][1][-1] if held else None)
        for line, numbers in wanted:
            for number in numbers:
                part, quantity = parts[number], QUANTITY.get(number, Decimal(1))
                missing = number == short
                started = line.status in STARTED or (line.status == LineStatus.PAUSED and not missing)
                issued = quantity if started else Decimal(0)
                status = (PartsLineStatus.BACK_ORDER if missing else PartsLineStatus.ISSUED if issued
                          else PartsLineStatus.TO_PICK)
                s.add(PartsLine(repair_order_id=ro.id, job_line_id=line.id, part_id=part.id, number=number,
                                name=part.name, quantity=quantity, unit_price=part.price, issued=issued,
                                returned=Decimal(0), status=status.value, eta=tomorrow if missing else None,
                                back_ordered_at=now - timedelta(hours=1) if missing else None, created_by="demo",
                                created_at=ro.opened_at))
                made += 1
    return made
