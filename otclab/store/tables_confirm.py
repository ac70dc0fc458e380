"""The store's tables for confirmations against the book (issue 17), on the store's one metadata
(otclab.store.tables imports this module, so every table is known wherever the store is).
The migration that creates them is in migrations/versions (0008_confirmations.py).

- ``confirm_documents``: every confirmation received (inbox scan, e-mail drop, online copy), one
  row per content (SHA-256), written with its file copied under the data folder *before* it is
  read; ``status`` received -> processed (the extraction and its outcome filled once).
- ``trade_attachments``: documents attached to a trade, versioned per trade (1, 2, ...); the same
  bytes attach to a trade once (unique trade id + hash).
- ``trade_confirmations``: a trade's confirmation state as append-only events beside the trade
  record (which is never changed): ``confirmed`` (paper or online route), ``issued`` (an online
  confirmation sealed by the dealer, waiting for the client). The latest row of a trade counts.
- ``confirm_breaks``: a confirmation that cannot be accepted unattended: fields that differ from
  the booked trade's current version, fields read below their confidence threshold, no matching
  trade or several (the candidates named). One per document; resolved or accepted by a named user.
- ``mail_queue``: every e-mail is a row first; a worker sends due rows over SMTP, retrying with
  backoff (``otclab.mail.queue``); ``key`` is unique, so nothing is queued twice.
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, Double, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from .tables import UTCDateTime, metadata

confirm_documents = Table(
    "confirm_documents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("file_name", Text, nullable=False),         # as received
    Column("size", Integer, nullable=False),
    Column("path", Text, nullable=False),              # the stored copy, relative to the data folder
    Column("source", String(16), nullable=False),      # inbox | online
    Column("received_at", UTCDateTime(), nullable=False),
    Column("status", String(12), nullable=False),      # received | processed
    Column("extraction", JSON),                        # fields, confidence, layout, warnings
    Column("layout", String(64)),
    Column("outcome", String(16)),                     # confirmed | break
    Column("trade_id", String(64)),                    # the booked trade it matched (None: none or several)
    Column("processed_at", UTCDateTime()),
)

trade_attachments = Table(
    "trade_attachments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trade_id", String(64), ForeignKey("trades.trade_id"), nullable=False),
    Column("version", Integer, nullable=False),        # 1, 2, ... per trade
    Column("kind", String(24), nullable=False),        # paper_confirmation | online_issued | online_signed
    Column("document_id", Integer, ForeignKey("confirm_documents.id")),
    Column("sha256", String(64), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("path", Text, nullable=False),              # relative to the data folder
    Column("size", Integer, nullable=False),
    Column("attached_by", String(64), nullable=False),
    Column("attached_at", UTCDateTime(), nullable=False),
    UniqueConstraint("trade_id", "sha256", name="uq_trade_attachments_trade_sha256"),
    UniqueConstraint("trade_id", "version", name="uq_trade_attachments_trade_version"),
)

trade_confirmations = Table(
    "trade_confirmations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trade_id", String(64), ForeignKey("trades.trade_id"), nullable=False),
    Column("trade_version", Integer, nullable=False),  # the version reconciled / printed
    Column("state", String(12), nullable=False),       # confirmed | issued
    Column("route", String(8), nullable=False),        # paper | online
    Column("attachment_id", Integer, ForeignKey("trade_attachments.id")),
    Column("document_id", Integer, ForeignKey("confirm_documents.id")),
    Column("break_id", Integer, ForeignKey("confirm_breaks.id")),   # accepted from a break
    Column("by", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("comment", Text),
)
Index("ix_trade_confirmations_trade", trade_confirmations.c.trade_id, trade_confirmations.c.id)

confirm_breaks = Table(
    "confirm_breaks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", Integer, ForeignKey("confirm_documents.id"), nullable=False, unique=True),
    Column("trade_id", String(64)),                    # the matched trade (None: no match, or several)
    Column("trade_version", Integer),
    Column("kind", String(16), nullable=False),        # mismatch | no_match | ambiguous | unconfirmable
    Column("fields", JSON, nullable=False),            # [{field, booked, document, kind, confidence, threshold}]
    Column("candidates", JSON, nullable=False),        # [{trade_id, counterparty, underlying, notional, ...}]
    Column("summary", Text, nullable=False),
    Column("status", String(10), nullable=False),      # open | resolved | accepted
    Column("created_at", UTCDateTime(), nullable=False),
    Column("resolved_by", String(64)),
    Column("resolved_at", UTCDateTime()),
    Column("comment", Text),
)
Index("ix_confirm_breaks_status", confirm_breaks.c.status, confirm_breaks.c.id)

mail_queue = Table(
    "mail_queue", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(96), nullable=False, unique=True),   # confirmed:<doc id>, break:<break id>
    Column("message_id", String(128), nullable=False),  # the Message-ID header, the same on every attempt
    Column("to_addr", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("attachments", JSON, nullable=False),       # [{name, path (relative to the data folder), sha256}]
    Column("trade_id", String(64)),
    Column("document_id", Integer, ForeignKey("confirm_documents.id")),
    Column("status", String(10), nullable=False),      # pending | sending | sent | failed
    Column("claim_token", String(40)),
    Column("claimed_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("seconds", Double),                         # how long the successful SMTP exchange took
)
Index("ix_mail_queue_status", mail_queue.c.status, mail_queue.c.next_attempt_at)
