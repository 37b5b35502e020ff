"""A vehicle's QR tag on paper: the label printed when a car gets its tag (a new customer at the booking desk) or
when one is lost or worn. One ESC/POS job laid out with the job ticket's machinery (plate, the QR of the tag,
who and what car), sent through the print service's queue as a print job of kind "tag_label" with no repair
order, retained on the printer's topic until its agent acknowledges it. The QR carries the tag token only, as
the hanging tag does: what reception scans."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.errors import NotFound
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import Vehicle
from shopfloor.i18n import t
from shopfloor.printer.escpos_text import ALIGN_CENTER, CJK_ENCODINGS
from shopfloor.printer.ticket import TIME_FORMAT, PrinterProfile, _Job, qr_raster
from shopfloor.services.audit import Actor
from shopfloor.services.context import ServiceContext
from shopfloor.services.customers import active_tag
from shopfloor.services.printing import PrintJobInfo, PrintService

log = logging.getLogger(__name__)

KIND = "tag_label"


@dataclass(frozen=True)
class TagLabelData:
    """What a tag label says. `customer` is the display form (王先生): the given name never reaches paper."""

    site_name: str
    plate: str  # display form, 京A·12345
    customer: str
    model: str
    token: str
    language: str = "zh-CN"
    printed_at: datetime | None = None


def render_tag_label(data: TagLabelData, profile: PrinterProfile) -> bytes:
    # an ASCII-only printer cannot print Chinese labels: its labels are in English
    lang = data.language if profile.encoding in CJK_ENCODINGS else "en"

    def label(key: str, **params: Any) -> str:
        return t(lang, f"tag_label.{key}", **params)

    job = _Job(profile)
    job.wrapped(data.site_name, strong=True, alignment=ALIGN_CENTER)
    job.wrapped(label("title"), alignment=ALIGN_CENTER)
    job.rule()
    job.wrapped(data.plate, size=2, strong=True, alignment=ALIGN_CENTER)
    job.image(qr_raster(data.token, profile))
    job.wrapped(data.token, alignment=ALIGN_CENTER)
    job.rule()
    job.pair(label("customer"), data.customer)
    if data.model:
        job.pair(label("model"), data.model)
    job.wrapped(label("hint"), alignment=ALIGN_CENTER)
    when = data.printed_at or datetime.now()
    job.line(label("printed", when=when.strftime(TIME_FORMAT)), alignment=ALIGN_CENTER)
    return job.finish()


class TagLabelService:
    def __init__(self, ctx: ServiceContext, printing: PrintService) -> None:
        self.ctx = ctx
        self.printing = printing

    def tag_of(self, vehicle_id: int) -> dict[str, str]:
        """{"token", "plate", "plate_display", "customer", "model"} of the vehicle's active tag, to draw on screen."""
        with self.ctx.db.read() as s:
            vehicle = self._vehicle(s, vehicle_id)
            return self._facts(vehicle)

    def print_label(self, vehicle_id: int, printer: str, actor: Actor | str) -> PrintJobInfo:
        """Queue the vehicle's tag label on `printer` (a label printed before is printed again on purpose: a
        person asked for it)."""
        profile = self.printing.profile(printer)
        with self.ctx.db.write() as s:
            vehicle = self._vehicle(s, vehicle_id)
            facts = self._facts(vehicle)
            data = render_tag_label(TagLabelData(
                site_name=self.ctx.settings.site.name, plate=facts["plate_display"], customer=facts["customer"],
                model=facts["model"], token=facts["token"], language=self.ctx.settings.site.language,
                printed_at=self.ctx.now().astimezone(self.ctx.tz)), profile)
            info = self.printing.add_job(s, printer, KIND, data, actor=actor,
                                         meta={"vehicle_id": vehicle.id, "plate": vehicle.plate})
        log.info("tag label for %s queued on %s as job %s by %s", vehicle.plate, printer, info.id, actor)
        return info

    def _vehicle(self, s: Session, vehicle_id: int) -> Vehicle:
        vehicle = s.get(Vehicle, vehicle_id, options=[selectinload(Vehicle.tags), selectinload(Vehicle.customer)]) \
            if 0 < vehicle_id < 2**31 else None
        if vehicle is None or vehicle.site_id != self.ctx.site:
            raise NotFound("customer_error.vehicle_unknown", vehicle=vehicle_id)
        return vehicle

    @staticmethod
    def _facts(vehicle: Vehicle) -> dict[str, str]:
        token = active_tag(vehicle)
        if token is None:
            raise NotFound("tag_label.error.no_tag", plate=display_plate(vehicle.plate))
        return {"token": token, "plate": vehicle.plate, "plate_display": display_plate(vehicle.plate),
                "customer": vehicle.customer.addressed, "model": vehicle.model}
