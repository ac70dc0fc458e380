"""``otclab eod run|show|explain|export``: end-of-day valuation, risk snapshots, P&L explain."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._store import db_option, dump, get_store, money, read_json, table

NAME = "eod"
app = typer.Typer(help="End of day: lifecycle, valuation and Greeks of the book, margin, P&L explain, exports.",
                  no_args_is_help=True)


UNIT_NAMES = {"value": "value CNY", "stderr": "± s.e.", "delta": "delta (pt)", "cash_delta": "cash delta CNY",
              "delta_pct": "delta % notional", "cash_gamma_1pct": "1% cash gamma CNY", "vega": "vega CNY/vol pt",
              "theta": "theta CNY/day", "theta_se": "theta ± s.e.", "rho": "rho CNY/1%"}


@app.command("run")
def run_cmd(date: str = typer.Option(..., help="the SSE trading day to value (YYYY-MM-DD)"),
            market: Optional[str] = typer.Option(None, help="market snapshot JSON for curves and vols (default: "
                                                            "the store's latest on or before DATE)"),
            paths: int = typer.Option(10_000, help="Monte Carlo paths of the fused pass"),
            seed: int = typer.Option(20240101), device: Optional[str] = typer.Option(None, help="cpu | gpu"),
            margin_policy: Optional[str] = typer.Option(None, help="margin policy JSON (default: built in)"),
            wait: float = typer.Option(0.0, help="seconds to wait for a run already in progress"),
            db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Lifecycle through DATE, then value and Greeks of every live trade into a risk snapshot."""
    from ..workflows.eod.run import run_eod

    from ._progress import Progress

    # a bar on a terminal, a line per tenth of the Monte Carlo tasks in a log (the CPU pass reports them)
    prog = Progress("eod valuing", 1, unit="tasks", every=0.1)
    rep = run_eod(get_store(db), date, market=read_json(market, "market") if market else None, paths=paths,
                  seed=seed, device=device, margin_policy=margin_policy, wait=wait, progress=prog.tasks())
    if prog.done:
        prog.finish(f"{prog.done:,.0f} tasks valued")
    if as_json:
        dump(rep.to_dict())
        return
    lc, t = rep.lifecycle, rep.totals
    print(f"lifecycle through {rep.date}: {sum(lc.events.values())} events "
          f"({', '.join(f'{k} {v}' for k, v in sorted(lc.events.items())) or 'none'})")
    print(f"risk snapshot {rep.snapshot_id}: {rep.date}, market {rep.market_snapshot_id}, {rep.trades} live trades "
          f"({', '.join(f'{k} {v}' for k, v in sorted(rep.engines.items()))}), {rep.paths:,} paths, seed {rep.seed}, "
          f"{rep.device}, {rep.wall_s:.1f} s" + (f"; {rep.failed} FAILED (see eod show)" if rep.failed else ""))
    print(f"book (desk's view, CNY): value {money(t['value'])}  cash delta {money(t['cash_delta'])} "
          f"({t['delta_pct']:.1f}% of notional)  1% cash gamma {money(t['cash_gamma_1pct'])}  vega/vol pt "
          f"{money(t['vega'])}  theta/day {money(t['theta'])}  rho/1% {money(t['rho'])}"
          + (f"; {t['flagged']} trades with noisy Greeks (eod show --by trade)" if t.get("flagged") else ""))
    calls = [m for m in rep.margin if m["action"] != "none"]
    print(f"margin: {len(calls)} of {len(rep.margin)} counterparties to call or return")
    for m in calls[:10]:
        print(f"  {m['counterparty_id']} {m['action']:<6} {money(abs(m['call']))}  (required {money(m['required'])}, "
              f"held {money(m['held'])})")


@app.command("show")
def show_cmd(snapshot: Optional[int] = typer.Option(None, help="snapshot id (default: the latest EOD)"),
             by: str = typer.Option("underlying", help="underlying | trade | margin"),
             db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """A risk snapshot: its ids and settings, totals, and rows by underlying, trade or counterparty."""
    import pandas as pd

    from ..core.errors import InputError
    from ..store import risk

    if by not in ("underlying", "trade", "margin"):
        raise InputError(f"must be underlying, trade or margin; got {by!r}", "by")
    with get_store(db).connect() as conn:
        h = risk.header(conn, snapshot)
        rows = risk.rows(conn, h["id"]) if by == "trade" else None
        marg = risk.margin(conn, h["id"]) if by == "margin" else None
    if as_json:
        dump({"snapshot": h, "rows": None if rows is None else rows.to_dict(orient="records"),
              "margin": None if marg is None else marg.to_dict(orient="records")})
        return
    s = h["settings"]
    print(f"risk snapshot {h['id']} ({h['kind']}) of {h['valuation_date']}: market {h['market_snapshot_id']}, "
          f"{h['trades']} trades, paths {s['paths']:,}, seed {s['seed']}, {s['device']}, {h['wall_s']:.1f} s")
    print("templates: " + ", ".join(f"{k}@{'/'.join(v)}" for k, v in h["template_versions"].items()))
    t = h["totals"]
    print(f"value {money(t['value'])}  cash delta {money(t['cash_delta'])}  1% cash gamma "
          f"{money(t['cash_gamma_1pct'])}  vega {money(t['vega'])}  theta {money(t['theta'])}  rho {money(t['rho'])}")
    if by == "underlying":
        df = pd.DataFrame([{"underlying": u, **v} for u, v in t["by_underlying"].items()])
        cols = ["underlying", "trades", "notional", "value", "delta", "cash_delta", "delta_pct", "cash_gamma_1pct",
                "vega", "theta", "rho"]
        df = df[[c for c in cols if c in df.columns]].rename(columns=UNIT_NAMES)
        print(table(df))
    elif by == "trade":
        cols = ["trade_id", "template", "underlying", "direction", "engine", "value", "stderr", "cash_delta",
                "delta_pct", "cash_gamma_1pct", "vega", "theta", "theta_se", "rho", "flagged", "error"]
        print(table(rows[[c for c in cols if c in rows.columns]].rename(columns=UNIT_NAMES)))
    else:
        print(table(marg.drop(columns=["snapshot_id"])))


@app.command("explain")
def explain_cmd(snapshot: Optional[int] = typer.Option(None, help="snapshot id (default: the latest EOD)"),
                previous: Optional[int] = typer.Option(None, help="compare with this snapshot (default: the "
                                                                  "latest EOD before it)"),
                by: str = typer.Option("underlying", help="underlying | structure | trade"),
                out: Optional[Path] = typer.Option(None, help="write the per-trade table (.csv or .parquet)"),
                db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """P&L since the previous snapshot: delta, gamma, vega, theta, rho, new trades, lifecycle, unexplained."""
    from ..core.errors import InputError
    from ..workflows.eod.explain import TERMS, explain

    if by not in ("underlying", "structure", "trade"):
        raise InputError(f"must be underlying, structure or trade; got {by!r}", "by")
    with get_store(db).connect() as conn:
        ex = explain(conn, snapshot, previous)
    if out:
        _write(ex.trades, out)
    if as_json:
        dump(ex.to_dict())
        return
    t = ex.total
    print(f"P&L explain: snapshot {ex.previous['id']} ({ex.previous['valuation_date']}) -> {ex.snapshot['id']} "
          f"({ex.snapshot['valuation_date']}), {t['trading_days']} trading day(s); trades held {t['held']}, "
          f"new {t['new']}, left {t['left']}")
    print("  ".join(f"{k} {money(t[k])}" for k in list(TERMS) + ["total"])
          + f"   (lifecycle cash flows, within the terms: {money(t['lifecycle_cash'])})")
    df = {"underlying": ex.by_underlying, "structure": ex.by_structure}.get(by)
    if df is not None:
        print(table(df.reset_index()))
    else:
        cols = ["trade_id", "template", "underlying", "status"] + list(TERMS) + ["total", "lifecycle_cash"]
        print(table(ex.trades[cols]))
    if out:
        print(f"per-trade table written to {out}")


def _write(df, out: Path) -> None:
    from ..core.errors import InputError

    if out.suffix.lower() == ".csv":
        df.to_csv(out, index=False)
    elif out.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(out, index=False)
    else:
        raise InputError(f"must end in .csv or .parquet; got {out.name!r}", "out")


@app.command("export")
def export_cmd(out: Path = typer.Argument(..., help="file to write: .csv or .parquet"),
               snapshot: Optional[int] = typer.Option(None, help="snapshot id (default: the latest EOD)"),
               what: str = typer.Option("rows", help="rows (per trade) | margin | explain"),
               db: Optional[str] = db_option()) -> None:
    """Export a snapshot's per-trade rows, margin calls or P&L explain to CSV or Parquet."""
    from ..core.errors import InputError
    from ..store import risk
    from ..workflows.eod.explain import explain

    if what not in ("rows", "margin", "explain"):
        raise InputError(f"must be rows, margin or explain; got {what!r}", "what")
    with get_store(db).connect() as conn:
        h = risk.header(conn, snapshot)
        df = (risk.rows(conn, h["id"]) if what == "rows" else risk.margin(conn, h["id"]) if what == "margin"
              else explain(conn, h["id"]).trades)
    df.insert(0, "snapshot_id", h["id"]) if "snapshot_id" not in df.columns else None
    _write(df, out)
    print(f"snapshot {h['id']} ({h['valuation_date']}): {len(df)} {what} rows written to {out}")
