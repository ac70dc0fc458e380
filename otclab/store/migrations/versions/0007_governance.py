"""template governance and scheduled validation (issue 16): template versions' states, validation runs, comparisons, approvals

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_table('validation_runs',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('template', sa.String(length=64), nullable=False),
                    sa.Column('version', sa.String(length=12), nullable=False),
                    sa.Column('notebook', sa.Text(), nullable=False),
                    sa.Column('status', sa.String(length=12), nullable=False),
                    sa.Column('trigger', sa.String(length=64), nullable=False),
                    sa.Column('owner', sa.String(length=128), nullable=False),
                    sa.Column('started_at', TS, nullable=False),
                    sa.Column('heartbeat_at', TS, nullable=False),
                    sa.Column('finished_at', TS, nullable=True),
                    sa.Column('seconds', sa.Double(), nullable=True),
                    sa.Column('executed', sa.Text(), nullable=True),
                    sa.Column('report', sa.Text(), nullable=True),
                    sa.Column('error', sa.Text(), nullable=True),
                    sa.Column('records', sa.JSON(), nullable=True),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_validation_runs')))
    with op.batch_alter_table('validation_runs', schema=None) as batch_op:
        batch_op.create_index('ix_validation_runs_template', ['template', 'version', 'id'], unique=False)
        batch_op.create_index('ux_validation_runs_running', ['template', 'version'], unique=True,
                              sqlite_where=RUNNING, postgresql_where=RUNNING)
    op.create_table('template_comparisons',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('desk_template', sa.String(length=64), nullable=False),
                    sa.Column('desk_version', sa.String(length=12), nullable=False),
                    sa.Column('risk_template', sa.String(length=64), nullable=False),
                    sa.Column('risk_version', sa.String(length=12), nullable=False),
                    sa.Column('cases', sa.JSON(), nullable=False),
                    sa.Column('paths', sa.Integer(), nullable=False),
                    sa.Column('seed', sa.Integer(), nullable=False),
                    sa.Column('tol', sa.Double(), nullable=False),
                    sa.Column('rows', sa.JSON(), nullable=False),
                    sa.Column('ok', sa.Boolean(), nullable=False),
                    sa.Column('compared_by', sa.String(length=64), nullable=False),
                    sa.Column('compared_at', TS, nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_comparisons')))
    with op.batch_alter_table('template_comparisons', schema=None) as batch_op:
        batch_op.create_index('ix_template_comparisons_desk', ['desk_template', 'desk_version'], unique=False)
    op.create_table('template_events',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('template', sa.String(length=64), nullable=False),
                    sa.Column('version', sa.String(length=12), nullable=False),
                    sa.Column('state', sa.String(length=12), nullable=False),
                    sa.Column('actor', sa.String(length=64), nullable=False),
                    sa.Column('at', TS, nullable=False),
                    sa.Column('reason', sa.Text(), nullable=True),
                    sa.Column('run_id', sa.Integer(), nullable=True),
                    sa.Column('comparison_id', sa.Integer(), nullable=True),
                    sa.ForeignKeyConstraint(['run_id'], ['validation_runs.id'],
                                            name=op.f('fk_template_events_run_id_validation_runs')),
                    sa.ForeignKeyConstraint(['comparison_id'], ['template_comparisons.id'],
                                            name=op.f('fk_template_events_comparison_id_template_comparisons')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_events')))
    with op.batch_alter_table('template_events', schema=None) as batch_op:
        batch_op.create_index('ix_template_events_template', ['template', 'version', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('template_events')
    op.drop_table('template_comparisons')
    with op.batch_alter_table('validation_runs', schema=None) as batch_op:
        batch_op.drop_index('ux_validation_runs_running', sqlite_where=RUNNING, postgresql_where=RUNNING)
        batch_op.drop_index('ix_validation_runs_template')
    op.drop_table('validation_runs')
