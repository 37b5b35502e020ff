"""Appointments as an iCalendar file (RFC 5545), for an advisor's phone calendar or a shared calendar.

Times are UTC (DTSTART/DTEND with Z), so the file needs no VTIMEZONE; X-WR-TIMEZONE tells clients that
honour it which zone to show. Lines end in CRLF and are folded at 75 octets without splitting a UTF-8
character; TEXT values escape backslash, semicolon, comma and newlines. Every appointment keeps one UID
(appointment-<id>@<site>), so a re-import updates the event, and a cancelled one (STATUS:CANCELLED) removes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shopfloor import i18n
from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import Appointment, Vehicle
from shopfloor.services.context import ServiceContext

MAX_RANGE_DAYS = 366
LINE_OCTETS = 75
PRODID = "-//shopfloor//service lane appointments//EN"


def escape_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT: \\ ; , escaped, every line break as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """RFC 5545 §3.1: at most 75 octets per line (CRLF not counted); a continuation line starts with one space,
    which counts. Never splits a UTF-8 sequence."""
    out: list[str] = []
    current: list[str] = []
    size, limit = 0, LINE_OCTETS
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1
        current.append(ch)
        size += n
    out.append("".join(current))
    return "\r\n ".join(out)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _as_datetime(value: Any, tz: ZoneInfo) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a date and time: {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _plain(appt: Appointment | Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """What the calendar needs from an Appointment model or its state dict (views.appointment_state)."""
    if isinstance(appt, Appointment):
        return {"id": appt.id, "site": appt.site_id, "start": appt.start,
                "end": appt.start + timedelta(hours=float(appt.hours)), "hours": float(appt.hours),
                "work": appt.work, "plate": appt.vehicle.plate, "customer": appt.vehicle.customer.addressed,
                "advisor": appt.advisor.name, "status": appt.status, "bay": appt.bay.code if appt.bay else None,
                "model": appt.vehicle.model}
    start = _as_datetime(appt["start"], tz)
    hours = float(appt.get("hours") or 0)
    end = _as_datetime(appt["end"], tz) if appt.get("end") else start + timedelta(hours=hours)
    advisor = appt.get("advisor")
    return {"id": appt["id"], "site": appt.get("site"), "start": start, "end": end, "hours": hours,
            "work": appt.get("work") or "", "plate": appt.get("plate") or "", "customer": appt.get("customer") or "",
            "advisor": advisor.get("name", "") if isinstance(advisor, Mapping) else (advisor or ""),
            "status": appt.get("status") or "booked", "bay": appt.get("bay"),
            "model": appt.get("vehicle_model") or appt.get("model") or ""}


def _hours(value: float) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def appointments_ics(appointments: Iterable[Appointment | Mapping[str, Any]], site_name: str, tz: ZoneInfo, *,
                     site_id: str | None = None, lang: str = "zh-CN", stamp: datetime | None = None) -> str:
    """A VCALENDAR with one VEVENT per appointment (models with vehicle, customer, advisor and bay loaded, or
    appointment state dicts). UIDs use site_id, else each appointment's site, else 'shopfloor'. stamp: DTSTAMP
    (default now)."""
    t = i18n.Translator(lang)
    stamp_text = _utc(stamp or datetime.now(UTC))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape_text(t('ical.calendar_name', site=site_name))}",
             f"X-WR-TIMEZONE:{tz.key}"]
    for raw in appointments:
        a = _plain(raw, tz)
        site = site_id or a["site"] or "shopfloor"
        local_start, local_end = a["start"].astimezone(tz), a["end"].astimezone(tz)
        status = str(a["status"])
        description = "\n".join([
            t("ical.customer", customer=a["customer"]),
            t("ical.vehicle", plate=a["plate"], model=a["model"]) if a["model"] else t("ical.plate", plate=a["plate"]),
            t("ical.advisor", advisor=a["advisor"]),
            t("ical.time", start=f"{local_start:%Y-%m-%d %H:%M}", end=f"{local_end:%H:%M}"),
            t("ical.hours", hours=_hours(a["hours"])),
            t("ical.status", status=t(f"appointment.{status}")),
        ])
        summary = f"{a['plate']} {a['work']}".strip()
        lines += ["BEGIN:VEVENT", f"UID:appointment-{a['id']}@{site}", f"DTSTAMP:{stamp_text}",
                  f"DTSTART:{_utc(a['start'])}", f"DTEND:{_utc(a['end'])}", f"SUMMARY:{escape_text(summary)}",
                  f"DESCRIPTION:{escape_text(description)}",
                  f"LOCATION:{escape_text(site_name + (' · ' + t('ical.bay', bay=a['bay']) if a['bay'] else ''))}",
                  f"STATUS:{'CANCELLED' if status == 'cancelled' else 'CONFIRMED'}",
                  "TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def export_range(ctx: ServiceContext, first: date, last: date, *, lang: str | None = None) -> str:
    """The site's appointments from first to last (inclusive, local days), every status (a cancelled one tells a
    subscribed calendar to drop it), as iCalendar."""
    if last < first:
        raise Invalid("ical.range_order", first=first.isoformat(), last=last.isoformat())
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise Invalid("ical.range_too_long", days=MAX_RANGE_DAYS)
    start, _ = ctx.day_bounds(first)
    _, end = ctx.day_bounds(last)
    with ctx.db.read() as s:
        appts = list(s.scalars(select(Appointment).where(
            Appointment.site_id == ctx.site, Appointment.start >= start, Appointment.start < end)
            .options(selectinload(Appointment.vehicle).selectinload(Vehicle.customer),
                     selectinload(Appointment.advisor), selectinload(Appointment.bay))
            .order_by(Appointment.start, Appointment.id)))
        return appointments_ics(appts, ctx.settings.site.name, ctx.tz, site_id=ctx.site,
                                lang=lang or ctx.settings.site.language, stamp=ctx.now())


class CalendarService:
    """The site's appointments as iCalendar, for a page or a route that holds no service context of its own."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def export_range(self, first: date, last: date, *, lang: str | None = None) -> str:
        return export_range(self.ctx, first, last, lang=lang)
