"""Governance fixtures: the store on SQLite and PostgreSQL (tests/store/conftest.py's), a trusted
temporary template folder on the search path, and a users file."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # gov_support, the helpers the tests import
from gov_support import USERS, store_fixtures  # noqa: E402

_fx = store_fixtures()
db_url, store = _fx.db_url, _fx.store   # noqa: F401 (fixtures)


@pytest.fixture(scope="session")
def pg_server():
    """``OTCLAB_TEST_PG_URL`` (CI), else a throwaway cluster of our own, two ports above the store
    tests' (tests/store and tests/quotes start theirs on the next two: all can run in one session)."""
    import os
    import shutil
    import subprocess
    import tempfile

    url = os.environ.get("OTCLAB_TEST_PG_URL")
    if url:
        yield url
        return
    d = Path(tempfile.mkdtemp(prefix="otclab-pg-g-"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    port = 56002 + (int(worker[2:]) if worker[2:].isdigit() else 0) + (os.getpid() % 300) * 3
    script = str(_fx.ROOT / "scripts" / "pg-test-cluster")
    try:
        out = subprocess.run([script, "start", str(d), str(port)], capture_output=True, text=True, timeout=120)
        url = out.stdout.strip() if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        url = None
    if not url and os.environ.get("OTCLAB_REQUIRE_PG") == "1":
        pytest.fail("PostgreSQL is required (OTCLAB_REQUIRE_PG=1) but no server could be started")
    yield url
    subprocess.run([script, "stop", str(d)], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def desk(tmp_path, monkeypatch):
    """A trusted template folder searched before payoffs/ (``OTCLAB_PAYOFFS``)."""
    folder = tmp_path / "desk_templates"
    folder.mkdir()
    monkeypatch.setenv("OTCLAB_PAYOFFS", str(folder))
    return folder


@pytest.fixture
def users(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    path.write_text(USERS, encoding="utf-8")
    monkeypatch.setenv("OTCLAB_USERS", str(path))
    return path
