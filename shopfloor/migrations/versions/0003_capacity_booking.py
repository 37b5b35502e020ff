"""0003: capacity booking: shifts, leave, holidays, booking details and overrides, solicitation dates"""

import sqlalchemy as sa
from alembic import op

import shopfloor.domain.models  # noqa: F401  (custom column types)

revision, down_revision = "0003", "0002"
branch_labels = depends_on = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('holidays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'day')
    )
    op.create_table('shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.Column('break_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['technician_id'], ['technicians.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('technician_id', 'weekday')
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shifts_technician_id'), ['technician_id'], unique=False)

    op.create_table('technician_leave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=4, scale=2), nullable=True),
    sa.Column('reason', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['technician_id'], ['technicians.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('technician_leave', schema=None) as batch_op:
        batch_op.create_index('ix_leave_day', ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_technician_leave_technician_id'), ['technician_id'], unique=False)

    op.create_table('vehicle_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vehicle_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('part_numbers', sa.String(length=200), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('eta', sa.Date(), nullable=True),
    sa.Column('arrived_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vehicle_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicle_items_vehicle_id'), ['vehicle_id'], unique=False)

    op.create_table('booking_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('at', shopfloor.domain.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('booking_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_overrides_appointment_id'), ['appointment_id'], unique=False)

    with op.batch_alter_table('advisors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), server_default='advisor', nullable=False))

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_lines', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('skill', sa.String(length=20), server_default='maintenance', nullable=False))
        batch_op.add_column(sa.Column('equipment', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='passive', nullable=False))
        batch_op.add_column(sa.Column('parts_status', sa.String(length=12), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('parts_eta', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('parts_numbers', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('waiting_customer', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('road_test', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('repeat_repair', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('complaining_customer', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('notes', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('created_at', shopfloor.domain.models.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('created_by', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('call_outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('called_at', shopfloor.domain.models.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('called_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('no_show_at', shopfloor.domain.models.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rebooked_as_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('external_ref', sa.String(length=60), nullable=True))
        batch_op.create_foreign_key('fk_appointments_rebooked_as', 'appointments', ['rebooked_as_id'], ['id'])

    # existing rows got '[]' (one line of the appointment's hours); new rows always name their lines
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.alter_column('job_lines', server_default=None)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_channel', sa.String(length=10), server_default='sms', nullable=False))
        batch_op.add_column(sa.Column('complaining', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('address', sa.String(length=200), server_default='', nullable=False))

    with op.batch_alter_table('labour_operations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('equipment', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('interval_km', sa.Integer(), nullable=True))

    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sold_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('mileage_at', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_service_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_service_km', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('insurance_expires_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('inspection_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('warranty_expires_on', sa.Date(), nullable=True))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_column('warranty_expires_on')
        batch_op.drop_column('inspection_due_on')
        batch_op.drop_column('insurance_expires_on')
        batch_op.drop_column('last_service_km')
        batch_op.drop_column('last_service_on')
        batch_op.drop_column('mileage_at')
        batch_op.drop_column('sold_on')

    with op.batch_alter_table('labour_operations', schema=None) as batch_op:
        batch_op.drop_column('interval_km')
        batch_op.drop_column('equipment')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('complaining')
        batch_op.drop_column('preferred_channel')

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint('fk_appointments_rebooked_as', type_='foreignkey')
        batch_op.drop_column('external_ref')
        batch_op.drop_column('rebooked_as_id')
        batch_op.drop_column('no_show_at')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('called_by')
        batch_op.drop_column('called_at')
        batch_op.drop_column('call_outcome')
        batch_op.drop_column('created_by')
        batch_op.drop_column('created_at')
        batch_op.drop_column('notes')
        batch_op.drop_column('complaining_customer')
        batch_op.drop_column('repeat_repair')
        batch_op.drop_column('road_test')
        batch_op.drop_column('waiting_customer')
        batch_op.drop_column('parts_numbers')
        batch_op.drop_column('parts_eta')
        batch_op.drop_column('parts_status')
        batch_op.drop_column('source')
        batch_op.drop_column('equipment')
        batch_op.drop_column('skill')
        batch_op.drop_column('job_lines')

    with op.batch_alter_table('advisors', schema=None) as batch_op:
        batch_op.drop_column('role')

    with op.batch_alter_table('booking_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_overrides_appointment_id'))

    op.drop_table('booking_overrides')
    with op.batch_alter_table('vehicle_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicle_items_vehicle_id'))

    op.drop_table('vehicle_items')
    with op.batch_alter_table('technician_leave', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_technician_leave_technician_id'))
        batch_op.drop_index('ix_leave_day')

    op.drop_table('technician_leave')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shifts_technician_id'))

    op.drop_table('shifts')
    op.drop_table('holidays')
