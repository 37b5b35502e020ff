"""What the inspectors' desk (/workshop/qc) reads and records beyond QualityService: the orders waiting for a check
at the stage they are at, and the final inspection as the delivery-readiness list of domain.md §4 (a pass needs
every item ticked; a failure names the items missed, which become the rework register's reason)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shopfloor.domain.errors import Invalid
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import JobLine, RepairOrder
from shopfloor.domain.states import RoStatus
from shopfloor.domain.workshop import LineStatus, QcStage, stage_to_check
from shopfloor.i18n import Translator
from shopfloor.services import views
from shopfloor.services.audit import Actor
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop.order_status import passed_stages
from shopfloor.services.workshop.quality import QualityService

# The final check before delivery (domain.md §4, from seed 001), in the order an inspector walks the car.
FINAL_CHECKLIST = ("items_done", "clean", "audio_ac_off", "clock_seats", "no_tools", "parts_as_agreed",
                   "body_paint", "windows_doors")


@dataclass(frozen=True)
class QueueLine:
    id: int
    description: str
    technicians: list[str]
    technician_ids: list[int]


@dataclass(frozen=True)
class QueueItem:
    """An order whose lines are all done, waiting for its next configured check."""

    number: str
    plate: str  # as people read it: 京A·12345
    customer: str
    work: str
    promised_at: datetime | None
    stage: str  # the next stage to check
    passed: list[str]  # stages passed in this round
    round: int
    lines: list[QueueLine]
    failed_before: int  # failed checks of this order in earlier rounds


class InspectionService:
    def __init__(self, ctx: ServiceContext, quality: QualityService) -> None:
        self.ctx = ctx
        self.quality = quality

    def waiting(self) -> list[QueueItem]:
        """Orders in quality check, each at the first configured stage it has not passed, by promised time."""
        stages = self.ctx.settings.workshop.qc_stages
        with self.ctx.db.read() as s:
            orders = s.scalars(select(RepairOrder).where(
                RepairOrder.site_id == self.ctx.site, RepairOrder.status == RoStatus.QUALITY_CHECK.value).options(
                selectinload(RepairOrder.job_lines).selectinload(JobLine.assignments),
                selectinload(RepairOrder.qc_results)).order_by(RepairOrder.promised_at, RepairOrder.id))
            out = []
            for ro in orders:
                done = passed_stages(ro)
                stage = stage_to_check(stages, done)
                if stage is None:
                    continue
                lines = [QueueLine(line.id, line.description, [a.technician.name for a in line.assignments],
                                   [a.technician_id for a in line.assignments])
                         for line in ro.job_lines if line.status == LineStatus.DONE]
                out.append(QueueItem(ro.number, display_plate(ro.vehicle.plate), ro.vehicle.customer.addressed,
                                     views.work_summary(ro),
                                     ro.promised_at, stage.value, [x.value for x in stages if x in done],
                                     ro.qc_round, lines,
                                     sum(1 for r in ro.qc_results if not r.passed)))
            return out

    def final(self, number: str, ticked: Iterable[str], *, actor: Actor | str, note: str | None = None,
              responsible: int | str | None = None, job_lines: Sequence[int] | None = None) -> dict[str, Any]:
        """The final inspection: passed when every item of FINAL_CHECKLIST is ticked; else failed, its reason the
        items missed (in the site's language, so the register reads the same for everyone) and the note."""
        done = set(ticked)
        unknown = done - set(FINAL_CHECKLIST)
        if unknown:
            raise Invalid("qc.error.item_unknown", item=sorted(unknown)[0][:30])
        missing = [item for item in FINAL_CHECKLIST if item not in done]
        if not missing:
            return self.quality.record(number, QcStage.FINAL.value, True, actor=actor, reason=note)
        site = Translator(self.ctx.settings.site.language)
        reason = "; ".join(site(f"qc.item.{item}") for item in missing)
        if note and note.strip():
            reason = f"{reason} · {note.strip()}"
        return self.quality.record(number, QcStage.FINAL.value, False, actor=actor, reason=reason[:200],
                                   responsible=responsible, job_lines=job_lines)
