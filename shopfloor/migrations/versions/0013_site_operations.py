"""0013: running a real site (issue 13): integrations' API clients and the wall screens' display tokens, each
issued and revoked at /setup (hashes only); a one-time PIN that asks for the person's own; bays and labour
operations taken out of use;
a customer's personal data erased on request (PIPL)"""

import sqlalchemy as sa
from alembic import op

from shopfloor.domain.models import UtcDateTime

revision, down_revision = "0013", "0012"
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("roles", sa.String(length=120), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("revoked_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.Column("last_used_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "name"),
    )
    op.create_index("ux_api_clients_token", "api_clients", ["token_sha256"], unique=True)
    op.create_table(
        "display_screens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("revoked_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.Column("last_seen_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "name"),
    )
    op.create_index("ux_display_screens_token", "display_screens", ["token_sha256"], unique=True)
    with op.batch_alter_table("advisors") as batch_op:
        batch_op.add_column(sa.Column("pin_must_change", sa.Boolean(), server_default="0", nullable=False))
    with op.batch_alter_table("bays") as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default="1", nullable=False))
    with op.batch_alter_table("labour_operations") as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default="1", nullable=False))
    op.add_column("customers", sa.Column("erased_at", UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("labour_operations") as batch_op:
        batch_op.drop_column("active")
    with op.batch_alter_table("bays") as batch_op:
        batch_op.drop_column("active")
    with op.batch_alter_table("advisors") as batch_op:
        batch_op.drop_column("pin_must_change")
    op.drop_index("ux_display_screens_token", table_name="display_screens")
    op.drop_table("display_screens")
    op.drop_index("ux_api_clients_token", table_name="api_clients")
    op.drop_table("api_clients")
