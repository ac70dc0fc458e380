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
