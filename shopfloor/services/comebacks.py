"""Comebacks (返修) and the first-time-fix rate (domain.md §4: "first-time-fix rate is the key quality figure").

A comeback is the same vehicle back within [workshop] comeback_days of a delivery for the same concern. Check-in
suggests it (an earlier delivery of the vehicle in that window whose work or complaint is like today's); the
advisor confirms it or marks it by hand; the order keeps which visit it is a comeback of and who marked it.

First-time-fix rate of a range of days = orders delivered in it with no rework row, no later order marked a
comeback of them and no workmanship complaint about them ÷ orders delivered in it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.aftersales import ProblemClass
from shopfloor.domain.aftersales_models import Complaint
from shopfloor.domain.errors import Invalid, NotFound
from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.states import RoStatus
from shopfloor.domain.workshop_models import Rework
from shopfloor.services import views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.publishing import publish_repair_order

# how alike two visits' concerns must be for check-in to suggest a comeback (similarity below)
SIMILAR = 0.25
MIN_SHARED = 2


@dataclass(frozen=True)
class EarlierVisit:
    number: str
    delivered_at: datetime
    days_ago: int
    complaint: str
    work: list[str]  # the job lines' descriptions
    codes: list[str]  # the labour operation codes of its repair lines (maintenance repeats and is no comeback)


def _bigrams(text: str) -> set[str]:
    """Character pairs of the text without spaces and punctuation: works for Chinese, which has no words to split."""
    clean = "".join(ch for ch in text.lower() if ch.isalnum())
    return {clean[i:i + 2] for i in range(len(clean) - 1)} if len(clean) > 1 else ({clean} if clean else set())


def similarity(complaint: str, codes: Iterable[str], work: Iterable[str], earlier: EarlierVisit) -> float:
    """1.0 when a repair operation of the earlier visit repeats (maintenance repeats at every visit and is no
    comeback); else how much of the shorter concern the other shares, in character pairs (at least two shared:
    "保养" alone is no concern). `work`: today's repair lines' descriptions."""
    if set(codes) & set(earlier.codes):
        return 1.0
    now = _bigrams(" ".join([complaint, *work]))
    then = _bigrams(" ".join([earlier.complaint, *earlier.work]))
    shared = len(now & then)
    if shared < MIN_SHARED:
        return 0.0
    return shared / min(len(now), len(then))


def best_match(visits: Sequence[EarlierVisit], complaint: str, codes: Iterable[str], work: Iterable[str] = ()
               ) -> EarlierVisit | None:
    """The earlier visit to suggest as the one this is a comeback of: the most alike at SIMILAR or above."""
    codes, work = list(codes), list(work)
    scored = [(similarity(complaint, codes, work, v), v) for v in visits]
    scored = [(score, v) for score, v in scored if score >= SIMILAR]
    return max(scored, key=lambda sv: (sv[0], sv[1].delivered_at))[1] if scored else None


class ComebackService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @property
    def days(self) -> int:
        return self.ctx.settings.workshop.comeback_days

    def _visits(self, s: Session, vehicle_id: int, before: datetime, days: int | None) -> list[EarlierVisit]:
        q = select(RepairOrder).where(RepairOrder.vehicle_id == vehicle_id,
                                      RepairOrder.status == RoStatus.DELIVERED.value,
                                      RepairOrder.closed_at.is_not(None), RepairOrder.closed_at <= before)
        if days is not None:
            q = q.where(RepairOrder.closed_at >= before - timedelta(days=days))
        out = []
        for ro in s.scalars(q.options(selectinload(RepairOrder.job_lines)).order_by(RepairOrder.closed_at.desc())
                            .limit(20)):
            assert ro.closed_at is not None
            out.append(EarlierVisit(ro.number, ro.closed_at, (before - ro.closed_at).days, ro.complaint,
                                    [line.description for line in ro.job_lines],
                                    [line.operation_code for line in ro.job_lines
                                     if line.operation_code and line.skill == "repair"]))
        return out

    def recent(self, tag: str) -> list[EarlierVisit]:
        """The vehicle's deliveries within comeback_days before now, newest first (what check-in compares with)."""
        with self.ctx.db.read() as s:
            qr = s.get(QrTag, tag)
            if qr is None:
                return []
            return self._visits(s, qr.vehicle_id, self.ctx.now(), self.days)

    def earlier_visits(self, number: str) -> list[EarlierVisit]:
        """Every earlier delivery of the order's vehicle (the last 20): what an advisor marks by hand from."""
        with self.ctx.db.read() as s:
            ro = self._order(s, number)
            return self._visits(s, ro.vehicle_id, ro.opened_at, None)

    @staticmethod
    def _number(s: Session, order_id: int | None) -> str | None:
        earlier = s.get(RepairOrder, order_id) if order_id is not None else None
        return earlier.number if earlier is not None else None

    def _order(self, s: Session, number: str) -> RepairOrder:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.site_id == self.ctx.site, RepairOrder.number == number))
        if ro is None:
            raise NotFound("error.ro_unknown", number=number)
        return ro

    def mark(self, number: str, earlier: str | None, *, actor: Actor | str, suggested: bool = False
             ) -> dict[str, Any]:
        """Mark the order a comeback of `earlier` (an earlier delivered order of the same vehicle), or clear the
        mark (None). Audited, with whether check-in had suggested it."""
        with self.ctx.db.write() as s:
            ro = self._order(s, number)
            before = self._number(s, ro.comeback_of_id)
            if earlier is None:
                ro.comeback_of_id, ro.comeback_marked_by = None, None
            else:
                of = self._order(s, earlier)
                if of.vehicle_id != ro.vehicle_id or of.id == ro.id or of.status != RoStatus.DELIVERED.value \
                        or of.closed_at is None or of.closed_at > ro.opened_at:
                    raise Invalid("comeback.error.not_earlier", number=earlier[:40])
                ro.comeback_of_id, ro.comeback_marked_by = of.id, str(actor)[:80]
            if before == earlier:
                return views.repair_order_state(ro, self.ctx.tz).to_dict()
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "comeback", from_value=before,
                   to_value=earlier, detail={"suggested": suggested})
            publish_repair_order(s, self.ctx, ro, None)
            return views.repair_order_state(ro, self.ctx.tz).to_dict()

    def comeback_of(self, number: str) -> str | None:
        with self.ctx.db.read() as s:
            ro = self._order(s, number)
            return self._number(s, ro.comeback_of_id)

    def first_time_fix(self, first: date, last: date) -> dict[str, Any]:
        """Of the orders delivered first..last (site days): how many had no rework and no comeback, and the rate."""
        start = datetime.combine(first, time.min, tzinfo=self.ctx.tz)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=self.ctx.tz)
        delivered = select(RepairOrder.id).where(
            RepairOrder.site_id == self.ctx.site, RepairOrder.status == RoStatus.DELIVERED.value,
            RepairOrder.closed_at >= start, RepairOrder.closed_at < end)
        with self.ctx.db.read() as s:
            ids = set(s.scalars(delivered))
            reworked = set(s.scalars(select(Rework.repair_order_id).where(
                Rework.repair_order_id.in_(delivered)).distinct()))
            came_back = set(s.scalars(select(RepairOrder.comeback_of_id).where(
                RepairOrder.comeback_of_id.in_(delivered)).distinct()))
            # a complaint about the workmanship of an order is a comeback of it (domain.md §5), car back or not
            came_back |= set(s.scalars(select(Complaint.repair_order_id).where(
                Complaint.problem_class == ProblemClass.WORKMANSHIP.value,
                Complaint.repair_order_id.in_(delivered)).distinct()))
            total = s.scalar(select(func.count()).select_from(delivered.subquery())) or 0
        fixed = len(ids - reworked - came_back)
        return {"delivered": total, "first_time": fixed, "reworked": len(reworked & ids),
                "comebacks": len(came_back & ids), "rate": fixed / total if total else None}
