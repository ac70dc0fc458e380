"""Shared fixtures: reference data shipped with the tests, and small request builders."""
from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# The platform's default data folder is the user's ~/.otclab (the store, template validation
# records, the hub's files). A test that relies on the defaults, or a command it runs in a
# subprocess, must never write into a developer's real store: the whole session gets its own.
os.environ["OTCLAB_DATA"] = tempfile.mkdtemp(prefix="otclab-test-data-")
atexit.register(shutil.rmtree, os.environ["OTCLAB_DATA"], True)


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
