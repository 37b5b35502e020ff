"""0012: steps 9–12 (domain.md §4–5): payments and refunds, the customers' message outbox, follow-up calls and
their attempts, complaints; the completion check, settlement, delivery and next service on the repair order; the
customer's e-mail and WeChat openid"""

import sqlalchemy as sa
from alembic import op

from shopfloor.domain.models import UtcDateTime

revision, down_revision = "0012", "0011"
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("repair_order_id", sa.Integer(), nullable=True),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("problem_class", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("important_because", sa.String(length=30), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("acknowledge_by", UtcDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("investigate_by", UtcDateTime(timezone=True), nullable=False),
        sa.Column("investigated_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("findings", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("resolution", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("resolved_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["advisors.id"],
        ),
        sa.ForeignKeyConstraint(
            ["repair_order_id"],
            ["repair_orders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_complaints_repair_order_id"), "complaints", ["repair_order_id"], unique=False)
    op.create_index("ix_complaints_site_opened", "complaints", ["site_id", "opened_at"], unique=False)
    op.create_index("ix_complaints_site_status", "complaints", ["site_id", "status"], unique=False)
    op.create_table(
        "customer_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("repair_order_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("dedup_key", sa.String(length=120), nullable=False),
        sa.Column("template", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), server_default=sa.text("''"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("send_after", UtcDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("provider_id", sa.String(length=120), nullable=True),
        sa.Column("provider_reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("sent_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["repair_order_id"],
            ["repair_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index(op.f("ix_customer_messages_appointment_id"), "customer_messages", ["appointment_id"], unique=False)
    op.create_index(op.f("ix_customer_messages_customer_id"), "customer_messages", ["customer_id"], unique=False)
    op.create_index("ix_customer_messages_due", "customer_messages", ["site_id", "state", "send_after"], unique=False)
    op.create_index(
        op.f("ix_customer_messages_repair_order_id"), "customer_messages", ["repair_order_id"], unique=False
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("repair_order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tendered", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("reference", sa.String(length=100), server_default=sa.text("''"), nullable=False),
        sa.Column("reason", sa.String(length=200), server_default=sa.text("''"), nullable=False),
        sa.Column("refund_of_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["refund_of_id"],
            ["payments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["repair_order_id"],
            ["repair_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_payments_repair_order_id"), "payments", ["repair_order_id"], unique=False)
    op.create_index("ix_payments_site_at", "payments", ["site_id", "at"], unique=False)
    op.create_table(
        "follow_up_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dedup_key", sa.String(length=80), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("repair_order_id", sa.Integer(), nullable=True),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("raised_complaint_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("first_due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("problem_class", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("called_by", sa.String(length=80), nullable=True),
        sa.Column("called_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.ForeignKeyConstraint(
            ["raised_complaint_id"],
            ["complaints.id"],
        ),
        sa.ForeignKeyConstraint(
            ["repair_order_id"],
            ["repair_orders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_follow_up_calls_due", "follow_up_calls", ["site_id", "status", "due_on"], unique=False)
    op.create_index(op.f("ix_follow_up_calls_repair_order_id"), "follow_up_calls", ["repair_order_id"], unique=False)
    op.create_index(op.f("ix_follow_up_calls_vehicle_id"), "follow_up_calls", ["vehicle_id"], unique=False)
    op.create_table(
        "follow_up_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_up_calls.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_follow_up_attempts_follow_up_id"), "follow_up_attempts", ["follow_up_id"], unique=False)
    op.add_column("customers", sa.Column("email", sa.String(length=200), server_default=sa.text("''"), nullable=False))
    op.add_column(
        "customers", sa.Column("wechat_openid", sa.String(length=64), server_default=sa.text("''"), nullable=False)
    )
    op.add_column("repair_orders", sa.Column("wash_ordered", sa.Boolean(), nullable=True))
    op.add_column("repair_orders", sa.Column("completion", sa.JSON(), nullable=True))
    op.add_column("repair_orders", sa.Column("completion_checked_at", UtcDateTime(timezone=True), nullable=True))
    op.add_column("repair_orders", sa.Column("completion_checked_by", sa.String(length=80), nullable=True))
    op.add_column("repair_orders", sa.Column("customer_notified_at", UtcDateTime(timezone=True), nullable=True))
    op.add_column("repair_orders", sa.Column("settled_at", UtcDateTime(timezone=True), nullable=True))
    op.add_column("repair_orders", sa.Column("delivery_walk", sa.JSON(), nullable=True))
    op.add_column("repair_orders", sa.Column("delivered_by", sa.String(length=80), nullable=True))
    op.add_column("repair_orders", sa.Column("next_service_on", sa.Date(), nullable=True))
    op.add_column("repair_orders", sa.Column("next_service_km", sa.Integer(), nullable=True))


def downgrade() -> None:
    for column in (
        "next_service_km",
        "next_service_on",
        "delivered_by",
        "delivery_walk",
        "settled_at",
        "customer_notified_at",
        "completion_checked_by",
        "completion_checked_at",
        "completion",
        "wash_ordered",
    ):
        op.execute(f"ALTER TABLE repair_orders DROP COLUMN {column}")
    op.execute("ALTER TABLE customers DROP COLUMN wechat_openid")
    op.execute("ALTER TABLE customers DROP COLUMN email")
    op.drop_table("follow_up_attempts")
    op.drop_table("follow_up_calls")
    op.drop_table("payments")
    op.drop_table("customer_messages")
    op.drop_table("complaints")
