"""the indexes of orders by opening time cover only orders not cancelled, so that reads of open orders keep the
status index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:30:00

SQLite has no statistics on how few orders are open: with (site_id, opened_at) or the call lists' covering index
at hand, its planner took them for `status IN (open…) AND opened_at < …` (the capacity's walk-ins and carried-over
cars, read on every check-in and move; the workshop's carry-over) and read every order there ever was instead of
the few open ones. As partial indexes (WHERE status != 'cancelled'), they serve only the reads that say so (the
figures, the call lists).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

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
