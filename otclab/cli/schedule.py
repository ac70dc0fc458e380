"""``otclab schedule serve|run-once|list``: template validation on a schedule (APScheduler)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

NAME = "schedule"
app = typer.Typer(help="Scheduled template validation: nightly and whenever a template notebook changes.",
                  no_args_is_help=True)

DB_HELP = "database URL of the store (default: OTCLAB_DB_URL, else sqlite in OTCLAB_DATA or ~/.otclab)"
OUT_HELP = "executed notebooks and HTML reports (default: payoffs/ in OTCLAB_DATA, else ~/.otclab/payoffs)"
WEBHOOK_HELP = "WeCom group-robot webhook for failure alerts (default OTCLAB_ALERT_WEBHOOK)"


def _out(out: Optional[Path]) -> Path:
    from ..store.db import data_dir

    return out or data_dir() / "payoffs"


@app.command("serve")
def serve_cmd(cron: str = typer.Option("0 2 * * *", help="when the nightly validation of every template runs "
                                                          "(crontab line, Asia/Shanghai)"),
              poll: float = typer.Option(30.0, help="seconds between looks at the template folders for a changed "
                                                    "notebook"),
              timeout: int = typer.Option(600, help="seconds one cell may run (a hung kernel fails the run)"),
              webhook: Optional[str] = typer.Option(None, help=WEBHOOK_HELP),
              jobstore: Optional[str] = typer.Option(None, help="database URL of the job store (default: the "
                                                                "store's)"),
              out: Optional[Path] = typer.Option(None, help=OUT_HELP),
              db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Run the validation jobs until stopped (SIGTERM, Ctrl-C)."""
    import logging

    from ..scheduler.service import serve
    from ._store import get_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # one line per poll of the folders would bury the runs: the jobs log what they validate
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    serve(get_store(db), _out(out), cron=cron, poll_s=poll, timeout=timeout, webhook=webhook, jobstore_url=jobstore)


@app.command("run-once")
def run_once_cmd(timeout: int = typer.Option(600, help="seconds one cell may run"),
                 webhook: Optional[str] = typer.Option(None, help=WEBHOOK_HELP),
                 changed_only: bool = typer.Option(False, "--changed-only", help="only the templates whose "
                                                                                 "notebook changed"),
                 out: Optional[Path] = typer.Option(None, help=OUT_HELP),
                 db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """The nightly job once (every template, trigger 'schedule'), or with --changed-only the
    file-change job once; after recovering runs left running by a process that is gone. Exit 1
    if a run fails."""
    from ..governance.runs import recover
    from ..scheduler import jobs
    from ._store import get_store

    store = get_store(db)
    recover(store)
    url = store.url.render_as_string(hide_password=False)
    job = jobs.watch if changed_only else jobs.nightly
    rows = job(url, str(_out(out)), timeout, webhook)
    if as_json:
        print(json.dumps(rows, indent=1, default=str))
    else:
        for r in rows:
            print(f"{r['status']:<16} {r['template']:<16} {r['version']}  run {r['id']}  {r['seconds']:.1f}s"
                  + (f"  {r['error']}" if r["error"] else ""))
        if not rows:
            print("nothing to validate")
    if any(r["status"] not in ("pass", "already running") for r in rows):
        raise typer.Exit(1)


@app.command("list")
def list_cmd(jobstore: Optional[str] = typer.Option(None, help="database URL of the job store (default: the "
                                                               "store's)"),
             runs: int = typer.Option(10, help="how many of the latest validation runs to show"),
             db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """The scheduled jobs (from the job store) and the latest validation runs."""
    from sqlalchemy import select

    from ..scheduler.service import jobs
    from ..store.tables_governance import validation_runs as VR
    from ._store import get_store

    store = get_store(db)
    js = jobs(store, jobstore)
    with store.connect() as conn:
        last = conn.execute(select(VR).order_by(VR.c.id.desc()).limit(runs)).all()
    rows = [{"id": r.id, "template": r.template, "version": r.version, "status": r.status, "trigger": r.trigger,
             "started_at": r.started_at.isoformat(timespec="seconds"), "seconds": r.seconds, "report": r.report,
             "error": r.error} for r in last]
    if as_json:
        print(json.dumps({"jobs": js, "runs": rows}, indent=1, default=str))
        return
    print("jobs:" if js else "jobs: none scheduled (otclab schedule serve adds them)")
    for j in js:
        print(f"  {j['id']:<20} next {j['next_run'] or '-':<26} {j['trigger']}")
    print("runs:" if rows else "runs: none yet")
    for r in rows:
        print(f"  {r['id']:>5} {r['template']:<16} {r['version']} {r['status']:<12} {r['trigger']:<12} "
              f"{r['started_at']}  {r['report'] or ''}")
