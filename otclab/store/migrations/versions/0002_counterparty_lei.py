"""counterparty LEI on trade versions (clients without a USCC: foreign entities)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('trade_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counterparty_lei', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('trade_versions', schema=None) as batch_op:
        batch_op.drop_column('counterparty_lei')
