"""Shared fixtures: reference data shipped with the tests, and small request builders."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def references() -> dict:
    return json.loads((DATA / "pricing_references.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def snowball_request(references) -> dict:
    return json.loads(json.dumps(references["snowball"]["request"]))
