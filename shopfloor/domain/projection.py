"""When the open orders' work will be done: the remaining flat-rate hours of each line laid, one after another, on
its technicians' remaining working time (domain.md §4: the job progress board shows who is free and when).
Pure: the caller gives the working windows, the queues and the moment to start from.

A technician works their lines in this order: the one clocked on now, then their other lines by their sequence (the
order dispatch gave them: a line given without a place is the technician's next), and last the lines held for
something outside the workshop (parts, approval, sublet…), since those cannot go on before it comes. A line with
several technicians is shared equally among them; a line nobody was given yet is laid after the order's other work
on the site's opening hours, as if a technician were free for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

Window = tuple[datetime, datetime]
# the working windows of a technician (None: the site's opening hours) on a local calendar day, in time order
WindowsOf = Callable[[int | None, date], list[Window]]

HORIZON_DAYS = 60  # work not done within this many days of now has no projected finish
MIN_REMAINING_HOURS = 0.1  # a line not finished still needs some time, even past its flat-rate hours


@dataclass(frozen=True)
class Task:
    """A technician's share of one line's remaining work."""

    order_id: int
    line_id: int
    hours: float
    rank: tuple[int, int, int]  # (group: 0 clocked on, 1 to do, 2 held; sequence; line id)
    not_before: datetime | None = None  # a part on back-order comes that day: the work cannot start before


@dataclass
class Workload:
    """The open work of the site: per technician their tasks, per order its lines nobody was given yet."""

    tasks: dict[int, list[Task]] = field(default_factory=dict)
    unassigned: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # order -> [(line, hours)]
    not_before: dict[int, datetime] = field(default_factory=dict)  # order -> its unassigned work waits until
    orders: set[int] = field(default_factory=set)  # every open order, also those with all work done

    def add(self, technician_id: int, task: Task) -> None:
        self.tasks.setdefault(technician_id, []).append(task)
        self.orders.add(task.order_id)


def remaining(hours: float, worked: float) -> float:
    return max(hours - worked, MIN_REMAINING_HOURS)


def lay(windows_of: WindowsOf, technician_id: int | None, start: datetime, hours: float, tz_day: Callable[
        [datetime], date]) -> datetime | None:
    """The moment `hours` of work begun at `start` ends, counting only the technician's working windows; None
    beyond the horizon."""
    left = timedelta(hours=hours)
    day = tz_day(start)
    last_day = day + timedelta(days=HORIZON_DAYS)
    cursor = start
    while day <= last_day:
        for begin, end in windows_of(technician_id, day):
            if end <= cursor:
                continue
            begin = max(begin, cursor)
            if begin + left <= end:
                return begin + left
            left -= end - begin
            cursor = end
        day += timedelta(days=1)
    return None


def project(work: Workload, now: datetime, windows_of: WindowsOf, tz_day: Callable[[datetime], date]
            ) -> dict[int, datetime | None]:
    """The projected finish of every order in `work`: when its last line's work ends (now, for an order whose
    lines are all done); None when some of it cannot be laid within the horizon."""
    finish: dict[int, datetime | None] = {order: now for order in work.orders}
    unknown: set[int] = set()
    line_end: dict[int, datetime] = {}
    for technician_id, tasks in work.tasks.items():
        cursor: datetime | None = now
        for task in sorted(tasks, key=lambda t: t.rank):
            if cursor is not None and task.not_before is not None:
                cursor = max(cursor, task.not_before)
            cursor = lay(windows_of, technician_id, cursor, task.hours, tz_day) if cursor is not None else None
            if cursor is None:
                unknown.add(task.order_id)
                continue
            line_end[task.line_id] = max(line_end.get(task.line_id, cursor), cursor)
            known = finish.get(task.order_id)
            finish[task.order_id] = max(known, cursor) if known is not None else cursor
    for order, lines in work.unassigned.items():
        start = finish.get(order) or now
        if order in work.not_before:
            start = max(start, work.not_before[order])
        ends = lay(windows_of, None, start, sum(hours for _line, hours in lines), tz_day)
        if ends is None:
            unknown.add(order)
        else:
            finish[order] = ends
    for order in unknown:
        finish[order] = None
    return finish


def windows_of_shift(start: datetime, end: datetime, break_minutes: int, leave_hours: float) -> list[Window]:
    """A shift's working windows: the unpaid break in its middle, hours of leave taken off its end."""
    if end <= start:
        return []
    brk = timedelta(minutes=break_minutes)
    middle = start + (end - start) / 2
    pieces: list[Window] = [(start, middle - brk / 2), (middle + brk / 2, end)] if brk else [(start, end)]
    pieces = [(a, b) for a, b in pieces if b > a]
    away = timedelta(hours=leave_hours)
    out: list[Window] = []
    for a, b in reversed(pieces):
        take = min(away, b - a)
        away -= take
        if b - take > a:
            out.append((a, b - take))
    return sorted(out)


def hours_in(windows: Iterable[Window], start: datetime, end: datetime) -> float:
    """Working hours of `windows` between start and end."""
    total = timedelta(0)
    for a, b in windows:
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += hi - lo
    return total.total_seconds() / 3600
