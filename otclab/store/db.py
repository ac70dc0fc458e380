"""Where the store lives and how to reach it: URL, engine, migrations, transactions and locks.

``OTCLAB_DB_URL`` names the database; without it the embedded default is a SQLite file
``otclab.db`` in the data folder (``OTCLAB_DATA``, default ``~/.otclab``). Production runs on
PostgreSQL (``postgresql://user@host/db``, driven by psycopg 3). A new, empty database is created
by the Alembic migrations on first use; an existing one behind the code's schema is refused with
the command that upgrades it (``otclab db upgrade``).

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed transaction survives a power cut)
and foreign keys on. Named locks (``Store.lock``) let one lifecycle or EOD run proceed at a time:
an advisory lock on PostgreSQL, an OS file lock beside the SQLite file; both are released by the
operating system or the server when the holder dies, so a killed run never leaves a stale lock.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import zlib
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url

from ..core.errors import OtcError
from .tables import metadata

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(OtcError):
    """The store cannot be reached, is at another schema revision, or is busy."""


def data_dir() -> Path:
    """The data folder of the embedded default (``OTCLAB_DATA``, default ``~/.otclab``)."""
    return Path(os.environ.get("OTCLAB_DATA") or Path.home() / ".otclab")


def default_url() -> str:
    """``OTCLAB_DB_URL``, else the SQLite file ``otclab.db`` in the data folder."""
    url = os.environ.get("OTCLAB_DB_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'otclab.db'}"


def sqlite_url(path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _normalise(url: str):
    try:
        u = make_url(url)
    except Exception:
        raise StoreError(f"not a database URL: {url!r} (e.g. sqlite:///path/otclab.db or "
                         "postgresql://user@localhost/otclab)", "OTCLAB_DB_URL") from None
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if not (u.drivername.startswith("sqlite") or u.drivername.startswith("postgresql")):
        raise StoreError(f"unsupported database {u.drivername!r}; allowed: sqlite, postgresql", "OTCLAB_DB_URL")
    return u


class Store:
    """A database holding the book. ``begin()`` gives a connection inside one transaction."""

    def __init__(self, url: str | None = None, create: bool = True):
        self.url = _normalise(url or default_url())
        self.is_sqlite = self.url.drivername.startswith("sqlite")
        if self.is_sqlite:
            db = self.url.database
            if not db or db == ":memory:":
                raise StoreError("an in-memory SQLite database cannot be shared between commands; "
                                 "give a file (sqlite:///path/otclab.db)", "OTCLAB_DB_URL")
            self.path = Path(db).expanduser().resolve()
            if not self.path.exists():
                if not create:
                    raise StoreError(f"no store at {self.path} (create one with `otclab demo init` or book a trade)",
                                     "OTCLAB_DB_URL")
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(self.url.set(database=str(self.path)),
                                                connect_args={"timeout": 60})
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite opens transactions lazily; begin them ourselves: a transaction that will
            # write (``begin()``) takes the write lock at its first statement (BEGIN IMMEDIATE),
            # so two writers queue instead of failing half-way; readers never block (WAL)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.path = None
            self.engine = create_engine(self.url, pool_pre_ping=True)
        self._check_schema()

    def __repr__(self) -> str:
        return f"Store({self.display_url})"

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    # ---- schema ----------------------------------------------------------------------------
    def _check_schema(self) -> None:
        from .migrate import head_revision

        try:
            with self.engine.connect() as conn:
                have = inspect(conn).get_table_names()
                current = None
                if "alembic_version" in have:
                    current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OtcError:
            raise
        except Exception as e:
            raise StoreError(f"cannot open the store {self.display_url}: {type(e).__name__}: {e}".splitlines()[0],
                             "OTCLAB_DB_URL") from None
        head = head_revision()
        if current == head:
            return
        if current is None and not (set(have) & set(metadata.tables)):
            self.upgrade()
            return
        raise StoreError(f"the store {self.display_url} is at schema revision {current or 'none'}, the code "
                         f"expects {head}; run `otclab db upgrade`", "OTCLAB_DB_URL")

    def upgrade(self) -> str:
        from .migrate import upgrade

        return upgrade(self.engine)

    # ---- transactions and locks ---------------------------------------------------------------
    def begin(self):
        """A connection in one transaction: committed on success, rolled back on any error."""
        return self.engine.execution_options(otclab_write=True).begin()

    def connect(self):
        return self.engine.connect()

    @contextlib.contextmanager
    def lock(self, name: str, wait: float = 0.0, what: str | None = None):
        """Hold the named lock for the block; ``wait`` seconds before refusing with a clear message."""
        what = what or name
        deadline = time.monotonic() + max(wait, 0.0)
        if self.is_sqlite:
            import fcntl

            path = self.path.with_name(f"{self.path.name}.{name}.lock")
            fh = open(path, "a+")
            try:
                while True:
                    try:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise StoreError(f"another {what} is running on this store; wait for it to finish "
                                             f"(or pass --wait SECONDS)", "lock") from None
                        time.sleep(0.1)
                fh.seek(0)
                fh.truncate()
                fh.write(f"pid {os.getpid()} since {now().isoformat()}\n")
                fh.flush()
                yield
            finally:
                fh.close()   # closing the descriptor releases the lock (so does the process dying)
            return
        key = zlib.crc32(f"otclab:{name}".encode()) & 0x7FFFFFFF
        conn = self.engine.connect()
        try:
            while True:
                got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                conn.commit()
                if got:
                    break
                if time.monotonic() >= deadline:
                    raise StoreError(f"another {what} is running on this store; wait for it to finish "
                                     f"(or pass --wait SECONDS)", "lock")
                time.sleep(0.1)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        finally:
            conn.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("otclab_write") else "BEGIN")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # the driver's own transaction handling off: BEGIN IMMEDIATE is issued on "begin"
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


_STORES: dict = {}


def open_store(url: str | None = None, create: bool = True) -> Store:
    """The store at ``url`` (default: ``default_url()``), one engine per URL and process."""
    key = url or default_url()
    st = _STORES.get(key)
    if st is None:
        st = _STORES[key] = Store(key, create=create)
    return st
