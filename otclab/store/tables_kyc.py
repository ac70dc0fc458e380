"""The store's tables for KYC onboarding (issue 15), on the store's one metadata
(otclab.store.tables imports this module, so every table is known wherever the store is).
The migrations that create them are in migrations/versions (0006_kyc.py, 0009_kyc_agreements.py;
they agree exactly).

Everything is appended, nothing updated in place, except ``kyc_cases.state`` (which repeats the
latest ``kyc_events.to_state`` for the queues, like ``quotes.state``) and an invitation's
redemption (set once, guarded by ``redeemed_at IS NULL``) and an agreement's signature (set once,
guarded by ``state = 'issued'``):

- ``kyc_invitations``: sales' whitelist; the code only as its SHA-256, single use, an expiry.
- ``kyc_cases``: one onboarding case per invited institution, bound to the client's user name.
- ``kyc_values``: every saved form value (latest per field wins) with its check's level/message.
- ``kyc_documents``: uploaded documents, one row per version (file under the KYC folder).
- ``kyc_events``: every transition, action, comment and decision; ``kyc_evidence`` links each
  event to the evidence-log entry that holds it.
- ``kyc_lists``: screening lists by content hash; ``kyc_screenings`` each screening run and
  ``kyc_hits`` its hits; ``kyc_cleared`` false positives remembered per (name, list entry).
- ``kyc_assessments``: suitability, questionnaire and AML results computed at submission.
- ``kyc_clients``: the client master (status, C-level, review date, document validity) that
  booking and quoting check; latest row per counterparty wins; imports and approvals append.
- ``kyc_reports``: sealed review reports.
- ``kyc_agreements``: the agreements an approved client signs online, one row per (case, kind):
  the firm's certified copy (issued) and the client's countersigned one (signed).
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Double, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from .tables import UTCDateTime, metadata

kyc_invitations = Table(
    "kyc_invitations", metadata,
    Column("invitation_id", String(32), primary_key=True),
    Column("code_hash", String(64), nullable=False, unique=True),   # SHA-256 hex of the code
    Column("institution", Text, nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("counterparty_id", String(64), nullable=False),
    Column("contact_name", Text, nullable=False),
    Column("contact", Text, nullable=False),
    Column("invited_by", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("redeemed_at", UTCDateTime()),
    Column("redeemed_by", String(64)),
    Column("case_id", String(32)),
)

kyc_cases = Table(
    "kyc_cases", metadata,
    Column("case_id", String(32), primary_key=True),
    Column("invitation_id", String(32), ForeignKey("kyc_invitations.invitation_id"), nullable=False),
    Column("username", String(64), nullable=False, unique=True),
    Column("institution", Text, nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("counterparty_id", String(64), nullable=False),
    Column("invited_by", String(64), nullable=False),
    Column("state", String(24), nullable=False),        # = the latest kyc_events.to_state
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_kyc_cases_state", kyc_cases.c.state)

kyc_values = Table(
    "kyc_values", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("kyc_cases.case_id"), nullable=False),
    Column("step", String(24), nullable=False),
    Column("field", String(48), nullable=False),
    Column("value", JSON),
    Column("level", String(8), nullable=False),        # ok | warning | error (error: not valid)
    Column("message", Text, nullable=False),
    Column("saved_by", String(64), nullable=False),
    Column("saved_at", UTCDateTime(), nullable=False),
)
Index("ix_kyc_values_case", kyc_values.c.case_id, kyc_values.c.field, kyc_values.c.id)

kyc_documents = Table(
    "kyc_documents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("kyc_cases.case_id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("path", Text, nullable=False),               # relative to the KYC files folder
    Column("valid_until", Date),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("case_id", "kind", "version", name="uq_kyc_documents_case_kind_version"),
)

kyc_events = Table(
    "kyc_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("kyc_cases.case_id"), nullable=False),
    Column("seq", Integer, nullable=False),             # 1, 2, ... per case: two writers cannot both add n
    Column("action", String(24), nullable=False),
    Column("role", String(16)),
    Column("from_state", String(24)),
    Column("to_state", String(24), nullable=False),
    Column("by", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("comment", Text),
    Column("details", JSON),
    UniqueConstraint("case_id", "seq", name="uq_kyc_events_case_seq"),
)

kyc_evidence = Table(
    "kyc_evidence", metadata,
    Column("event_id", Integer, ForeignKey("kyc_events.id"), primary_key=True),
    Column("log_index", Integer, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)

kyc_lists = Table(
    "kyc_lists", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("version", String(64), nullable=False),      # SHA-256 of the list file's bytes
    Column("path", Text, nullable=False),
    Column("entries", Integer, nullable=False),
    Column("loaded_by", String(64), nullable=False),
    Column("loaded_at", UTCDateTime(), nullable=False),
)

kyc_screenings = Table(
    "kyc_screenings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("kyc_cases.case_id"), nullable=False),
    Column("list_versions", JSON, nullable=False),      # {list name: version} screened against
    Column("subjects", JSON, nullable=False),
    Column("hits", Integer, nullable=False),
    Column("by", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)
Index("ix_kyc_screenings_case", kyc_screenings.c.case_id, kyc_screenings.c.id)

kyc_hits = Table(
    "kyc_hits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("screening_id", Integer, ForeignKey("kyc_screenings.id"), nullable=False),
    Column("case_id", String(32), ForeignKey("kyc_cases.case_id"), nullable=False),
    Column("subject_role", String(24), nullable=False),  # institution | legal_rep | owner
    Column("subject_name", Text, nullable=False),
    Column("list_name", String(64), nullable=False),
    Column("entry_id", String(128), nullable=False),
    Column("entry_name", Text, nullable=False),
    Column("entry_schema", String(24), nullable=False),
    Column("topics", JSON),
    Column("score", Double, nullable=False),
    Column("decision", String(16)),                      # None | false_positive | true_match
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime()),
    Column("comment", Text),
)
Index("ix_kyc_hits_case", kyc_hits.c.case_id, kyc_hits.c.screening_id)

kyc_cleared = Table(
    "kyc_cleared", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_key", Text, nullable=False),        # the normalised screened name
    Column("entry_id", String(128), nullable=False),
    Column("case_id", String(32), nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=False),
    Column("comment", Text),
)
Index("ix_kyc_cleared_entry", kyc_cleared.c.entry_id)

kyc_assessments = Table(
    "kyc_assessments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("kyc_cases.case_id"), nullable=False),
    Column("kind", String(16), nullable=False),          # suitability | questionnaire | aml
    Column("result", JSON, nullable=False),
    Column("rules_version", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)
Index("ix_kyc_assessments_case", kyc_assessments.c.case_id, kyc_assessments.c.kind, kyc_assessments.c.id)

kyc_clients = Table(
    "kyc_clients", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("counterparty_id", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("uscc", String(18)),
    Column("status", String(12), nullable=False),        # approved | suspended | rejected | closed
    Column("c_level", Integer, nullable=False),          # 1..5 (C1..C5)
    Column("eligible_otc", Integer, nullable=False),     # 1: meets the OTC-option counterparty standard
    Column("review_date", Date, nullable=False),         # last (annual) review
    Column("docs_valid_until", Date),                    # earliest expiry of its identity documents
    Column("max_premium", Double),                       # asset-management product: 30% cap
    Column("case_id", String(32)),
    Column("source", String(12), nullable=False),        # case | import | suspend
    Column("reason", Text),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
Index("ix_kyc_clients_cp", kyc_clients.c.counterparty_id, kyc_clients.c.id)

kyc_reports = Table(
    "kyc_reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("kyc_cases.case_id"), nullable=False, unique=True),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("signer", Text, nullable=False),
    Column("log_index", Integer),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

kyc_agreements = Table(
    "kyc_agreements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(32), ForeignKey("kyc_cases.case_id"), nullable=False),
    Column("counterparty_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("required", Integer, nullable=False),         # 1: trading waits for its signature
    Column("state", String(8), nullable=False),          # issued | signed
    Column("template_sha256", String(64), nullable=False),   # the agreements file it was rendered from
    Column("issued_sha256", String(64), nullable=False),
    Column("issued_path", Text, nullable=False),         # relative to the KYC files folder
    Column("issued_size", Integer, nullable=False),
    Column("issued_signer", Text, nullable=False),
    Column("issued_by", String(64), nullable=False),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("issued_log_index", Integer),
    Column("signed_sha256", String(64)),
    Column("signed_path", Text),
    Column("signed_size", Integer),
    Column("signer_subject", Text),
    Column("signed_with", String(12)),                   # certificate | event (事件证书)
    Column("signed_by", String(64)),
    Column("signed_at", UTCDateTime()),
    Column("signed_log_index", Integer),
    UniqueConstraint("case_id", "kind", name="uq_kyc_agreements_case_kind"),
)
Index("ix_kyc_agreements_case", kyc_agreements.c.case_id, kyc_agreements.c.state)
