"""KYC onboarding (issue 15): invitations, cases, form values, documents, screening, decisions, client status

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('kyc_invitations',
                    sa.Column('invitation_id', sa.String(length=32), nullable=False),
                    sa.Column('code_hash', sa.String(length=64), nullable=False),
                    sa.Column('institution', sa.Text(), nullable=False),
                    sa.Column('uscc', sa.String(length=18), nullable=False),
                    sa.Column('counterparty_id', sa.String(length=64), nullable=False),
                    sa.Column('contact_name', sa.Text(), nullable=False),
                    sa.Column('contact', sa.Text(), nullable=False),
                    sa.Column('invited_by', sa.String(length=64), nullable=False),
                    sa.Column('created_at', TS, nullable=False),
                    sa.Column('expires_at', TS, nullable=False),
                    sa.Column('redeemed_at', TS, nullable=True),
                    sa.Column('redeemed_by', sa.String(length=64), nullable=True),
                    sa.Column('case_id', sa.String(length=32), nullable=True),
                    sa.PrimaryKeyConstraint('invitation_id', name=op.f('pk_kyc_invitations')),
                    sa.UniqueConstraint('code_hash', name=op.f('uq_kyc_invitations_code_hash')))
    op.create_table('kyc_cases',
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('invitation_id', sa.String(length=32), nullable=False),
                    sa.Column('username', sa.String(length=64), nullable=False),
                    sa.Column('institution', sa.Text(), nullable=False),
                    sa.Column('uscc', sa.String(length=18), nullable=False),
                    sa.Column('counterparty_id', sa.String(length=64), nullable=False),
                    sa.Column('invited_by', sa.String(length=64), nullable=False),
                    sa.Column('state', sa.String(length=24), nullable=False),
                    sa.Column('created_at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['invitation_id'], ['kyc_invitations.invitation_id'], name=op.f('fk_kyc_cases_invitation_id_kyc_invitations')),
                    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_kyc_cases')),
                    sa.UniqueConstraint('username', name=op.f('uq_kyc_cases_username')))
    op.create_index('ix_kyc_cases_state', 'kyc_cases', ['state'], unique=False)
    op.create_table('kyc_values',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('step', sa.String(length=24), nullable=False),
                    sa.Column('field', sa.String(length=48), nullable=False),
                    sa.Column('value', sa.JSON(), nullable=True),
                    sa.Column('level', sa.String(length=8), nullable=False),
                    sa.Column('message', sa.Text(), nullable=False),
                    sa.Column('saved_by', sa.String(length=64), nullable=False),
                    sa.Column('saved_at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['kyc_cases.case_id'], name=op.f('fk_kyc_values_case_id_kyc_cases')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_values')))
    op.create_index('ix_kyc_values_case', 'kyc_values', ['case_id', 'field', 'id'], unique=False)
    op.create_table('kyc_documents',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('kind', sa.String(length=32), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.Column('filename', sa.Text(), nullable=False),
                    sa.Column('content_type', sa.String(length=32), nullable=False),
                    sa.Column('size', sa.Integer(), nullable=False),
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('path', sa.Text(), nullable=False),
                    sa.Column('valid_until', sa.Date(), nullable=True),
                    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
                    sa.Column('uploaded_at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['kyc_cases.case_id'], name=op.f('fk_kyc_documents_case_id_kyc_cases')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_documents')),
                    sa.UniqueConstraint('case_id', 'kind', 'version', name=op.f('uq_kyc_documents_case_kind_version')))
    op.create_table('kyc_events',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('action', sa.String(length=24), nullable=False),
                    sa.Column('role', sa.String(length=16), nullable=True),
                    sa.Column('from_state', sa.String(length=24), nullable=True),
                    sa.Column('to_state', sa.String(length=24), nullable=False),
                    sa.Column('by', sa.String(length=64), nullable=False),
                    sa.Column('at', TS, nullable=False),
                    sa.Column('comment', sa.Text(), nullable=True),
                    sa.Column('details', sa.JSON(), nullable=True),
                    sa.ForeignKeyConstraint(['case_id'], ['kyc_cases.case_id'], name=op.f('fk_kyc_events_case_id_kyc_cases')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_events')),
                    sa.UniqueConstraint('case_id', 'seq', name=op.f('uq_kyc_events_case_seq')))
    op.create_table('kyc_evidence',
                    sa.Column('event_id', sa.Integer(), nullable=False),
                    sa.Column('log_index', sa.Integer(), nullable=False),
                    sa.Column('recorded_at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['event_id'], ['kyc_events.id'], name=op.f('fk_kyc_evidence_event_id_kyc_events')),
                    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_kyc_evidence')))
    op.create_table('kyc_lists',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('version', sa.String(length=64), nullable=False),
                    sa.Column('path', sa.Text(), nullable=False),
                    sa.Column('entries', sa.Integer(), nullable=False),
                    sa.Column('loaded_by', sa.String(length=64), nullable=False),
                    sa.Column('loaded_at', TS, nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_lists')))
    op.create_table('kyc_screenings',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('list_versions', sa.JSON(), nullable=False),
                    sa.Column('subjects', sa.JSON(), nullable=False),
                    sa.Column('hits', sa.Integer(), nullable=False),
                    sa.Column('by', sa.String(length=64), nullable=False),
                    sa.Column('at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['kyc_cases.case_id'], name=op.f('fk_kyc_screenings_case_id_kyc_cases')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_screenings')))
    op.create_index('ix_kyc_screenings_case', 'kyc_screenings', ['case_id', 'id'], unique=False)
    op.create_table('kyc_hits',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('screening_id', sa.Integer(), nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('subject_role', sa.String(length=24), nullable=False),
                    sa.Column('subject_name', sa.Text(), nullable=False),
                    sa.Column('list_name', sa.String(length=64), nullable=False),
                    sa.Column('entry_id', sa.String(length=128), nullable=False),
                    sa.Column('entry_name', sa.Text(), nullable=False),
                    sa.Column('entry_schema', sa.String(length=24), nullable=False),
                    sa.Column('topics', sa.JSON(), nullable=True),
                    sa.Column('score', sa.Double(), nullable=False),
                    sa.Column('decision', sa.String(length=16), nullable=True),
                    sa.Column('decided_by', sa.String(length=64), nullable=True),
                    sa.Column('decided_at', TS, nullable=True),
                    sa.Column('comment', sa.Text(), nullable=True),
                    sa.ForeignKeyConstraint(['screening_id'], ['kyc_screenings.id'], name=op.f('fk_kyc_hits_screening_id_kyc_screenings')),
                    sa.ForeignKeyConstraint(['case_id'], ['kyc_cases.case_id'], name=op.f('fk_kyc_hits_case_id_kyc_cases')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_hits')))
    op.create_index('ix_kyc_hits_case', 'kyc_hits', ['case_id', 'screening_id'], unique=False)
    op.create_table('kyc_cleared',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('subject_key', sa.Text(), nullable=False),
                    sa.Column('entry_id', sa.String(length=128), nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('decided_by', sa.String(length=64), nullable=False),
                    sa.Column('decided_at', TS, nullable=False),
                    sa.Column('comment', sa.Text(), nullable=True),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_cleared')))
    op.create_index('ix_kyc_cleared_entry', 'kyc_cleared', ['entry_id'], unique=False)
    op.create_table('kyc_assessments',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('result', sa.JSON(), nullable=False),
                    sa.Column('rules_version', sa.String(length=64), nullable=False),
                    sa.Column('at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['kyc_cases.case_id'], name=op.f('fk_kyc_assessments_case_id_kyc_cases')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_assessments')))
    op.create_index('ix_kyc_assessments_case', 'kyc_assessments', ['case_id', 'kind', 'id'], unique=False)
    op.create_table('kyc_clients',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('counterparty_id', sa.String(length=64), nullable=False),
                    sa.Column('name', sa.Text(), nullable=False),
                    sa.Column('uscc', sa.String(length=18), nullable=True),
                    sa.Column('status', sa.String(length=12), nullable=False),
                    sa.Column('c_level', sa.Integer(), nullable=False),
                    sa.Column('eligible_otc', sa.Integer(), nullable=False),
                    sa.Column('review_date', sa.Date(), nullable=False),
                    sa.Column('docs_valid_until', sa.Date(), nullable=True),
                    sa.Column('max_premium', sa.Double(), nullable=True),
                    sa.Column('case_id', sa.String(length=32), nullable=True),
                    sa.Column('source', sa.String(length=12), nullable=False),
                    sa.Column('reason', sa.Text(), nullable=True),
                    sa.Column('recorded_by', sa.String(length=64), nullable=False),
                    sa.Column('recorded_at', TS, nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_clients')))
    op.create_index('ix_kyc_clients_cp', 'kyc_clients', ['counterparty_id', 'id'], unique=False)
    op.create_table('kyc_reports',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('case_id', sa.String(length=32), nullable=False),
                    sa.Column('path', sa.Text(), nullable=False),
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('size', sa.Integer(), nullable=False),
                    sa.Column('signer', sa.Text(), nullable=False),
                    sa.Column('log_index', sa.Integer(), nullable=True),
                    sa.Column('created_by', sa.String(length=64), nullable=False),
                    sa.Column('created_at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['case_id'], ['kyc_cases.case_id'], name=op.f('fk_kyc_reports_case_id_kyc_cases')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_reports')),
                    sa.UniqueConstraint('case_id', name=op.f('uq_kyc_reports_case_id')))


def downgrade() -> None:
    op.drop_table('kyc_reports')
    op.drop_index('ix_kyc_clients_cp', table_name='kyc_clients')
    op.drop_table('kyc_clients')
    op.drop_index('ix_kyc_assessments_case', table_name='kyc_assessments')
    op.drop_table('kyc_assessments')
    op.drop_index('ix_kyc_cleared_entry', table_name='kyc_cleared')
    op.drop_table('kyc_cleared')
    op.drop_index('ix_kyc_hits_case', table_name='kyc_hits')
    op.drop_table('kyc_hits')
    op.drop_index('ix_kyc_screenings_case', table_name='kyc_screenings')
    op.drop_table('kyc_screenings')
    op.drop_table('kyc_lists')
    op.drop_table('kyc_evidence')
    op.drop_table('kyc_events')
    op.drop_table('kyc_documents')
    op.drop_index('ix_kyc_values_case', table_name='kyc_values')
    op.drop_table('kyc_values')
    op.drop_index('ix_kyc_cases_state', table_name='kyc_cases')
    op.drop_table('kyc_cases')
    op.drop_table('kyc_invitations')
