"""The changes that tell the customer something, each called by its service in the transaction of the change:
booked (confirmation now, reminder the day before), moved (the reminder re-timed, its text redone), cancelled or no
show (both withdrawn), checked in (the page's link), a new promise, additional work waiting for a decision, an
order cancelled (everything not yet sent withdrawn). READY, NEXT_SERVICE and THANK_YOU are queued by delivery and
the follow-up calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import Channel, MessageTemplate
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.models import Appointment, RepairOrder
from shopfloor.services.audit import Actor
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.enqueue import (
    OPEN_STATES,
    cancel_message,
    channel_for,
    queue_message,
    retime_message,
)
from shopfloor.services.messages import appointment_fields


def when(ctx: ServiceContext, at: datetime) -> dict[str, str]:
    """A time as the texts print it: 12月6日 / 16:30 in Chinese, 2026-12-06 / 16:30 otherwise."""
    local = at.astimezone(ctx.tz)
    day = f"{local.month}月{local.day}日" if ctx.settings.site.language == "zh-CN" else f"{local:%Y-%m-%d}"
    return {"date": day, "time": f"{local:%H:%M}"}


def yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _work(ro: RepairOrder) -> str:
    return "、".join(line.description for line in ro.job_lines if line.description)


# -- appointments ------------------------------------------------------------------------------------------------
def reminder_at(ctx: ServiceContext, appt: Appointment) -> datetime:
    """The day before the appointment at [messages] reminder_at, the site's time."""
    day = appt.start.astimezone(ctx.tz).date() - timedelta(days=1)
    return datetime.combine(day, ctx.settings.messages.reminder_at, tzinfo=ctx.tz)


def appointment_booked(s: Session, ctx: ServiceContext, appt: Appointment, actor: Actor | str) -> None:
    customer = appt.vehicle.customer
    fields = appointment_fields(ctx, appt)
    queue_message(s, ctx, template=MessageTemplate.APPOINTMENT_CONFIRMED, customer=customer,
                  dedup_key=f"confirmed:appointment:{appt.id}", actor=actor, fields=fields, appointment=appt)
    remind = reminder_at(ctx, appt)
    if remind > ctx.now():  # booked for tomorrow after the reminder's hour: the confirmation says it all
        queue_message(s, ctx, template=MessageTemplate.APPOINTMENT_REMINDER, customer=customer,
                      dedup_key=f"reminder:appointment:{appt.id}", actor=actor, fields=fields, appointment=appt,
                      send_after=remind)


def appointment_moved(s: Session, ctx: ServiceContext, appt: Appointment, actor: Actor | str) -> None:
    """The reminder follows the appointment: re-timed with the new date in its text, withdrawn when the new day
    before has passed, queued when there was none (booked late for a day since moved further out)."""
    key = f"reminder:appointment:{appt.id}"
    remind = reminder_at(ctx, appt)
    if remind <= ctx.now():
        cancel_message(s, ctx, key, actor=actor)
    elif not retime_message(s, ctx, key, remind, appointment_fields(ctx, appt), actor=actor):
        queue_message(s, ctx, template=MessageTemplate.APPOINTMENT_REMINDER, customer=appt.vehicle.customer,
                      dedup_key=key, actor=actor, fields=appointment_fields(ctx, appt), appointment=appt,
                      send_after=remind)


def appointment_dropped(s: Session, ctx: ServiceContext, appt: Appointment, actor: Actor | str) -> None:
    """Cancelled or a no-show: what was not sent yet is no longer true."""
    for key in (f"confirmed:appointment:{appt.id}", f"reminder:appointment:{appt.id}"):
        cancel_message(s, ctx, key, actor=actor)


# -- repair orders -----------------------------------------------------------------------------------------------
def _order_fields(ctx: ServiceContext, ro: RepairOrder, at: datetime | None) -> dict[str, Any]:
    return {"work": _work(ro)} | (when(ctx, at) if at is not None else {})


def order_checked_in(s: Session, ctx: ServiceContext, ro: RepairOrder, actor: Actor | str) -> None:
    queue_message(s, ctx, template=MessageTemplate.CHECKED_IN, customer=ro.vehicle.customer,
                  dedup_key=f"checked_in:{ro.number}", actor=actor, repair_order=ro,
                  fields=_order_fields(ctx, ro, ro.promised_at))


def promise_given(s: Session, ctx: ServiceContext, ro: RepairOrder, promise_id: int, promised_at: datetime,
                  actor: Actor | str, *, told: bool) -> None:
    """The new time in writing; not when the advisor already told the customer and would only be asked to tell
    them again by hand (no configured channel reaches them)."""
    customer = ro.vehicle.customer
    if told and channel_for(ctx, customer, MessageTemplate.PROMISE_CHANGED, ro)[0] is Channel.MANUAL:
        return
    queue_message(s, ctx, template=MessageTemplate.PROMISE_CHANGED, customer=customer,
                  dedup_key=f"promise:{ro.number}:{promise_id}", actor=actor, repair_order=ro,
                  fields=_order_fields(ctx, ro, promised_at))


def additional_work_reported(s: Session, ctx: ServiceContext, ro: RepairOrder, finding_id: int, description: str,
                             amount: Decimal, actor: Actor | str) -> None:
    queue_message(s, ctx, template=MessageTemplate.ADDITIONAL_WORK, customer=ro.vehicle.customer,
                  dedup_key=f"additional_work:{ro.number}:{finding_id}", actor=actor, repair_order=ro,
                  fields={"work": description, "amount": yuan(amount)})


def order_cancelled(s: Session, ctx: ServiceContext, ro: RepairOrder, actor: Actor | str) -> int:
    """Every message of the order not sent yet withdrawn; how many."""
    keys = s.scalars(select(CustomerMessage.dedup_key).where(CustomerMessage.repair_order_id == ro.id,
                                                             CustomerMessage.state.in_(OPEN_STATES))).all()
    return sum(cancel_message(s, ctx, key, actor=actor) for key in keys)
