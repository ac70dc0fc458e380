"""``otclab payoffs list|show|validate|compare``: the payoff templates."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

NAME = "payoffs"
app = typer.Typer(help="Payoff templates (payoffs/*.ipynb): list, inspect, validate, compare.",
                  no_args_is_help=True)


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json"),
             out: Path = typer.Option(Path("runs/payoffs"), help="validation records folder")) -> None:
    """List available templates with version, engines and last validation status."""
    from ..templates.loader import list_templates
    from ..templates.validate import last_status

    status = last_status(out)
    rows = [{"name": t.name, "version": t.version, "engines": t.engines(), "path": str(t.path),
             "validated": status.get((t.name, t.version), "never"), "description": t.description}
            for t in list_templates()]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        print(f"{r['name']:<16} {r['version']}  {','.join(r['engines']):<16} {r['validated']:<6} {r['description']}")


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
                 out: Path = typer.Option(Path("runs/payoffs"), help="executed notebooks and report"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Run template notebooks through papermill; exit 1 if any fails."""
    from ..templates.validate import validate

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
