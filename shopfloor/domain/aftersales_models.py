"""The second half of the lane's tables (rev 0012, domain.md §4–5, steps 9–12): what the cashier took (payments and
refunds), the messages to the customer (their own outbox), the follow-up calls and the complaints.

Payments and attempts are never updated: a refund is a row of its own that names the payment it returns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.domain.models import Base, RepairOrder, UtcDateTime


class Payment(Base):
    """Money the cashier took for an order (kind "payment") or gave back (kind "refund", amount positive, with a
    reason and the payment it returns). shopfloor is no payment gateway: this records what was taken."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_site_at", "site_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    repair_order_id: Mapped[int] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # payment | refund
    method: Mapped[str] = mapped_column(String(10))  # shopfloor.domain.aftersales.PaymentMethod
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # what counts against the bill (> 0)
    tendered: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # cash handed over; change = tendered - amount
    reference: Mapped[str] = mapped_column(String(100), default="", server_default=text("''"))
    reason: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))  # a refund's
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    repair_order: Mapped[RepairOrder] = relationship()

    @property
    def change(self) -> Decimal | None:
        return None if self.tendered is None else self.tendered - self.amount


class CustomerMessage(Base):
    """One message to a customer, in their outbox: queued in the transaction of the change that causes it, sent
    once by the message sender (shopfloor.services.customer_messages), its delivery state kept on the row.

    state: queued (waiting for send_after), sending (handed to the provider, no answer yet), sent, failed (the
    provider refused it or the attempts ran out: provider_reason says why), uncertain (the provider may have it: a
    hang or a crash while sending; a person decides), manual (the advisor sends the text by hand, then marks it
    sent), cancelled (no longer true: the appointment moved, the order was cancelled)."""

    __tablename__ = "customer_messages"
    __table_args__ = (Index("ix_customer_messages_due", "site_id", "state", "send_after"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    # what the message is about; each may be absent (a next-service reminder outlives its order's page)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    repair_order_id: Mapped[int | None] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    # one message per cause: "ready:RO20261205-001", "reminder:appointment:42" (a cause queued twice is one row)
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    template: Mapped[str] = mapped_column(String(30))  # shopfloor.domain.aftersales.MessageTemplate
    channel: Mapped[str] = mapped_column(String(10))  # sms | wechat | email | manual
    language: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(200))  # phone, openid, e-mail address ("" for manual)
    subject: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    body: Mapped[str] = mapped_column(Text)  # the text as the customer reads it
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # a provider template's fields
    state: Mapped[str] = mapped_column(String(12))
    send_after: Mapped[datetime] = mapped_column(UtcDateTime)  # not before (a reminder the day before)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    provider_id: Mapped[str | None] = mapped_column(String(120))  # the provider's id for the message
    provider_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FollowUpCall(Base):
    """A call customer service owes a customer: the 3-day call after a delivery (3DC), the 7-day call after a new
    car's sale, the second call after a complaint's resolution. Due on `due_on`; unreachable moves it to the next
    day until the attempts run out."""

    __tablename__ = "follow_up_calls"
    __table_args__ = (Index("ix_follow_up_calls_due", "site_id", "status", "due_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))  # shopfloor.domain.aftersales.FollowUpKind
    dedup_key: Mapped[str] = mapped_column(String(80), unique=True)  # "3dc:RO…", "7dc:vehicle:12", "complaint:3"
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    repair_order_id: Mapped[int | None] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))  # a complaint's second call
    raised_complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))  # this call raised it
    due_on: Mapped[date] = mapped_column(Date)
    first_due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # due | done | gave_up
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outcome: Mapped[str | None] = mapped_column(String(12))  # satisfied | problem | unreachable (the last)
    score: Mapped[int | None] = mapped_column(Integer)  # 1–10 when satisfied (CSI)
    problem_class: Mapped[str | None] = mapped_column(String(20))  # shopfloor.domain.aftersales.ProblemClass
    note: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    called_by: Mapped[str | None] = mapped_column(String(80))
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))  # a problem booked in
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    attempts_made: Mapped[list[FollowUpAttempt]] = relationship(order_by="FollowUpAttempt.id", viewonly=True)


class FollowUpAttempt(Base):
    """One try at a follow-up call (reach rate: calls answered ÷ calls tried). Rows are never updated."""

    __tablename__ = "follow_up_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up_calls.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))


class Complaint(Base):
    """A customer's complaint (domain.md §5): registered from a call, at the desk or on the customer's page; an
    owner, the acknowledgement and investigation deadlines, the resolution and the second follow-up call. An
    important one (safety, large loss, media, lawyer, police, consumer association) escalates at once."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_site_status", "site_id", "status"),
                      Index("ix_complaints_site_opened", "site_id", "opened_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(32))
    repair_order_id: Mapped[int | None] = mapped_column(ForeignKey("repair_orders.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    source: Mapped[str] = mapped_column(String(20))  # call | desk | customer_page | api
    problem_class: Mapped[str] = mapped_column(String(20))  # shopfloor.domain.aftersales.ProblemClass
    severity: Mapped[str] = mapped_column(String(10))  # normal | important
    important_because: Mapped[str | None] = mapped_column(String(30))  # ImportantReason
    description: Mapped[str] = mapped_column(Text)  # the customer's complaint in their words (the API's "text")
    status: Mapped[str] = mapped_column(String(14))  # open | acknowledged | investigated | resolved | closed
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"))  # a staff member
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_by: Mapped[str] = mapped_column(String(80))
    acknowledge_by: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    investigate_by: Mapped[datetime] = mapped_column(UtcDateTime)
    investigated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    findings: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    resolution: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
