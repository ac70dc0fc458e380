"""``otclab price REQUEST.json|-`` and ``otclab solve``: price one request, print JSON or a table."""
from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from ..core.errors import InputError


def _read(source: str) -> dict:
    """The request in FILE (or standard input for ``-``) as JSON: its content is never taken for
    another path; a byte-order mark is allowed."""
    import json

    if source == "-":
        text = sys.stdin.read().lstrip("\ufeff")
        where = "standard input"
    else:
        try:
            with open(source, encoding="utf-8-sig") as fh:
                text = fh.read()
        except OSError as e:
            raise InputError(f"cannot read {source}: {e.strerror}", "request") from None
        except UnicodeDecodeError:
            raise InputError(f"{source} is not UTF-8 text", "request") from None
        where = "the file"
    if not text.strip():
        raise InputError(f"no request in {where}", "request")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e}", "request") from None
    if not isinstance(obj, dict):
        from ..pricing.request import _kind

        raise InputError(f"a request is a JSON object with template, terms, market; got {_kind(obj)}", "request")
    return obj


def _show(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    from ..pricing.price import GREEK_UNITS

    se = result.get("greeks_se") or {}
    ccy = (result.get("details") or {}).get("currency", "CNY")
    flagged = set(result.get("flagged") or ())
    table = Table(title=f"{result['template']} ({result['version']}) — {result['engine']}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    if se or result.get("stderr") is not None:
        table.add_column("± s.e.", justify="right")
    table.add_column("unit")

    def row(name, value, err, unit):
        cells = [name, value] + ([err] if len(table.columns) == 4 else []) + [unit]
        table.add_row(*cells)

    row("value", f"{result['value']:,.2f}", f"{result['stderr']:,.2f}" if result.get("stderr") is not None else "",
        ccy)
    row("value % notional", f"{100 * result['value_pct']:.4f}%", "", "% of notional")
    for k, v in (result.get("greeks") or {}).items():
        e = se.get(k)
        mark = "  (noisy)" if k in flagged else ""
        row(k + mark, "n/a" if v is None else f"{v:,.4f}", "" if e is None else f"{e:,.4f}", GREEK_UNITS.get(k, "").format(ccy=ccy))
    Console().print(table)
    if flagged:
        print(f"noisy: {', '.join(sorted(flagged))} (standard error above a quarter of the value); "
              "more --paths, or --engine pde where the template has one")
    h = (result.get("details") or {}).get("spot_bump")
    if result.get("greeks") and h:
        print(f"delta and gamma: central differences over spot ± {h:.2%}; theta: the next trading day, "
              "its observations at today's spot")


def register(root: typer.Typer) -> None:
    @root.command("price")
    def price_cmd(
        request: str = typer.Argument(..., help="request JSON file, or - for standard input"),
        engine: str = typer.Option("auto", help="auto (closed form if exact, else PDE, else MC) | analytic | mc | pde"),
        paths: int = typer.Option(100_000, help="Monte Carlo paths"),
        seed: int = typer.Option(20240101, help="random seed (same seed = same paths)"),
        greeks: bool = typer.Option(False, "--greeks", help="add delta, gamma, vega, theta, rho"),
        antithetic: bool = typer.Option(True, "--antithetic/--no-antithetic", help="MC antithetic pairs"),
        device: Optional[str] = typer.Option(None, help="cpu | gpu (default: OTCLAB_DEVICE or cpu)"),
        as_json: bool = typer.Option(False, "--json", help="print JSON"),
    ) -> None:
        """Price REQUEST = {"template", "terms", "market", "state"?, "fixings"?}."""
        from ..pricing import price

        result = price(_read(request), engine=engine, paths=paths, seed=seed, greeks=greeks, device=device,
                       antithetic=antithetic)
        _show(result.to_dict(), as_json)

    @root.command("solve")
    def solve_cmd(
        request: str = typer.Argument(..., help="request JSON file, or - for standard input"),
        field: str = typer.Option("coupon", "--for", help="term to solve for (coupon, participation, strike, ...)"),
        target: Optional[float] = typer.Option(None, help="target value in currency (default: par for notes, 0 for options)"),
        engine: str = typer.Option("auto", help="auto | analytic | mc | pde"),
        paths: int = typer.Option(100_000),
        seed: int = typer.Option(20240101),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Solve a term so that the trade is worth the target (fair coupon, fair participation)."""
        from ..pricing import solve

        out = solve(_read(request), field, target=target, engine=engine, paths=paths, seed=seed)
        print(json.dumps(out, indent=1) if as_json else f"{field} = {out['value']:.6f}")
