"""0008: the indexes of orders by opening time cover only orders not cancelled, so that reads of open orders keep the
status index"""

import sqlalchemy as sa
from alembic import op

import shopfloor.domain.models  # noqa: F401  (custom column types)

revision, down_revision = "0008", "0007"
branch_labels = depends_on = None

NOT_CANCELLED = "status != 'cancelled'"
INDEXES = [
    ('ix_repair_orders_site_opened', ['site_id', 'opened_at']),
    ('ix_repair_orders_vehicle_visits', ['site_id', 'vehicle_id', 'opened_at', 'status', 'mileage_km']),
]

def upgrade() -> None:
    for name, columns in INDEXES:
        op.drop_index(name, table_name='repair_orders')
        op.create_index(name, 'repair_orders', columns, unique=False, sqlite_where=sa.text(NOT_CANCELLED),
                        postgresql_where=sa.text(NOT_CANCELLED))


def downgrade() -> None:
    for name, columns in INDEXES:
        op.drop_index(name, table_name='repair_orders')
        op.create_index(name, 'repair_orders', columns, unique=False)
