"""0009: a photo on additional work (the technician shows the customer what was found); an order marked as a comeback
of an earlier visit (the same concern back within [workshop] comeback_days), with who marked it"""

import sqlalchemy as sa
from alembic import op

import shopfloor.domain.models  # noqa: F401  (custom column types)

revision, down_revision = "0009", "0008"
branch_labels = depends_on = None


def upgrade() -> None:
    op.add_column("additional_work", sa.Column("photo", sa.String(length=120), nullable=True))
    # no batch copy on SQLite: it would drop repair_orders, which other tables refer to; SQLite adds a column with
    # its REFERENCES clause in place
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # a downgrade on SQLite leaves the column (see there): then it is already here
        if "comeback_of_id" not in {c["name"] for c in sa.inspect(bind).get_columns("repair_orders")}:
            op.execute("ALTER TABLE repair_orders ADD COLUMN comeback_of_id INTEGER REFERENCES repair_orders (id)")
    else:
        op.add_column("repair_orders", sa.Column("comeback_of_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_repair_orders_comeback_of", "repair_orders", "repair_orders",
                              ["comeback_of_id"], ["id"])
    op.add_column("repair_orders", sa.Column("comeback_marked_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_repair_orders_comeback_of", "repair_orders", type_="foreignkey")
        op.drop_column("repair_orders", "comeback_of_id")
    else:
        # SQLite cannot drop a column that references a table (and a batch copy would drop repair_orders, which
        # other tables refer to): the column stays, unused by 0008's code, and 0009 finds it again
        pass
    op.execute("ALTER TABLE repair_orders DROP COLUMN comeback_marked_by")
    op.execute("ALTER TABLE additional_work DROP COLUMN photo")
