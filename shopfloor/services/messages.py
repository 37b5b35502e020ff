"""Reminder and confirmation texts from the site's templates ([templates] in the site TOML; domain.md §2: plate,
last service date and mileage, this service's date, the booking hotline)."""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any

from shopfloor.domain.identifiers import display_plate
from shopfloor.domain.models import Appointment
from shopfloor.services.context import ServiceContext

CHANNELS = ("sms", "wechat", "phone", "letter")
FIELDS = ("customer", "plate", "date", "time", "advisor", "work", "last_service_date", "last_service_km", "due",
          "hotline", "site")


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, **values: Any) -> str:
    """A template with its fields filled; an unknown or missing field is left empty rather than failing, and a
    stray brace is printed as it is (templates are typed by staff)."""
    out = []
    try:
        for literal, name, spec, _conv in string.Formatter().parse(template):
            out.append(literal)
            if name is not None:
                value = _Blank(values)[name]
                out.append(format(value, spec) if spec and not isinstance(value, str) else str(value))
    except ValueError:
        return template
    return "".join(out)


def template(ctx: ServiceContext, channel: str) -> str:
    templates = ctx.settings.templates
    return str(getattr(templates, channel if channel in CHANNELS else "sms"))


def appointment_fields(ctx: ServiceContext, appt: Appointment) -> dict[str, Any]:
    vehicle = appt.vehicle
    local: datetime = appt.start.astimezone(ctx.tz)
    return {
        "customer": vehicle.customer.addressed,
        "plate": display_plate(vehicle.plate),
        "date": f"{local.month}月{local.day}日" if ctx.settings.site.language == "zh-CN" else f"{local:%Y-%m-%d}",
        "time": f"{local:%H:%M}",
        "advisor": appt.advisor.name,
        # every job, not the card's "20000公里保养 +1": the customer reads what was booked
        "work": "、".join(str(line.get("description") or "") for line in appt.job_lines or []) or appt.work,
        "last_service_date": vehicle.last_service_on.isoformat() if vehicle.last_service_on else "—",
        "last_service_km": f"{vehicle.last_service_km:,}" if vehicle.last_service_km is not None else "—",
        "due": f"{local:%Y-%m-%d}",
        "hotline": ctx.settings.booking.hotline,
        "site": ctx.settings.site.name,
    }


def appointment_message(ctx: ServiceContext, appt: Appointment, channel: str | None = None) -> str:
    """The text for this appointment in the customer's preferred channel (or the one asked for)."""
    chosen = channel or appt.vehicle.customer.preferred_channel
    return fill(template(ctx, chosen), **appointment_fields(ctx, appt))
