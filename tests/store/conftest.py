"""Store fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL (the session's ``pg_server``, tests/conftest.py) comes from ``OTCLAB_TEST_PG_URL`` (``.ci/run`` starts a cluster and sets it) or, when
the server binaries are installed, from a cluster this session starts itself
(``scripts/pg-test-cluster``). Each test gets a database of its own. Without PostgreSQL the
``postgresql`` cases are skipped, unless ``OTCLAB_REQUIRE_PG=1`` (CI), where they fail.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("sqlite", "postgresql")


def _pg_database(server: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(make_url(server).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    def drop():
        from otclab.store import db as dbm

        for key in [k for k in dbm._STORES if name in k]:
            dbm._STORES.pop(key).dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return url, drop


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, pg_server):
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'otclab.db'}"
        return
    if not pg_server:
        pytest.skip("PostgreSQL not available (set OTCLAB_TEST_PG_URL or install postgresql)")
    url, drop = _pg_database(pg_server)
    yield url
    drop()


#: the counterparties the store tests book for, onboarded in the KYC client master the way
#: operations brings in clients onboarded before the platform (booking refuses anyone else)
TEST_COUNTERPARTIES = ("CP001", "CP1", "CP9", "CP024", "CP900", "CP901")


@pytest.fixture
def store(db_url):
    from otclab.kyc.demo import onboard
    from otclab.store.db import Store

    st = Store(db_url)
    onboard(st, TEST_COUNTERPARTIES, by="test-operations")
    yield st
    st.dispose()


def new_url(backend: str, folder: Path, pg: str | None):
    """(url, cleanup) of a fresh database on ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'otclab.db'}", (lambda: None)
    if not pg:
        pytest.skip("PostgreSQL not available (set OTCLAB_TEST_PG_URL or install postgresql)")
    return _pg_database(pg)


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, tmp_path_factory, pg_server):
    """A small demo store (history, booked trades of every family, lifecycle, one EOD)."""
    from otclab.store.db import Store
    from otclab.workflows.demo import init_demo

    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    url, cleanup = new_url(request.param, folder, pg_server)
    info = init_demo(folder, trades=260, paths=400, url=url, log=lambda *a: None)
    st = Store(url)
    yield {"store": st, "folder": folder, "backend": request.param, **info}
    st.dispose()
    cleanup()
