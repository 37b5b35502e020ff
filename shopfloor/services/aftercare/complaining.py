"""The customer's complaining flag (domain.md §2: the manager is at reception when they come) follows their
complaints: set when one opens, cleared when the last one still open closes — in the complaint's transaction,
audited with the complaint's actor. The boards show the flag on the customer's cars in the workshop (the order's
complaint flag), so those orders go out again on the bus in the same transaction."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.domain.aftersales import ComplaintStatus
from shopfloor.domain.aftersales_models import Complaint
from shopfloor.domain.models import Customer, RepairOrder, Vehicle
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext


def flag_opened(s: Session, ctx: ServiceContext, c: Complaint, *, actor: Actor | str) -> None:
    """A complaint about a known customer opened: they are complaining (already flagged: nothing to say)."""
    customer = s.get(Customer, c.customer_id) if c.customer_id is not None else None
    if customer is None or customer.complaining:
        return
    customer.complaining = True
    record(s, ctx, actor, Entity.CUSTOMER, customer.id, "customer_complaining_set", detail={"complaint": c.id})
    _republish(s, ctx, customer)


def unflag_closed(s: Session, ctx: ServiceContext, c: Complaint, *, actor: Actor | str) -> None:
    """A complaint closed: the customer stays flagged while another of theirs is still open."""
    customer = s.get(Customer, c.customer_id) if c.customer_id is not None else None
    if customer is None or not customer.complaining:
        return
    s.flush()
    still_open = s.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.customer_id == customer.id, Complaint.status != ComplaintStatus.CLOSED.value,
        Complaint.id != c.id))
    if still_open:
        return
    customer.complaining = False
    record(s, ctx, actor, Entity.CUSTOMER, customer.id, "customer_complaining_cleared", detail={"complaint": c.id})
    _republish(s, ctx, customer)


def _republish(s: Session, ctx: ServiceContext, customer: Customer) -> None:
    # the order's complaint flag is read from its customer: the cars in the workshop now show it (or stop)
    from shopfloor.services.publishing import publish_orders

    s.flush()
    orders = list(s.scalars(select(RepairOrder).join(Vehicle, RepairOrder.vehicle_id == Vehicle.id).where(
        RepairOrder.site_id == ctx.site, Vehicle.customer_id == customer.id,
        RepairOrder.status.in_([status.value for status in OPEN_STATUSES])).order_by(RepairOrder.id)))
    publish_orders(s, ctx, orders)
