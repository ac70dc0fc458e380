"""Storage of the evidence log through DB-API 2.0: SQLite (default, a file path) or PostgreSQL (URL).

Three tables: ``entries`` (index, kind, data, received time), ``nodes`` (hash of every complete
aligned subtree, level 0 = leaf hashes) and ``checkpoints`` (signed tree heads). SQL is written
once with ``?`` placeholders; the PostgreSQL dialect rewrites them to psycopg's ``%s``.
Appends run in one write transaction that also serialises concurrent writers (SQLite ``BEGIN
IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock).
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import EvidenceError

PG_LOCK_KEY = 0x6F74636C6162  # "otclab": advisory lock id that serialises appends


def _schema(blob: str, bigint: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS evidence_entries (idx {bigint} PRIMARY KEY, kind TEXT NOT NULL, "
        f"data {blob} NOT NULL, received_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS evidence_nodes (level INTEGER NOT NULL, idx {bigint} NOT NULL, "
        f"hash {blob} NOT NULL, PRIMARY KEY (level, idx))",
        f"CREATE TABLE IF NOT EXISTS evidence_checkpoints (size {bigint} NOT NULL, root {blob} NOT NULL, "
        f"time TEXT NOT NULL, body {blob} NOT NULL, signature {blob} NOT NULL, algorithm TEXT NOT NULL, "
        f"certificate {blob} NOT NULL, PRIMARY KEY (size, time))",
    ]


class Database:
    """One connection to the log's database; ``url`` is a file path, ``sqlite:///path`` or ``postgresql://``."""

    def __init__(self, url: str | Path):
        url = str(url)
        self.url = url
        if url.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg
            except ImportError:
                raise EvidenceError(
                    "PostgreSQL needs the psycopg package (pip install 'otclab[esign]')", field="url"
                ) from None
            try:
                self.conn = psycopg.connect(url, autocommit=False)
            except psycopg.Error as exc:
                raise EvidenceError(f"cannot connect to PostgreSQL: {exc}", field="url") from None
            self.dialect = "postgresql"
            self.integrity_errors: tuple[type[Exception], ...] = (psycopg.errors.UniqueViolation,)
            statements = _schema("BYTEA", "BIGINT")
        else:
            path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN ourselves (BEGIN IMMEDIATE for writers)
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoint, fast
            self.dialect = "sqlite"
            self.integrity_errors = (sqlite3.IntegrityError,)
            statements = _schema("BLOB", "INTEGER")
        with self.write():
            for s in statements:
                self.execute(s)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: tuple | list = ()) -> Any:
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), params)
        return cur

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        if rows:
            self.conn.cursor().executemany(self._sql(sql), rows)

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        return self.execute(sql, params).fetchall()

    @contextmanager
    def write(self) -> Iterator["Database"]:
        """One serialised write transaction: committed on success, rolled back on any error."""
        if self.dialect == "sqlite":
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.execute("SELECT pg_advisory_xact_lock(?)", (PG_LOCK_KEY,))
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()

    @contextmanager
    def read(self) -> Iterator["Database"]:
        """A read snapshot (SQLite: one deferred transaction, so size and nodes agree)."""
        if self.dialect == "sqlite":
            self.conn.execute("BEGIN")
        try:
            yield self
        finally:
            self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


def blob(value: Any) -> bytes:
    """DB blob (bytes, memoryview from psycopg) -> bytes."""
    return bytes(value)
