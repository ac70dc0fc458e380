"""Alembic migrations of the store, run from the package (no alembic.ini needed).

``upgrade(engine)`` brings a database to the newest revision in one transaction;
``head_revision()`` is the revision the code expects. ``otclab db upgrade`` and ``otclab db
current`` call these; a new empty database is upgraded automatically when first opened.
"""
from __future__ import annotations

import functools
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision id in ``migrations/versions`` (read from the files: fast, no Alembic)."""
    import re

    revs, downs = set(), set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        src = f.read_text(encoding="utf-8")
        m = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", src, re.M)
        d = re.search(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", src, re.M)
        if m:
            revs.add(m.group(1))
        if d:
            downs.add(d.group(1))
    heads = sorted(revs - downs)
    if len(heads) != 1:
        raise RuntimeError(f"store migrations must have exactly one head; found {heads}")
    return heads[0]


def upgrade(engine) -> str:
    """Apply every missing migration; returns the revision the database is at."""
    from alembic import command

    with engine.execution_options(otclab_write=True).begin() as conn:
        command.upgrade(_config(conn), "head")
    return head_revision()


def current(engine) -> str | None:
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
