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


def pytest_terminal_summary(terminalreporter):
    """One line per store backend, so a CI log shows the store tests passed on both."""
    import re

    pat = re.compile(r"^tests/store/.*\[(sqlite|postgresql)[\]-]")
    counts: dict = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for rep in terminalreporter.stats.get(outcome, []):
            m = pat.match(getattr(rep, "nodeid", ""))
            if m and (outcome != "passed" or rep.when == "call"):
                counts.setdefault(m.group(1), {}).setdefault(outcome, 0)
                counts[m.group(1)][outcome] += 1
    for backend in sorted(counts):
        c = counts[backend]
        terminalreporter.write_line(f"store tests on {backend}: " + ", ".join(f"{v} {k}" for k, v in sorted(c.items())))
