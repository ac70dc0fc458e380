"""A lifecycle run killed with SIGKILL and run again ends exactly where an uninterrupted run
ends; two runs at once: the second refuses (or waits with --wait)."""
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from otclab.store import tables as T
from otclab.store.db import Store
from otclab.workflows.demo import EOD_DATE, init_demo
from otclab.workflows.lifecycle.run import run_lifecycle
from store_helpers import cashflows, events


def otclab(*args, env=None, **kw):
    return subprocess.Popen([sys.executable, "-m", "otclab", *args], env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def ok_runs(store) -> int:
    with store.connect() as c:
        return c.execute(select(func.count()).select_from(T.runs).where(T.runs.c.status == "ok")).scalar()


def test_sigkill_in_the_middle_then_a_rerun_equals_an_uninterrupted_run(db_url, tmp_path):
    init_demo(tmp_path / "a", trades=300, url=db_url, upto="booking", log=lambda *a: None)
    init_demo(tmp_path / "ref", trades=300, upto="booking", log=lambda *a: None)
    ref = Store(f"sqlite:///{tmp_path / 'ref' / 'otclab.db'}")
    run_lifecycle(ref, EOD_DATE)
    st = Store(db_url)
    # two trading days a transaction: a long run with many commits to land a kill among
    proc = otclab("lifecycle", "run", "--date", str(EOD_DATE), "--db", db_url, env={"OTCLAB_LIFECYCLE_CHUNK_DAYS": "2"})
    deadline = time.monotonic() + 120
    while ok_runs(st) < 20 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    partial = events(st)
    assert 0 < len(partial) < len(events(ref))
    rep = run_lifecycle(st, EOD_DATE)
    assert rep.through == EOD_DATE
    assert events(st) == events(ref) and cashflows(st) == cashflows(ref)
    assert run_lifecycle(st, EOD_DATE).runs == []


def test_two_runs_at_once_the_second_refuses_or_waits(db_url, tmp_path):
    init_demo(tmp_path, trades=40, url=db_url, upto="booking", log=lambda *a: None)
    st = Store(db_url)
    with st.lock("lifecycle"):
        p = otclab("lifecycle", "run", "--date", str(EOD_DATE), "--db", db_url)
        out, err = p.communicate(timeout=120)
        assert p.returncode == 2, err
        assert err.strip() == "error: lock: another lifecycle run is running on this store; wait for it to finish " \
                              "(or pass --wait SECONDS)"
        waiting = otclab("lifecycle", "run", "--date", str(EOD_DATE), "--db", db_url, "--wait", "120")
        time.sleep(1.0)
        assert waiting.poll() is None
        assert ok_runs(st) == 0
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert f"lifecycle through {EOD_DATE}" in out and ok_runs(st) > 0
