"""The demo's history after the workshop (issue 12, steps 9–12), so that every service KPI on /manager/figures has
something to count: the delivered orders' clockings and finished lines, their parts, settlement and payments, the
3-day follow-up calls with their attempts and outcomes, the complaints some of them raised, and for the lapsed
cars of the call lists the visit they were last seen at. ORM rows and bulk statements, as the rest of the seed."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from shopfloor.demo.data import CS_AGENT, PARTS, STAFF
from shopfloor.domain.aftersales import (
    ComplaintSource,
    ComplaintStatus,
    FollowUpKind,
    FollowUpOutcome,
    FollowUpStatus,
    PaymentKind,
    PaymentMethod,
    ProblemClass,
    Severity,
)
from shopfloor.domain.aftersales_models import Complaint, FollowUpAttempt, FollowUpCall, Payment
from shopfloor.domain.models import Advisor, Customer, JobLine, RepairOrder, RoEvent, Vehicle
from shopfloor.domain.parts import PartsLineStatus
from shopfloor.domain.parts_models import Part, PartsLine
from shopfloor.domain.states import RoStatus
from shopfloor.domain.versions import next_version
from shopfloor.domain.workshop import LineStatus
from shopfloor.domain.workshop_models import Clocking, ClockingLine
from shopfloor.services.context import ServiceContext

CASHIER = next(name for _, name, role in STAFF if role == "cashier")  # 林静 takes the payments
METHODS = [PaymentMethod.WECHAT, PaymentMethod.ALIPAY, PaymentMethod.CARD, PaymentMethod.CASH]
PROBLEMS = {
    ProblemClass.WORKMANSHIP: "保养后机油尺显示油位偏低，怀疑加注不足",
    ProblemClass.PROCESS: "交车时没有讲解更换的项目，结算单看不懂",
    ProblemClass.FACILITIES: "休息区没有充电插座，等了两个小时",
    ProblemClass.PRICE: "工时费比上次贵，没有提前说明",
}


def seed_aftersales(s: Session, ctx: ServiceContext, rng: random.Random) -> None:
    now = ctx.now()
    cfg = ctx.settings.follow_up
    delivered = list(s.execute(
        select(RepairOrder.id, RepairOrder.number, RepairOrder.vehicle_id, Vehicle.customer_id,
               RepairOrder.technician_id, Advisor.name.label("advisor"), RepairOrder.opened_at, RepairOrder.closed_at)
        .join(Vehicle, Vehicle.id == RepairOrder.vehicle_id).join(Advisor, Advisor.id == RepairOrder.advisor_id)
        .where(RepairOrder.site_id == ctx.site, RepairOrder.status == RoStatus.DELIVERED.value,
               RepairOrder.closed_at.is_not(None)).order_by(RepairOrder.closed_at)))
    ids = [row.id for row in delivered]
    moves = {(ro, to): at for ro, to, at in s.execute(select(RoEvent.repair_order_id, RoEvent.to_status, RoEvent.at)
                                                      .where(RoEvent.repair_order_id.in_(ids)))}
    lines: dict[int, list[tuple[int, Decimal, str, str | None]]] = defaultdict(list)
    for line_id, ro, hours, skill, code in s.execute(
            select(JobLine.id, JobLine.repair_order_id, JobLine.hours, JobLine.skill, JobLine.operation_code)
            .where(JobLine.repair_order_id.in_(ids), JobLine.status != LineStatus.CANCELLED.value)):
        lines[ro].append((line_id, hours, skill, code))
    parts = {p.number: p for p in s.scalars(select(Part).where(Part.site_id == ctx.site))}
    fallback = ctx.settings.workshop.labour_rate
    finished: list[dict[str, object]] = []
    settled_at: list[dict[str, object]] = []
    parts_lines: list[dict[str, object]] = []
    payments: list[dict[str, object]] = []
    calls: list[tuple[FollowUpCall, list[dict[str, object]]]] = []
    problems: list[tuple[FollowUpCall, Any]] = []
    for row in delivered:
        start = moves.get((row.id, RoStatus.IN_PROGRESS.value), row.opened_at + timedelta(minutes=20))
        end = moves.get((row.id, RoStatus.QUALITY_CHECK.value), row.closed_at - timedelta(minutes=30))
        own = lines[row.id]
        finished += [{"id": line_id, "finished_at": end} for line_id, *_ in own]
        if row.technician_id is not None and own:
            # technicians beat the flat rate now and then: the clock runs from the start to the quality check
            s.add(Clocking(site_id=ctx.site, technician_id=row.technician_id, repair_order_id=row.id,
                           started_at=start, ended_at=end, outcome="finished", started_by="demo", ended_by="demo",
                           lines=[ClockingLine(job_line_id=line_id) for line_id, *_ in own]))
        amount = Decimal(0)
        for line_id, hours, skill, code in own:
            amount += (hours * Decimal(str(ctx.settings.reception.labour_rate(skill, fallback)))).quantize(
                Decimal("0.01"))
            for number in PARTS.get(code or "", "").split(", "):
                part = parts.get(number)
                if part is None:
                    continue
                parts_lines.append(dict(repair_order_id=row.id, job_line_id=line_id, part_id=part.id, number=number,
                                        name=part.name, quantity=Decimal(1), unit_price=part.price, issued=Decimal(1),
                                        returned=Decimal(0), status=PartsLineStatus.ISSUED.value, created_by="demo",
                                        created_at=start))
                amount += part.price
        settled = row.closed_at - timedelta(minutes=rng.randrange(3, 12))
        settled_at.append({"id": row.id, "settled_at": settled, "delivered_by": row.advisor})
        if amount > 0:
            payments.append(dict(site_id=ctx.site, repair_order_id=row.id, kind=PaymentKind.PAYMENT.value,
                                 method=rng.choice(METHODS).value, amount=amount, reference="", reason="",
                                 actor=CASHIER, at=settled))
        made = _follow_up(ctx, rng, row, cfg.after_service_days, cfg.max_attempts)
        if made is not None:
            calls.append(made)
            call = made[0]
            if call.outcome == FollowUpOutcome.PROBLEM.value:
                problems.append((call, row))
    if finished:
        s.execute(update(JobLine), finished)
        s.execute(update(RepairOrder), settled_at)
    if parts_lines:
        s.execute(insert(PartsLine), parts_lines)
    if payments:
        s.execute(insert(Payment), payments)
    s.add_all(call for call, _ in calls)
    s.flush()
    s.add_all(FollowUpAttempt(follow_up_id=call.id, **attempt) for call, attempts in calls for attempt in attempts)
    _complaints(s, ctx, rng, problems, delivered, now)
    _last_visits(s, ctx, rng)
    # a few customers' insurance fell due during the history: the renewal rate's base
    # (past dates only: the call lists' insurance cars stay as the story has them)
    past = [row for row in delivered if row.closed_at.astimezone(ctx.tz).date() < ctx.today() - timedelta(days=3)]
    due = [{"id": row.vehicle_id, "insurance_expires_on": row.closed_at.astimezone(ctx.tz).date() + timedelta(days=2)}
           for row in past[::25]]
    if due:
        s.execute(update(Vehicle), due)


def _follow_up(ctx: ServiceContext, rng: random.Random, row: Any, after: int, tries: int
               ) -> tuple[FollowUpCall, list[dict[str, object]]] | None:
    """The 3-day call of a delivered order: done (satisfied or a problem), unreachable and tried again the next day,
    given up, or still due today."""
    today, tz = ctx.today(), ctx.tz
    closed = row.closed_at.astimezone(tz)
    due = closed.date() + timedelta(days=after)
    if due > today:
        return None
    call = FollowUpCall(site_id=ctx.site, kind=FollowUpKind.AFTER_SERVICE.value, dedup_key=f"3dc:{row.number}",
                        vehicle_id=row.vehicle_id, repair_order_id=row.id, due_on=due,
                        first_due_on=due, status=FollowUpStatus.DUE.value, attempts=0, note="",
                        created_at=row.closed_at)
    attempts: list[dict[str, object]] = []
    day = due
    while day < today and call.status == FollowUpStatus.DUE.value:
        at = datetime.combine(day, time(rng.randrange(9, 17), rng.randrange(60)), tzinfo=tz)
        r = rng.random()
        outcome = (FollowUpOutcome.UNREACHABLE if r < 0.22 else FollowUpOutcome.PROBLEM if r < 0.3
                   else FollowUpOutcome.SATISFIED)
        call.attempts += 1
        attempts.append({"at": at, "by": CS_AGENT, "outcome": outcome.value, "note": ""})
        call.outcome, call.called_by, call.called_at = outcome.value, CS_AGENT, at
        if outcome == FollowUpOutcome.SATISFIED:
            call.status, call.score = FollowUpStatus.DONE.value, rng.choice([7, 8, 8, 9, 9, 9, 10, 10, 10, 10])
        elif outcome == FollowUpOutcome.PROBLEM:
            call.status = FollowUpStatus.DONE.value
            call.problem_class = rng.choice(list(PROBLEMS)).value
            call.note = PROBLEMS[ProblemClass(call.problem_class)]
        elif call.attempts >= tries:
            call.status = FollowUpStatus.GAVE_UP.value
        else:
            day += timedelta(days=1)
            call.due_on = day
    return call, attempts


def _complaints(s: Session, ctx: ServiceContext, rng: random.Random, problems: list[tuple[FollowUpCall, Any]],
                delivered: list[Any], now: datetime) -> None:
    """A complaint for each problem call (most handled in time, one acknowledged late, the newest still open) and
    one important workmanship complaint made at the desk this week, acknowledged, its investigation running."""
    cfg = ctx.settings.follow_up
    ack, inv = timedelta(hours=cfg.acknowledge_hours), timedelta(hours=cfg.investigate_hours)
    made: list[tuple[FollowUpCall | None, Complaint]] = []
    for k, (call, row) in enumerate(problems):
        opened = call.called_at or now
        late = k == 1
        newest = k == len(problems) - 1 and opened + inv > now
        c = Complaint(site_id=ctx.site, repair_order_id=row.id, vehicle_id=row.vehicle_id,
                      customer_id=row.customer_id, source=ComplaintSource.CALL.value,
                      problem_class=call.problem_class or ProblemClass.OTHER.value,
                      severity=Severity.NORMAL.value, description=call.note, opened_at=opened, opened_by=CS_AGENT,
                      acknowledge_by=opened + ack, investigate_by=opened + inv, version=next_version())
        c.acknowledged_at = opened + (ack + timedelta(hours=5) if late else timedelta(hours=rng.randrange(1, 6)))
        if not newest and c.acknowledged_at < now:
            c.investigated_at = opened + timedelta(hours=rng.randrange(20, 40))
            c.findings, c.resolution = "已核实", "已致歉并约客户回厂免费复查"
            c.resolved_at = c.investigated_at + timedelta(hours=2)
            c.status = ComplaintStatus.RESOLVED.value
        else:
            c.status = ComplaintStatus.ACKNOWLEDGED.value if c.acknowledged_at < now else ComplaintStatus.OPEN.value
            if c.acknowledged_at >= now:
                c.acknowledged_at = None
        made.append((call, c))
    recent = [row for row in delivered if row.closed_at > now - timedelta(days=6)]
    if recent:
        row = recent[0]
        opened = now - timedelta(hours=20)
        made.append((None, Complaint(
            site_id=ctx.site, repair_order_id=row.id, vehicle_id=row.vehicle_id,
            customer_id=row.customer_id, source=ComplaintSource.DESK.value,
            problem_class=ProblemClass.WORKMANSHIP.value, severity=Severity.IMPORTANT.value,
            important_because="safety", description="更换刹车片后刹车踏板发软，客户要求立即处理",
            status=ComplaintStatus.ACKNOWLEDGED.value, opened_at=opened, opened_by="张伟",
            acknowledge_by=opened + ack, acknowledged_at=opened + timedelta(hours=1), investigate_by=opened + inv,
            version=next_version())))
    # as the service would have it: customer service owns the complaints from its calls, the manager the important
    # one (with its own, shorter deadlines); a customer with a complaint still open is flagged as complaining
    staff = {a.name: a for a in s.scalars(select(Advisor).where(Advisor.site_id == ctx.site))}
    manager = next((a for a in staff.values() if "manager" in a.roles.split(",")), None)
    for _, c in made:
        owner = manager if c.severity == Severity.IMPORTANT.value else staff.get(CS_AGENT)
        c.owner_id = owner.id if owner is not None else None
        if c.severity == Severity.IMPORTANT.value:
            c.acknowledge_by = c.opened_at + timedelta(hours=cfg.important_acknowledge_hours)
            c.investigate_by = c.opened_at + timedelta(hours=cfg.important_investigate_hours)
    s.add_all(c for _, c in made)
    s.flush()
    for raised_by, c in made:
        if raised_by is not None:
            raised_by.raised_complaint_id = c.id
    still_open = {c.customer_id for _, c in made if c.status not in (ComplaintStatus.RESOLVED.value,
                                                                     ComplaintStatus.CLOSED.value)}
    if still_open:
        s.execute(update(Customer).where(Customer.id.in_(still_open)).values(complaining=True))


def _last_visits(s: Session, ctx: ServiceContext, rng: random.Random) -> None:
    """The lapsed cars of the call lists were last seen at their last service: that visit, as a delivered order."""
    tz, prefix = ctx.tz, ctx.settings.site.ro_prefix
    seen = select(RepairOrder.vehicle_id).where(RepairOrder.site_id == ctx.site)
    advisor_id = s.scalar(select(RepairOrder.advisor_id).where(RepairOrder.site_id == ctx.site).limit(1))
    if advisor_id is None:
        return
    advisor = s.get_one(Advisor, advisor_id).name
    # older than the seeded history: the recent visits are the history's own orders
    old = ctx.today() - timedelta(days=90)
    lapsed = s.scalars(select(Vehicle).where(Vehicle.site_id == ctx.site, Vehicle.last_service_on < old,
                                             Vehicle.id.not_in(seen)).order_by(Vehicle.id))
    for k, vehicle in enumerate(lapsed, start=1):
        assert vehicle.last_service_on is not None
        day = vehicle.last_service_on
        opened = datetime.combine(day, time(9 + k % 6, 10 * (k % 6)), tzinfo=tz)
        closed = opened + timedelta(hours=2, minutes=rng.randrange(0, 60))
        ro = RepairOrder(site_id=ctx.site, number=f"{prefix}{day:%Y%m%d}-9{k:02d}", vehicle_id=vehicle.id,
                         advisor_id=advisor_id, status=RoStatus.DELIVERED.value, complaint="按时保养",
                         mileage_km=vehicle.last_service_km, opened_at=opened, closed_at=closed, settled_at=closed,
                         version=next_version())
        s.add(ro)
        s.flush()
        # an order's status is its history's last move (as every order the services make has one)
        s.add_all([RoEvent(repair_order_id=ro.id, at=opened, actor=advisor, kind="checked_in", from_status=None,
                           to_status=RoStatus.CHECKED_IN.value, technician_id=None, reason=None),
                   RoEvent(repair_order_id=ro.id, at=closed, actor="demo", kind="transition",
                           from_status=RoStatus.CHECKED_IN.value, to_status=RoStatus.DELIVERED.value,
                           technician_id=None, reason=None)])
