"""0004: staff hold several roles; the audit log of every change"""

import sqlalchemy as sa
from alembic import op

import shopfloor.domain.models  # noqa: F401  (custom column types)

revision, down_revision = "0004", "0003"
branch_labels = depends_on = None


def upgrade() -> None:
    # One role per person becomes a comma-separated set; today's single values are valid sets. On SQLite a
    # batch copy would drop a table that other tables refer to: add, copy, drop the column in place instead.
    if op.get_bind().dialect.name == 'sqlite':
        op.add_column('advisors', sa.Column('roles', sa.String(length=120), server_default='advisor',
                                            nullable=False))
        op.execute("UPDATE advisors SET roles = role")
        op.execute("ALTER TABLE advisors DROP COLUMN role")
    else:
        op.alter_column('advisors', 'role', new_column_name='roles', existing_type=sa.String(length=20),
                        type_=sa.String(length=120), existing_server_default='advisor', existing_nullable=False)
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('at', shopfloor.domain.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('actor_kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_value', sa.String(length=200), nullable=True),
    sa.Column('to_value', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_entity', ['site_id', 'entity', 'entity_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_at', ['site_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')
        batch_op.drop_index('ix_audit_log_entity')
    op.drop_table('audit_log')
    # A person with several roles keeps the first: the old schema holds one.
    op.execute("UPDATE advisors SET roles = substr(roles, 1, instr(roles || ',', ',') - 1)"
               if op.get_bind().dialect.name == 'sqlite' else
               "UPDATE advisors SET roles = split_part(roles, ',', 1)")
    if op.get_bind().dialect.name == 'sqlite':
        op.add_column('advisors', sa.Column('role', sa.String(length=20), server_default='advisor', nullable=False))
        op.execute("UPDATE advisors SET role = roles")
        op.execute("ALTER TABLE advisors DROP COLUMN roles")
    else:
        op.alter_column('advisors', 'roles', new_column_name='role', existing_type=sa.String(length=120),
                        type_=sa.String(length=20), existing_server_default='advisor', existing_nullable=False)
