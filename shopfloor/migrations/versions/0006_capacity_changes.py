"""0006: capacity changes: the days whose capacity state the refresher must publish, marked in the change's transaction"""

import sqlalchemy as sa
from alembic import op

import shopfloor.domain.models  # noqa: F401  (custom column types)

revision, down_revision = "0006", "0005"
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_table('capacity_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('capacity_changes', schema=None) as batch_op:
        batch_op.create_index('ix_capacity_changes_site_day', ['site_id', 'day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('capacity_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_capacity_changes_site_day')
    op.drop_table('capacity_changes')
