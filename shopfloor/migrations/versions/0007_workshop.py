"""0007: the workshop: job lines worked on their own, technicians' badges, clockings, promises, additional work, quality
checks, the rework register, cars carried over"""

import base64
import secrets

import sqlalchemy as sa
from alembic import op

import shopfloor.domain.models  # noqa: F401  (custom column types)
from shopfloor.domain.models import UtcDateTime

revision, down_revision = "0007", "0006"
branch_labels = depends_on = None

# what each status of an order made of its lines, before lines had their own
LINE_STATUS = """CASE (SELECT r.status FROM repair_orders r WHERE r.id = job_lines.repair_order_id)
    WHEN 'dispatched' THEN 'dispatched' WHEN 'in_progress' THEN 'in_progress' WHEN 'on_hold' THEN 'paused'
    WHEN 'quality_check' THEN 'done' WHEN 'ready' THEN 'done' WHEN 'delivered' THEN 'done'
    WHEN 'cancelled' THEN 'cancelled' ELSE 'waiting' END"""


def _badge() -> str:
    # as shopfloor.domain.workshop.new_badge_token (a migration keeps its own copy of what it writes)
    return "SFB-" + base64.b32encode(secrets.token_bytes(15)).decode("ascii")

def upgrade() -> None:
    op.add_column('technicians', sa.Column('badge', sa.String(length=40), server_default=sa.text("''"),
                                           nullable=False))
    bind = op.get_bind()
    for (tech_id,) in bind.execute(sa.text("SELECT id FROM technicians")).all():
        bind.execute(sa.text("UPDATE technicians SET badge = :badge WHERE id = :id"), {"badge": _badge(), "id": tech_id})
    op.create_index('ux_technicians_badge', 'technicians', ['badge'], unique=True)

    op.add_column('repair_orders', sa.Column('projected_ready_at', UtcDateTime(timezone=True), nullable=True))
    op.add_column('repair_orders', sa.Column('risk', sa.String(length=10), server_default='on_time', nullable=False))
    op.add_column('repair_orders', sa.Column('qc_round', sa.Integer(), server_default='0', nullable=False))

    op.add_column('job_lines', sa.Column('status', sa.String(length=20), server_default='waiting', nullable=False))
    op.add_column('job_lines', sa.Column('pause_reason', sa.String(length=20), nullable=True))
    op.add_column('job_lines', sa.Column('origin', sa.String(length=12), server_default='checkin', nullable=False))
    op.add_column('job_lines', sa.Column('finished_at', UtcDateTime(timezone=True), nullable=True))

    op.create_table('job_line_technicians',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_line_id', sa.Integer(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('dispatched_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('dispatched_by', sa.String(length=80), nullable=False),
    sa.Column('override_rules', sa.String(length=40), nullable=True),
    sa.Column('override_reason', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['job_line_id'], ['job_lines.id'], ),
    sa.ForeignKeyConstraint(['technician_id'], ['technicians.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_line_id', 'technician_id')
    )
    op.create_index('ix_job_line_technicians_technician', 'job_line_technicians', ['technician_id'], unique=False)

    op.create_table('clockings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('repair_order_id', sa.Integer(), nullable=False),
    sa.Column('started_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', UtcDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('pause_reason', sa.String(length=20), nullable=True),
    sa.Column('assumed', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('started_by', sa.String(length=80), nullable=False),
    sa.Column('ended_by', sa.String(length=80), nullable=True),
    sa.Column('confirmed_by', sa.String(length=80), nullable=True),
    sa.Column('confirmed_at', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id'], ),
    sa.ForeignKeyConstraint(['technician_id'], ['technicians.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_clockings_open_per_technician', 'clockings', ['technician_id'], unique=True,
                    sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
    op.create_index('ix_clockings_technician_started', 'clockings', ['technician_id', 'started_at'], unique=False)
    op.create_index('ix_clockings_site_started', 'clockings', ['site_id', 'started_at'], unique=False)
    op.create_index(op.f('ix_clockings_repair_order_id'), 'clockings', ['repair_order_id'], unique=False)

    op.create_table('clocking_lines',
    sa.Column('clocking_id', sa.Integer(), nullable=False),
    sa.Column('job_line_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clocking_id'], ['clockings.id'], ),
    sa.ForeignKeyConstraint(['job_line_id'], ['job_lines.id'], ),
    sa.PrimaryKeyConstraint('clocking_id', 'job_line_id')
    )
    op.create_index(op.f('ix_clocking_lines_job_line_id'), 'clocking_lines', ['job_line_id'], unique=False)

    op.create_table('promises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repair_order_id', sa.Integer(), nullable=False),
    sa.Column('promised_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('customer_told', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_promises_repair_order_id'), 'promises', ['repair_order_id'], unique=False)

    op.create_table('additional_work',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repair_order_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('operation_code', sa.String(length=20), nullable=True),
    sa.Column('hours', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('skill', sa.String(length=20), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reported_by', sa.String(length=80), nullable=False),
    sa.Column('reported_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('decision_method', sa.String(length=20), nullable=True),
    sa.Column('decision_reason', sa.String(length=200), nullable=True),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', UtcDateTime(timezone=True), nullable=True),
    sa.Column('job_line_id', sa.Integer(), nullable=True),
    sa.Column('vehicle_item_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['job_line_id'], ['job_lines.id'], ),
    sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id'], ),
    sa.ForeignKeyConstraint(['technician_id'], ['technicians.id'], ),
    sa.ForeignKeyConstraint(['vehicle_item_id'], ['vehicle_items.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_additional_work_repair_order_id'), 'additional_work', ['repair_order_id'], unique=False)

    op.create_table('qc_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repair_order_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('responsible_technician_id', sa.Integer(), nullable=True),
    sa.Column('found_by', sa.String(length=80), nullable=False),
    sa.Column('at', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id'], ),
    sa.ForeignKeyConstraint(['responsible_technician_id'], ['technicians.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_qc_results_repair_order_id'), 'qc_results', ['repair_order_id'], unique=False)

    op.create_table('rework',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('repair_order_id', sa.Integer(), nullable=False),
    sa.Column('job_line_id', sa.Integer(), nullable=False),
    sa.Column('qc_result_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('found_by', sa.String(length=80), nullable=False),
    sa.Column('responsible_technician_id', sa.Integer(), nullable=True),
    sa.Column('at', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_line_id'], ['job_lines.id'], ),
    sa.ForeignKeyConstraint(['qc_result_id'], ['qc_results.id'], ),
    sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id'], ),
    sa.ForeignKeyConstraint(['responsible_technician_id'], ['technicians.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_rework_site_at', 'rework', ['site_id', 'at'], unique=False)
    op.create_index(op.f('ix_rework_repair_order_id'), 'rework', ['repair_order_id'], unique=False)

    op.create_table('carry_overs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('repair_order_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('remaining_hours', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('repair_order_id', 'day')
    )
    op.create_index('ix_carry_overs_site_day', 'carry_overs', ['site_id', 'day'], unique=False)

    # The orders already open keep their status: their lines take the status it meant, the order's technician
    # becomes each line's, and the time promised at check-in becomes their first promise.
    op.execute(f"UPDATE job_lines SET status = {LINE_STATUS}")
    op.execute("UPDATE job_lines SET pause_reason = COALESCE((SELECT r.hold_reason FROM repair_orders r "
               "WHERE r.id = job_lines.repair_order_id), 'other') WHERE status = 'paused'")
    op.execute("INSERT INTO job_line_technicians (job_line_id, technician_id, sequence, dispatched_at, dispatched_by) "
               "SELECT j.id, r.technician_id, 0, r.opened_at, '' FROM job_lines j "
               "JOIN repair_orders r ON r.id = j.repair_order_id "
               "WHERE r.technician_id IS NOT NULL AND j.status <> 'waiting'")
    op.execute("INSERT INTO promises (repair_order_id, promised_at, kind, reason, customer_told, recorded_by, "
               "recorded_at) SELECT r.id, r.promised_at, 'checkin', '', true, COALESCE(a.name, ''), r.opened_at "
               "FROM repair_orders r LEFT JOIN advisors a ON a.id = r.advisor_id WHERE r.promised_at IS NOT NULL")


def downgrade() -> None:
    for table in ('carry_overs', 'rework', 'qc_results', 'additional_work', 'promises', 'clocking_lines', 'clockings',
                  'job_line_technicians'):
        op.drop_table(table)
    op.drop_index('ux_technicians_badge', table_name='technicians')
    # plain ALTER TABLE … DROP COLUMN on both databases: on SQLite a batch copy would drop tables others refer to
    for table, column in (('job_lines', 'finished_at'), ('job_lines', 'origin'), ('job_lines', 'pause_reason'),
                          ('job_lines', 'status'), ('repair_orders', 'qc_round'), ('repair_orders', 'risk'),
                          ('repair_orders', 'projected_ready_at'), ('technicians', 'badge')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
