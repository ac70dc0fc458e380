"""Validate a template version and record it: the run, its executed notebook and HTML report, the
version's state, and an alert when it fails.

One run = one papermill execution of the notebook in a fresh kernel (``templates.validate``),
each cell limited to ``timeout`` seconds: a hung kernel ends the run as ``timeout``, it does not
hang the caller. ``trigger`` is the user's name, ``schedule`` (the nightly job) or
``file-change`` (the watcher saw a new version). A version seen for the first time is registered
``draft``; a passing run of a draft makes it ``validated``; a failure raises an alert.
"""
from __future__ import annotations

from pathlib import Path

from ..core.errors import TemplateError
from ..templates.loader import available
from . import alerts, runs
from .manifest import notebook_version
from .registry import events, record, state_of

DEFAULT_TIMEOUT_S = 600


def html_report(executed: Path, html: Path) -> Path | None:
    """The executed notebook rendered as HTML (nbconvert), or None if it cannot be rendered."""
    from nbconvert import HTMLExporter

    try:
        body, _ = HTMLExporter().from_filename(str(executed))
    except Exception:       # a notebook papermill could not even write: the run's error says why
        return None
    html.write_text(body, encoding="utf-8")
    return html


def _keep(executed, stem: Path) -> tuple[Path | None, Path | None]:
    """The run's own copy of the executed notebook (``NAME-VERSION.ipynb`` beside the records is
    the latest run of that version) and its HTML report, under ``runs/``."""
    import shutil

    if not executed or not Path(executed).exists():
        return None, None
    stem.parent.mkdir(parents=True, exist_ok=True)
    own = shutil.copyfile(executed, stem.with_suffix(".ipynb"))
    return Path(own), html_report(Path(own), stem.with_suffix(".html"))


def validate_one(store, path, trigger: str, out_dir, timeout: int = DEFAULT_TIMEOUT_S,
                 webhook: str | None = None) -> dict:
    """Validate the notebook at ``path`` (its version: the hash of its tagged cells now) and record
    the run; returns the run's row (id, template, version, status, seconds, executed, report,
    error, alert). ``AlreadyRunning`` if the same version is being validated."""
    from ..templates.validate import validate_notebook

    path = Path(path).resolve()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name, version = path.stem, notebook_version(path)
    run_id = runs.start(store, name, version, str(path), trigger)
    with store.begin() as conn:
        if not events(conn, name, version) and state_of(conn, name, version)[1] == "none":
            record(conn, name, version, "draft", trigger, f"registered by its first validation run ({run_id})",
                   run_id=run_id)
    try:
        with runs.Heartbeat(store, run_id):
            row = validate_notebook(path, out_dir, timeout=timeout)
    except BaseException as exc:    # recorded, then passed on (Ctrl-C, a bug): never left "running"
        runs.finish(store, run_id, "interrupted", error=f"{type(exc).__name__}: {exc}")
        raise
    if row["version"] not in (version, "unloadable"):
        row.update(status="fail", error=f"the notebook changed while it ran (now {row['version']})")
    status = "timeout" if row.get("timed_out") else row["status"]
    executed, report = _keep(row["executed"], out_dir / "runs" / f"run{run_id}-{name}-{version}")
    runs.finish(store, run_id, status, seconds=row["seconds"], executed=str(executed) if executed else None,
                report=str(report) if report else None, error=row["error"], records=row["records"])
    out = {"id": run_id, "template": name, "version": version, "status": status, "trigger": trigger,
           "seconds": row["seconds"], "executed": str(executed) if executed else None,
           "report": str(report) if report else None, "error": row["error"], "records": row["records"], "alert": None}
    if status == "pass":
        with store.begin() as conn:
            if state_of(conn, name, version)[0] == "draft":
                record(conn, name, version, "validated", trigger, f"validation run {run_id} passed", run_id=run_id)
    else:
        msg = (f"otclab: template {name} version {version} failed validation ({status}, run {run_id}, "
               f"triggered by {trigger}): {row['error']}" + (f"\nreport: {report}" if report else ""))
        out["alert"] = alerts.raise_alert(store, run_id, msg, webhook).get("status")
    return out


def targets(names=None) -> list[Path]:
    """The notebooks of the named templates (default: every one on the search path)."""
    found = available()
    out = []
    for n in names or sorted(found):
        if str(n).endswith(".ipynb"):
            out.append(Path(n))
        elif n in found:
            out.append(found[n])
        else:
            raise TemplateError(f"unknown template {n!r}; available: {', '.join(sorted(found))}", "template")
    return out


def validate_many(store, names, trigger: str, out_dir, timeout: int = DEFAULT_TIMEOUT_S,
                  webhook: str | None = None, progress=None) -> list[dict]:
    """``validate_one`` for each named template in turn; a version already being validated
    elsewhere is reported (status ``already running``), not run twice."""
    rows = []
    for p in targets(names):
        try:
            rows.append(validate_one(store, p, trigger, out_dir, timeout, webhook))
        except runs.AlreadyRunning as e:
            rows.append({"id": None, "template": p.stem, "version": notebook_version(p), "status": "already running",
                         "trigger": trigger, "seconds": 0.0, "executed": None, "report": None, "error": e.message,
                         "records": [], "alert": None})
        if progress:
            progress(rows[-1])
    return rows
