"""Validate template notebooks by running them through papermill.

Each run executes the whole notebook (schema, payoff, validation cells) in a fresh kernel with
the notebook's folder as working directory, keeps the executed copy, collects what the
validation cells ``record``-ed, and appends pass/fail for the template's version to
``validations.jsonl`` in the output folder (the record of which versions passed).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
import time
from pathlib import Path

from ..core.errors import TemplateError
from .loader import available, load_notebook

DEFAULT_OUT = Path("runs") / "payoffs"


def validate_notebook(path: Path, out_dir: Path, parameters: dict | None = None,
                      timeout: int = 600) -> dict:
    """Run one template notebook; returns its report row (status pass | fail; ``timed_out`` when a
    cell ran past ``timeout`` seconds, papermill's per-cell limit, which also bounds a hung kernel)."""
    import papermill as pm

    path = Path(path).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        tpl = load_notebook(path)
        name, version = tpl.name, tpl.version
    except TemplateError as e:
        name, version = path.stem, "unloadable"
        return _row(name, version, path, None, "fail", f"load: {e}", 0.0, [], out_dir)
    executed = out_dir / f"{name}-{version}.ipynb"
    fd, rec = tempfile.mkstemp(suffix=".jsonl", prefix=f"record-{name}-")
    os.close(fd)
    old = os.environ.get("OTCLAB_RECORD")
    os.environ["OTCLAB_RECORD"] = rec
    # validating a notebook runs it: its own folder is trusted while it runs (its cells price
    # requests that name it by path, relative to that folder)
    old_payoffs = os.environ.get("OTCLAB_PAYOFFS")
    os.environ["OTCLAB_PAYOFFS"] = os.pathsep.join(filter(None, [str(path.parent), old_payoffs]))
    t0 = time.perf_counter()
    status, error, timed_out = "pass", None, False
    try:
        pm.execute_notebook(str(path), str(executed), parameters=parameters or {}, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=False, log_output=False,
                            execution_timeout=timeout)
    except Exception as exc:  # papermill raises PapermillExecutionError with the cell's error
        status = "fail"
        timed_out = isinstance(exc, TimeoutError)
        error = f"{type(exc).__name__}: {getattr(exc, 'ename', '')} {getattr(exc, 'evalue', exc)}".strip()
    finally:
        if old is None:
            os.environ.pop("OTCLAB_RECORD", None)
        else:
            os.environ["OTCLAB_RECORD"] = old
        if old_payoffs is None:
            os.environ.pop("OTCLAB_PAYOFFS", None)
        else:
            os.environ["OTCLAB_PAYOFFS"] = old_payoffs
    records = [json.loads(line) for line in Path(rec).read_text(encoding="utf-8").splitlines() if line.strip()]
    Path(rec).unlink(missing_ok=True)
    row = _row(name, version, path, executed, status, error, time.perf_counter() - t0, records, out_dir)
    row["timed_out"] = timed_out
    return row


def _row(name, version, path, executed, status, error, seconds, records, out_dir: Path) -> dict:
    row = {"template": name, "version": version, "notebook": str(path),
           "executed": str(executed) if executed else None, "status": status, "error": error,
           "seconds": round(seconds, 2), "records": records,
           "at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    with open(out_dir / "validations.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({k: row[k] for k in ("template", "version", "status", "error", "at")}) + "\n")
    return row


def validate(names=None, out_dir: Path | str = DEFAULT_OUT, parameters: dict | None = None,
             progress=None) -> list[dict]:
    """Validate the named templates (default: all available); writes ``report.json``."""
    out_dir = Path(out_dir)
    found = available()
    targets = []
    for n in names or sorted(found):
        if str(n).endswith(".ipynb"):
            targets.append(Path(n))
        elif n in found:
            targets.append(found[n])
        else:
            raise TemplateError(f"unknown template {n!r}; available: {', '.join(sorted(found))}", "template")
    rows = []
    for p in targets:
        rows.append(validate_notebook(p, out_dir, parameters))
        if progress:
            progress(rows[-1])
    (out_dir / "report.json").write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    return rows


def last_status(out_dir: Path | str = DEFAULT_OUT) -> dict:
    """(template, version) → last recorded status from ``validations.jsonl``."""
    path = Path(out_dir) / "validations.jsonl"
    out = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out[(r["template"], r["version"])] = r["status"]
    return out
