"""0005: a year of history: indexes for the reads that grew with it, the figures of closed days kept per day"""

import sqlalchemy as sa
from alembic import op

import shopfloor.domain.models  # noqa: F401  (custom column types)

revision, down_revision = "0005", "0004"
branch_labels = depends_on = None

# (index, table, columns): each was a scan of the whole table on a store with a year of history
INDEXES = [
    ('ix_repair_orders_appointment', 'repair_orders', ['appointment_id']),  # republish: an appointment's order
    ('ix_repair_orders_site_opened', 'repair_orders', ['site_id', 'opened_at']),  # figures, call lists
    ('ix_repair_orders_site_closed', 'repair_orders', ['site_id', 'closed_at']),  # republish: closed today
    # call lists: each car's last visit, odometer reading and service, read from the index alone
    ('ix_repair_orders_vehicle_visits', 'repair_orders', ['site_id', 'vehicle_id', 'opened_at', 'status',
                                                          'mileage_km']),
    ('ix_customers_site_phone', 'customers', ['site_id', 'phone']),  # DMS import: a new vehicle's customer
    ('ix_appointments_site_external_ref', 'appointments', ['site_id', 'external_ref']),  # DMS import: re-import
    ('ix_print_jobs_site_status', 'print_jobs', ['site_id', 'status', 'finished_at']),  # pending jobs, pruning
]

def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_table('figures_days',
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('basis', sa.String(length=64), nullable=False),
    sa.Column('repair_orders', sa.Integer(), nullable=False),
    sa.Column('by_appointment', sa.Integer(), nullable=False),
    sa.Column('appointments', sa.Integer(), nullable=False),
    sa.Column('arrived', sa.Integer(), nullable=False),
    sa.Column('no_show', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('hours_maintenance', sa.Double(), nullable=False),
    sa.Column('hours_repair', sa.Double(), nullable=False),
    sa.Column('sold', sa.Double(), nullable=False),
    sa.Column('available', sa.Double(), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('carried', sa.JSON(), nullable=False),
    sa.Column('computed_at', shopfloor.domain.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'day')
    )
    op.create_table('figures_epochs',
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('site_id')
    )


def downgrade() -> None:
    op.drop_table('figures_epochs')
    op.drop_table('figures_days')
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
