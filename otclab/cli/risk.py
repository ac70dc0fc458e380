"""``otclab risk run-once|serve``: the risk refresh, once or on a schedule."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._store import db_option, dump, get_store, money

NAME = "risk"
app = typer.Typer(help="Real-time risk: refresh the book's value, Greeks, scenario grid and limits into a snapshot.",
                  no_args_is_help=True)

FEED_HELP = "folder where market snapshots are dropped (*.json snapshots, *.csv spots); default OTCLAB_FEED"


def _feed(folder: Optional[Path]):
    import os

    from ..core.errors import InputError
    from ..workflows.risk.feed import FolderFeed

    folder = folder or (Path(os.environ["OTCLAB_FEED"]) if os.environ.get("OTCLAB_FEED") else None)
    if folder is None:
        raise InputError("give the market folder (--feed DIR or OTCLAB_FEED)", "feed")
    return FolderFeed(folder)


def _options(paths, seed, device, grid, grid_method, grid_paths, spot_steps, spot_range, vol_steps, vol_range,
             limits, webhook, dask):
    return dict(paths=paths, seed=seed, device=device, grid=grid, grid_method=grid_method, grid_paths=grid_paths,
                spot_steps=spot_steps, spot_range=spot_range, vol_steps=vol_steps, vol_range=vol_range,
                limits=limits, webhook=webhook, dask=dask)


DASK_HELP = "a Dask scheduler (tcp://host:8786) to value the book and the grid on its workers"


def _print(rep) -> None:
    t = rep.totals
    print(f"risk snapshot {rep.snapshot_id} (refresh): market {rep.market_snapshot_id} from {rep.source} at "
          f"{rep.market_time:%Y-%m-%d %H:%M:%S %z}; {rep.trades} live trades "
          f"({', '.join(f'{k} {v}' for k, v in sorted(rep.engines.items()))}); {rep.wall_s:.1f} s "
          f"(valuation {rep.timing.get('value_s', 0):.1f} s"
          + (f", grid {rep.timing['grid']['spot_steps']}x{rep.timing['grid']['vol_steps']} {rep.timing['grid']['method']}"
             f" {rep.timing.get('grid_s', 0):.1f} s" if rep.timing.get("grid") else "") + ")")
    print(f"book (desk's view, CNY): value {money(t['value'])}  cash delta {money(t['cash_delta'])}  "
          f"1% cash gamma {money(t['cash_gamma_1pct'])}  vega/vol pt {money(t['vega'])}  theta/day {money(t['theta'])}"
          f"  rho/1% {money(t['rho'])}")
    if rep.breaches:
        print(f"limit breaches: {len(rep.breaches)}")
        for b in rep.breaches[:10]:
            print(f"  {b['scope']:<10} {b['measure']:<22} {b['utilisation']:.0%} of limit")
    for a in rep.alerts:
        print(f"  alert {a['key']}: {a['status']}" + (f" ({a['error']})" if a["error"] else ""))


@app.command("run-once")
def run_once(feed: Optional[Path] = typer.Option(None, help=FEED_HELP),
             paths: int = typer.Option(20_000, help="Monte Carlo paths of the valuation"),
             seed: int = typer.Option(20240101), device: Optional[str] = typer.Option(None, help="cpu | gpu"),
             grid: bool = typer.Option(True, "--grid/--no-grid", help="revalue the spot x vol scenario grid"),
             grid_method: Optional[str] = typer.Option(None, help="auto (batched PDE) | mc; default auto on a GPU, "
                                                                  "mc on a CPU"),
             grid_paths: Optional[int] = typer.Option(None, help="paths of a Monte Carlo grid (default 4000)"),
             spot_steps: Optional[int] = typer.Option(None, help="default 41 on a GPU, 9 on a CPU"),
             spot_range: Optional[float] = typer.Option(None, help="default 0.3 on a GPU, 0.2 on a CPU"),
             vol_steps: Optional[int] = typer.Option(None, help="default 9 on a GPU, 3 on a CPU"),
             vol_range: Optional[float] = typer.Option(None, help="default 0.05 on a GPU, 0.02 on a CPU"),
             limits: Optional[str] = typer.Option(None, help="limits JSON (default OTCLAB_LIMITS, else built in)"),
             webhook: Optional[str] = typer.Option(None, help="WeCom group-robot webhook for alerts "
                                                             "(default OTCLAB_ALERT_WEBHOOK)"),
             wait: float = typer.Option(0.0, help="seconds to wait for a refresh in progress"),
             dask: Optional[str] = typer.Option(None, help=DASK_HELP),
             db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """One refresh now: the newest market of the feed, every live trade, the grid, the limits."""
    from ..workflows.risk.refresh import run_refresh

    from ._progress import Progress

    prog = Progress("risk valuing", 1, unit="tasks", every=0.1)   # the CPU pass reports its tasks
    rep = run_refresh(get_store(db), _feed(feed), wait=wait, progress=prog.tasks(),
                      **_options(paths, seed, device, grid, grid_method, grid_paths, spot_steps, spot_range,
                                 vol_steps, vol_range, limits, webhook, dask))
    if prog.done:
        prog.finish(f"{prog.done:,.0f} tasks valued")
    dump(rep.to_dict()) if as_json else _print(rep)


@app.command("serve")
def serve_cmd(feed: Optional[Path] = typer.Option(None, help=FEED_HELP),
              every: Optional[float] = typer.Option(None, help="minutes between refreshes (default 10)"),
              cron: Optional[str] = typer.Option(None, help="a crontab line instead, e.g. '*/10 9-15 * * 1-5' "
                                                           "(Asia/Shanghai)"),
              paths: int = typer.Option(20_000), seed: int = typer.Option(20240101),
              device: Optional[str] = typer.Option(None), grid: bool = typer.Option(True, "--grid/--no-grid"),
              grid_every: Optional[float] = typer.Option(
                  None, help="revalue the grid only when the last one is this many minutes old (the refreshes "
                             "between carry it, named with its snapshot); default every refresh"),
              grid_method: Optional[str] = typer.Option(None), grid_paths: Optional[int] = typer.Option(None),
              spot_steps: Optional[int] = typer.Option(None), spot_range: Optional[float] = typer.Option(None),
              vol_steps: Optional[int] = typer.Option(None), vol_range: Optional[float] = typer.Option(None),
              limits: Optional[str] = typer.Option(None), webhook: Optional[str] = typer.Option(None),
              dask: Optional[str] = typer.Option(None, help=DASK_HELP), db: Optional[str] = db_option()) -> None:
    """Refresh on a schedule until stopped (SIGTERM / Ctrl-C); one refresh at a time."""
    import logging
    import sys

    from ..workflows.risk.service import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def report(rep, err):
        if rep is not None:
            _print(rep)
        else:
            print(f"refresh failed: {err}", file=sys.stderr)
        sys.stdout.flush()

    serve(get_store(db), _feed(feed), every_min=every, cron=cron, on_report=report, grid_every_min=grid_every,
          **_options(paths, seed, device, grid, grid_method, grid_paths, spot_steps, spot_range, vol_steps,
                     vol_range, limits, webhook, dask))


@app.command("grid")
def grid_cmd(out: Path = typer.Argument(..., help="a .csv or .xlsx file"),
             snapshot: Optional[int] = typer.Option(None, help="a risk snapshot id (default the latest refresh)"),
             db: Optional[str] = db_option()) -> None:
    """Export a snapshot's spot x vol scenario grid for regulatory reporting (book and underlyings)."""
    from ..core.errors import InputError
    from ..core.limits import check_out
    from ..store import risk
    from ..workflows.risk.views import grid_files

    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"must end in .csv or .xlsx; got {out.name}", "out")
    check_out(out)
    store = get_store(db)
    with store.connect() as conn:
        sid = snapshot if snapshot is not None else risk.latest_id(conn, "refresh")
        if sid is None:
            raise InputError("no refresh snapshot in the store yet: run `otclab risk run-once`", "snapshot")
        h = risk.header(conn, sid)
    g = (h.get("views") or {}).get("grid") or {}
    if not g:
        raise InputError(f"snapshot {sid} has no scenario grid (a refresh with --no-grid, or an end of day)", "snapshot")
    csv, xls = grid_files(g, h)
    out.write_bytes(csv if out.suffix.lower() == ".csv" else xls)
    scopes = 1 + len(g.get("by_underlying", {}))
    print(f"{out}: the grid of snapshot {g.get('from_snapshot', sid)}, {len(g['spot_shifts'])} spot x "
          f"{len(g['vol_shifts'])} vol shifts, {scopes} scopes (book and underlyings)")
