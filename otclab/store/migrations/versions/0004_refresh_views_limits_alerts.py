"""risk refreshes: market time and the dashboard's views on snapshots; limit breaches; alerts

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('risk_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('market_time', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('views', sa.JSON(), nullable=True))
        batch_op.create_index('ix_risk_snapshots_kind_date', ['kind', 'valuation_date', 'id'], unique=False)
    op.create_table('limit_breaches',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('snapshot_id', sa.Integer(), nullable=False),
                    sa.Column('scope', sa.String(length=16), nullable=False),
                    sa.Column('measure', sa.String(length=32), nullable=False),
                    sa.Column('value', sa.Double(), nullable=False),
                    sa.Column('limit', sa.Double(), nullable=False),
                    sa.Column('utilisation', sa.Double(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['snapshot_id'], ['risk_snapshots.id'],
                                            name=op.f('fk_limit_breaches_snapshot_id_risk_snapshots')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_limit_breaches')))
    op.create_table('alerts',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('key', sa.String(length=128), nullable=False),
                    sa.Column('snapshot_id', sa.Integer(), nullable=True),
                    sa.Column('kind', sa.String(length=24), nullable=False),
                    sa.Column('message', sa.Text(), nullable=False),
                    sa.Column('status', sa.String(length=8), nullable=False),
                    sa.Column('error', sa.Text(), nullable=True),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['snapshot_id'], ['risk_snapshots.id'],
                                            name=op.f('fk_alerts_snapshot_id_risk_snapshots')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')))
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_key', ['key'], unique=False)


def downgrade() -> None:
    op.drop_table('alerts')
    op.drop_table('limit_breaches')
    with op.batch_alter_table('risk_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_snapshots_kind_date')
        batch_op.drop_column('views')
        batch_op.drop_column('market_time')
