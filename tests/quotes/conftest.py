"""Quote-workflow fixtures: a store (SQLite and PostgreSQL, the fixtures of tests/store/conftest.py)
with a market snapshot and WeCom contacts, and the service's settings."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # quotes_support, the helpers the tests import
from quotes_support import AES_KEY, TOKEN, seed_store, store_fixtures  # noqa: E402

_fx = store_fixtures()
db_url, store = _fx.db_url, _fx.store   # noqa: F401 (fixtures: every store test on SQLite and PostgreSQL)
new_url = _fx.new_url


@pytest.fixture
def qstore(store):
    seed_store(store)
    return store


@pytest.fixture
def cfg(tmp_path):
    from otclab.workflows.quotes import service
    from otclab.workflows.quotes.config import QuoteConfig

    c = QuoteConfig(token=TOKEN, encoding_aes_key=AES_KEY, four_eyes_notional=30_000_000,
                    webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=unused",
                    evidence_log=str(tmp_path / "evidence.sqlite"), claim_lease_s=2.0)
    service.configure(c)
    yield c
    service.configure(None)
