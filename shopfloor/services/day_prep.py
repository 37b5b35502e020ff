"""The day before (and the day of): confirmation calls with the message text in the customer's channel, the parts
pre-pick list and its labels (plate + date, domain.md §2), and the no-shows to call back and rebook.

Rescheduling is a move and a recorded call; a rebooked no-show is a new booking (source "rebook") that the old
one points at; a no-show the customer no longer wants keeps its no-show status (the figures count it) and gets
the reason, which takes it off the call-back list."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor.domain.capacity import MAINTENANCE, REPAIR, SKILLS
from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import Appointment, PrintJob, Vehicle, VehicleItem
from shopfloor.i18n import normalize, t
from shopfloor.printer.escpos_text import CJK_ENCODINGS
from shopfloor.printer.pick_label import PickLabelData, PickLabelWords, render_pick_label
from shopfloor.services import messages
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.booking import ACTIVE, BookingRequest, BookingService, WorkLine
from shopfloor.services.context import ServiceContext
from shopfloor.services.printing import PrintJobInfo, PrintService
from shopfloor.services.publishing import publish_appointment

log = logging.getLogger(__name__)

PICK_LABEL = "pick_label"
# on the call list: still coming (and those cancelled on the call itself, so the caller sees what was done)
CALLABLE = ACTIVE
# parts are picked for cars still expected, and for one already here whose parts were not picked yet
PICKABLE = (*ACTIVE, "arrived")
OUTCOMES = ("confirmed", "rescheduled", "cancelled", "unreachable")
NO_SHOW_DAYS = 7
# how far back a pick label counts as "printed already" for the pre-pick list
LABEL_MEMORY = timedelta(days=14)
# hours of a solicitation booking whose list suggests no work (insurance, inspection, warranty, parts arrived)
DEFAULT_HOURS = 1.0
_PART_SPLIT = re.compile(r"[\s,;，；、/]+")


def part_numbers(text: str) -> list[str]:
    """"90915-YZZD1, 04465-33450" → ["90915-YZZD1", "04465-33450"]."""
    return [p for p in _PART_SPLIT.split(text or "") if p]


def day_text(lang: str, day: date) -> str:
    """11月24日 周二 / Tue 24 Nov."""
    weekday = t(lang, "board.weekdays").split(",")[day.weekday()]
    month = t(lang, "board.months").split(",")[day.month - 1]
    return t(lang, "calls.day_text", weekday=weekday, month_name=month, day=day.day)


def call_counts(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """to_call: nobody reached yet (no call, or unreachable last time)."""
    counts = {"total": 0, "to_call": 0, **{o: 0 for o in OUTCOMES}}
    for row in rows:
        counts["total"] += 1
        outcome = row.get("call_outcome")
        if outcome in OUTCOMES:
            counts[outcome] += 1
        if outcome in (None, "unreachable"):
            counts["to_call"] += 1
    return counts


def work_lines_of(appt: Appointment) -> list[WorkLine]:
    """The work an appointment sold, line by line; an old or imported booking without lines: its card."""
    out = []
    for line in appt.job_lines or []:
        try:
            hours = float(str(line.get("hours")))
        except ValueError:
            continue
        skill = str(line.get("skill") or MAINTENANCE)
        description = str(line.get("description") or appt.work or "").strip()
        if hours <= 0 or not description:
            continue
        code, equipment = line.get("code"), line.get("equipment")
        out.append(WorkLine(description, hours, skill if skill in SKILLS else MAINTENANCE,
                            str(code) if code else None, str(equipment) if equipment else None))
    if not out:
        out.append(WorkLine(appt.work or "—", float(appt.hours) or DEFAULT_HOURS,
                            appt.skill if appt.skill in SKILLS else MAINTENANCE, None, appt.equipment))
    return out


class DayPrepService:
    def __init__(self, ctx: ServiceContext, printing: PrintService | None = None,
                 booking: BookingService | None = None) -> None:
        self.ctx = ctx
        self.printing = printing or PrintService(ctx)
        self.booking = booking or BookingService(ctx)

    # -- the confirmation calls -----------------------------------------------------------------------------
    def call_list(self, day: date) -> list[dict[str, Any]]:
        """The day's appointments to confirm, by time: who, what, parts, flags, the call so far, and the message
        text in the customer's preferred channel."""
        start, end = self.ctx.day_bounds(day)
        with self.ctx.db.read() as s:
            rows = self._appointments(s, (Appointment.start >= start, Appointment.start < end))
            return [self._call_row(a, day) for a in rows
                    if a.status in CALLABLE or (a.status == "cancelled" and a.call_outcome == "cancelled")]

    def message(self, appointment_id: int, channel: str | None = None) -> dict[str, str]:
        """{"channel", "text"}: the message for another channel than the preferred one, on demand."""
        with self.ctx.db.read() as s:
            appt = self._appointment(s, appointment_id)
            chosen = channel if channel in messages.CHANNELS else self._channel(appt)
            return {"channel": chosen, "text": messages.appointment_message(self.ctx, appt, chosen)}

    def messages(self, appointment_id: int) -> dict[str, str]:
        """Every channel's text: {channel: text}."""
        with self.ctx.db.read() as s:
            appt = self._appointment(s, appointment_id)
            return {c: messages.appointment_message(self.ctx, appt, c) for c in messages.CHANNELS}

    def reschedule(self, appointment_id: int, start: datetime, advisor_id: int | None, *, actor: Actor | str,
                   override_reason: str | None = None, note: str = "") -> dict[str, Any]:
        """The customer wants another time: the card moves (every booking rule checked) and the call is
        recorded as rescheduled, together. A refused move records nothing."""
        return self.booking.reschedule(appointment_id, start, advisor_id, actor=actor,
                                       override_reason=override_reason, note=note)

    def slots_for(self, appointment_id: int, day: date, limit: int = 5) -> list[dict[str, Any]]:
        """Proposed times on `day` for the same work as this appointment (reschedule, rebook)."""
        with self.ctx.db.read() as s:
            lines = work_lines_of(self._appointment(s, appointment_id))
        return self.booking.propose_slots(day, lines, None, limit)

    # -- parts pre-pick -------------------------------------------------------------------------------------
    def pre_pick(self, day: date) -> list[dict[str, Any]]:
        """The parts to pick for the day's appointments, by time: parts in stock or arrived; parts still on
        order but due by that day are listed too, flagged late_parts (check they came in)."""
        start, end = self.ctx.day_bounds(day)
        with self.ctx.db.read() as s:
            rows = self._appointments(s, (Appointment.start >= start, Appointment.start < end,
                                          Appointment.status.in_(PICKABLE)))
            picked = [a for a in rows if self._pickable(a)]
            labels = self._labels(s, [a.id for a in picked])
            return [self._pick_row(a, labels.get(a.id)) for a in picked]

    def parts_printer(self) -> str:
        """The parts counter's printer: the one named "parts", else the narrowest paper."""
        printers = self.ctx.settings.printers
        if not printers:
            raise NotFound("error.printer_unknown", printer="parts")
        named = [p for p in printers if p.name == "parts"]
        return (named or sorted(printers, key=lambda p: p.columns))[0].name

    def print_pick_labels(self, *, day: date | None = None, appointment_ids: Sequence[int] | None = None,
                          printer: str | None = None, actor: Actor | str) -> list[PrintJobInfo]:
        """One label per appointment (the day's pre-pick list, or the appointments named), each a print job of
        kind "pick_label" published retained on the printer's topic, all in one transaction."""
        if day is None and appointment_ids is None:
            raise Invalid("calls.error.nothing_to_print")
        printer = printer or self.parts_printer()
        profile = self.printing.profile(printer)
        lang = normalize(self.ctx.settings.site.language) if profile.encoding in CJK_ENCODINGS else "en"
        with self.ctx.db.write() as s:
            if appointment_ids is not None:
                wanted = list(dict.fromkeys(appointment_ids))
                found = {a.id: a for a in self._appointments(s, (Appointment.id.in_(wanted),))}
                missing = [i for i in wanted if i not in found]
                if missing:
                    raise NotFound("booking.error.appointment_unknown", appointment=missing[0])
                gone = [a for a in found.values() if a.status not in PICKABLE]
                if gone:
                    raise Refused("booking.error.not_movable", status=gone[0].status)
                appts = sorted(found.values(), key=lambda a: a.start)
            else:
                assert day is not None
                start, end = self.ctx.day_bounds(day)
                appts = [a for a in self._appointments(s, (Appointment.start >= start, Appointment.start < end,
                                                           Appointment.status.in_(PICKABLE)))
                         if self._pickable(a)]
                # "print all" prints what has no label yet (or whose label failed): a label printed or on its
                # way is not printed twice; a single row's button reprints on purpose
                labels = self._labels(s, [a.id for a in appts])
                appts = [a for a in appts if a.id not in labels or labels[a.id].status in ("failed", "superseded")]
            jobs = []
            for appt in appts:
                data = render_pick_label(self._label_data(appt, lang), profile)
                jobs.append(self.printing.add_job(s, printer, PICK_LABEL, data, actor=actor, meta={
                    "appointment_id": appt.id, "plate": appt.vehicle.plate}))
            log.info("%s printed %d pick label(s) on %s", actor, len(jobs), printer)
            return jobs

    def pick_label_bytes(self, appointment_id: int, printer: str | None = None) -> bytes:
        """The label as it would print (a preview, tests)."""
        profile = self.printing.profile(printer or self.parts_printer())
        lang = normalize(self.ctx.settings.site.language) if profile.encoding in CJK_ENCODINGS else "en"
        with self.ctx.db.read() as s:
            return render_pick_label(self._label_data(self._appointment(s, appointment_id), lang), profile)

    # -- no-shows -------------------------------------------------------------------------------------------
    def no_shows(self, today: date | None = None, days: int = NO_SHOW_DAYS) -> list[dict[str, Any]]:
        """No-shows of today and the `days` before: open ones first (most recent first), then those done
        (rebooked: with the new booking; or closed with the customer's reason)."""
        today = today or self.ctx.today()
        first, _ = self.ctx.day_bounds(today - timedelta(days=days))
        _, end = self.ctx.day_bounds(today)
        with self.ctx.db.read() as s:
            rows = self._appointments(s, (Appointment.status == "no_show", Appointment.start >= first,
                                          Appointment.start < end))
            new_ids = [a.rebooked_as_id for a in rows if a.rebooked_as_id is not None]
            new = {a.id: a for a in self._appointments(s, (Appointment.id.in_(new_ids),))} if new_ids else {}
            out = []
            for appt in rows:
                row = self._base_row(appt)
                rebooked = new.get(appt.rebooked_as_id) if appt.rebooked_as_id else None
                row["no_show_at"] = appt.no_show_at.astimezone(self.ctx.tz).isoformat(timespec="minutes") \
                    if appt.no_show_at else None
                row["rebooked"] = {"id": rebooked.id, "start": self._iso(rebooked.start), "status": rebooked.status,
                                   "advisor": rebooked.advisor.name} if rebooked else None
                row["closed_reason"] = appt.cancel_reason
                row["done"] = rebooked is not None or bool(appt.cancel_reason)
                out.append(row)
        out.sort(key=lambda r: r["start"], reverse=True)
        return [r for r in out if not r["done"]] + [r for r in out if r["done"]]

    def rebook(self, appointment_id: int, start: datetime, advisor_id: int | None, *, actor: Actor | str,
               override_reason: str | None = None) -> dict[str, Any]:
        """A no-show booked again for the same work: a new appointment (source "rebook") that the old one
        points at."""
        with self.ctx.db.read() as s:
            old = self._open_no_show(s, appointment_id)
            req = BookingRequest(
                start=start, lines=work_lines_of(old), actor=actor, vehicle_id=old.vehicle_id, advisor_id=advisor_id,
                work=old.work, override_reason=override_reason, parts_status=old.parts_status,
                parts_eta=old.parts_eta, parts_numbers=old.parts_numbers, waiting_customer=old.waiting_customer,
                road_test=old.road_test, source="rebook", rebook_of=old.id)
        new = self.booking.book(req)
        log.info("%s rebooked no-show %s as %s", actor, appointment_id, new["id"])
        return new

    def close_no_show(self, appointment_id: int, *, actor: Actor | str, reason: str) -> dict[str, Any]:
        """The customer no longer wants the work: the no-show stays a no-show (the figures count it) and leaves
        the call-back list with the reason."""
        if not reason.strip():
            raise Invalid("booking.error.cancel_reason")
        with self.ctx.db.write() as s:
            appt = self._open_no_show(s, appointment_id)
            appt.cancel_reason = reason.strip()[:200]
            was = appt.call_outcome
            appt.call_outcome, appt.called_at, appt.called_by = "cancelled", self.ctx.now(), str(actor)
            publish_appointment(s, self.ctx, appt)
            record(s, self.ctx, actor, Entity.APPOINTMENT, appt.id, "no_show_closed", from_value=was,
                   to_value="cancelled", reason=reason.strip())
            log.info("%s closed no-show %s: %s", actor, appt.id, reason)
            row = self._base_row(appt)
            row["closed_reason"] = appt.cancel_reason
            return row

    # -- solicitation: one-step booking ---------------------------------------------------------------------
    def entry_lines(self, entry: dict[str, Any]) -> list[WorkLine]:
        """The work for booking a call-list entry: its suggested work, else a visit named after the list."""
        work = entry.get("suggested_work")
        if work:
            if work.get("code"):
                try:
                    return self.booking.lines(codes=[str(work["code"])])
                except Invalid:
                    pass  # the catalogue changed since the list was made: book the line as it was suggested
            return [WorkLine(str(work.get("description") or work.get("code")), float(work.get("hours") or
                                                                                     DEFAULT_HOURS),
                             str(work.get("skill") or MAINTENANCE), work.get("code"))]
        lang = self.ctx.settings.site.language
        kind = str(entry.get("kind") or "")
        skill = REPAIR if kind == "parts_arrived" else MAINTENANCE
        return [WorkLine(t(lang, f"calls.visit.{kind}") if kind else t(lang, f"skill.{skill}"), DEFAULT_HOURS,
                         skill)]

    def entry_slots(self, entry: dict[str, Any], day: date, limit: int = 3) -> list[dict[str, Any]]:
        return self.booking.propose_slots(day, self.entry_lines(entry), None, limit)

    def book_entry(self, entry: dict[str, Any], start: datetime, advisor_id: int | None, *, actor: Actor | str,
                   override_reason: str | None = None) -> dict[str, Any]:
        """Book a call-list entry (an active appointment, domain.md §2). Parts that arrived for the customer go
        on the booking as arrived, with their numbers, so they are picked the day before."""
        lines = self.entry_lines(entry)
        parts_status, parts_numbers = "none", ""
        if entry.get("item_id"):
            with self.ctx.db.read() as s:
                item = s.get(VehicleItem, int(entry["item_id"]))
                if item is not None and item.vehicle_id == entry["vehicle_id"] and item.arrived_on is not None:
                    parts_status, parts_numbers = "arrived", item.part_numbers or ""
        lang = self.ctx.settings.site.language
        note = t(lang, f"solicitation.kind.{entry['kind']}") if entry.get("kind") else ""
        return self.booking.book(BookingRequest(
            start=start, lines=lines, actor=actor, vehicle_id=int(entry["vehicle_id"]), advisor_id=advisor_id,
            override_reason=override_reason, parts_status=parts_status, parts_numbers=parts_numbers, notes=note,
            source="active"))

    # -- helpers --------------------------------------------------------------------------------------------
    def _appointments(self, s: Session, where: Sequence[Any]) -> list[Appointment]:
        return list(s.scalars(select(Appointment).where(Appointment.site_id == self.ctx.site, *where).options(
            selectinload(Appointment.vehicle).selectinload(Vehicle.customer), selectinload(Appointment.advisor),
            selectinload(Appointment.bay)).order_by(Appointment.start, Appointment.id)))

    def _appointment(self, s: Session, appointment_id: int) -> Appointment:
        appt = s.get(Appointment, appointment_id) if 0 < appointment_id < 2**31 else None
        if appt is None or appt.site_id != self.ctx.site:
            raise NotFound("booking.error.appointment_unknown", appointment=appointment_id)
        return appt

    def _open_no_show(self, s: Session, appointment_id: int) -> Appointment:
        """A no-show still to be followed up: neither rebooked nor anything else (Refused otherwise)."""
        appt = self._appointment(s, appointment_id)
        if appt.status != "no_show":
            raise Refused("calls.error.not_no_show", status=appt.status)
        if appt.rebooked_as_id is not None:
            raise Refused("calls.error.already_rebooked")
        return appt

    def _iso(self, moment: datetime) -> str:
        return moment.astimezone(self.ctx.tz).isoformat(timespec="minutes")

    @staticmethod
    def _channel(appt: Appointment) -> str:
        channel = appt.vehicle.customer.preferred_channel
        return channel if channel in messages.CHANNELS else "sms"

    def _base_row(self, appt: Appointment) -> dict[str, Any]:
        local = appt.start.astimezone(self.ctx.tz)
        customer = appt.vehicle.customer
        return {
            "id": appt.id, "status": appt.status, "start": self._iso(appt.start), "date": local.date().isoformat(),
            "time": f"{local:%H:%M}", "vehicle_id": appt.vehicle_id, "plate": appt.vehicle.plate,
            "plate_display": display_plate(appt.vehicle.plate), "model": appt.vehicle.model,
            "customer": customer.addressed, "phone": customer.phone, "preferred_channel": self._channel(appt),
            "advisor": {"id": appt.advisor.id, "name": appt.advisor.name, "code": appt.advisor.code},
            "work": appt.work, "hours": float(appt.hours), "skill": appt.skill,
            "job_lines": list(appt.job_lines or []),
            "parts": {"status": appt.parts_status, "eta": appt.parts_eta.isoformat() if appt.parts_eta else None,
                      "numbers": appt.parts_numbers},
            "call_outcome": appt.call_outcome,
            "called_at": self._iso(appt.called_at) if appt.called_at else None, "called_by": appt.called_by,
            "notes": appt.notes, "source": appt.source,
        }

    def _flags(self, appt: Appointment, day: date) -> list[str]:
        flags = [name for name, on in (("complaining_customer", appt.complaining_customer),
                                       ("repeat_repair", appt.repeat_repair),
                                       ("waiting_customer", appt.waiting_customer),
                                       ("road_test", appt.road_test)) if on]
        if appt.parts_status == "to_order":
            # due by the day: pick when they come in; later or unknown: the customer should hear it on the call
            flags.append("late_parts" if appt.parts_eta is not None and appt.parts_eta <= day else "parts_missing")
        return flags

    def _call_row(self, appt: Appointment, day: date) -> dict[str, Any]:
        row = self._base_row(appt)
        channel = row["preferred_channel"]
        row["flags"] = self._flags(appt, day)
        row["channel"] = channel
        row["message"] = messages.appointment_message(self.ctx, appt, channel)
        return row

    def _pickable(self, appt: Appointment) -> bool:
        if appt.parts_status in ("in_stock", "arrived"):
            return True
        day = appt.start.astimezone(self.ctx.tz).date()
        return appt.parts_status == "to_order" and appt.parts_eta is not None and appt.parts_eta <= day

    def _pick_row(self, appt: Appointment, label: PrintJob | None) -> dict[str, Any]:
        row = self._base_row(appt)
        local_day = appt.start.astimezone(self.ctx.tz).date()
        row["part_numbers"] = part_numbers(appt.parts_numbers)
        row["late_parts"] = appt.parts_status == "to_order"
        row["flags"] = self._flags(appt, local_day)
        row["label"] = {"job_id": label.id, "status": label.status, "printer": label.printer,
                        "at": self._iso(label.created_at)} if label else None
        return row

    def _labels(self, s: Session, appointment_ids: list[int]) -> dict[int, PrintJob]:
        """The latest pick label of each appointment (looked at in Python: `meta` is JSON on both databases)."""
        if not appointment_ids:
            return {}
        wanted = set(appointment_ids)
        out: dict[int, PrintJob] = {}
        for job in s.scalars(select(PrintJob).where(
                PrintJob.site_id == self.ctx.site, PrintJob.kind == PICK_LABEL,
                PrintJob.created_at >= self.ctx.now() - LABEL_MEMORY).order_by(PrintJob.id)):
            appointment_id = (job.meta or {}).get("appointment_id")
            if isinstance(appointment_id, int) and appointment_id in wanted:
                out[appointment_id] = job
        return out

    def _label_data(self, appt: Appointment, lang: str) -> PickLabelData:
        local = appt.start.astimezone(self.ctx.tz)

        def w(key: str) -> str:
            return t(lang, f"calls.label.{key}")

        words = PickLabelWords(title=w("title"), appointment=w("appointment"), parts=w("parts"), advisor=w("advisor"),
                               work=w("work"), customer=w("customer"), late_parts=w("late_parts"),
                               no_parts=w("no_parts"))
        return PickLabelData(plate=display_plate(appt.vehicle.plate), start=local.replace(tzinfo=None),
                             day_text=day_text(lang, local.date()), part_numbers=part_numbers(appt.parts_numbers),
                             advisor=appt.advisor.name, work=appt.work, customer=appt.vehicle.customer.addressed,
                             appointment_id=appt.id, words=words, late_parts=appt.parts_status == "to_order")
