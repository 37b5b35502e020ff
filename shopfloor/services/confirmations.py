"""After booking: the confirmation the customer gets in their preferred channel (SMS, WeChat, letter, the
words for a phone call; filled from the site's templates) and the confirmation slip printed at reception
(domain.md §2: "print the appointment repair order and the estimate"; remind them to bring the maintenance
booklet). The slip is one ESC/POS job laid out with the job ticket's machinery and sent through the print
service's queue: a print job of kind "confirmation" with no repair order, retained on the printer's topic
until its agent acknowledges it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.errors import NotFound
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import Appointment, PrintJob, Vehicle
from shopfloor.i18n import t
from shopfloor.printer.escpos_text import ALIGN_CENTER, CJK_ENCODINGS
from shopfloor.printer.ticket import TIME_FORMAT, PrinterProfile, _Job, format_hours, qr_raster
from shopfloor.services import messages
from shopfloor.services.audit import Actor
from shopfloor.services.context import ServiceContext
from shopfloor.services.customers import active_tag
from shopfloor.services.printing import PENDING, PRINTED, UNCERTAIN, PrintJobInfo, PrintService

log = logging.getLogger(__name__)

KIND = "confirmation"


@dataclass
class ConfirmationData:
    """What a slip says. `customer` is the display form (王先生): the given name never reaches paper."""

    site_name: str
    appointment_id: int
    plate: str
    customer: str
    advisor: str
    start: datetime  # the site's wall clock
    end: datetime
    job_lines: list[tuple[str, float]]
    bay: str | None = None
    parts_status: str = "none"
    parts_eta: date | None = None
    parts_numbers: str = ""
    hotline: str = ""
    qr_text: str | None = None  # the vehicle's tag: scanned at reception, it opens the check-in
    reprint: bool = False
    language: str = "zh-CN"
    printed_at: datetime | None = None
    flags: list[str] = field(default_factory=list)  # i18n keys under confirmation.flag


def day_text(lang: str, day: date) -> str:
    """11月24日 周二 / Tue 24 Nov 2026."""
    weekday = t(lang, "board.weekdays").split(",")[day.weekday()]
    month = t(lang, "board.months").split(",")[day.month - 1]
    return t(lang, "confirmation.day_long", weekday=weekday, month=day.month, month_name=month, day=day.day,
             year=day.year)


def render_confirmation(data: ConfirmationData, profile: PrinterProfile) -> bytes:
    # an ASCII-only printer cannot print Chinese labels: its slips are in English
    lang = data.language if profile.encoding in CJK_ENCODINGS else "en"

    def label(key: str, **params: Any) -> str:
        return t(lang, f"confirmation.slip.{key}", **params)

    job = _Job(profile)
    if data.reprint:
        job.wrapped(label("reprint"), size=2, strong=True, alignment=ALIGN_CENTER)
        job.rule("=")
    job.wrapped(data.site_name, size=2, strong=True, alignment=ALIGN_CENTER)
    job.wrapped(label("title"), strong=True, alignment=ALIGN_CENTER)
    job.rule()
    job.big_field(label("plate"), data.plate)
    job.big_field(label("date"), day_text(lang, data.start.date()))
    job.big_field(label("time"), f"{data.start:%H:%M}–{data.end:%H:%M}")
    job.rule()
    job.pair(label("customer"), data.customer)
    job.pair(label("advisor"), data.advisor)
    if data.bay:
        job.pair(label("bay"), data.bay)
    job.pair(label("number"), f"#{data.appointment_id}")
    job.rule()
    job.pair(label("work"), label("hours"), strong=True)
    for name, hours in data.job_lines:
        job.pair(name, format_hours(hours))
    job.rule()
    job.pair(label("estimate"), format_hours(sum(hours for _, hours in data.job_lines)), strong=True)
    if data.parts_status != "none":
        parts = t(lang, f"confirmation.parts.{data.parts_status}")
        if data.parts_status == "to_order" and data.parts_eta:
            parts += " " + label("eta", day=f"{data.parts_eta:%m-%d}")
        job.pair(label("parts"), parts)
        if data.parts_numbers:
            job.wrapped(data.parts_numbers)
    if data.flags:
        job.wrapped(" · ".join(t(lang, f"confirmation.flag.{f}") for f in data.flags))
    job.rule()
    job.line(label("bring"), strong=True)
    job.wrapped(label("bring_items"))
    if data.hotline:
        job.wrapped(label("hotline", hotline=data.hotline))
    if data.qr_text:
        job.rule()
        job.image(qr_raster(data.qr_text, profile))
        job.wrapped(label("scan_on_arrival"), alignment=ALIGN_CENTER)
    when = data.printed_at or datetime.now()
    job.line(label("printed", when=when.strftime(TIME_FORMAT)), alignment=ALIGN_CENTER)
    return job.finish()


class ConfirmationService:
    def __init__(self, ctx: ServiceContext, printing: PrintService) -> None:
        self.ctx = ctx
        self.printing = printing

    def message(self, appointment_id: int, channel: str | None = None) -> dict[str, str]:
        """{"channel", "text"}: the confirmation in the customer's preferred channel, or the one asked for."""
        with self.ctx.db.read() as s:
            appt = self._load(s, appointment_id)
            chosen = channel if channel in messages.CHANNELS else appt.vehicle.customer.preferred_channel
            if chosen not in messages.CHANNELS:
                chosen = "sms"
            return {"channel": chosen, "text": messages.appointment_message(self.ctx, appt, chosen),
                    "preferred": appt.vehicle.customer.preferred_channel}

    def slip_data(self, s: Session, appt: Appointment, reprint: bool) -> ConfirmationData:
        local = appt.start.astimezone(self.ctx.tz)
        flags = [name for name, on in (("waiting_customer", appt.waiting_customer), ("road_test", appt.road_test))
                 if on]
        return ConfirmationData(
            site_name=self.ctx.settings.site.name, appointment_id=appt.id, plate=display_plate(appt.vehicle.plate),
            customer=appt.vehicle.customer.addressed, advisor=appt.advisor.name, start=local,
            end=local + timedelta(hours=float(appt.hours)),
            job_lines=[(str(line.get("description", "")), float(str(line.get("hours", 0))))
                       for line in appt.job_lines or []] or [(appt.work, float(appt.hours))],
            bay=appt.bay.code if appt.bay else None, parts_status=appt.parts_status, parts_eta=appt.parts_eta,
            parts_numbers=appt.parts_numbers, hotline=self.ctx.settings.booking.hotline,
            qr_text=active_tag(appt.vehicle), reprint=reprint, language=self.ctx.settings.site.language,
            printed_at=self.ctx.now().astimezone(self.ctx.tz), flags=flags)

    def print_confirmation(self, appointment_id: int, printer: str, actor: Actor | str, *, reprint: bool | None = None
                           ) -> PrintJobInfo:
        """Queue the slip on `printer`. reprint=None: marked REPRINT if a slip for this appointment was printed
        or sent before."""
        profile = self.printing.profile(printer)
        now = self.ctx.now()
        with self.ctx.db.write() as s:
            appt = self._load(s, appointment_id)
            if reprint is None:
                reprint = s.scalar(select(PrintJob.id).where(
                    PrintJob.site_id == self.ctx.site, PrintJob.kind == KIND,
                    PrintJob.meta["appointment_id"].as_integer() == appt.id,
                    PrintJob.status.in_((PENDING, PRINTED, UNCERTAIN))).limit(1)) is not None
            data = render_confirmation(self.slip_data(s, appt, reprint), profile)
            job = PrintJob(site_id=self.ctx.site, printer=printer, kind=KIND, repair_order_id=None, reprint=reprint,
                           data=data, status=PENDING, requested_by=str(actor), created_at=now,
                           meta={"appointment_id": appt.id})
            s.add(job)
            s.flush()
            # the print service's own queueing: the job retained on the printer's topic until acknowledged
            self.printing._publish_job(s, job, None)
            log.info("confirmation slip for appointment %s queued on %s as job %s by %s", appt.id, printer, job.id,
                     actor)
            return PrintJobInfo(job.id, job.printer, job.status, job.reprint, None, job.created_at, job.detail)

    def _load(self, s: Session, appointment_id: int) -> Appointment:
        appt = s.get(Appointment, appointment_id, options=[
            selectinload(Appointment.vehicle).selectinload(Vehicle.tags),
            selectinload(Appointment.vehicle).selectinload(Vehicle.customer)]) \
            if 0 < appointment_id < 2**31 else None
        if appt is None or appt.site_id != self.ctx.site:
            raise NotFound("booking.error.appointment_unknown", appointment=appointment_id)
        return appt
