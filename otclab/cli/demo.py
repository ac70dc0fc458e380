"""``otclab demo init DIR``: a demo store with two years of history, a seasoned book and a snapshot."""
from __future__ import annotations

from pathlib import Path

import typer

from ._store import db_option, get_store

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


@app.command("tick")
def tick_cmd(feed: Path = typer.Argument(..., help="the refresh's market folder (otclab risk --feed)"),
             date: str = typer.Option("2025-12-31", help="the demo day whose closes the market starts from"),
             as_of: str = typer.Option(None, help="the market time (ISO, default now; +08:00 if no zone)"),
             move: float = typer.Option(0.0, help="a move of every spot, as a fraction (0.01 = +1%)"),
             seed: int = typer.Option(None, help="add a random move of up to 0.5% per underlying"),
             db: str = db_option()) -> None:
    """Drop an intraday market of the demo into FEED, as a market-data adapter would."""
    from ..core.dates import parse_date
    from ..workflows.demo import demo_tick
    from ..workflows.risk.feed import parse_time

    t = parse_time(as_of, "as_of") if as_of else None
    path = demo_tick(get_store(db), feed, as_of=t, d=parse_date(date), move=move, seed=seed)
    print(path)
