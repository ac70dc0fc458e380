"""The store's tables for template governance and scheduled validation (issue 16), on the store's one metadata
(otclab.store.tables imports this module, so every table is known wherever the store is).
The migration that creates them is in migrations/versions (0007_governance.py).

- ``validation_runs``: one row per papermill run of one template version (who or what triggered
  it, its outcome, the executed notebook and HTML report, how long it took). A run is inserted
  ``running`` before the kernel starts and finished in place of nothing else: its outcome columns
  are filled once. At most one run of a version is ``running`` at a time (a partial unique index),
  so two validations of the same version never overlap, whichever process starts them.
- ``template_comparisons``: risk control's independent template against the desk's on agreed
  cases, per case the mean and standard error of the per-path difference (same random numbers).
- ``template_events``: the version's states (draft, validated, approved, retired) as an
  append-only list of transitions, each naming who, when and why.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Double, ForeignKey, Index, Integer, String, Table, Text, text

from .tables import UTCDateTime, metadata

validation_runs = Table(
    "validation_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("template", String(64), nullable=False),
    Column("version", String(12), nullable=False),
    Column("notebook", Text, nullable=False),
    Column("status", String(12), nullable=False),      # running | pass | fail | timeout | interrupted
    Column("trigger", String(64), nullable=False),     # a user's name | schedule | file-change
    Column("owner", String(128), nullable=False),      # host:pid of the process running it
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("seconds", Double),
    Column("executed", Text),                          # the executed notebook (.ipynb)
    Column("report", Text),                            # its HTML rendering (nbconvert)
    Column("error", Text),
    Column("records", JSON),                           # what the validation cells record()-ed
)
Index("ix_validation_runs_template", validation_runs.c.template, validation_runs.c.version, validation_runs.c.id)
Index("ux_validation_runs_running", validation_runs.c.template, validation_runs.c.version, unique=True,
      sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'"))

template_comparisons = Table(
    "template_comparisons", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("desk_template", String(64), nullable=False),
    Column("desk_version", String(12), nullable=False),
    Column("risk_template", String(64), nullable=False),
    Column("risk_version", String(12), nullable=False),
    Column("cases", JSON, nullable=False),             # the agreed cases as given
    Column("paths", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("tol", Double, nullable=False),             # fraction of notional
    Column("rows", JSON, nullable=False),              # per case: desk, risk, mean diff, its s.e., limit, ok
    Column("ok", Boolean, nullable=False),
    Column("compared_by", String(64), nullable=False),
    Column("compared_at", UTCDateTime(), nullable=False),
)
Index("ix_template_comparisons_desk", template_comparisons.c.desk_template, template_comparisons.c.desk_version)

template_events = Table(
    "template_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("template", String(64), nullable=False),
    Column("version", String(12), nullable=False),
    Column("state", String(12), nullable=False),       # draft | validated | approved | retired
    Column("actor", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("reason", Text),
    Column("run_id", Integer, ForeignKey("validation_runs.id")),
    Column("comparison_id", Integer, ForeignKey("template_comparisons.id")),
)
Index("ix_template_events_template", template_events.c.template, template_events.c.version, template_events.c.id)
