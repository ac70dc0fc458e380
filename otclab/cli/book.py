"""``otclab book demo|price|scenarios``: a book of contracts priced together."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..core.errors import InputError

NAME = "book"
app = typer.Typer(help="Price a whole book (fused Monte Carlo on CPU or GPU), Greeks, scenario grids.",
                  no_args_is_help=True)


def _load(path: Path, what: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}", what) from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not valid JSON: {e}", what) from None


def _contracts(path: Path):
    data = _load(path, "book")
    items = data.get("contracts") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise InputError("a book is a JSON list of {template, terms, state?, fixings?, id?}", "book")
    return items       # each contract is checked by price_book (book.pricing.check_book)


def _writable(out: Optional[Path]) -> None:
    from ..core.limits import check_out

    check_out(out)


def _to_csv(df, out: Path) -> None:
    """The table as CSV, text cells made safe for spreadsheets (no formula runs on opening it)."""
    from ..core.limits import csv_safe

    import pandas as pd

    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(csv_safe)
    safe.to_csv(out, index=False)


# The demo book's valuation date: its contracts run at most 24 months from it, so every date they
# need lies within the SSE holidays shipped (through 2026) and pricing them warns of nothing.
DEMO_VALUATION = "2024-06-03"


@app.command("demo")
def demo(folder: Path = typer.Argument(Path("demo-book")), contracts: int = typer.Option(200),
         seed: int = typer.Option(7),
         valuation_date: str = typer.Option(DEMO_VALUATION, help="valuation date of the book and its market "
                                            "(contracts start up to 60 trading days before it, last 1-24 months)")
         ) -> None:
    """Write a synthetic book (book.json) and its market (market.json) into FOLDER."""
    from ..book.synthetic import synthetic_book, synthetic_market
    from ..core.dates import parse_date

    val = parse_date(valuation_date, "valuation_date").isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.json").write_text(json.dumps(synthetic_book(contracts, seed=seed, valuation_date=val),
                                                 ensure_ascii=False, indent=1))
    (folder / "market.json").write_text(json.dumps(synthetic_market(val), indent=1))
    print(f"{contracts} contracts: {folder / 'book.json'}; market: {folder / 'market.json'}")


@app.command("price")
def price_cmd(book: Path, market: Path = typer.Option(..., help="market snapshot JSON"),
              paths: int = typer.Option(100_000), seed: int = typer.Option(20240101),
              greeks: bool = typer.Option(True, "--greeks/--no-greeks"),
              device: Optional[str] = typer.Option(None, help="cpu | gpu"),
              out: Optional[Path] = typer.Option(None, help="write the table as CSV"),
              skip_bad: bool = typer.Option(False, "--skip-bad", help="price the good contracts and list the bad "
                                                                      "ones (default: stop at the first bad one)"),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Value and Greeks of every contract of BOOK (JSON list of contracts)."""
    from ..book import price_book
    from ..core.limits import check_paths

    check_paths(paths)
    _writable(out)
    from ..core.backend import default_device
    from ._progress import Progress

    items = _contracts(book)
    prog = Progress("book price", len(items), unit="tasks", every=0.1)
    prog.note(f"{len(items)} contracts, {paths:,} paths, {device or default_device()}"
              + ("" if (device or default_device()) in ("gpu", "cuda", "cupy") else
                 ": fused Monte Carlo tasks (a contract and its bumps) counted below"))
    df = price_book(items, _load(market, "market"), paths=paths, seed=seed, greeks=greeks, device=device,
                    errors="record" if skip_bad else "raise", task_progress=prog.tasks())
    prog.finish(f"{len(items)} contracts priced")
    if out:
        _to_csv(df, out)
    if as_json:
        print(json.dumps({"contracts": json.loads(df.to_json(orient="records")), "timing": df.attrs["timing"]}, indent=1))
    else:
        from ._store import table
        from .eod import UNIT_NAMES

        cols = ["id", "template", "engine", "value", "stderr"] + (
            ["delta", "cash_delta", "delta_pct", "cash_gamma_1pct", "vega", "theta", "theta_se", "rho", "flagged"] if greeks else [])
        print(table(df[[c for c in cols if c in df.columns]].rename(columns=UNIT_NAMES)))
        t = df.attrs["timing"]
        noisy = int((df.get("flagged", "").fillna("") != "").sum()) if greeks and "flagged" in df.columns else 0
        print(f"\ntotal value {df['value'].sum():,.2f}; {t['fused']} fused, {t['generic']} generic; {t['total_s']:.2f} s"
              + (f"; {noisy} contracts with noisy Greeks (flagged: more --paths)" if noisy else ""))
        if t.get("failed"):
            print(f"{t['failed']} contract(s) not priced:")
            for _, r in df[df["engine"] == "failed"].iterrows():
                print(f"  {r['id']}: {r['error']}")


@app.command("scenarios")
def scenarios_cmd(book: Path, market: Path = typer.Option(...), paths: int = typer.Option(20_000),
                  spot_steps: int = typer.Option(41), spot_range: float = typer.Option(0.3),
                  vol_steps: int = typer.Option(9), vol_range: float = typer.Option(0.05),
                  device: Optional[str] = typer.Option(None), out: Optional[Path] = typer.Option(None),
                  method: str = typer.Option("auto", help="auto: batched PDE where the program allows, else "
                                                         "Monte Carlo | mc: fused Monte Carlo"),
                  as_json: bool = typer.Option(False, "--json")) -> None:
    """Book P&L over spot shifts × vol shifts (e.g. ±30% in 41 steps × ±5 vol points in 9)."""
    import numpy as np

    from ..core.limits import (MAX_SPOT_RANGE, MAX_SPOT_STEPS, MAX_VOL_RANGE, MAX_VOL_STEPS, check_count,
                               check_paths, check_range)

    check_range(spot_range, 0.0, MAX_SPOT_RANGE, "spot_range", lo_open=True)
    check_range(vol_range, 0.0, MAX_VOL_RANGE, "vol_range")
    check_count(spot_steps, 1, MAX_SPOT_STEPS, "spot_steps")
    check_count(vol_steps, 1, MAX_VOL_STEPS, "vol_steps")
    check_paths(paths)
    _writable(out)
    long, mat = _scenarios_in_parts(_contracts(book), _load(market, "market"),
                                    np.linspace(-spot_range, spot_range, spot_steps),
                                    np.linspace(-vol_range, vol_range, vol_steps), paths, device, method)
    if out:
        _to_csv(long, out)
    if as_json:
        print(json.dumps({"spot_shift": list(mat.index), "vol_shift": list(mat.columns), "pnl": mat.values.tolist()}))
    else:
        print(mat.to_string(float_format=lambda v: f"{v:,.0f}"))


# A CPU run is split into this many parts at most: enough for a progress line every few percent and
# an estimate of the time left; each part is a scenario grid of its own (same numbers: every
# contract has its own PDE grid, and Monte Carlo normals depend on seed, underlying, path and date).
CPU_PARTS = 20


def _scenarios_in_parts(contracts, market, spot_shifts, vol_shifts, paths, device, method):
    """``scenario_grid`` with progress on stderr: on a CPU the book in parts of about equal
    expected time (``_expected_costs``), a line (or the bar) after each with the time left; on a
    GPU one pass (fast, and the batched solve is best on the whole book)."""
    from ..book.balance import balanced_split, contract_costs, merge_chunks
    from ..book.pricing import _as_market, check_book
    from ..book.scenarios import METHODS, grid_matrix, scenario_grid
    from ..core.backend import default_device
    from ..core.errors import EngineError
    from ._progress import Progress

    snap = _as_market(market)
    # what scenario_grid checks before any work, checked here for the whole book, not part by part
    if method not in METHODS:
        raise EngineError(f"must be one of {', '.join(METHODS)}; got {method!r}", "method")
    check_book(contracts)
    check_book(contracts, snap)
    unds = {c["terms"].get("underlying") for c in contracts if isinstance(c["terms"], dict)}
    low = min((min(min(r) for r in snap.vol(u).vols) for u in unds if isinstance(u, str)), default=1.0)
    if low + min(vol_shifts) <= 0:
        raise InputError(f"a vol shift of {min(vol_shifts):+.2%} takes the lowest vol of the book ({low:.2%}) to "
                         "zero or below", "vol_shifts")
    dev = device or default_device()
    on_gpu = dev in ("gpu", "cuda", "cupy")
    cache: dict = {}          # compiled once here, reused by every part
    costs = _expected_costs(contracts, snap, cache, method, contract_costs(contracts, snap))
    groups = [list(range(len(contracts)))] if on_gpu else balanced_split(costs, min(CPU_PARTS, len(contracts)))
    prog = Progress("book scenarios", float(costs.sum()), unit="cost units")
    prog.note(f"{len(contracts)} contracts, {len(spot_shifts)} spot x {len(vol_shifts)} vol shifts, "
              f"{'gpu' if on_gpu else 'cpu'}" + ("" if on_gpu else f", in {len(groups)} parts of about equal "
                                                             "expected time"))
    parts, done, pde, other = [], 0.0, 0, 0
    for k, g in enumerate(groups):
        long, _ = scenario_grid([contracts[i] for i in g], snap, spot_shifts, vol_shifts, paths=paths,
                                device=device, method=method, positions=None if on_gpu else g, cache=cache)
        parts.append(long)
        pde += long.attrs["timing"]["pde"]
        other += long.attrs["timing"]["mc_or_generic"]
        done += float(costs[g].sum())
        if len(groups) > 1:      # one pass: the closing line says it all
            prog.update(done, f"part {k + 1}/{len(groups)}")
    long = merge_chunks(contracts, parts, groups) if len(groups) > 1 else parts[0]
    prog.finish(f"{len(contracts)} contracts revalued ({pde} by the batched PDE, {other} by Monte Carlo "
                "or their own engine)")
    return long, grid_matrix(long)


def _expected_costs(contracts, snap, cache, method, days):
    """Each contract's expected share of a scenario grid's time, in PDE node-steps per spot node:
    trading days to maturity × states × substeps a day (the batched PDE steps every state of
    every row each substep: an Asian carries its running average as ``N_AVG`` states, a memory
    phoenix two per coupon date, a continuous barrier steps ``SUBSTEPS_CONTINUOUS`` times a day).
    Only the progress estimate and the split into parts read it. Compiles the book into ``cache``
    (the parts reuse it); a contract that cannot be compiled raises here, before any part runs."""
    import numpy as np

    from ..book.pricing import compile_book
    from ..engines.fused.pde import SUBSTEPS, SUBSTEPS_CONTINUOUS, supported
    from ..engines.fused.pde_asian import N_AVG

    fused, generic = compile_book(contracts, snap, cache)
    out = np.asarray(days, dtype=float) * 2 * SUBSTEPS        # two states (knocked in or not), 4 substeps
    for i, _, prog in fused:
        if method != "auto" or not supported(prog):
            continue                                           # Monte Carlo: counted as a plain row
        d = float(days[i])
        if prog["family"] == "asian":
            out[i] = d * N_AVG * SUBSTEPS
        elif prog["family"] == "autocall" and prog.get("memory"):
            out[i] = d * 2 * (d / 21.0 + 1) * SUBSTEPS          # two states per monthly coupon date
        elif prog["family"] == "barrier" and prog.get("continuous"):
            out[i] = d * 2 * SUBSTEPS_CONTINUOUS
    return out
