"""The store's tables (SQLAlchemy Core). Every table is append-only: a change is a new row.

- ``templates``: each template version ever booked, with its tagged cells (so a trade prices with
  its pinned version after the notebook changed);
- ``trades`` (one row per trade id: identity and UTI uniqueness) and ``trade_versions`` (the
  record: new, amend, correct, cancel);
- ``fixing_imports``, ``fixings``: daily closes per underlying, revisions as new rows;
- ``market_snapshots``: spots, curves and vols by content hash;
- ``lifecycle_plans``: a trade version's observation plan, compiled once;
- ``trade_events`` and ``cashflows``: what the lifecycle observed and what it pays;
- ``runs``: successful lifecycle / EOD runs (with the watermark of trade versions they covered)
  and failed ones with their error;
- ``risk_snapshots``, ``risk_rows``, ``margin_calls``: immutable valuations;
- ``collateral``: collateral movements per counterparty;
- the quote workflow (issue 14): ``rfq_messages`` (everything WeCom delivered, refused requests
  too), ``counterparty_contacts`` (WeCom userid → counterparty), ``quotes`` and ``quote_events``
  (every transition), ``quote_evidence`` (which evidence-log entry holds each event),
  ``outbound_messages`` (the persisted reply queue) and ``rfq_corrections`` (traders' edits).

Alembic migrations in ``otclab/store/migrations`` create these; ``metadata`` is their source.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, Column, Date, DateTime, Double, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text, UniqueConstraint)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A point in time, stored in UTC and read back timezone-aware (UTC) on every backend: SQLite
    keeps no zone, so a time given in China time would otherwise come back eight hours off. A
    naive time given is taken as UTC."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or not isinstance(value, dt.datetime):
            return value
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return value
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"})

templates = Table(
    "templates", metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(12), primary_key=True),
    Column("sources", JSON, nullable=False),          # [[tag, source], ...] of the tagged cells
    Column("path", Text),
    Column("registered_at", UTCDateTime(), nullable=False),
)

trades = Table(
    "trades", metadata,
    Column("trade_id", String(64), primary_key=True),
    Column("uti", String(52), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

trade_versions = Table(
    "trade_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trade_id", String(64), ForeignKey("trades.trade_id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),      # new | amend | correct | cancel
    Column("template", String(64), nullable=False),
    Column("template_version", String(12), nullable=False),
    Column("terms", JSON, nullable=False),
    Column("direction", String(4), nullable=False),
    Column("counterparty_id", String(64), nullable=False),
    Column("counterparty_name", Text, nullable=False),
    Column("counterparty_uscc", String(18)),
    Column("counterparty_lei", String(20)),            # revision 0002
    Column("trade_date", Date, nullable=False),
    Column("premium", Double, nullable=False),
    Column("premium_date", Date, nullable=False),
    Column("uti", String(52), nullable=False),
    Column("underlying", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("notional", Double, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("maturity_date", Date, nullable=False),
    Column("trader", String(64)),
    Column("recorded_by", String(64)),
    Column("reason", Text),
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("trade_id", "version", name="uq_trade_versions_trade_id_version"),
)
Index("ix_trade_versions_underlying", trade_versions.c.underlying)
Index("ix_trade_versions_counterparty", trade_versions.c.counterparty_id)

fixing_imports = Table(
    "fixing_imports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("added", Integer, nullable=False),
    Column("revised", Integer, nullable=False),
    Column("flagged", Integer, nullable=False),
    Column("imported_at", UTCDateTime(), nullable=False),
    Column("imported_by", String(64)),
)

fixings = Table(
    "fixings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("underlying", String(16), nullable=False),
    Column("date", Date, nullable=False),
    Column("close", Double, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("import_id", Integer, ForeignKey("fixing_imports.id"), nullable=False),
    Column("flag", Text),                              # e.g. "move of -12.3% from the previous close"
    UniqueConstraint("underlying", "date", "revision", name="uq_fixings_underlying_date_revision"),
)
Index("ix_fixings_date", fixings.c.date)

market_snapshots = Table(
    "market_snapshots", metadata,
    Column("id", String(20), primary_key=True),         # "MKT-" + 12 hex of the content hash
    Column("valuation_date", Date, nullable=False),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("data", JSON, nullable=False),
    Column("source", Text),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_market_snapshots_date", market_snapshots.c.valuation_date)

lifecycle_plans = Table(
    "lifecycle_plans", metadata,
    Column("version_id", Integer, ForeignKey("trade_versions.id"), primary_key=True),
    Column("plan", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),        # lifecycle | eod | refresh
    Column("status", String(8), nullable=False),       # ok | failed
    Column("from_date", Date),
    Column("through_date", Date),
    Column("watermark", Integer),                      # highest trade_versions.id the run covered
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("details", JSON),
    Column("error", Text),
)
Index("ix_runs_kind_status", runs.c.kind, runs.c.status)

trade_events = Table(
    "trade_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trade_id", String(64), ForeignKey("trades.trade_id"), nullable=False),
    Column("version_id", Integer, ForeignKey("trade_versions.id"), nullable=False),  # terms it was derived under
    Column("base_version", Integer, nullable=False),   # the new/correct version whose lineage it belongs to
    Column("date", Date, nullable=False),
    Column("seq", Integer, nullable=False),            # order among the trade's events of the date
    Column("type", String(24), nullable=False),
    Column("fixing_id", Integer, ForeignKey("fixings.id")),
    Column("close", Double),
    Column("level", Double),                           # the level compared against (fraction of S0)
    Column("amount", Double),                          # holder's view, currency
    Column("payment_date", Date),
    Column("status", String(16), nullable=False),      # the trade's status after the event
    Column("state", JSON, nullable=False),             # the lifecycle state after the event
    Column("details", JSON),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("trade_id", "base_version", "date", "seq", name="uq_trade_events_key"),
)
Index("ix_trade_events_trade", trade_events.c.trade_id)
Index("ix_trade_events_date", trade_events.c.date)

cashflows = Table(
    "cashflows", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trade_id", String(64), ForeignKey("trades.trade_id"), nullable=False),
    Column("version_id", Integer, ForeignKey("trade_versions.id"), nullable=False),
    Column("event_id", Integer, ForeignKey("trade_events.id")),
    Column("type", String(24), nullable=False),        # premium | coupon | knock_out | rebate | maturity | reversal
    Column("event_date", Date, nullable=False),        # when it became known
    Column("payment_date", Date, nullable=False),
    Column("amount", Double, nullable=False),          # desk's view: + received, - paid
    Column("currency", String(3), nullable=False),
    Column("reverses", Integer, ForeignKey("cashflows.id")),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_cashflows_trade", cashflows.c.trade_id)
Index("ix_cashflows_event_date", cashflows.c.event_date)

risk_snapshots = Table(
    "risk_snapshots", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),        # eod | refresh
    Column("valuation_date", Date, nullable=False),
    Column("market_snapshot_id", String(20), ForeignKey("market_snapshots.id"), nullable=False),
    Column("settings", JSON, nullable=False),          # engine choice, paths, seed, device
    Column("template_versions", JSON, nullable=False),
    Column("trades", Integer, nullable=False),
    Column("totals", JSON, nullable=False),
    Column("wall_s", Double, nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("market_time", UTCDateTime()),    # revision 0004: the time the market describes
    Column("views", JSON),                             # revision 0004: what the dashboard shows
)
Index("ix_risk_snapshots_date", risk_snapshots.c.valuation_date)
# revision 0004: the dashboard polls for the newest snapshot of a kind
Index("ix_risk_snapshots_kind_date", risk_snapshots.c.kind, risk_snapshots.c.valuation_date, risk_snapshots.c.id)

limit_breaches = Table(
    "limit_breaches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("snapshot_id", Integer, ForeignKey("risk_snapshots.id"), nullable=False),
    Column("scope", String(16), nullable=False),       # book | an underlying
    Column("measure", String(32), nullable=False),
    Column("value", Double, nullable=False),
    Column("limit", Double, nullable=False),
    Column("utilisation", Double, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(128), nullable=False),        # one alert; its rows are its attempts
    Column("snapshot_id", Integer, ForeignKey("risk_snapshots.id")),
    Column("kind", String(24), nullable=False),        # breach | refresh_failed
    Column("message", Text, nullable=False),
    Column("status", String(8), nullable=False),       # pending | sent | failed | skipped
    Column("error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_alerts_key", alerts.c.key)

risk_rows = Table(
    "risk_rows", metadata,
    Column("snapshot_id", Integer, ForeignKey("risk_snapshots.id"), primary_key=True),
    Column("trade_id", String(64), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("template", String(64), nullable=False),
    Column("template_version", String(12), nullable=False),
    Column("underlying", String(16), nullable=False),
    Column("counterparty_id", String(64), nullable=False),
    Column("direction", String(4), nullable=False),
    Column("notional", Double, nullable=False),
    Column("maturity_date", Date, nullable=False),
    Column("engine", String(16), nullable=False),
    Column("spot", Double, nullable=False),
    Column("vol", Double),
    Column("rate", Double),
    Column("value", Double),                           # desk's view, currency
    Column("stderr", Double),
    Column("delta", Double),
    Column("gamma", Double),
    Column("cash_delta", Double),
    Column("vega", Double),
    Column("theta", Double),
    Column("rho", Double),
    Column("error", Text),
    # revision 0003: readable units and Monte Carlo standard errors
    Column("delta_pct", Double),                       # cash delta, % of notional
    Column("cash_gamma_1pct", Double),                 # gamma × spot² / 100
    Column("delta_se", Double),
    Column("gamma_se", Double),
    Column("vega_se", Double),
    Column("theta_se", Double),
    Column("rho_se", Double),
    Column("flagged", Text),                           # Greeks too noisy to use, comma-separated
)

margin_calls = Table(
    "margin_calls", metadata,
    Column("snapshot_id", Integer, ForeignKey("risk_snapshots.id"), primary_key=True),
    Column("counterparty_id", String(64), primary_key=True),
    Column("trades", Integer, nullable=False),
    Column("notional", Double, nullable=False),
    Column("initial_margin", Double, nullable=False),
    Column("mtm", Double, nullable=False),             # desk's view of the counterparty's trades
    Column("exposure", Double, nullable=False),
    Column("threshold", Double, nullable=False),
    Column("required", Double, nullable=False),
    Column("held", Double, nullable=False),
    Column("call", Double, nullable=False),            # + collateral the client must deliver, - to return
    Column("action", String(8), nullable=False),       # call | return | none
)

collateral = Table(
    "collateral", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("counterparty_id", String(64), nullable=False),
    Column("date", Date, nullable=False),
    Column("asset", String(16), nullable=False),       # cash | bond | stock (haircuts in the policy)
    Column("amount", Double, nullable=False),          # market value delivered to the desk (+) or returned (-)
    Column("note", Text),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_collateral_counterparty", collateral.c.counterparty_id)

# ---- the quote workflow (revision 0005, issue 14) ------------------------------------------------
# Every message WeCom delivers (and every request refused before it could be read) is a row of
# rfq_messages before anything else happens; its processing is claimed (status, claim_token,
# claimed_at) and finished in one transaction with the quotes and replies it produced. A quote's
# state is its latest quote_events row; ``quotes.state`` repeats it for the blotter and is only
# ever changed together with a new event (workflows/quotes/states.py).

rfq_messages = Table(
    "rfq_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(8), nullable=False),      # robot | app | refused (not readable)
    Column("msgid", String(128), unique=True),          # WeCom's id; NULL for a refused request
    Column("raw_body", LargeBinary, nullable=False),    # as received
    Column("query", JSON),                              # msg_signature, timestamp, nonce
    Column("plaintext", Text),
    Column("text", Text),                               # the content, the @bot mention stripped
    Column("sender", String(128)),
    Column("chat_id", String(128)),
    Column("chat_type", String(16)),
    Column("response_url", Text),
    Column("webhook_url", Text),
    Column("msgtype", String(16)),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("status", String(12), nullable=False),      # pending | processing | done | refused
    Column("claim_token", String(40)),
    Column("claimed_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("processed_at", UTCDateTime()),
    Column("outcome", String(24)),                     # quoted | refused_sender | clarify | no_request | failed
    Column("error", Text),                             # why refused / failed
)
Index("ix_rfq_messages_status", rfq_messages.c.status, rfq_messages.c.id)

counterparty_contacts = Table(
    "counterparty_contacts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),   # append-only: the newest row of a userid counts
    Column("userid", String(128), nullable=False),
    Column("counterparty_id", String(64), nullable=False),
    Column("counterparty_name", Text, nullable=False),
    Column("counterparty_uscc", String(18)),
    Column("status", String(10), nullable=False),      # approved | pending | blocked
    Column("recorded_by", String(64)),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
Index("ix_counterparty_contacts_userid", counterparty_contacts.c.userid, counterparty_contacts.c.id)

quotes = Table(
    "quotes", metadata,
    Column("quote_id", String(32), primary_key=True),
    Column("message_id", Integer, ForeignKey("rfq_messages.id"), nullable=False),
    Column("request_index", Integer, nullable=False),
    Column("revision", Integer, nullable=False),       # 0 as priced from the chat, n after n edits
    Column("supersedes", String(32)),                  # the quote this revision replaces
    Column("state", String(20), nullable=False),       # = the latest quote_events.to_state
    Column("sender", String(128)),
    Column("chat_id", String(128)),
    Column("counterparty_id", String(64), nullable=False),
    Column("counterparty_name", Text, nullable=False),
    Column("counterparty_uscc", String(18)),
    Column("underlying", String(16)),
    Column("structure", String(24)),
    Column("tenor_months", Double),
    Column("notional", Double),
    Column("solve_for", String(16)),
    Column("fields", JSON, nullable=False),            # the request's fields (parsed, then as corrected)
    Column("template", String(64)),
    Column("template_version", String(12)),
    Column("terms", JSON),                             # validated terms, the solved value filled in
    Column("market_snapshot_id", String(20)),
    Column("pricing", JSON),                           # value, value_pct, solved, engine, settings, seconds
    Column("maker", String(64)),                       # the trader who edited it (None: as the bot priced it)
    Column("error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("valid_until", UTCDateTime(), nullable=False),
    UniqueConstraint("message_id", "request_index", "revision", name="uq_quotes_message_request_revision"),
)
Index("ix_quotes_state", quotes.c.state, quotes.c.valid_until)

quote_events = Table(
    "quote_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("quote_id", String(32), ForeignKey("quotes.quote_id"), nullable=False),
    Column("seq", Integer, nullable=False),            # 1, 2, ... per quote: two writers cannot both add n
    Column("from_state", String(20)),
    Column("to_state", String(20), nullable=False),
    Column("by", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("details", JSON),
    UniqueConstraint("quote_id", "seq", name="uq_quote_events_quote_seq"),
)

quote_evidence = Table(
    "quote_evidence", metadata,
    Column("event_id", Integer, ForeignKey("quote_events.id"), primary_key=True),
    Column("log_index", Integer, nullable=False),      # the entry of the evidence log holding the event
    Column("recorded_at", UTCDateTime(), nullable=False),
)

outbound_messages = Table(
    "outbound_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(80), nullable=False, unique=True),   # reply:Q..., clarify:<msg id>, refusal:<msg id>
    Column("kind", String(12), nullable=False),        # reply | clarify | refusal
    Column("quote_id", String(32), ForeignKey("quotes.quote_id")),
    Column("message_id", Integer, ForeignKey("rfq_messages.id")),
    Column("response_url", Text),
    Column("webhook_url", Text),
    Column("chat_id", String(128)),
    Column("text", Text, nullable=False),
    Column("mentioned", JSON, nullable=False),
    Column("status", String(10), nullable=False),      # pending | sending | sent | failed | withdrawn
    Column("via", String(16)),                         # response_url | webhook: how it went (or must go)
    Column("claim_token", String(40)),
    Column("claimed_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("errcode", Integer),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
)
Index("ix_outbound_messages_status", outbound_messages.c.status, outbound_messages.c.next_attempt_at)

rfq_corrections = Table(
    "rfq_corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("quote_id", String(32), ForeignKey("quotes.quote_id"), nullable=False),
    Column("message_text", Text, nullable=False),
    Column("field", String(32), nullable=False),
    Column("parsed_value", JSON),
    Column("corrected_value", JSON),
    Column("corrected_by", String(64), nullable=False),
    Column("corrected_at", UTCDateTime(), nullable=False),
)

# Tables of the later areas live in their own modules on the same metadata (imported last: they
# import ``metadata`` from here).
from . import tables_confirm, tables_governance, tables_kyc  # noqa: E402,F401
