"""KYC fixtures: a fresh store on SQLite and PostgreSQL (the fixtures of tests/store/conftest.py,
without its pre-onboarded test counterparties: these tests onboard their own), the KYC files
and the data folder in the test's temporary folder, a demo PKI for the report's seal, and (for
the tests whose subject is not the agreements) an agreements file holding one agreement, so a
client signs what is required before it trades at a third of the cost."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))          # kyc_support
_spec = importlib.util.spec_from_file_location("_kyc_store_fixtures", Path(__file__).parents[1] / "store" / "conftest.py")
_fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fx)


db_url = _fx.db_url


@pytest.fixture
def store(db_url, tmp_path, monkeypatch):
    from otclab.store.db import Store

    monkeypatch.setenv("OTCLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("OTCLAB_KYC_FILES", str(tmp_path / "kyc-files"))
    monkeypatch.setenv("OTCLAB_KYC_EVIDENCE", str(tmp_path / "kyc-evidence.sqlite"))
    st = Store(db_url)
    yield st
    st.dispose()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    from otclab.esign.pki.demo import build_demo_pki

    d = tmp_path_factory.mktemp("pki")
    build_demo_pki().write(d)
    return d


@pytest.fixture
def seal(pki, monkeypatch):
    monkeypatch.setenv("OTCLAB_KYC_PKI", str(pki))
    return pki


@pytest.fixture
def one_agreement(tmp_path, monkeypatch):
    """Only the master agreement's supplement is in force (``OTCLAB_KYC_AGREEMENTS``)."""
    from kyc_support import agreements_file

    path = agreements_file(tmp_path, ["master_supplement"])
    monkeypatch.setenv("OTCLAB_KYC_AGREEMENTS", str(path))
    return path
