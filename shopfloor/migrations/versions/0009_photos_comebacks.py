"""0009: a photo on additional work (the technician shows the customer what was found); an order marked as a comeback
of an earlier visit (the same concern back within [workshop] comeback_days), with who marked it"""

import sqlalchemy as sa
from alembic import op

import shopfloor.domain.models  # noqa: F401  (custom column types)

revision, down_revision = "0009", "0008"
branch_labels = depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("additional_work") as batch:
        batch.add_column(sa.Column("photo", sa.String(length=120), nullable=True))
    with op.batch_alter_table("repair_orders") as batch:
        batch.add_column(sa.Column("comeback_of_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("comeback_marked_by", sa.String(length=80), nullable=True))
        batch.create_foreign_key("fk_repair_orders_comeback_of", "repair_orders", ["comeback_of_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("repair_orders") as batch:
        batch.drop_constraint("fk_repair_orders_comeback_of", type_="foreignkey")
        batch.drop_column("comeback_marked_by")
        batch.drop_column("comeback_of_id")
    with op.batch_alter_table("additional_work") as batch:
        batch.drop_column("photo")
