"""0011: reception (domain.md §3): the walkaround with damage marks and photos, the signed documents (estimate
versions, handover record), the customer's page token, who pays a job line, what an operation measures"""

import secrets

import sqlalchemy as sa
from alembic import op

from shopfloor.domain.models import UtcDateTime

revision, down_revision = "0011", "0010"
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_table(
        'order_photos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('repair_order_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('uploaded_by', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'))
    op.create_index('ix_order_photos_repair_order_id', 'order_photos', ['repair_order_id'])
    op.create_table(
        'walkarounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('repair_order_id', sa.Integer(), nullable=False),
        sa.Column('mileage_km', sa.Integer(), nullable=True),
        sa.Column('fuel_eighths', sa.Integer(), nullable=True),
        sa.Column('protection_kit', sa.Boolean(), nullable=False),
        sa.Column('valuables_taken', sa.Boolean(), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('explained', sa.Boolean(), nullable=False),
        sa.Column('recorded_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('repair_order_id'))
    op.create_table(
        'damage_marks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('repair_order_id', sa.Integer(), nullable=False),
        sa.Column('vehicle_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('x', sa.Float(), nullable=False),
        sa.Column('y', sa.Float(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id']),
        sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id']),
        sa.ForeignKeyConstraint(['photo_id'], ['order_photos.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_damage_marks_repair_order_id', 'damage_marks', ['repair_order_id'])
    op.create_index('ix_damage_marks_vehicle_id', 'damage_marks', ['vehicle_id'])
    op.create_table(
        'signed_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('repair_order_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('content_digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('signed_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('signer', sa.String(length=80), nullable=True),
        sa.Column('signature_png', sa.LargeBinary(), nullable=True),
        sa.Column('digest', sa.String(length=64), nullable=True),
        sa.Column('witnessed_by', sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(['repair_order_id'], ['repair_orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('repair_order_id', 'kind', 'version'))
    op.create_index('ix_signed_documents_repair_order_id', 'signed_documents', ['repair_order_id'])

    op.add_column('repair_orders', sa.Column('customer_token', sa.String(length=64), nullable=True))
    op.add_column('repair_orders', sa.Column('discount', sa.Numeric(precision=10, scale=2), nullable=False,
                                             server_default='0'))
    op.add_column('repair_orders', sa.Column('discount_reason', sa.String(length=200), nullable=False,
                                             server_default=sa.text("''")))
    op.add_column('repair_orders', sa.Column('keep_replaced_parts', sa.Boolean(), nullable=True))
    op.add_column('repair_orders', sa.Column('followup_channel', sa.String(length=12), nullable=True))
    op.add_column('repair_orders', sa.Column('customer_leaves_car', sa.Boolean(), nullable=True))
    op.add_column('job_lines', sa.Column('payer', sa.String(length=12), nullable=False, server_default='customer'))
    op.add_column('labour_operations', sa.Column('measurements', sa.String(length=100), nullable=False,
                                                 server_default=sa.text("''")))
    # every order already here gets its customer link too (the token is random, never derived from the number)
    bind = op.get_bind()
    orders = sa.table('repair_orders', sa.column('id', sa.Integer()), sa.column('customer_token', sa.String()))
    for (order_id,) in bind.execute(sa.select(orders.c.id)).all():
        bind.execute(orders.update().where(orders.c.id == order_id).values(customer_token=secrets.token_urlsafe(24)))
    op.create_index('ix_repair_orders_customer_token', 'repair_orders', ['customer_token'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_repair_orders_customer_token', table_name='repair_orders')
    for column in ('customer_leaves_car', 'followup_channel', 'keep_replaced_parts', 'discount_reason', 'discount',
                   'customer_token'):
        op.execute(f"ALTER TABLE repair_orders DROP COLUMN {column}")
    op.execute("ALTER TABLE job_lines DROP COLUMN payer")
    op.execute("ALTER TABLE labour_operations DROP COLUMN measurements")
    op.drop_table('signed_documents')
    op.drop_table('damage_marks')
    op.drop_table('walkarounds')
    op.drop_table('order_photos')
