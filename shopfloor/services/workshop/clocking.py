"""Clocking jobs by scan: a technician's badge and the job ticket's QR clock them on that order's lines (ending
whatever else they were clocked on: one open clocking per technician); a stop finishes the lines or pauses them
with a reason; a clocking still open at the end of the shift is closed there by the server and marked assumed,
for the foreman to confirm. And each technician's next job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import JobLine, RepairOrder, Technician
from shopfloor.domain.parts import PartsLineStatus
from shopfloor.domain.parts_models import PartsLine
from shopfloor.domain.states import OPEN_STATUSES, RoStatus
from shopfloor.domain.workshop import (
    CHOSEN_PAUSES,
    ClockOutcome,
    LineStatus,
    PauseReason,
    normalize_badge,
    ro_number_in,
)
from shopfloor.domain.workshop_models import Clocking, ClockingLine, JobLineTechnician
from shopfloor.services import views
from shopfloor.services.audit import SYSTEM, Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_technician
from shopfloor.services.workshop.order_status import (
    WORKABLE,
    follow_lines,
    line_state,
    load_order,
    publish,
    require_open,
)
from shopfloor.services.workshop.working_time import WorkingTime


@dataclass(frozen=True)
class ClockingInfo:
    id: int
    technician_id: int
    technician: str
    repair_order: str
    job_lines: list[int]
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    pause_reason: str | None
    assumed: bool
    confirmed_by: str | None


@dataclass(frozen=True)
class NextLine:
    id: int
    description: str
    hours: float
    status: str
    pause_reason: str | None = None  # a paused line's (break, waiting_parts …)


@dataclass(frozen=True)
class NextJob:
    """What a technician's station shows first: the job to do next, and what they are on now."""

    technician_id: int
    repair_order: str | None
    plate: str | None
    vehicle_model: str | None
    complaint: str | None  # the customer's own words
    promised_at: datetime | None
    projected_ready_at: datetime | None
    parts_status: str | None  # the booking's parts: none, in_stock, to_order, arrived
    parts_eta: str | None
    lines: list[NextLine]
    current: str | None  # the order clocked on now
    clocked_on_at: datetime | None
    queued: int  # orders waiting in the technician's queue, the next one included
    held: list[str]  # orders of theirs on hold for parts, approval …


@dataclass(frozen=True)
class QueuedJob:
    """One order in a technician's queue, as their station lists it (the next one first, held ones last)."""

    repair_order: str
    plate: str
    vehicle_model: str
    promised_at: datetime | None
    hours: float  # the technician's lines of it
    lines: list[NextLine]
    hold: str | None  # why it is held (waiting_parts …); None: workable


def info(c: Clocking) -> ClockingInfo:
    return ClockingInfo(c.id, c.technician_id, c.technician.name, c.repair_order.number,
                        [cl.job_line_id for cl in c.lines], c.started_at, c.ended_at, c.outcome, c.pause_reason,
                        c.assumed, c.confirmed_by)


def open_clocking(s: Session, technician_id: int) -> Clocking | None:
    return s.scalar(select(Clocking).where(Clocking.technician_id == technician_id, Clocking.ended_at.is_(None)))


def end_clocking(s: Session, ctx: ServiceContext, c: Clocking, at: datetime, outcome: ClockOutcome,
                 reason: PauseReason | None, actor: Actor | str, *, assumed: bool = False,
                 note: str | None = None) -> None:
    """Close the clocking at `at`. Its lines: done (finished) or paused with the reason, each unless another
    technician is clocked on it still, whose work goes on."""
    c.ended_at, c.outcome, c.ended_by, c.assumed = at, outcome.value, str(actor)[:80], assumed
    c.pause_reason = reason.value if outcome == ClockOutcome.PAUSED and reason else None
    s.flush()
    line_ids = [cl.job_line_id for cl in c.lines]
    still = set(s.scalars(select(ClockingLine.job_line_id).join(Clocking, Clocking.id == ClockingLine.clocking_id)
                          .where(Clocking.ended_at.is_(None), ClockingLine.job_line_id.in_(line_ids))))
    for cl in c.lines:
        line = cl.job_line
        if line.id in still or line.status not in (LineStatus.IN_PROGRESS, LineStatus.PAUSED):
            continue
        if outcome == ClockOutcome.FINISHED:
            line.status, line.pause_reason, line.finished_at = LineStatus.DONE.value, None, at
        else:
            line.status, line.pause_reason = LineStatus.PAUSED.value, c.pause_reason
    record(s, ctx, actor, Entity.REPAIR_ORDER, c.repair_order.number, "clock_off", from_value=c.technician.name,
           to_value=outcome.value, reason=c.pause_reason,
           detail={"clocking": c.id, "lines": line_ids, "assumed": assumed, "ended_at": views.at(at, ctx.tz)}
           | ({"note": note} if note else {}))


def end_clockings_on(s: Session, ctx: ServiceContext, ro: RepairOrder, reason: PauseReason, actor: Actor | str
                     ) -> list[Technician]:
    """Close every open clocking on the order (put on hold, cancelled): the technicians whose state changed."""
    now = ctx.now()
    out = []
    for c in s.scalars(select(Clocking).where(Clocking.repair_order_id == ro.id, Clocking.ended_at.is_(None))):
        end_clocking(s, ctx, c, now, ClockOutcome.PAUSED, reason, actor)
        out.append(c.technician)
    return out


class ClockingService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def clock_on(self, badge: str, scan: str, *, actor: Actor | str, job_lines: Sequence[int] | None = None
                 ) -> tuple[ClockingInfo, bool]:
        """The badge's technician on the scanned order's lines that are theirs (or the ones named); whatever else
        they were clocked on ends now. (clocking, True) for a new one; a repeated scan returns the open one."""
        number = ro_number_in(scan)
        with self.ctx.db.write() as s:
            tech = self._badge_holder(s, badge)
            ro = load_order(s, number)
            require_open(ro, RoStatus.READY)
            lines = self._lines_for(s, ro, tech, job_lines)
            now = self.ctx.now()
            current = open_clocking(s, tech.id)
            if current is not None:
                if current.repair_order_id == ro.id and {cl.job_line_id for cl in current.lines} == {
                        line.id for line in lines}:
                    return info(current), False
                left = current.repair_order
                end_clocking(s, self.ctx, current, now, ClockOutcome.PAUSED, PauseReason.SWITCHED, actor)
                s.flush()  # the open one ends before the new one starts: one open clocking per technician
                if left.id != ro.id:
                    publish(s, self.ctx, left, follow_lines(s, self.ctx, left, actor))
            c = Clocking(site_id=self.ctx.site, technician_id=tech.id, repair_order_id=ro.id, started_at=now,
                         started_by=str(actor)[:80], lines=[ClockingLine(job_line_id=line.id) for line in lines])
            s.add(c)
            for line in lines:
                line.status, line.pause_reason = LineStatus.IN_PROGRESS.value, None
            s.flush()
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "clock_on", to_value=tech.name,
                   detail={"clocking": c.id, "lines": [line.id for line in lines]})
            publish(s, self.ctx, ro, follow_lines(s, self.ctx, ro, actor))
            s.refresh(tech)
            publish_technician(s, self.ctx, tech)
            return info(c), True

    def _lines_for(self, s: Session, ro: RepairOrder, tech: Technician, job_lines: Sequence[int] | None
                   ) -> list[JobLine]:
        mine = [line for line in ro.job_lines if line.status in WORKABLE
                and any(a.technician_id == tech.id for a in line.assignments)]
        if job_lines:
            wanted = set(job_lines)
            chosen = [line for line in mine if line.id in wanted]
            if len(chosen) != len(wanted):
                raise Refused("workshop.error.lines_not_yours", technician=tech.name, number=ro.number)
            return chosen
        if not mine:
            if any(a.technician_id == tech.id for line in ro.job_lines for a in line.assignments):
                raise Refused("workshop.error.work_finished", technician=tech.name, number=ro.number)
            crew = sorted({a.technician.name for line in ro.job_lines if line.status in WORKABLE
                           for a in line.assignments})
            if crew:
                raise Refused("workshop.error.dispatched_to_others", technician=tech.name, number=ro.number,
                              others=", ".join(crew))
            raise Refused("workshop.error.not_dispatched", technician=tech.name, number=ro.number)
        # a scan clocks on what can be worked: a line waiting for a back-ordered part cannot (named lines can: the
        # technician chose them, e.g. to take the old part off before the new one comes)
        waiting = dict(s.execute(select(PartsLine.job_line_id, func.max(PartsLine.eta)).where(
            PartsLine.job_line_id.in_([line.id for line in mine]),
            PartsLine.status == PartsLineStatus.BACK_ORDER.value).group_by(PartsLine.job_line_id)).all())
        workable = [line for line in mine if line.id not in waiting]
        if not workable:
            eta = max((d for d in waiting.values() if d is not None), default=None)
            raise Refused("workshop.error.waiting_parts", number=ro.number, eta=f"{eta:%m-%d}" if eta else "—")
        return workable

    def stop(self, clocking_id: int, outcome: str, *, actor: Actor | str, reason: str | None = None,
             note: str | None = None) -> ClockingInfo:
        """Finished: the lines are done (and wait for the quality checks); paused: with one of CHOSEN_PAUSES, and
        the technician's words for a pause for another reason (kept in the audit row: no column for it)."""
        note = note.strip()[:200] if isinstance(note, str) and note.strip() else None
        try:
            how = ClockOutcome(outcome)
        except ValueError:
            raise Invalid("workshop.error.outcome_unknown", outcome=outcome) from None
        why: PauseReason | None = None
        if how == ClockOutcome.PAUSED:
            if not reason:
                raise Invalid("workshop.error.pause_needs_reason")
            try:
                why = PauseReason(reason)
            except ValueError:
                why = None
            if why not in CHOSEN_PAUSES:
                raise Invalid("workshop.error.pause_reason_unknown", reason=str(reason)[:40])
        with self.ctx.db.write() as s:
            c = s.get(Clocking, clocking_id) if 0 < clocking_id < 2**31 else None
            if c is None or c.site_id != self.ctx.site:
                raise NotFound("workshop.error.clocking_unknown", clocking=clocking_id)
            if c.ended_at is not None:
                raise Refused("workshop.error.clocking_ended", clocking=clocking_id)
            end_clocking(s, self.ctx, c, self.ctx.now(), how, why, actor,
                         note=note if how == ClockOutcome.PAUSED else None)
            ro = c.repair_order
            publish(s, self.ctx, ro, follow_lines(s, self.ctx, ro, actor))
            s.refresh(c.technician)
            publish_technician(s, self.ctx, c.technician)
            return info(c)

    def confirm(self, clocking_id: int, *, actor: Actor | str, ended_at: datetime | None = None) -> ClockingInfo:
        """The foreman confirms a clocking the server closed at the end of a shift, or corrects when it ended."""
        with self.ctx.db.write() as s:
            c = s.get(Clocking, clocking_id) if 0 < clocking_id < 2**31 else None
            if c is None or c.site_id != self.ctx.site:
                raise NotFound("workshop.error.clocking_unknown", clocking=clocking_id)
            if c.ended_at is None or not c.assumed:
                raise Refused("workshop.error.clocking_not_assumed", clocking=clocking_id)
            before = c.ended_at
            if ended_at is not None:
                if ended_at.tzinfo is None:
                    raise Invalid("error.promised_naive")
                later = s.scalar(select(Clocking.started_at).where(
                    Clocking.technician_id == c.technician_id, Clocking.started_at >= c.started_at,
                    Clocking.id != c.id).order_by(Clocking.started_at).limit(1))
                if not c.started_at < ended_at <= min(later or self.ctx.now(), self.ctx.now()):
                    raise Invalid("workshop.error.clocking_end_invalid")
                c.ended_at = ended_at
            c.confirmed_by, c.confirmed_at = str(actor)[:80], self.ctx.now()
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, c.repair_order.number, "clocking_confirmed",
                   from_value=views.at(before, self.ctx.tz), to_value=views.at(c.ended_at, self.ctx.tz),
                   detail={"clocking": c.id, "technician": c.technician.name})
            if c.ended_at != before:
                publish(s, self.ctx, c.repair_order, None)
            return info(c)

    def close_at_shift_end(self) -> int:
        """Close every clocking still open after its technician's shift (or the site's closing on a day without
        one) at that moment, marked assumed; the number closed."""
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            found = list(s.scalars(select(Clocking).where(Clocking.site_id == self.ctx.site,
                                                          Clocking.ended_at.is_(None))))
            if not found:
                return 0
            first = min(c.started_at for c in found).astimezone(self.ctx.tz).date()
            hours = WorkingTime(s, self.ctx, first, days=(self.ctx.today() - first).days + 2)
            closed = 0
            for c in found:
                at = self._shift_end(hours, c)
                if now < at:
                    continue
                end_clocking(s, self.ctx, c, at, ClockOutcome.PAUSED, PauseReason.SHIFT_END, SYSTEM, assumed=True)
                ro = c.repair_order
                publish(s, self.ctx, ro, follow_lines(s, self.ctx, ro, SYSTEM))
                s.refresh(c.technician)
                publish_technician(s, self.ctx, c.technician)
                closed += 1
            return closed

    def _shift_end(self, hours: WorkingTime, c: Clocking) -> datetime:
        day = hours.day_of(c.started_at)
        windows = hours.windows(c.technician_id, day)
        end = windows[-1][1] if windows else datetime.combine(day, self.ctx.settings.site.closing, tzinfo=self.ctx.tz)
        if c.started_at < end:
            return end
        # clocked on after the day's end (overtime): closed at midnight, for the foreman to confirm
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=self.ctx.tz)

    def get(self, clocking_id: int) -> ClockingInfo:
        with self.ctx.db.read() as s:
            c = s.get(Clocking, clocking_id) if 0 < clocking_id < 2**31 else None
            if c is None or c.site_id != self.ctx.site:
                raise NotFound("workshop.error.clocking_unknown", clocking=clocking_id)
            return info(c)

    def next_job(self, technician_id: int) -> NextJob:
        with self.ctx.db.read() as s:
            tech = self._technician(s, technician_id)
            current = open_clocking(s, tech.id)
            rows = self._workable(s, tech.id)
            now_on = current.repair_order_id if current is not None else None
            held = sorted({ro.number for _a, line, ro in rows if line_state(line).hold is not None})
            # the same order as the projection: by the sequence dispatch gave, held lines left out
            queue = [ro for _a, line, ro in rows if line_state(line).hold is None and ro.id != now_on]
            nxt = queue[0] if queue else None
            lines = [NextLine(line.id, line.description, float(line.hours), line.status, line.pause_reason)
                     for _a, line, ro in rows if nxt is not None and ro.id == nxt.id]
            appt = nxt.appointment if nxt is not None else None
            return NextJob(
                technician_id=tech.id, repair_order=nxt.number if nxt else None,
                plate=nxt.vehicle.plate if nxt else None, vehicle_model=nxt.vehicle.model if nxt else None,
                complaint=nxt.complaint if nxt else None, promised_at=nxt.promised_at if nxt else None,
                projected_ready_at=nxt.projected_ready_at if nxt else None,
                parts_status=appt.parts_status if appt else None,
                parts_eta=appt.parts_eta.isoformat() if appt and appt.parts_eta else None, lines=lines,
                current=current.repair_order.number if current else None,
                clocked_on_at=current.started_at if current else None,
                queued=len({ro.id for ro in queue}), held=held)

    def _technician(self, s: Session, technician_id: int) -> Technician:
        tech = s.get(Technician, technician_id) if 0 < technician_id < 2**31 else None
        if tech is None or tech.site_id != self.ctx.site:
            raise NotFound("error.technician_unknown", technician=technician_id)
        return tech

    @staticmethod
    def _workable(s: Session, technician_id: int) -> list[tuple[JobLineTechnician, JobLine, RepairOrder]]:
        """The technician's lines still to work on in open orders, in the sequence dispatch gave them."""
        return [(a, line, ro) for a, line, ro in s.execute(select(JobLineTechnician, JobLine, RepairOrder).join(
            JobLine, JobLine.id == JobLineTechnician.job_line_id).join(
            RepairOrder, RepairOrder.id == JobLine.repair_order_id).where(
            JobLineTechnician.technician_id == technician_id, JobLine.status.in_(WORKABLE),
            RepairOrder.status.in_([x.value for x in OPEN_STATUSES])).order_by(
            JobLineTechnician.sequence, JobLine.id))]

    def open_of(self, technician_id: int) -> ClockingInfo | None:
        """The clocking the technician is on now (a station pauses or finishes it), or None."""
        with self.ctx.db.read() as s:
            current = open_clocking(s, self._technician(s, technician_id).id)
            return info(current) if current is not None else None

    def queue(self, technician_id: int) -> list[QueuedJob]:
        """The technician's orders still to work on, as next_job orders them (the one clocked on now left out),
        then the held ones with their reason."""
        with self.ctx.db.read() as s:
            tech = self._technician(s, technician_id)
            current = open_clocking(s, tech.id)
            now_on = current.repair_order_id if current is not None else None
            by_order: dict[int, tuple[RepairOrder, list[JobLine]]] = {}
            for _a, line, ro in self._workable(s, tech.id):
                if ro.id != now_on:
                    by_order.setdefault(ro.id, (ro, []))[1].append(line)
            jobs = []
            for ro, lines in by_order.values():
                hold = next((h for h in (line_state(line).hold for line in lines) if h is not None), None)
                shown = [NextLine(line.id, line.description, float(line.hours), line.status, line.pause_reason)
                         for line in lines]
                jobs.append(QueuedJob(ro.number, ro.vehicle.plate, ro.vehicle.model, ro.promised_at,
                                      float(sum(line.hours for line in lines)), shown,
                                      hold.value if hold is not None else None))
            return sorted(jobs, key=lambda j: j.hold is not None)  # stable: dispatch's sequence kept

    def badges(self) -> dict[int, str]:
        """Each technician's badge text, by id (to print the badges from the setup data)."""
        with self.ctx.db.read() as s:
            rows = s.execute(select(Technician.id, Technician.badge).where(Technician.site_id == self.ctx.site))
            return {tech_id: badge for tech_id, badge in rows}

    def technician_of_badge(self, badge: str) -> tuple[int, str]:
        """(id, name) of the badge's technician: a station's sign-in."""
        with self.ctx.db.read() as s:
            tech = self._badge_holder(s, badge)
            return tech.id, tech.name

    def _badge_holder(self, s: Session, badge: str) -> Technician:
        """The active technician of this site whose badge was scanned (NotFound for a badge no one holds)."""
        tech = s.scalar(select(Technician).where(Technician.badge == normalize_badge(badge),
                                                 Technician.site_id == self.ctx.site, Technician.active))
        if tech is None:
            raise NotFound("workshop.error.badge_unknown")
        return tech

