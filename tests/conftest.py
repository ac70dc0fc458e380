"""Shared fixtures: reference data shipped with the tests, and small request builders."""
from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]

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


def _start_cluster(tmp: Path) -> str | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    port = 56000 + (int(worker[2:]) if worker[2:].isdigit() else 0) + (os.getpid() % 300) * 3
    try:
        out = subprocess.run([str(ROOT / "scripts" / "pg-test-cluster"), "start", str(tmp), str(port)],
                             capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """The session's PostgreSQL server URL for the store fixtures (one per test process, every
    area's): ``OTCLAB_TEST_PG_URL`` (CI), else a throwaway cluster started here (Debian's
    postgresql, ``scripts/pg-test-cluster``), else None (those cases skip, or fail under
    ``OTCLAB_REQUIRE_PG=1``)."""
    url = os.environ.get("OTCLAB_TEST_PG_URL")
    started = None
    if not url:
        # directly under /tmp: the server runs as 'postgres', which cannot enter pytest's folders
        d = Path(tempfile.mkdtemp(prefix="otclab-pg-"))
        url = _start_cluster(d)
        started = d
    if not url and os.environ.get("OTCLAB_REQUIRE_PG") == "1":
        pytest.fail("PostgreSQL is required (OTCLAB_REQUIRE_PG=1) but no server could be started")
    yield url
    if started is not None:
        subprocess.run([str(ROOT / "scripts" / "pg-test-cluster"), "stop", str(started)], capture_output=True)
        shutil.rmtree(started, ignore_errors=True)
