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


@app.command("validate")
def validate_cmd(names: Optional[List[str]] = typer.Argument(None, help="template names (default: all)"),
                 out: Optional[Path] = typer.Option(None, help="executed notebooks, report and validation records "
                                                             "(default: payoffs/ in OTCLAB_DATA, else ~/.otclab/payoffs)"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Run template notebooks through papermill; exit 1 if any fails."""
    from ..templates.validate import validate

    out = out or _records_dir()

    def show(row):
        if not as_json:
            mark = "PASS" if row["status"] == "pass" else "FAIL"
            print(f"{mark} {row['template']:<16} {row['version']} {row['seconds']:>6.1f}s"
                  + (f"  {row['error']}" if row["error"] else ""), flush=True)

    rows = validate(names, out, progress=show)
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
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Price templates A and B on the same cases; exit 1 if any differs beyond tolerance."""
    from ..templates.compare import compare, load_cases

    rows = compare(a, b, load_cases(cases), engine=engine, paths=paths, seed=seed, tol=tol)
    if as_json:
        print(json.dumps(rows, indent=1, default=str))
    else:
        print(f"{'case':<12}{'A':>16}{'B':>16}{'diff':>14}{'limit':>12}  ok")
        for r in rows:
            print(f"{str(r['case']):<12}{r['a']:>16,.2f}{r['b']:>16,.2f}{r['diff']:>14,.2f}{r['limit']:>12,.2f}  "
                  f"{'yes' if r['ok'] else 'NO'}")
    if not all(r["ok"] for r in rows):
        raise typer.Exit(1)
