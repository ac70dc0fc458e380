"""KYC agreements (issue 15): the agreements an approved client signs online

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('kyc_agreements',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('counterparty_id', sa.String(length=64), nullable=False),
                    sa.Column('kind', sa.String(length=32), nullable=False),
                    sa.Column('title', sa.Text(), nullable=False),
                    sa.Column('required', sa.Integer(), nullable=False),
                    sa.Column('state', sa.String(length=8), nullable=False),
                    sa.Column('template_sha256', sa.String(length=64), nullable=False),
                    sa.Column('issued_sha256', sa.String(length=64), nullable=False),
                    sa.Column('issued_path', sa.Text(), nullable=False),
                    sa.Column('issued_size', sa.Integer(), nullable=False),
                    sa.Column('issued_signer', sa.Text(), nullable=False),
                    sa.Column('issued_by', sa.String(length=64), nullable=False),
                    sa.Column('issued_at', TS, nullable=False),
                    sa.Column('issued_log_index', sa.Integer(), nullable=True),
                    sa.Column('signed_sha256', sa.String(length=64), nullable=True),
                    sa.Column('signed_path', sa.Text(), nullable=True),
                    sa.Column('signed_size', sa.Integer(), nullable=True),
                    sa.Column('signer_subject', sa.Text(), nullable=True),
                    sa.Column('signed_with', sa.String(length=12), nullable=True),
                    sa.Column('signed_by', sa.String(length=64), nullable=True),
                    sa.Column('signed_at', TS, nullable=True),
                    sa.Column('signed_log_index', sa.Integer(), nullable=True),
                    sa.ForeignKeyConstraint(['case_id'], ['kyc_cases.case_id'],
                                            name=op.f('fk_kyc_agreements_case_id_kyc_cases')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_agreements')),
                    sa.UniqueConstraint('case_id', 'kind', name='uq_kyc_agreements_case_kind'))
    with op.batch_alter_table('kyc_agreements', schema=None) as batch_op:
        batch_op.create_index('ix_kyc_agreements_case', ['case_id', 'state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kyc_agreements_case', table_name='kyc_agreements')
    op.drop_table('kyc_agreements')
