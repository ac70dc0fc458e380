"""Storage of the evidence log through DB-API 2.0: SQLite (default, a file path) or PostgreSQL (URL).

Four tables: ``entries`` (index, kind, data, received time), ``nodes`` (hash of every complete
aligned subtree, level 0 = leaf hashes), ``checkpoints`` (signed tree heads) and ``meta`` (the
log format). SQL is written once with ``?`` placeholders; the PostgreSQL dialect rewrites them to
psycopg's ``%s``. Appends run in one write transaction that also serialises concurrent writers
(SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock).

Durability: a receipt is returned only after the commit is on disk (SQLite WAL with
``synchronous=FULL``: the WAL is fsynced at every commit; PostgreSQL ``synchronous_commit=on``).
Only writers create a log (``create=True``); a reader given a path where there is no log gets an
``EvidenceError``, never a new empty file. Every database error (a damaged or truncated file, a
file that is not a database, a lock held too long) becomes one ``EvidenceError`` naming the log.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

from ..errors import EvidenceError

PG_LOCK_KEY = 0x6F74636C6162  # "otclab": advisory lock id that serialises appends
TABLES = ("evidence_entries", "evidence_nodes", "evidence_checkpoints", "evidence_meta")


def _schema(blob: str, bigint: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS evidence_entries (idx {bigint} PRIMARY KEY, kind TEXT NOT NULL, "
        f"data {blob} NOT NULL, received_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS evidence_nodes (level INTEGER NOT NULL, idx {bigint} NOT NULL, "
        f"hash {blob} NOT NULL, PRIMARY KEY (level, idx))",
        f"CREATE TABLE IF NOT EXISTS evidence_checkpoints (size {bigint} NOT NULL, root {blob} NOT NULL, "
        f"time TEXT NOT NULL, body {blob} NOT NULL, signature {blob} NOT NULL, algorithm TEXT NOT NULL, "
        f"certificate {blob} NOT NULL, PRIMARY KEY (size, time))",
        "CREATE TABLE IF NOT EXISTS evidence_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]


def display_url(url: str) -> str:
    """The log location for messages: a PostgreSQL URL without its password."""
    if "://" in url and not url.startswith("sqlite:"):
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.hostname or ""
            netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
            return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


class Database:
    """One connection to the log's database; ``url`` is a file path, ``sqlite:///path`` or ``postgresql://``.

    ``create=False``: the log must already exist (nothing is created, no folder is made).
    """

    def __init__(self, url: str | Path, create: bool = True):
        url = str(url)
        self.url = url
        self.where = display_url(url)
        if url.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg
            except ImportError:
                raise EvidenceError(
                    "PostgreSQL needs the psycopg package (pip install 'otclab[esign]')", field="url"
                ) from None
            self.dialect = "postgresql"
            self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)
            try:
                self.conn = psycopg.connect(url, autocommit=False)
            except psycopg.Error as exc:
                raise EvidenceError(f"cannot connect to PostgreSQL at {self.where}: {exc}", field="log") from None
            with self._guard():
                self.conn.execute("SET synchronous_commit TO on")
                self.conn.commit()
            statements = _schema("BYTEA", "BIGINT")
        else:
            path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
            self.dialect = "sqlite"
            self._errors = (sqlite3.Error,)
            if path == ":memory:":
                target, uri = path, False
            else:
                p = Path(path)
                if not p.exists():
                    if not create:
                        raise EvidenceError(
                            f"no evidence log at {path} (check the path, --log or $OTCLAB_EVIDENCE_URL; "
                            "a log is created by its first append, never by verify, prove or checkpoint)",
                            field="log",
                        )
                    p.parent.mkdir(parents=True, exist_ok=True)
                elif not p.is_file():
                    raise EvidenceError(f"{path} is not a file, so not an evidence log", field="log")
                target = "file:" + quote(os.path.abspath(path)) + ("?mode=rwc" if create else "?mode=rw")
                uri = True
            # isolation_level=None: we issue BEGIN ourselves (BEGIN IMMEDIATE for writers)
            with self._guard():
                self.conn = sqlite3.connect(target, isolation_level=None, timeout=30, uri=uri)
                if create:  # a reader leaves the file as it is (a log we wrote is in WAL mode already)
                    self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=FULL")  # WAL + FULL: the WAL is synced at each commit
            statements = _schema("BLOB", "INTEGER")
        self.statements = statements
        try:
            present = self.tables()
            if create and not present & set(TABLES[:3]):  # a new log; an existing one keeps its schema
                with self.write():
                    for s in statements:
                        self.execute(s)
            else:
                missing = [t for t in TABLES[:3] if t not in present]
                if missing:
                    raise EvidenceError(
                        f"{self.where} is a database but not an evidence log (no table {missing[0]})", field="log"
                    )
        except BaseException:
            self.close()
            raise

    # ---- errors --------------------------------------------------------------------------
    def _explain(self, exc: BaseException) -> str:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        low = msg.lower()
        if "locked" in low or "busy" in low:
            return f"the evidence log at {self.where} is locked by another process ({msg}); try again"
        if "disk is full" in low or "no space" in low:
            return f"cannot write the evidence log at {self.where}: disk full ({msg})"
        if self.dialect == "postgresql":
            return f"the evidence log at {self.where} cannot be read or written (PostgreSQL: {msg})"
        return f"the evidence log at {self.where} is damaged or unreadable (sqlite: {msg}); restore it from a backup"

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except EvidenceError:
            raise
        except self._errors as exc:
            raise EvidenceError(self._explain(exc), field="log") from None

    # ---- statements ----------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: tuple | list = ()) -> Any:
        with self._guard():
            cur = self.conn.cursor()
            cur.execute(self._sql(sql), params)
            return cur

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        if rows:
            with self._guard():
                self.conn.cursor().executemany(self._sql(sql), rows)

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        with self._guard():
            cur = self.conn.cursor()
            cur.execute(self._sql(sql), params)
            return cur.fetchall()

    def tables(self) -> set[str]:
        """Names of the evidence tables present."""
        if self.dialect == "sqlite":
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {r[0] for r in rows} & set(TABLES)
        found = set()
        for t in TABLES:
            (reg,) = self.query("SELECT to_regclass(?)", (t,))[0]
            if reg is not None:
                found.add(t)
        self.conn.rollback()
        return found

    # ---- transactions --------------------------------------------------------------------
    def _rollback(self) -> None:
        try:
            self.conn.rollback()
        except self._errors:  # a damaged database may refuse even the rollback; the error is raised anyway
            pass

    @contextmanager
    def write(self) -> Iterator["Database"]:
        """One serialised write transaction: committed (durably) on success, rolled back on any error."""
        if self.dialect == "sqlite":
            with self._guard():
                self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.execute("SELECT pg_advisory_xact_lock(?)", (PG_LOCK_KEY,))
        try:
            yield self
        except BaseException:
            self._rollback()
            raise
        else:
            with self._guard():
                self.conn.commit()

    @contextmanager
    def read(self) -> Iterator["Database"]:
        """A read snapshot (SQLite: one deferred transaction, so size and nodes agree)."""
        if self.dialect == "sqlite":
            with self._guard():
                self.conn.execute("BEGIN")
        try:
            yield self
        finally:
            self._rollback()

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            try:
                conn.close()
            except self._errors:
                pass
            self.conn = None


def blob(value: Any) -> bytes:
    """DB blob (bytes, memoryview from psycopg) -> bytes; anything else means the store was edited."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise EvidenceError(f"a stored value is {type(value).__name__}, not binary: the log store is damaged", field="log")
