"""the quote workflow: received chat messages, contacts, quotes and their events, evidence links,
the outbound reply queue, traders' corrections

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('rfq_messages',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('channel', sa.String(length=8), nullable=False),
                    sa.Column('msgid', sa.String(length=128), nullable=True),
                    sa.Column('raw_body', sa.LargeBinary(), nullable=False),
                    sa.Column('query', sa.JSON(), nullable=True),
                    sa.Column('plaintext', sa.Text(), nullable=True),
                    sa.Column('text', sa.Text(), nullable=True),
                    sa.Column('sender', sa.String(length=128), nullable=True),
                    sa.Column('chat_id', sa.String(length=128), nullable=True),
                    sa.Column('chat_type', sa.String(length=16), nullable=True),
                    sa.Column('response_url', sa.Text(), nullable=True),
                    sa.Column('webhook_url', sa.Text(), nullable=True),
                    sa.Column('msgtype', sa.String(length=16), nullable=True),
                    sa.Column('received_at', TS, nullable=False),
                    sa.Column('status', sa.String(length=12), nullable=False),
                    sa.Column('claim_token', sa.String(length=40), nullable=True),
                    sa.Column('claimed_at', TS, nullable=True),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.Column('processed_at', TS, nullable=True),
                    sa.Column('outcome', sa.String(length=24), nullable=True),
                    sa.Column('error', sa.Text(), nullable=True),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfq_messages')),
                    sa.UniqueConstraint('msgid', name=op.f('uq_rfq_messages_msgid')))
    op.create_index('ix_rfq_messages_status', 'rfq_messages', ['status', 'id'], unique=False)
    op.create_table('counterparty_contacts',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('userid', sa.String(length=128), nullable=False),
                    sa.Column('counterparty_id', sa.String(length=64), nullable=False),
                    sa.Column('counterparty_name', sa.Text(), nullable=False),
                    sa.Column('counterparty_uscc', sa.String(length=18), nullable=True),
                    sa.Column('status', sa.String(length=10), nullable=False),
                    sa.Column('recorded_by', sa.String(length=64), nullable=True),
                    sa.Column('recorded_at', TS, nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_counterparty_contacts')))
    op.create_index('ix_counterparty_contacts_userid', 'counterparty_contacts', ['userid', 'id'], unique=False)
    op.create_table('quotes',
                    sa.Column('quote_id', sa.String(length=32), nullable=False),
                    sa.Column('message_id', sa.Integer(), nullable=False),
                    sa.Column('request_index', sa.Integer(), nullable=False),
                    sa.Column('revision', sa.Integer(), nullable=False),
                    sa.Column('supersedes', sa.String(length=32), nullable=True),
                    sa.Column('state', sa.String(length=20), nullable=False),
                    sa.Column('sender', sa.String(length=128), nullable=True),
                    sa.Column('chat_id', sa.String(length=128), nullable=True),
                    sa.Column('counterparty_id', sa.String(length=64), nullable=False),
                    sa.Column('counterparty_name', sa.Text(), nullable=False),
                    sa.Column('counterparty_uscc', sa.String(length=18), nullable=True),
                    sa.Column('underlying', sa.String(length=16), nullable=True),
                    sa.Column('structure', sa.String(length=24), nullable=True),
                    sa.Column('tenor_months', sa.Double(), nullable=True),
                    sa.Column('notional', sa.Double(), nullable=True),
                    sa.Column('solve_for', sa.String(length=16), nullable=True),
                    sa.Column('fields', sa.JSON(), nullable=False),
                    sa.Column('template', sa.String(length=64), nullable=True),
                    sa.Column('template_version', sa.String(length=12), nullable=True),
                    sa.Column('terms', sa.JSON(), nullable=True),
                    sa.Column('market_snapshot_id', sa.String(length=20), nullable=True),
                    sa.Column('pricing', sa.JSON(), nullable=True),
                    sa.Column('maker', sa.String(length=64), nullable=True),
                    sa.Column('error', sa.Text(), nullable=True),
                    sa.Column('created_at', TS, nullable=False),
                    sa.Column('valid_until', TS, nullable=False),
                    sa.ForeignKeyConstraint(['message_id'], ['rfq_messages.id'],
                                            name=op.f('fk_quotes_message_id_rfq_messages')),
                    sa.PrimaryKeyConstraint('quote_id', name=op.f('pk_quotes')),
                    sa.UniqueConstraint('message_id', 'request_index', 'revision',
                                        name='uq_quotes_message_request_revision'))
    op.create_index('ix_quotes_state', 'quotes', ['state', 'valid_until'], unique=False)
    op.create_table('quote_events',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('quote_id', sa.String(length=32), nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('from_state', sa.String(length=20), nullable=True),
                    sa.Column('to_state', sa.String(length=20), nullable=False),
                    sa.Column('by', sa.String(length=64), nullable=False),
                    sa.Column('at', TS, nullable=False),
                    sa.Column('details', sa.JSON(), nullable=True),
                    sa.ForeignKeyConstraint(['quote_id'], ['quotes.quote_id'],
                                            name=op.f('fk_quote_events_quote_id_quotes')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_events')),
                    sa.UniqueConstraint('quote_id', 'seq', name='uq_quote_events_quote_seq'))
    op.create_table('quote_evidence',
                    sa.Column('event_id', sa.Integer(), nullable=False),
                    sa.Column('log_index', sa.Integer(), nullable=False),
                    sa.Column('recorded_at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['event_id'], ['quote_events.id'],
                                            name=op.f('fk_quote_evidence_event_id_quote_events')),
                    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_quote_evidence')))
    op.create_table('outbound_messages',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('key', sa.String(length=80), nullable=False),
                    sa.Column('kind', sa.String(length=12), nullable=False),
                    sa.Column('quote_id', sa.String(length=32), nullable=True),
                    sa.Column('message_id', sa.Integer(), nullable=True),
                    sa.Column('response_url', sa.Text(), nullable=True),
                    sa.Column('webhook_url', sa.Text(), nullable=True),
                    sa.Column('chat_id', sa.String(length=128), nullable=True),
                    sa.Column('text', sa.Text(), nullable=False),
                    sa.Column('mentioned', sa.JSON(), nullable=False),
                    sa.Column('status', sa.String(length=10), nullable=False),
                    sa.Column('via', sa.String(length=16), nullable=True),
                    sa.Column('claim_token', sa.String(length=40), nullable=True),
                    sa.Column('claimed_at', TS, nullable=True),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.Column('next_attempt_at', TS, nullable=False),
                    sa.Column('errcode', sa.Integer(), nullable=True),
                    sa.Column('last_error', sa.Text(), nullable=True),
                    sa.Column('created_at', TS, nullable=False),
                    sa.Column('sent_at', TS, nullable=True),
                    sa.ForeignKeyConstraint(['quote_id'], ['quotes.quote_id'],
                                            name=op.f('fk_outbound_messages_quote_id_quotes')),
                    sa.ForeignKeyConstraint(['message_id'], ['rfq_messages.id'],
                                            name=op.f('fk_outbound_messages_message_id_rfq_messages')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages')),
                    sa.UniqueConstraint('key', name=op.f('uq_outbound_messages_key')))
    op.create_index('ix_outbound_messages_status', 'outbound_messages', ['status', 'next_attempt_at'], unique=False)
    op.create_table('rfq_corrections',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('quote_id', sa.String(length=32), nullable=False),
                    sa.Column('message_text', sa.Text(), nullable=False),
                    sa.Column('field', sa.String(length=32), nullable=False),
                    sa.Column('parsed_value', sa.JSON(), nullable=True),
                    sa.Column('corrected_value', sa.JSON(), nullable=True),
                    sa.Column('corrected_by', sa.String(length=64), nullable=False),
                    sa.Column('corrected_at', TS, nullable=False),
                    sa.ForeignKeyConstraint(['quote_id'], ['quotes.quote_id'],
                                            name=op.f('fk_rfq_corrections_quote_id_quotes')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfq_corrections')))


def downgrade() -> None:
    op.drop_table('rfq_corrections')
    op.drop_index('ix_outbound_messages_status', table_name='outbound_messages')
    op.drop_table('outbound_messages')
    op.drop_table('quote_evidence')
    op.drop_table('quote_events')
    op.drop_index('ix_quotes_state', table_name='quotes')
    op.drop_table('quotes')
    op.drop_index('ix_counterparty_contacts_userid', table_name='counterparty_contacts')
    op.drop_table('counterparty_contacts')
    op.drop_index('ix_rfq_messages_status', table_name='rfq_messages')
    op.drop_table('rfq_messages')
