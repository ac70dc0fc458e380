"""``otclab payoffs list|show|validate|compare``: the payoff templates."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

NAME = "payoffs"
app = typer.Typer(help="Payoff templates (payoffs/*.ipynb): list, inspect, validate, compare.",
                  no_args_is_help=True)


def _records_dir() -> Path:
    """Where validation records live by default: ``payoffs/`` in the platform's data folder
    (``OTCLAB_DATA``, default ``~/.otclab``), the same whatever folder a command runs in."""
    from ..store.db import data_dir

    return data_dir() / "payoffs"


OUT_HELP = "validation records folder (default: payoffs/ in OTCLAB_DATA, else ~/.otclab/payoffs)"


def _last_runs(folder: Path) -> dict:
    """(template, version) → the last line ``validate`` appended for it to ``validations.jsonl``
    (status pass | fail, UTC time ``at``)."""
    path = Path(folder) / "validations.jsonl"
    out: dict = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out[(r["template"], r["version"])] = r
    return out


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json"),
             out: Optional[Path] = typer.Option(None, help=OUT_HELP)) -> None:
    """List available templates with version, engines and the last validation of that version."""
    from ..templates.loader import list_templates

    folder = out or _records_dir()
    runs = _last_runs(folder)
    rows = []
    for t in list_templates():
        last = runs.get((t.name, t.version), {})
        rows.append({"name": t.name, "version": t.version, "engines": t.engines(), "path": str(t.path),
                     "validated": last.get("status", "never"), "validated_at": last.get("at"),
                     "description": t.description})
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    import pandas as pd

    from ._store import table

    df = pd.DataFrame([{"template": r["name"], "version": r["version"], "engines": ",".join(r["engines"]),
                        "validation of this version": r["validated"],
                        "validated at (UTC)": (r["validated_at"] or "-").replace("T", " ").replace("+00:00", ""),
                        "description": r["description"]} for r in rows])
    print(table(df))
    print(f"\nvalidation records: {folder / 'validations.jsonl'}"
          + ("" if runs else " (none yet: otclab payoffs validate)"))


@app.command("show")
def show_cmd(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show a template's term-sheet fields (type, default, allowed values)."""
    from ..templates.loader import get_template

    t = get_template(name)
    fields = t.schema.describe()
    if as_json:
        print(json.dumps({"name": t.name, "version": t.version, "fields": fields}, ensure_ascii=False,
                         indent=1, default=str))
        return
    print(f"{t.name} {t.version} — {t.description}")
    for f in fields:
        req = "required" if f["required"] else f"default {f['default']!r}"
        extra = f" one of {f['choices']}" if f["choices"] else (f" {f['range']}" if f["range"] else "")
        print(f"  {f['name']:<18} {f['type']:<6} {req}{extra}  {f['doc']}")


def _identity(user: Optional[str], users: Optional[Path]):
    """The acting user (``--user``, else OTCLAB_USER, else the login name) and their groups and
    scopes from the users file (``--users``, else OTCLAB_USERS, else users.toml in OTCLAB_DATA)."""
    from ..access import local_identity
    from ._store import user as default_user

    return local_identity(user or default_user(), users)


USER_HELP = "who acts (audited; default OTCLAB_USER, else the login name)"
USERS_HELP = "users file (TOML [users.NAME] groups = [...]; default OTCLAB_USERS, else users.toml in OTCLAB_DATA)"
TRIGGERS = ("schedule", "file-change")


@app.command("validate")
def validate_cmd(names: Optional[List[str]] = typer.Argument(None, help="template names (default: all)"),
                 out: Optional[Path] = typer.Option(None, help="executed notebooks, report and validation records "
                                                             "(default: payoffs/ in OTCLAB_DATA, else ~/.otclab/payoffs)"),
                 user: Optional[str] = typer.Option(None, "--user", help=USER_HELP),
                 trigger: Optional[str] = typer.Option(None, help="record the run as triggered by 'schedule' (cron, "
                                                                  "Airflow) or 'file-change' instead of the user"),
                 timeout: int = typer.Option(600, help="seconds one cell may run (a hung kernel fails the run)"),
                 webhook: Optional[str] = typer.Option(None, help="WeCom group-robot webhook for failure alerts "
                                                                  "(default OTCLAB_ALERT_WEBHOOK)"),
                 db: Optional[str] = typer.Option(None, "--db", help="database URL (default: OTCLAB_DB_URL, else "
                                                                    "sqlite in OTCLAB_DATA or ~/.otclab)"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Run template notebooks through papermill and record each run in the store's registry (a
    passing run validates a draft version; a failure raises an alert); exit 1 if any fails."""
    from ..core.errors import InputError
    from ..governance.validation import validate_many
    from ._store import get_store
    from ._store import user as default_user

    if trigger is not None and trigger not in TRIGGERS:
        raise InputError(f"must be one of {', '.join(TRIGGERS)} (a person is named with --user)", "trigger")
    if timeout <= 0:
        raise InputError(f"must be a positive number of seconds; got {timeout}", "timeout")
    out = out or _records_dir()

    def show(row):
        if not as_json:
            mark = {"pass": "PASS", "already running": "BUSY"}.get(row["status"], "FAIL")
            print(f"{mark} {row['template']:<16} {row['version']} {row['seconds']:>6.1f}s  run {row['id']}"
                  + (f" ({row['status']})" if mark == "FAIL" else "")
                  + (f"  {row['error']}" if row["error"] else ""), flush=True)

    store = get_store(db)
    rows = validate_many(store, names, trigger or user or default_user(), out, timeout=timeout, webhook=webhook,
                         progress=show)
    (out / "report.json").write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    if as_json:
        print(json.dumps(rows, indent=1, default=str))
    else:
        print(f"report: {out / 'report.json'}")
    if any(r["status"] != "pass" for r in rows):
        raise typer.Exit(1)


@app.command("compare")
def compare_cmd(a: str, b: str, cases: Path = typer.Option(..., "--cases", help="JSON / JSON-lines cases"),
                engine: str = typer.Option("mc"), paths: int = typer.Option(100_000),
                seed: int = typer.Option(7), tol: float = typer.Option(1e-3, help="fraction of notional"),
                record: bool = typer.Option(False, "--record", help="keep the comparison in the store, for the "
                                                                    "approval of A's version (Monte Carlo only)"),
                user: Optional[str] = typer.Option(None, "--user", help=USER_HELP),
                db: Optional[str] = typer.Option(None, "--db", help="database URL (with --record)"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Price the desk's template A and risk control's B on the same cases; exit 1 if any differs
    beyond tolerance. With the Monte Carlo engine both use the same paths and each difference
    has the standard error of the per-path difference."""
    from ..core.errors import InputError
    from ..templates.compare import compare, load_cases

    data = load_cases(cases)
    if engine != "mc":
        if record:
            raise InputError("a recorded comparison is by Monte Carlo on common paths (--engine mc)", "engine")
        rows = compare(a, b, data, engine=engine, paths=paths, seed=seed, tol=tol)
        cid = None
    else:
        from ..core.limits import check_paths
        from ..governance.comparisons import compare_paired
        from ..governance.comparisons import record as keep

        res = compare_paired(a, b, data, paths=check_paths(paths), seed=seed, tol=tol)
        rows = [{**r, "a": r["desk"], "b": r["risk"], "a_version": res["desk_version"],
                 "b_version": res["risk_version"]} for r in res["rows"]]
        cid = None
        if record:
            from ._store import get_store
            from ._store import user as default_user

            with get_store(db).begin() as conn:
                cid = keep(conn, res, data, paths, seed, tol, user or default_user())
    if as_json:
        print(json.dumps(rows if cid is None else {"comparison": cid, "rows": rows}, indent=1, default=str))
    else:
        se = "diff_se" in rows[0]
        print(f"{'case':<12}{'A':>16}{'B':>16}{'diff':>14}" + (f"{'s.e.':>12}" if se else "") + f"{'limit':>12}  ok")
        for r in rows:
            print(f"{str(r['case']):<12}{r['a']:>16,.2f}{r['b']:>16,.2f}{r['diff']:>14,.2f}"
                  + (f"{r['diff_se']:>12,.2f}" if se else "") + f"{r['limit']:>12,.2f}  {'yes' if r['ok'] else 'NO'}")
        if cid is not None:
            print(f"recorded as comparison {cid} of {rows[0]['a_version']} against {rows[0]['b_version']}")
    if not all(r["ok"] for r in rows):
        raise typer.Exit(1)


@app.command("status")
def status_cmd(db: Optional[str] = typer.Option(None, "--db", help="database URL"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """The registry: every known template version, its state (draft, validated, approved,
    retired), whether it is the notebook's version now, its last run and its approval."""
    from ..governance.manifest import notebook_version
    from ..governance.registry import status
    from ..templates.loader import available
    from ._store import get_store

    current = {n: notebook_version(p) for n, p in available().items()}
    with get_store(db).connect() as conn:
        rows = status(conn, current)
    if as_json:
        print(json.dumps(rows, indent=1, default=str))
        return
    import pandas as pd

    from ._store import table

    df = pd.DataFrame([{"template": r["template"], "version": r["version"], "state": r["state"],
                        "from": r["source"], "current": "yes" if r["current"] else "",
                        "last run": "-" if r["last_run"] is None else f"{r['last_run']} {r['last_status']}",
                        "by": r["last_trigger"] or "-", "approved by": r["approved_by"] or "-",
                        "comparison": "-" if r["comparison"] is None else r["comparison"]} for r in rows])
    print(table(df))


def _change_state(action: str, name: str, version: str, user, users, reason, comparison, db) -> None:
    from ..governance import registry
    from ._store import get_store

    who = _identity(user, users)
    with get_store(db).begin() as conn:
        if action == "approve":
            eid = registry.approve(conn, name, version, who, reason, comparison)
        else:
            eid = registry.retire(conn, name, version, who, reason)
    print(f"{name} {version}: {action.rstrip('e')}ed by {who.name} (event {eid})")


@app.command("approve")
def approve_cmd(name: str, version: str, reason: str = typer.Option(..., "--reason", help="why (audited)"),
                comparison: Optional[int] = typer.Option(None, help="the recorded comparison approved on "
                                                                    "(default: the latest passing one)"),
                user: Optional[str] = typer.Option(None, "--user", help=USER_HELP),
                users: Optional[Path] = typer.Option(None, "--users", help=USERS_HELP),
                db: Optional[str] = typer.Option(None, "--db", help="database URL")) -> None:
    """Approve a validated template version for booking and quoting (four eyes: not its author,
    the template-approve scope, after a passing comparison of risk control's template)."""
    _change_state("approve", name, version, user, users, reason, comparison, db)


@app.command("retire")
def retire_cmd(name: str, version: str, reason: str = typer.Option(..., "--reason", help="why (audited)"),
               user: Optional[str] = typer.Option(None, "--user", help=USER_HELP),
               users: Optional[Path] = typer.Option(None, "--users", help=USERS_HELP),
               db: Optional[str] = typer.Option(None, "--db", help="database URL")) -> None:
    """Retire a template version: no new bookings or quotes (booked trades keep pricing with it)."""
    _change_state("retire", name, version, user, users, reason, None, db)


@app.command("manifest")
def manifest_cmd(write: bool = typer.Option(False, "--write", help="validate the shipped notebooks the manifest "
                                                                   "does not list and add them"),
                 approver: Optional[str] = typer.Option(None, help="who approves the shipped versions (with --write)"),
                 out: Optional[Path] = typer.Option(None, help=OUT_HELP)) -> None:
    """Check payoffs/approved.json against the shipped notebooks (exit 1 if a version is missing);
    with --write, validate the missing ones and add them with their evidence."""
    from ..core.errors import InputError
    from ..governance import manifest
    from ..templates.loader import BUILTIN_DIR
    from ..templates.validate import validate_notebook

    todo = manifest.missing()
    for n, v in todo:
        print(f"not in the manifest: {n} {v}")
    if not todo:
        print(f"{manifest.MANIFEST}: every shipped notebook's version is listed")
        return
    if not write:
        raise typer.Exit(1)
    if not approver:
        raise InputError("name who approves the shipped versions", "approver")
    folder = out or _records_dir()
    entries = []
    for n, _ in todo:
        row = validate_notebook(BUILTIN_DIR / f"{n}.ipynb", folder)
        print(f"{row['status'].upper()} {n} {row['version']} {row['seconds']:.1f}s" + (f"  {row['error']}" if row["error"] else ""))
        entries.append(manifest.entry(row, approver))
    manifest.write(entries)
    print(f"wrote {len(entries)} entries to {manifest.MANIFEST}")
