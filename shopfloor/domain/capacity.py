"""Capacity booking rules: the workshop sells technician hours (domain.md §2). Pure: no database, no clock.

Skill classes nest. A skilled (repair) technician can also take maintenance, a semi-skilled one only
maintenance. So two groups of hours are checked: repair work against the skilled technicians' hours, and all
work against everybody's hours. (For nested classes this is exactly the condition that some assignment of
jobs to technicians exists.) In each group a share of the hours (the walk-in reserve) is not sold to
bookings; walk-ins and cars carried over from earlier days use it first.

Rules a booking may break, and the `reason` the API gives:
- capacity: the group has not enough hours left at all, reserve included;
- reserve: it fits only by selling the walk-in reserve;
- stagger: the advisor already has their limit of write-ups in that quarter hour;
- bay: no bay with the equipment the work needs is free for the work's duration.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from shopfloor.i18n import counted

MAINTENANCE = "maintenance"
REPAIR = "repair"
SKILLS = (MAINTENANCE, REPAIR)
RULES = ("capacity", "reserve", "stagger", "bay")
GENERAL_BAY = "lift"
EPS = 1e-6
# The hours a job line may hold. At least a tenth of an hour (6 minutes), the unit flat-rate times are written in
# (a wash 0.3 h, an oil change 0.5 h): less is a typo, and stored to the hundredth it would hold no time at all.
# Not rounded to the slot grid: the grid is where bookings start, a job's length is its flat rate.
MIN_LINE_HOURS = 0.1
MAX_LINE_HOURS = 100.0
# the groups of hours that are checked: which job classes they hold, which technicians supply them
GROUPS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    REPAIR: (frozenset({REPAIR}), frozenset({REPAIR})),
    "total": (frozenset(SKILLS), frozenset(SKILLS)),
}


def qualified(tech_skill: str, job_skill: str) -> bool:
    return job_skill == MAINTENANCE or tech_skill == REPAIR


@dataclass(frozen=True)
class TechnicianDay:
    id: int
    name: str
    skill: str
    available: float  # shift hours less breaks and leave; 0 on a holiday
    shift_start: datetime | None = None  # None: the site's opening hours
    shift_end: datetime | None = None


@dataclass(frozen=True)
class BayInfo:
    id: int
    code: str
    kind: str


@dataclass(frozen=True)
class Booking:
    """An appointment that holds hours on its day."""

    id: int
    advisor_id: int
    start: datetime
    hours: dict[str, float]  # per skill class
    equipment: str | None = None
    bay_id: int | None = None

    @cached_property
    def total(self) -> float:
        return sum(self.hours.values())

    @cached_property
    def end(self) -> datetime:
        return self.start + timedelta(hours=max(self.total, 0.25))


@dataclass(frozen=True)
class Unplanned:
    """Hours the day owes that no booking sold: a car carried over from an earlier day, or a walk-in."""

    kind: str  # carried_over, walk_in
    ref: str  # repair-order number
    hours: dict[str, float]
    technician_id: int | None = None
    plate: str = ""
    status: str = ""
    reason: str | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str  # English, for the log and the override record
    key: str = ""  # the i18n key of the message a person reads (booking.refused.*), with params
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class DayPlan:
    day: date
    opening: datetime
    closing: datetime
    technicians: list[TechnicianDay]
    bays: list[BayInfo]
    bookings: list[Booking]
    unplanned: list[Unplanned] = field(default_factory=list)
    reserve_share: float = 0.2
    arrivals_per_quarter: int = 1
    holiday: str | None = None

    # -- hours per group ------------------------------------------------------------------------------------
    def available(self, group: str) -> float:
        supply = GROUPS[group][1]
        return sum(t.available for t in self.technicians if t.skill in supply)

    def reserved(self, group: str) -> float:
        return self.available(group) * self.reserve_share

    def booked(self, group: str, excluding: int | None = None) -> float:
        classes = GROUPS[group][0]
        return sum(h for b in self.bookings if b.id != excluding for s, h in b.hours.items() if s in classes)

    def unplanned_hours(self, group: str) -> float:
        classes = GROUPS[group][0]
        return sum(h for u in self.unplanned for s, h in u.hours.items() if s in classes)

    def sellable_left(self, group: str, excluding: int | None = None) -> float:
        """Hours still sellable to bookings: the reserve kept, unplanned work eating the reserve first."""
        reserve = self.reserved(group)
        over_reserve = max(0.0, self.unplanned_hours(group) - reserve)
        return self.available(group) - reserve - over_reserve - self.booked(group, excluding)

    def left(self, group: str, excluding: int | None = None) -> float:
        """Hours left at all, the reserve included."""
        return self.available(group) - self.unplanned_hours(group) - self.booked(group, excluding)

    def free_for(self, skill: str) -> float:
        """Hours a booking of this class can still be sold."""
        groups = [g for g, (classes, _) in GROUPS.items() if skill in classes]
        return min(self.sellable_left(g) for g in groups)

    # -- rules ----------------------------------------------------------------------------------------------
    def hour_violations(self, hours: dict[str, float], excluding: int | None = None) -> list[Violation]:
        out: list[Violation] = []
        for group, (classes, _) in GROUPS.items():
            new = sum(h for s, h in hours.items() if s in classes)
            if new <= EPS:
                continue
            label = "repair" if group == REPAIR else "all"
            left = round(max(self.left(group, excluding), 0.0), 2)
            sellable = round(max(self.sellable_left(group, excluding), 0.0), 2)
            params: dict[str, object] = {"asked": round(new, 2), "left": left, "sellable": sellable,
                                         "reserve": round(self.reserved(group), 2), "day": self.day.isoformat()}
            if new > self.left(group, excluding) + EPS:
                out.append(Violation("capacity", f"{new:g} h asked, {left:g} h of {label} technician hours "
                                                 f"left on {self.day} (reserve included)",
                                     f"booking.refused.capacity_{label}", params))
            elif new > self.sellable_left(group, excluding) + EPS:
                out.append(Violation("reserve", f"{new:g} h asked, {sellable:g} h of {label} technician hours "
                                                f"sellable on {self.day}; the rest is the walk-in reserve "
                                                f"({self.reserved(group):g} h)",
                                     f"booking.refused.reserve_{label}", params))
        return out

    def quarter(self, start: datetime) -> datetime:
        minute = start.minute - start.minute % 15
        return start.replace(minute=minute, second=0, microsecond=0)

    def advisor_arrivals(self, advisor_id: int, start: datetime, excluding: int | None = None) -> int:
        q = self.quarter(start)
        return sum(1 for b in self.bookings if b.id != excluding and b.advisor_id == advisor_id
                   and self.quarter(b.start) == q)

    def stagger_violation(self, advisor_id: int, start: datetime, excluding: int | None = None) -> Violation | None:
        n = self.advisor_arrivals(advisor_id, start, excluding)
        if n >= self.arrivals_per_quarter:
            q = self.quarter(start)
            params: dict[str, object] = {"count": n, "start": f"{q:%H:%M}",
                                         "end": f"{q + timedelta(minutes=15):%H:%M}",
                                         "limit": self.arrivals_per_quarter}
            return Violation("stagger", f"the advisor already has {counted(n, 'write-up', 'write-ups')} between "
                                        f"{q:%H:%M} and "
                                        f"{q + timedelta(minutes=15):%H:%M} (limit {self.arrivals_per_quarter})",
                             "booking.refused.stagger", params)
        return None

    def free_bay(self, equipment: str | None, start: datetime, hours: float,
                 excluding: int | None = None) -> tuple[BayInfo | None, Violation | None]:
        """A bay of the kind the work needs, free from start for the work's hours. A site that lists no general
        bays is not limited by them; one that lists no bay for special equipment cannot do that work."""
        kind = equipment or GENERAL_BAY
        bays = [b for b in self.bays if b.kind == kind]
        if not bays:
            if equipment is None:
                return None, None
            return None, Violation("bay", f"the site has no {kind} bay", "booking.refused.bay_missing",
                                   {"kind": kind})
        end = start + timedelta(hours=max(hours, 0.25))
        bay_ids = {b.id for b in bays}
        overlapping = [b for b in self.bookings if b.start < end and start < b.end and b.id != excluding
                       and (b.equipment or GENERAL_BAY) == kind]
        taken = {b.bay_id for b in overlapping if b.bay_id in bay_ids}
        unplaced = sum(1 for b in overlapping if b.bay_id not in bay_ids)
        free = [b for b in bays if b.id not in taken]
        if len(free) - unplaced <= 0:
            return None, Violation("bay", f"{counted(len(bays), kind + ' bay', kind + ' bays')} taken between "
                                          f"{start:%H:%M} and {end:%H:%M}", "booking.refused.bay_taken",
                                   {"kind": kind, "count": len(bays), "start": f"{start:%H:%M}",
                                    "end": f"{end:%H:%M}"})
        # the least used bay that day, so work spreads over the bays
        use = {b.id: 0.0 for b in free}
        for b in self.bookings:
            if b.bay_id in use and b.id != excluding:
                use[b.bay_id] += b.total
        return min(free, key=lambda b: (use[b.id], b.code)), None

    def work_window(self, hours: dict[str, float]) -> tuple[datetime, datetime]:
        """From the first to the last hour a technician qualified for all of this work is at work (repair work:
        the skilled ones' shifts; maintenance: anyone's), within the opening hours."""
        needs = REPAIR if hours.get(REPAIR) else MAINTENANCE
        on = [t for t in self.technicians if t.available > 0 and qualified(t.skill, needs)]
        if not on:
            return self.opening, self.closing
        first = min(t.shift_start or self.opening for t in on)
        last = max(t.shift_end or self.closing for t in on)
        return max(first, self.opening), min(last, self.closing)

    def latest_start(self, hours: dict[str, float]) -> datetime:
        """The work must end by the time its technicians leave; work longer than that starts in the first hour
        and is carried over."""
        first, last = self.work_window(hours)
        work = timedelta(hours=sum(hours.values()))
        return last - work if work <= last - first else first + timedelta(hours=1)

    def after_hours_violation(self, start: datetime, hours: dict[str, float]) -> Violation | None:
        if start <= self.latest_start(hours) + timedelta(seconds=1):
            return None
        _, last = self.work_window(hours)
        label = "repair" if hours.get(REPAIR) else "all"
        end = start + timedelta(hours=sum(hours.values()))
        return Violation("capacity", f"the work would end at {end:%H:%M}, after the last {label} technician leaves "
                                     f"({last:%H:%M})", f"booking.refused.after.{label}",
                         {"end": f"{end:%H:%M}", "last": f"{last:%H:%M}"})

    def violations(self, advisor_id: int, start: datetime, hours: dict[str, float], equipment: str | None,
                   excluding: int | None = None, *, sell_hours: bool = True) -> tuple[list[Violation], BayInfo | None]:
        """Every rule the booking would break, and the bay it gets. sell_hours=False: the hours are already sold
        on this day (a card moved within its day), only the clock, the advisor and the bay are checked."""
        out = self.hour_violations(hours, excluding) if sell_hours else []
        after = self.after_hours_violation(start, hours)
        if after and not any(v.rule == "capacity" for v in out):
            out.append(after)
        stagger = self.stagger_violation(advisor_id, start, excluding)
        if stagger:
            out.append(stagger)
        bay, bay_problem = self.free_bay(equipment, start, sum(hours.values()), excluding)
        if bay_problem:
            out.append(bay_problem)
        return out, bay

    # -- per-technician view --------------------------------------------------------------------------------
    def allocation(self) -> dict[int, float]:
        """Hours planned per technician, as the foreman would spread them: work already given to a technician
        stays with them; the rest goes, longest first, to a qualified technician with the most hours free,
        maintenance to the semi-skilled first."""
        allocated = {t.id: 0.0 for t in self.technicians}
        by_id = {t.id: t for t in self.technicians}
        pending: list[tuple[str, float]] = []
        for u in self.unplanned:
            if u.technician_id in allocated:
                allocated[u.technician_id] += sum(u.hours.values())
            else:
                pending.extend((s, h) for s, h in u.hours.items() if h > 0)
        for b in self.bookings:
            pending.extend((s, h) for s, h in b.hours.items() if h > 0)
        pending.sort(key=lambda item: (item[0] != REPAIR, -item[1]))
        for skill, hours in pending:
            candidates = [t for t in self.technicians if qualified(t.skill, skill) and t.available > 0]
            if not candidates:
                continue

            def preference(t: TechnicianDay, skill: str = skill, hours: float = hours) -> tuple[bool, bool, float]:
                free = by_id[t.id].available - allocated[t.id]
                fits = free >= hours - EPS
                own_class = t.skill == skill
                return (not fits, not own_class, -free)

            best = min(candidates, key=preference)
            allocated[best.id] += hours
        return allocated


def as_hours(lines: Iterable[tuple[str, float]]) -> dict[str, float]:
    out = {s: 0.0 for s in SKILLS}
    for skill, hours in lines:
        out[skill if skill in SKILLS else REPAIR] += hours
    return {s: h for s, h in out.items() if h > 0}


def rounded(value: float) -> float:
    return round(value + 0.0, 2)


@dataclass(frozen=True)
class SlotChoice:
    start: datetime
    advisor_id: int
    bay: BayInfo | None
    score: float
    site_arrivals: int  # other arrivals within 30 minutes of this time
    advisor_arrivals: int  # this advisor's within 30 minutes
    advisor_day: int  # this advisor's bookings that day
    mean_per_hour: float  # the day's arrivals per opening hour, before this one


def propose(plan: DayPlan, advisors: Sequence[int], hours: dict[str, float], equipment: str | None,
            earliest: datetime, slot_minutes: int = 15, limit: int = 5) -> list[SlotChoice]:
    """The best start times for a booking, levelled (heijunka): fewest other arrivals around the time, the
    advisor's write-ups staggered and spread over the advisors, the work finished before closing. One advisor
    per start time (the best); best first. Empty when the day's hours are sold."""
    if plan.hour_violations(hours) or not advisors:
        return []
    total = sum(hours.values())
    span = plan.closing - plan.opening
    # work must end before its technicians leave; work longer than that starts early and is carried over
    latest = plan.latest_start(hours)
    step = timedelta(minutes=slot_minutes)
    first = plan.opening
    if earliest > first:
        minutes = (earliest - plan.opening).total_seconds() / 60
        first = plan.opening + step * int(-(-minutes // slot_minutes))
    hours_open = max(span.total_seconds() / 3600, 1.0)
    mean = len(plan.bookings) / hours_open
    starts = sorted(b.start for b in plan.bookings)
    per_advisor: dict[int, list[datetime]] = {a: [] for a in advisors}
    for b in plan.bookings:
        if b.advisor_id in per_advisor:
            per_advisor[b.advisor_id].append(b.start)
    window = timedelta(minutes=30)
    # arrivals per advisor and quarter hour, counted once (the stagger rule, for every candidate)
    taken: dict[tuple[int, datetime], int] = {}
    for b in plan.bookings:
        key = (b.advisor_id, plan.quarter(b.start))
        taken[key] = taken.get(key, 0) + 1
    choices: list[SlotChoice] = []
    t = first
    while t <= latest:
        bay, problem = plan.free_bay(equipment, t, total)  # the same for every advisor
        if problem is not None:
            t += step
            continue
        near = bisect_left(starts, t + window) - bisect_right(starts, t - window)
        quarter = plan.quarter(t)
        best: SlotChoice | None = None
        for advisor in advisors:
            if taken.get((advisor, quarter), 0) >= plan.arrivals_per_quarter:
                continue
            mine = per_advisor[advisor]
            adv_near = sum(1 for s in mine if abs(s - t) < window)
            minutes_in = (t - plan.opening).total_seconds() / 60
            score = 2.0 * near + 3.0 * adv_near + 0.5 * len(mine) + 0.001 * minutes_in
            if best is None or score < best.score:
                best = SlotChoice(t, advisor, bay, score, near, adv_near, len(mine), mean)
        if best is not None:
            choices.append(best)
        t += step
    choices.sort(key=lambda c: (c.score, c.start))
    # distinct options for the customer: no two proposals within half an hour of each other
    picked: list[SlotChoice] = []
    for c in choices:
        if all(abs(c.start - p.start) >= window for p in picked):
            picked.append(c)
            if len(picked) == limit:
                break
    return picked
