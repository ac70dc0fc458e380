"""``otclab demo init DIR``: a demo store with two years of history, a seasoned book and a snapshot."""
from __future__ import annotations

from pathlib import Path

import typer

NAME = "demo"
app = typer.Typer(help="Create a demo store: closes, a seasoned book of every family, lifecycle, one EOD.",
                  no_args_is_help=True)


@app.command("init")
def init_cmd(folder: Path = typer.Argument(..., help="folder for otclab.db, fixings.csv and market.json"),
             trades: int = typer.Option(4800, help="trades to book over the two years (about 2000 stay live)"),
             paths: int = typer.Option(4000, help="Monte Carlo paths of the demo's end-of-day valuation"),
             seed: int = typer.Option(7), force: bool = typer.Option(False, "--force", help="rebuild an existing store")) -> None:
    """Build the demo store in FOLDER and print how to use it."""
    from ..core.errors import InputError
    from ..workflows.demo import LAST_CLOSE, init_demo

    if trades < 10:
        raise InputError("must be at least 10", "trades")
    out = init_demo(folder, trades=trades, seed=seed, paths=paths, force=force)
    print(f"\ndemo store ready in {out['seconds']:.0f} s: {out['db']}")
    print(f"  export OTCLAB_DB_URL={out['url']}")
    print("  otclab trades list --status live | head")
    print(f"  otclab eod run --date {LAST_CLOSE}     # the next day's closes are imported already")
    print("  otclab eod explain")
