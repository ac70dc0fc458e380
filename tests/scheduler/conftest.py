"""Scheduler fixtures: a SQLite store, a trusted temporary template folder, the governance helpers."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "governance"))   # gov_support


@pytest.fixture
def desk(tmp_path, monkeypatch):
    folder = tmp_path / "desk_templates"
    folder.mkdir()
    monkeypatch.setenv("OTCLAB_PAYOFFS", str(folder))
    return folder


@pytest.fixture
def sqlite_store(tmp_path):
    from otclab.store import db as dbm

    url = f"sqlite:///{tmp_path / 'otclab.db'}"
    st = dbm.open_store(url)
    yield st
    dbm._STORES.pop(url).dispose()
