"""``otclab lifecycle run --date D``: observe every live trade through D."""
from __future__ import annotations

from typing import Optional

import typer

from ._store import db_option, dump, get_store, money

NAME = "lifecycle"
app = typer.Typer(help="Apply the day's closes to the book: knock-ins, knock-outs, coupons, fixings, maturities.",
                  no_args_is_help=True)


@app.command("run")
def run_cmd(date: str = typer.Option(..., help="observe through this SSE trading day (YYYY-MM-DD); each trade "
                                                "is caught up from where it stands, in date order"),
            wait: float = typer.Option(0.0, help="seconds to wait for a run already in progress"),
            db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Run the lifecycle through DATE (idempotent: a second run adds nothing)."""
    from ..workflows.lifecycle.run import run_lifecycle

    rep = run_lifecycle(get_store(db), date, wait=wait)
    if as_json:
        dump(rep.to_dict())
        return
    n = sum(rep.events.values())
    if not rep.runs:
        print(f"nothing due: the book has been observed through {rep.through} already")
        return
    print(f"lifecycle through {rep.through}: {rep.trades_observed} trades observed, {n} events "
          f"({', '.join(f'{k} {v}' for k, v in sorted(rep.events.items())) or 'none'}), "
          f"{rep.plans_compiled} plans compiled, {rep.seconds:.2f} s (runs {', '.join(map(str, rep.runs))})")
    for tid, d, kind, amount in rep.listed[:40]:
        print(f"  {d} {tid:<10} {kind:<14} {money(amount) if amount else ''}")
    if len(rep.listed) > 40:
        print(f"  ... {len(rep.listed) - 40} more (--json)")
