"""The validation scheduler (SQLite, four real papermill runs): a changed notebook is validated on
the poll and recorded, a broken one fails and alerts the group robot, a hung kernel times out,
and a run killed mid-way is found interrupted on restart."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from otclab.cli.main import main
from otclab.governance import registry, runs
from otclab.governance.validation import validate_one
from otclab.scheduler import jobs, service
from otclab.store import tables as T
from otclab.store.tables_governance import validation_runs as VR

from gov_support import notebook, reviewed
from webhook_server import RobotServer

HANG = "import time\ntime.sleep(600)   # a kernel that never answers\n"


def _runs(store):
    with store.connect() as c:
        return c.execute(select(VR).order_by(VR.c.id)).all()


def _wait(pred, timeout_s: float, what: str):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_the_scheduler_validates_a_changed_notebook_and_alerts_on_a_broken_one(sqlite_store, desk, tmp_path, capsys):
    notebook(desk, "vanilla", reviewed)
    notebook(desk, "digital", lambda tag, src: src.replace("s_T > t.strike", "s_T < t.strike") if tag == "payoff"
             else src)        # pays on the wrong side of the strike: its validation cells fail
    url = sqlite_store.url.render_as_string(hide_password=False)
    with RobotServer() as robot:
        sched = service.build(sqlite_store, tmp_path / "out", poll_s=0.5, timeout=120, webhook=robot.url,
                              blocking=False)
        sched.start()
        try:
            done = _wait(lambda: [r for r in _runs(sqlite_store) if r.status != "running"] if
                         len([r for r in _runs(sqlite_store) if r.status != "running"]) >= 2 else None, 150,
                         "two finished validation runs")
        finally:
            sched.shutdown(wait=True)
        by = {r.template: r for r in done}
        assert set(by) == {"vanilla", "digital"}
        assert (by["vanilla"].status, by["vanilla"].trigger) == ("pass", "file-change")
        assert (by["digital"].status, by["digital"].trigger) == ("fail", "file-change")
        assert "mc_vs_analytic" in by["digital"].error and by["digital"].report.endswith(".html")
        assert len(robot.texts()) == 1
        text = robot.texts()[0]
    assert f"template digital version {by['digital'].version} failed validation (fail, run {by['digital'].id}" in text
    with sqlite_store.connect() as c:
        sent = c.execute(select(T.alerts.c.key, T.alerts.c.kind, T.alerts.c.status).order_by(T.alerts.c.id)).all()
        assert [tuple(r) for r in sent] == [(f"validation:{by['digital'].id}", "validation_failed", "pending"),
                                            (f"validation:{by['digital'].id}", "validation_failed", "sent")]
        assert [(e.state, e.actor) for e in registry.events(c, "vanilla", by["vanilla"].version)] == \
            [("draft", "file-change"), ("validated", "file-change")]
        assert [e.state for e in registry.events(c, "digital", by["digital"].version)] == ["draft"]
    assert jobs.changed(sqlite_store) == []          # each version once: the next polls validate nothing
    assert len(_runs(sqlite_store)) == 2
    # the jobs live in the store's database: listed from there, as another process would see them
    assert main(["schedule", "list", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "validate-nightly" in out and "cron[month='*', day='*', day_of_week='*', hour='2', minute='0']" in out
    assert "validate-on-change" in out and f"{by['vanilla'].id} vanilla" in out


def test_a_hung_kernel_is_a_timed_out_run_not_a_hung_scheduler(sqlite_store, desk, tmp_path):
    path = notebook(desk, "vanilla", reviewed, extra_cell=HANG)
    t0 = time.monotonic()
    row = validate_one(sqlite_store, path, "schedule", tmp_path / "out", timeout=3)
    assert time.monotonic() - t0 < 120
    assert row["status"] == "timeout" and "Timeout" in row["error"] and row["alert"] == "skipped"
    (run,) = _runs(sqlite_store)
    assert (run.status, run.trigger) == ("timeout", "schedule") and run.finished_at is not None


def test_a_run_killed_mid_way_is_interrupted_on_restart(sqlite_store, desk, tmp_path):
    notebook(desk, "vanilla", reviewed, extra_cell=HANG)
    url = sqlite_store.url.render_as_string(hide_password=False)
    proc = subprocess.Popen([sys.executable, "-m", "otclab", "payoffs", "validate", "vanilla", "--db", url,
                             "--out", str(tmp_path / "out"), "--user", "bob"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        (run,) = _wait(lambda: [r for r in _runs(sqlite_store) if r.status == "running"], 90, "the run to start")
        os.killpg(proc.pid, signal.SIGKILL)          # the validating process and its kernel die
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert _runs(sqlite_store)[0].status == "running"
    assert runs.recover(sqlite_store) == [run.id]    # what `schedule serve` and `run-once` do first
    (after,) = _runs(sqlite_store)
    assert after.status == "interrupted" and f"({run.owner}) stopped before it finished" in after.error
    again = runs.start(sqlite_store, "vanilla", run.version, run.notebook, "schedule")   # not blocked
    assert again != run.id
