"""risk rows: delta as % of notional, 1% cash gamma, Monte Carlo standard errors of the Greeks, flags

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COLUMNS = ("delta_pct", "cash_gamma_1pct", "delta_se", "gamma_se", "vega_se", "theta_se", "rho_se")


def upgrade() -> None:
    with op.batch_alter_table('risk_rows', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('flagged', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('risk_rows', schema=None) as batch_op:
        for name in COLUMNS + ("flagged",):
            batch_op.drop_column(name)
