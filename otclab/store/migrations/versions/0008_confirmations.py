"""confirmations against the book (issue 17): layouts, received confirmations, attachments, breaks, the mail queue

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _fk(col: str, table: str, ref: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{target}.{ref}"], name=op.f(f"fk_{table}_{col}_{target}"))


def upgrade() -> None:
    op.create_table('confirm_documents',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('file_name', sa.Text(), nullable=False),
                    sa.Column('size', sa.Integer(), nullable=False),
                    sa.Column('path', sa.Text(), nullable=False),
                    sa.Column('source', sa.String(length=16), nullable=False),
                    sa.Column('received_at', TS, nullable=False),
                    sa.Column('status', sa.String(length=12), nullable=False),
                    sa.Column('extraction', sa.JSON(), nullable=True),
                    sa.Column('layout', sa.String(length=64), nullable=True),
                    sa.Column('outcome', sa.String(length=16), nullable=True),
                    sa.Column('trade_id', sa.String(length=64), nullable=True),
                    sa.Column('processed_at', TS, nullable=True),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_confirm_documents')),
                    sa.UniqueConstraint('sha256', name=op.f('uq_confirm_documents_sha256')))
    op.create_table('trade_attachments',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('trade_id', sa.String(length=64), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(length=24), nullable=False),
                    sa.Column('document_id', sa.Integer(), nullable=True),
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('file_name', sa.Text(), nullable=False),
                    sa.Column('path', sa.Text(), nullable=False),
                    sa.Column('size', sa.Integer(), nullable=False),
                    sa.Column('attached_by', sa.String(length=64), nullable=False),
                    sa.Column('attached_at', TS, nullable=False),
                    _fk('trade_id', 'trade_attachments', 'trade_id', 'trades'),
                    _fk('document_id', 'trade_attachments', 'id', 'confirm_documents'),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_trade_attachments')),
                    sa.UniqueConstraint('trade_id', 'sha256', name='uq_trade_attachments_trade_sha256'),
                    sa.UniqueConstraint('trade_id', 'version', name='uq_trade_attachments_trade_version'))
    op.create_table('confirm_breaks',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('document_id', sa.Integer(), nullable=False),
                    sa.Column('trade_id', sa.String(length=64), nullable=True),
                    sa.Column('trade_version', sa.Integer(), nullable=True),
                    sa.Column('kind', sa.String(length=16), nullable=False),
                    sa.Column('fields', sa.JSON(), nullable=False),
                    sa.Column('candidates', sa.JSON(), nullable=False),
                    sa.Column('summary', sa.Text(), nullable=False),
                    sa.Column('status', sa.String(length=10), nullable=False),
                    sa.Column('created_at', TS, nullable=False),
                    sa.Column('resolved_by', sa.String(length=64), nullable=True),
                    sa.Column('resolved_at', TS, nullable=True),
                    sa.Column('comment', sa.Text(), nullable=True),
                    _fk('document_id', 'confirm_breaks', 'id', 'confirm_documents'),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_confirm_breaks')),
                    sa.UniqueConstraint('document_id', name=op.f('uq_confirm_breaks_document_id')))
    with op.batch_alter_table('confirm_breaks', schema=None) as batch_op:
        batch_op.create_index('ix_confirm_breaks_status', ['status', 'id'], unique=False)
    op.create_table('trade_confirmations',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('trade_id', sa.String(length=64), nullable=False),
                    sa.Column('trade_version', sa.Integer(), nullable=False),
                    sa.Column('state', sa.String(length=12), nullable=False),
                    sa.Column('route', sa.String(length=8), nullable=False),
                    sa.Column('attachment_id', sa.Integer(), nullable=True),
                    sa.Column('document_id', sa.Integer(), nullable=True),
                    sa.Column('break_id', sa.Integer(), nullable=True),
                    sa.Column('by', sa.String(length=64), nullable=False),
                    sa.Column('at', TS, nullable=False),
                    sa.Column('comment', sa.Text(), nullable=True),
                    _fk('trade_id', 'trade_confirmations', 'trade_id', 'trades'),
                    _fk('attachment_id', 'trade_confirmations', 'id', 'trade_attachments'),
                    _fk('document_id', 'trade_confirmations', 'id', 'confirm_documents'),
                    _fk('break_id', 'trade_confirmations', 'id', 'confirm_breaks'),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_trade_confirmations')))
    with op.batch_alter_table('trade_confirmations', schema=None) as batch_op:
        batch_op.create_index('ix_trade_confirmations_trade', ['trade_id', 'id'], unique=False)
    op.create_table('mail_queue',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('key', sa.String(length=96), nullable=False),
                    sa.Column('message_id', sa.String(length=128), nullable=False),
                    sa.Column('to_addr', sa.Text(), nullable=False),
                    sa.Column('subject', sa.Text(), nullable=False),
                    sa.Column('body', sa.Text(), nullable=False),
                    sa.Column('attachments', sa.JSON(), nullable=False),
                    sa.Column('trade_id', sa.String(length=64), nullable=True),
                    sa.Column('document_id', sa.Integer(), nullable=True),
                    sa.Column('status', sa.String(length=10), nullable=False),
                    sa.Column('claim_token', sa.String(length=40), nullable=True),
                    sa.Column('claimed_at', TS, nullable=True),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.Column('next_attempt_at', TS, nullable=False),
                    sa.Column('last_error', sa.Text(), nullable=True),
                    sa.Column('created_at', TS, nullable=False),
                    sa.Column('sent_at', TS, nullable=True),
                    sa.Column('seconds', sa.Double(), nullable=True),
                    _fk('document_id', 'mail_queue', 'id', 'confirm_documents'),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_queue')),
                    sa.UniqueConstraint('key', name=op.f('uq_mail_queue_key')))
    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.create_index('ix_mail_queue_status', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    for name in ('mail_queue', 'trade_confirmations', 'confirm_breaks', 'trade_attachments', 'confirm_documents'):
        op.drop_table(name)
