"""Job tickets: rendered to ESC/POS bytes, stored as a print job, retained on the printer's topic until its
agent acknowledges. A job whose fate is unknown waits for a person: reprint (marked REPRINT) or confirm."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nicegui import Event
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shopfloor.contract import payloads, topics
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import PrintJob, RepairOrder, Site
from shopfloor.domain.versions import next_version
from shopfloor.events import emit_on_loop
from shopfloor.printer.estimate_slip import EstimateSlipData, render_estimate_slip
from shopfloor.printer.profiles import ticket_profile
from shopfloor.printer.ticket import PrinterProfile, TicketData, render_ticket
from shopfloor.services import outbox, views
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.reception.documents import DocumentService
from shopfloor.services.repair_orders import load_ro

log = logging.getLogger(__name__)

PENDING, PRINTED, UNCERTAIN, FAILED = "pending", "printed", "uncertain", "failed"
TICKET, ESTIMATE = "ticket", "estimate"  # print_jobs.kind of a repair order's job ticket and its estimate slip
# print_jobs.kind of the order's papers printed through print_order_document()
SETTLEMENT_LIST, DELIVERY_SHEET = "settlement_list", "delivery_sheet"
ORDER_DOCUMENTS = (SETTLEMENT_LIST, DELIVERY_SHEET)
# print_jobs.id is an INTEGER: 32 bits on PostgreSQL; a larger id made SQLite raise OverflowError
MAX_JOB_ID = 2**31 - 1
# An order's paper other than the ticket and the estimate slip (the settlement list, the delivery sheet): rendered
# from the document kept with its job, so that a reprint or a move to another printer prints the same paper
# (marked REPRINT when it is one) rather than whatever the order says by then.
DocumentRenderer = Callable[[dict[str, Any], PrinterProfile, bool, datetime | None], bytes]
# an ack is about 150 bytes (its detail is cut to 200 characters when stored): a larger one is not even parsed
MAX_ACK_BYTES = 4096
_JOB_OF_ACK = select(PrintJob.printer, PrintJob.status).where(PrintJob.id == bindparam("job_id"),
                                                              PrintJob.site_id == bindparam("site"))


@dataclass(frozen=True)
class PrintJobInfo:
    id: int
    printer: str
    status: str
    reprint: bool
    ro_number: str | None
    created_at: datetime
    detail: str
    kind: str = TICKET  # print_jobs.kind: ticket, estimate, confirmation, pick_label, tag_label


class PrintService:
    def __init__(self, ctx: ServiceContext, qr_url: str | None = None, server_url: str | None = None) -> None:
        self.ctx = ctx
        # A QR may hold a URL with the RO number (opens the order on a phone on the shop LAN); else the number.
        self.qr_url = qr_url
        # the estimate slip's QR is the customer's link, on this server's address
        self.documents = DocumentService(ctx, server_url or ctx.settings.web.public_url or "http://localhost:8080")
        self.settled = Event[PrintJobInfo]()
        """an agent's acknowledgement settled a print job: the job as it now is; fired on NiceGUI's loop"""
        self._refused_acks: dict[str, int] = {}  # printer (as its topic named it) -> acks dropped
        self._renderers: dict[str, DocumentRenderer] = {}  # register_document()

    @property
    def _printer_names(self) -> frozenset[str]:
        """The site's printers as the configuration names them now (/setup may add one while the server runs)."""
        return frozenset(p.name for p in self.ctx.settings.printers)

    def profile(self, printer: str) -> PrinterProfile:
        try:
            p = self.ctx.settings.printer(printer)
        except KeyError:
            raise NotFound("error.printer_unknown", printer=printer) from None
        return ticket_profile(p)

    def ticket_data(self, s: Session, ro: RepairOrder, reprint: bool) -> TicketData:
        site = s.get(Site, ro.site_id)
        qr_text = self.qr_url.format(number=ro.number) if self.qr_url else ro.number
        return TicketData(
            site_name=site.name if site else ro.site_id, ro_number=ro.number, plate=display_plate(ro.vehicle.plate),
            customer=ro.vehicle.customer.addressed, advisor=ro.advisor.name,
            promised_at=ro.promised_at.astimezone(self.ctx.tz) if ro.promised_at else None,
            checked_in_at=ro.opened_at.astimezone(self.ctx.tz),
            job_lines=[(line.description, float(line.hours)) for line in ro.job_lines],
            complaint=ro.complaint, qr_text=qr_text, reprint=reprint, language=self.ctx.settings.site.language,
            reprinted_at=self.ctx.now().astimezone(self.ctx.tz) if reprint else None)

    def print_ticket(self, number: str, printer: str, *, actor: Actor | str, reprint: bool | None = False
                     ) -> PrintJobInfo:
        """reprint=None: marked REPRINT only if a ticket for this order was printed or sent before."""
        profile = self.profile(printer)
        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            job = self._queue_ticket(s, ro, printer, profile, reprint, actor)
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number,
                   "ticket_reprinted" if job.reprint else "ticket_printed", to_value=printer,
                   detail={"job_id": job.id})
            return self._info(job, ro.number)

    def _queue_ticket(self, s: Session, ro: RepairOrder, printer: str, profile: PrinterProfile,
                      reprint: bool | None, actor: Actor | str) -> PrintJob:
        if reprint is None:
            reprint = s.scalar(select(PrintJob.id).where(
                PrintJob.repair_order_id == ro.id, PrintJob.kind == TICKET,
                PrintJob.status.in_((PENDING, PRINTED, UNCERTAIN))).limit(1)) is not None
        data = render_ticket(self.ticket_data(s, ro, reprint), profile)
        job = PrintJob(site_id=ro.site_id, printer=printer, kind=TICKET, repair_order_id=ro.id, reprint=reprint,
                       data=data, status=PENDING, requested_by=str(actor), created_at=self.ctx.now(), meta={})
        s.add(job)
        s.flush()
        self._publish_job(s, job, ro.number)
        log.info("ticket for %s queued on %s as job %s%s", ro.number, printer, job.id, " (reprint)" if reprint else "")
        return job

    def print_estimate(self, number: str, printer: str, *, actor: Actor | str) -> PrintJobInfo:
        """The estimate slip as it stands (lines, totals, the signature's digest when this version is signed, the
        customer's link as a QR). Each call is a person asking for it: a slip of the same version printed or
        sent before makes this one a REPRINT, marked so on the paper."""
        profile = self.profile(printer)
        slip = self.documents.estimate_slip(number)  # may store the estimate's new version: its own transaction
        with self.ctx.db.write() as s:
            ro = load_ro(s, number)
            before = s.scalars(select(PrintJob.meta).where(
                PrintJob.repair_order_id == ro.id, PrintJob.kind == ESTIMATE,
                PrintJob.status.in_((PENDING, PRINTED, UNCERTAIN))))
            reprint = any((meta or {}).get("version") == slip.version for meta in before)
            job = self._queue_estimate(s, ro, printer, profile, slip, reprint, actor)
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number,
                   "estimate_reprinted" if reprint else "estimate_printed", to_value=printer,
                   detail={"job_id": job.id, "version": slip.version})
            return self._info(job, ro.number)

    def _queue_estimate(self, s: Session, ro: RepairOrder, printer: str, profile: PrinterProfile,
                        slip: EstimateSlipData, reprint: bool, actor: Actor | str) -> PrintJob:
        """The slip kept with its job (meta), so that a reprint or a move to another printer prints the same
        slip rather than whatever the estimate says by then."""
        data = render_estimate_slip(slip, profile, reprint=reprint,
                                    reprinted_at=self.ctx.now().astimezone(self.ctx.tz) if reprint else None)
        job = PrintJob(site_id=ro.site_id, printer=printer, kind=ESTIMATE, repair_order_id=ro.id, reprint=reprint,
                       data=data, status=PENDING, requested_by=str(actor), created_at=self.ctx.now(),
                       meta={"version": slip.version, "slip": slip.to_json()})
        s.add(job)
        s.flush()
        self._publish_job(s, job, ro.number)
        log.info("estimate slip v%s for %s queued on %s as job %s%s", slip.version, ro.number, printer, job.id,
                 " (reprint)" if reprint else "")
        return job

    def register_document(self, kind: str, render: DocumentRenderer) -> None:
        """`render(document, profile, reprint, reprinted_at)` makes the ESC/POS bytes of an order's paper of `kind`
        from the JSON `document` print_order_document() keeps with the job."""
        self._renderers[kind] = render

    def print_order_document(self, s: Session, ro: RepairOrder, printer: str, kind: str, document: dict[str, Any],
                             *, actor: Actor | str, version: str | int | None = None) -> PrintJobInfo:
        """An order's paper of a registered `kind` queued inside the caller's transaction, audited as
        "<kind>_printed" (or "<kind>_reprinted"). Each call is a person asking for it: a paper of the same
        `version` printed or sent before makes this one a REPRINT."""
        profile = self.profile(printer)
        before = s.scalars(select(PrintJob.meta).where(
            PrintJob.repair_order_id == ro.id, PrintJob.kind == kind,
            PrintJob.status.in_((PENDING, PRINTED, UNCERTAIN))))
        reprint = any((meta or {}).get("version") == version for meta in before)
        job = self._queue_document(s, ro, printer, profile, kind, document, version, reprint, actor)
        printed = f"{kind}_reprinted" if reprint else f"{kind}_printed"
        record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, printed, to_value=printer,
               detail={"job_id": job.id, "version": version})
        return self._info(job, ro.number)

    def _queue_document(self, s: Session, ro: RepairOrder, printer: str, profile: PrinterProfile, kind: str,
                        document: dict[str, Any], version: str | int | None, reprint: bool,
                        actor: Actor | str) -> PrintJob:
        render = self._renderers[kind]
        data = render(document, profile, reprint, self.ctx.now().astimezone(self.ctx.tz) if reprint else None)
        job = PrintJob(site_id=ro.site_id, printer=printer, kind=kind, repair_order_id=ro.id, reprint=reprint,
                       data=data, status=PENDING, requested_by=str(actor), created_at=self.ctx.now(),
                       meta={"version": version, "document": document})
        s.add(job)
        s.flush()
        self._publish_job(s, job, ro.number)
        log.info("%s for %s queued on %s as job %s%s", kind, ro.number, printer, job.id,
                 " (reprint)" if reprint else "")
        return job

    def add_job(self, s: Session, printer: str, kind: str, data: bytes, *, actor: Actor | str,
                meta: dict[str, object] | None = None, reprint: bool = False) -> PrintJobInfo:
        """Ready-made ESC/POS bytes (a pick label, a confirmation slip) as a print job of `kind` with no repair
        order, published retained on the printer's job topic like a ticket, inside the caller's transaction."""
        self.profile(printer)
        job = PrintJob(site_id=self.ctx.site, printer=printer, kind=kind, repair_order_id=None, reprint=reprint,
                       data=data, status=PENDING, requested_by=str(actor), created_at=self.ctx.now(), meta=meta or {})
        s.add(job)
        s.flush()
        self._publish_job(s, job, None)
        log.info("%s queued on %s as job %s by %s", kind, printer, job.id, actor)
        return self._info(job, None)

    def _again(self, s: Session, job: PrintJob, ro: RepairOrder | None, printer: str, profile: PrinterProfile,
               actor: Actor | str, reprint: bool) -> PrintJobInfo:
        """A new job for what `job` printed: a ticket rendered afresh, an estimate slip from the slip it kept,
        else the stored bytes (a confirmation slip, a label)."""
        if ro is not None and job.kind == ESTIMATE:
            kept = (job.meta or {})["slip"]
            assert isinstance(kept, dict)
            slip = EstimateSlipData.from_json(kept)
            return self._info(self._queue_estimate(s, ro, printer, profile, slip, reprint, actor), ro.number)
        if ro is not None and job.kind in self._renderers:
            meta = job.meta or {}
            document = meta["document"]
            assert isinstance(document, dict)
            version = meta.get("version")
            assert version is None or isinstance(version, str | int)
            return self._info(self._queue_document(s, ro, printer, profile, job.kind, document, version, reprint,
                                                   actor), ro.number)
        if ro is not None:
            return self._info(self._queue_ticket(s, ro, printer, profile, reprint, actor), ro.number)
        return self.add_job(s, printer, job.kind, job.data, actor=actor, meta=dict(job.meta or {}), reprint=reprint)

    def _record_decision(self, s: Session, job: PrintJob, ro: RepairOrder | None, actor: Actor | str, action: str,
                         **values: Any) -> None:
        """A decision on a job is audited against its repair order, or the appointment a slip or label was for;
        a job for neither has no entity to audit."""
        appointment_id = (job.meta or {}).get("appointment_id")
        if ro is not None:
            record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, action, **values)
        elif isinstance(appointment_id, int):
            record(s, self.ctx, actor, Entity.APPOINTMENT, appointment_id, action, **values)

    def _publish_job(self, s: Session, job: PrintJob, ro_number: str | None) -> None:
        job.version = next_version(job.version)
        payload = payloads.print_job(job_id=job.id, printer=job.printer, version=job.version, ro_number=ro_number,
                                     kind=job.kind, reprint=job.reprint,
                                     created_at=views.at(job.created_at, self.ctx.tz), data=job.data)
        outbox.put_raw(s, self.ctx.now(), topics.print_job(self.ctx.site, job.printer, job.id),
                       payloads.encode(payload), retain=True)

    def _clear_job(self, s: Session, job: PrintJob) -> None:
        outbox.put_raw(s, self.ctx.now(), topics.print_job(self.ctx.site, job.printer, job.id), b"", retain=True)

    @staticmethod
    def _info(job: PrintJob, ro_number: str | None) -> PrintJobInfo:
        return PrintJobInfo(job.id, job.printer, job.status, job.reprint, ro_number, job.created_at, job.detail,
                            job.kind)

    def handle_ack(self, printer: str, raw: bytes) -> bool:
        """An agent's acknowledgement as it arrived on printers/<printer>/acks (the broker lets only that
        printer's account write there): record the outcome and take the job off its retained topic; True when
        it settled a job.

        Anything else is logged and dropped without a write transaction, so a printer account cannot make the
        server wait for the write lock: an ack that is not an ack, or for a job id no job can have, is refused
        before the database is asked; one for a job that is unknown, another printer's or no longer pending
        costs one read."""
        ack = self._checked_ack(printer, raw)
        if ack is None:
            return False
        # a plain connection and a statement built once, not an ORM session: a fifth of the cost, for what any
        # printer account can send
        with self.ctx.db.read_engine.connect() as conn:
            found = conn.execute(_JOB_OF_ACK, {"job_id": ack.job_id, "site": self.ctx.site}).first()
        if found is None or found.printer != printer:
            self._refused(printer, "for job %d: %s", ack.job_id,
                          "no such job" if found is None else "the job is another printer's")
            return False
        if found.status != PENDING:
            return False  # a repeated ack: the first one decided
        job_id, result = ack.job_id, ack.result
        with self.ctx.db.write() as s:
            job = s.get(PrintJob, job_id)
            if job is None or job.printer != printer or job.status != PENDING:
                return False  # settled meanwhile: a person decided, or the same ack came twice
            job.status = result.value
            job.detail = ack.detail[:200]
            job.finished_at = self.ctx.now()
            self._clear_job(s, job)
            level = logging.INFO if result == payloads.ACK_PRINTED else logging.WARNING
            log.log(level, "print job %s on %s: %s %s", job_id, printer, result, job.detail)
            number = s.scalar(select(RepairOrder.number).where(RepairOrder.id == job.repair_order_id))
            info = self._info(job, number)
        emit_on_loop(self.settled, info)
        return True

    def _checked_ack(self, printer: str, raw: bytes) -> payloads.PrintAck | None:
        """The ack, if it can be one for this site's printer; None (logged) otherwise. No database."""
        if printer not in self._printer_names:
            # counted under one name: topic names are anybody's choice, the count must not grow a key for each
            self._refused("(no printer of this site)", "topic names %r", printer[:40])
            return None
        if len(raw) > MAX_ACK_BYTES:
            self._refused(printer, "%d bytes", len(raw))
            return None
        try:
            ack = payloads.parse(payloads.PrintAck, raw)
        except payloads.PayloadError as exc:
            self._refused(printer, "garbled: %s", exc)
            return None
        if ack is None:
            self._refused(printer, "empty")
            return None
        if not 1 <= ack.job_id <= MAX_JOB_ID:
            # not the id itself: it may run to thousands of digits
            self._refused(printer, "job id out of range (sign %d, %d bits)", (ack.job_id > 0) - (ack.job_id < 0),
                          ack.job_id.bit_length())
            return None
        return ack

    def _refused(self, printer: str, why: str, *args: object) -> None:
        """Log a dropped ack: each printer's first ten, then every hundredth, so a flood cannot fill the disk."""
        count = self._refused_acks[printer] = self._refused_acks.get(printer, 0) + 1
        if count <= 10 or count % 100 == 0:
            log.warning("ignoring print ack from %s (%d so far): " + why, printer, count, *args)

    def jobs_for(self, number: str) -> list[PrintJobInfo]:
        with self.ctx.db.read() as s:
            ro = load_ro(s, number)
            rows = s.scalars(select(PrintJob).where(PrintJob.repair_order_id == ro.id).order_by(PrintJob.id))
            return [self._info(j, number) for j in rows]

    def needing_decision(self) -> list[PrintJobInfo]:
        with self.ctx.db.read() as s:
            rows = s.execute(select(PrintJob, RepairOrder.number).outerjoin(
                RepairOrder, RepairOrder.id == PrintJob.repair_order_id).where(
                PrintJob.site_id == self.ctx.site, PrintJob.status.in_((UNCERTAIN, FAILED))).order_by(PrintJob.id))
            return [self._info(job, number) for job, number in rows]

    def redirect(self, job_id: int, printer: str, *, actor: Actor | str) -> PrintJobInfo:
        """A job still waiting (its printer offline or out of paper) goes to another printer instead. The
        waiting job is withdrawn from its printer's retained topic first, so it cannot also print there
        when that printer comes back; the new job is a first print, not a REPRINT. Both in one transaction."""
        profile = self.profile(printer)  # an unknown printer is refused before anything changes
        with self.ctx.db.write() as s:
            job = s.get(PrintJob, job_id)
            if job is None:
                raise NotFound("error.print_job_unknown", job=job_id)
            if job.status != PENDING:
                raise Refused("error.print_job_settled", job=job_id, status=job.status)
            if job.printer == printer:
                raise Invalid("error.print_same_printer", printer=printer)
            job.status, job.detail = "moved", f"sent to {printer} by {actor}"
            job.decided_by, job.decided_at = str(actor), self.ctx.now()
            self._clear_job(s, job)
            ro = s.get(RepairOrder, job.repair_order_id) if job.repair_order_id is not None else None
            info = self._again(s, job, ro, printer, profile, actor, job.reprint)
            self._record_decision(s, job, ro, actor, "print_redirected", from_value=job.printer, to_value=printer,
                                  detail={"job_id": job.id, "new_job_id": info.id, "kind": job.kind})
        log.info("print job %s moved to %s by %s", job_id, printer, actor)
        return info

    def resolve(self, job_id: int, decision: str, *, actor: Actor | str) -> PrintJobInfo | None:
        """A person decides an uncertain or failed job: "confirm" (it did print) or "reprint"."""
        if decision not in ("confirm", "reprint"):
            raise Invalid("error.print_decision", decision=decision)
        with self.ctx.db.write() as s:
            job = s.get(PrintJob, job_id)
            if job is None:
                raise NotFound("error.print_job_unknown", job=job_id)
            if job.status not in (UNCERTAIN, FAILED):
                raise Refused("error.print_job_settled", job=job_id, status=job.status)
            was = job.status
            job.decided_by, job.decided_at = str(actor), self.ctx.now()
            ro = s.get(RepairOrder, job.repair_order_id) if job.repair_order_id is not None else None
            if decision == "confirm":
                job.status, job.detail = PRINTED, f"confirmed by {actor}"
                self._record_decision(s, job, ro, actor, "print_confirmed", from_value=was, to_value=PRINTED,
                                      detail={"job_id": job.id, "kind": job.kind})
                return None
            job.detail = f"{job.detail}; reprint requested by {actor}"[:200]
            job.status = "superseded"
            # A job that may have come out is reprinted marked REPRINT; one that surely failed is a first print.
            info = self._again(s, job, ro, job.printer, self.profile(job.printer), actor, was == UNCERTAIN)
            self._record_decision(s, job, ro, actor, "print_reprinted", from_value=was, to_value=job.printer,
                                  detail={"job_id": job.id, "new_job_id": info.id, "kind": job.kind})
            return info
