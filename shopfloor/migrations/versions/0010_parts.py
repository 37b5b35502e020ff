"""0010: the parts counter: the catalogue with the stock on hand, and the parts lines of job lines (issued, returned,
on back-order with an ETA)"""

import sqlalchemy as sa
from alembic import op

from shopfloor.domain.models import UtcDateTime

revision, down_revision = "0010", "0009"
branch_labels = depends_on = None

QUANTITY = sa.Numeric(precision=10, scale=2)


def upgrade() -> None:
    op.create_table(
        'parts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=32), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('price', QUANTITY, nullable=False),
        sa.Column('stock', QUANTITY, nullable=False),
        sa.Column('updated_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('site_id', 'number'))
    op.create_table(
        'parts_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('repair_order_id', sa.Integer(), nullable=False),
        sa.Column('job_line_id', sa.Integer(), nullable=False),
        sa.Column('part_id', sa.Integer(), nullable=True),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('quantity', QUANTITY, nullable=False),
        sa.Column('unit_price', QUANTITY, nullable=False),
        sa.Column('issued', QUANTITY, nullable=False),
        sa.Column('returned', QUANTITY, nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('eta', sa.Date(), nullable=True),
        sa.Column('back_ordered_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('arrived_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id']),
        sa.ForeignKeyConstraint(['job_line_id'], ['job_lines.id']),
        sa.ForeignKeyConstraint(['part_id'], ['parts.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_parts_lines_repair_order_id', 'parts_lines', ['repair_order_id'])
    op.create_index('ix_parts_lines_job_line_id', 'parts_lines', ['job_line_id'])
    op.create_index('ix_parts_lines_status', 'parts_lines', ['status'])


def downgrade() -> None:
    op.drop_table('parts_lines')
    op.drop_table('parts')
