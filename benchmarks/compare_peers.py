"""otclab against its peers QuantLib and pricelib: same contracts, same machine, same run.

Usage (QuantLib and pricelib are benchmark-only tools, never otclab dependencies):

    pip install QuantLib pricelib          # into the benchmark's environment only (see docs/peers.md)
    python benchmarks/compare_peers.py [--repeats 5] [--paths 200000] [--peers quantlib pricelib]

Prints one row per comparison: contract, time basis, peer and its engine, peer value, otclab
value and engine, difference (otclab − peer) in % of notional, the tolerance it is held to and
whether it holds, peer seconds and otclab seconds. Every timing is the median of ``--repeats``
calls after one warm-up call of the same pricing; each call builds its objects afresh.

Conventions mapped so that the numbers are comparable (details in benchmarks/peers/*.py):

- Units. otclab values are in currency for the whole notional, levels are fractions of
  ``initial_price``. Peers work in absolute prices per unit: spot, strike and barrier are
  fraction × initial_price, a rebate of x of notional is x × initial_price per unit, and the
  peer's value is multiplied by notional / initial_price units.
- Time, QuantLib (European, continuous barrier, geometric Asian): otclab gets a market with
  ``"time_basis": "calendar"`` (ACT/365F diffusion; discounting is ACT/365F anyway) and QuantLib
  flat continuously compounded curves with the same rate and dividend yield, ``Actual365Fixed``
  and a ``NullCalendar``: both then see the same T for every date. The maturity and the Asian
  fixing dates are the ones otclab derives from the SSE calendar.
- Time, daily knock-out: otclab monitors every SSE close. QuantLib cannot monitor given dates; its
  biased MC barrier engine monitors every step of a uniform grid, which is what daily closes are
  in otclab's trading-day time (``"time_basis": "trading"``, 1/243 year a day). QuantLib gets
  N steps over N days with σ, r − q and r rescaled to the same variance, forward and maturity
  discount factor.
- Time, pricelib: each engine has one clock for diffusion AND discounting. Its analytic European
  uses calendar days / 365: compared under ``"time_basis": "calendar"`` with the same r and q.
  Its barrier and autocallable engines use trading days / 243 of its own Chinese calendar:
  compared under ``"time_basis": "trading"``, pricelib getting r' = r T_disc / T and
  q' = r' − (r − q), which reproduce otclab's forward and its ACT/365F discount factor at
  maturity. The snowball is the pricelib demo of tests/data/pricing_references.json under this
  convention (there T = T_disc = 1, so r' = r).

Conventions that cannot be matched (and are stated in the table's notes): payments before
maturity (a knock-out rebate paid at the hit, snowball knock-out coupons) are discounted on the
peer's clock (pricelib's trading days, QuantLib's uniform grid in the daily case) instead of
ACT/365F to that date; QuantLib has no snowball/autocallable product in its Python API; QuantLib
has no discretely monitored barrier on arbitrary dates (only the uniform-grid MC above).

Expected agreement: ~1e-4 of notional for closed form against closed form, within MC error
(3 combined standard errors) when a Monte Carlo is involved, and within the grid error of a PDE
(tolerance stated per row).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import contracts as C  # noqa: E402
from peers.timing import measure  # noqa: E402

INSTALL = "pip install QuantLib pricelib"
PEERS = ("quantlib", "pricelib")


@dataclass
class Row:
    contract: str
    request: dict            # the otclab request (its market carries the time basis)
    peer: str                # "QuantLib" | "pricelib"
    peer_engine: str
    peer_fn: object          # Setup -> (value, stderr or None), currency
    engine: str              # otclab engine
    tol: float | None = None  # fixed tolerance, fraction of notional (None: from MC errors)
    note: str = ""
    peer_mc_no_se: bool = False  # a peer MC that reports no standard error (pricelib)


def _missing(peers) -> list[str]:
    out = []
    if "quantlib" in peers:
        try:
            import QuantLib  # noqa: F401
        except ImportError:
            out.append("QuantLib")
    if "pricelib" in peers:
        try:
            from peers import pricelib_peer
            pricelib_peer.load()
        except ImportError:
            out.append("pricelib")
    return out


def build_rows(peers, paths: int, seed: int) -> list[Row]:
    """The comparison rows: contract × peer engine × otclab engine."""
    rows: list[Row] = []
    closed = 1e-4          # of notional: closed form against closed form
    pde_tol = 1e-4         # of notional: a PDE against a closed form or another PDE
    if "quantlib" in peers:
        from peers import ql_peer as Q
    if "pricelib" in peers:
        from peers import pricelib_peer as P

    vanillas = [("European call K=100%", dict(option_type="call", strike=1.0)),
                ("European put K=95%", dict(option_type="put", strike=0.95))]
    for label, t in vanillas:
        if "quantlib" in peers:
            req = C.request("vanilla", "calendar", **t)
            fn = lambda st, t=t: Q.european(st, t["option_type"], t["strike"])  # noqa: E731
            rows.append(Row(label, req, "QuantLib", "analytic", fn, "analytic", closed))
            rows.append(Row(label, req, "QuantLib", "analytic", fn, "pde", pde_tol))
        if "pricelib" in peers:
            req = C.request("vanilla", "calendar", **t)
            fn = lambda st, t=t: P.european(st, t["option_type"], t["strike"])  # noqa: E731
            rows.append(Row(label, req, "pricelib", "analytic", fn, "analytic", closed))

    uo = dict(option_type="call", strike=1.0, barrier=1.2, barrier_type="up_out", rebate=0.03)
    label = "Up-and-out call K=100% H=120% rebate 3% (continuous)"
    if "quantlib" in peers:
        req = C.request("barrier", "calendar", monitoring="continuous", **uo)
        fn = lambda st: Q.barrier_continuous(st, **uo)  # noqa: E731
        rows.append(Row(label, req, "QuantLib", "analytic", fn, "analytic", closed))
        rows.append(Row(label, req, "QuantLib", "analytic", fn, "mc", None,
                        "otclab MC: Brownian-bridge crossing between daily grid dates"))
    if "pricelib" in peers:
        req = C.request("barrier", "trading", monitoring="continuous", **uo)
        fn = lambda st: P.barrier(st, **uo, daily=False, engine="analytic")  # noqa: E731
        rows.append(Row(label, req, "pricelib", "analytic", fn, "analytic", closed,
                        "pricelib and otclab's closed form discount a rebate at the hit on a clock "
                        "proportional to diffusion time (r_eff = r T_disc / T)"))

    ko = dict(option_type="call", strike=1.0, barrier=1.15, barrier_type="up_out", rebate=0.03)
    label = "Daily KO call K=100% H=115% rebate 3% at KO (sharkfin-like)"
    req = C.request("barrier", "trading", monitoring="daily", **ko)
    if "quantlib" in peers:
        fn = lambda st: Q.barrier_daily_mc(st, **ko, paths=paths, seed=seed)  # noqa: E731
        note = "QuantLib biased MC on a uniform grid = daily closes in trading time"
        rows.append(Row(label, req, "QuantLib", f"MC {paths // 1000}k", fn, "mc", None, note))
        rows.append(Row(label, req, "QuantLib", f"MC {paths // 1000}k", fn, "pde", None, note))
    if "pricelib" in peers:
        fn = lambda st: P.barrier(st, **ko, daily=True, engine="pde")  # noqa: E731
        rows.append(Row(label, req, "pricelib", "PDE", fn, "pde", pde_tol))
        fn = lambda st: P.barrier(st, **ko, daily=True, engine="analytic")  # noqa: E731
        rows.append(Row(label, req, "pricelib", "analytic (BGK)", fn, "analytic", closed,
                        "both apply the Broadie–Glasserman–Kou shift: an approximation of daily"))

    if "pricelib" in peers:
        shark = dict(option_type="call", strike=1.0, barrier=1.15, rebate=0.03, participation=1.0)
        label = "Sharkfin call K=100% H=115% daily, rebate 3% at maturity"
        req = C.request("sharkfin", "trading", monitoring="daily", **shark)
        fn = lambda st: P.sharkfin(st, **shark)  # noqa: E731
        rows.append(Row(label, req, "pricelib", "PDE", fn, "pde", pde_tol))
        rows.append(Row(label, req, "pricelib", "PDE", fn, "mc"))

    geo = dict(option_type="call", strike=1.0, averaging="geometric")
    if "quantlib" in peers:
        for fix, label in (("monthly", "Geometric Asian call K=100%, 6 monthly fixings"),
                           ("daily", "Geometric Asian call K=100%, daily fixings")):
            req = C.request("asian", "calendar", fixings=fix, **geo)
            fn = lambda st: Q.geometric_asian(  # noqa: E731
                st, geo["option_type"], geo["strike"], st.schedules["fix"])
            rows.append(Row(label, req, "QuantLib", "analytic", fn, "analytic", closed))
            rows.append(Row(label, req, "QuantLib", "analytic", fn, "pde", pde_tol))
    if "pricelib" in peers:
        note = ("pricelib MC gives no standard error: otclab's MC one on the same contract "
                "counted twice")
        daily_asians = (("geometric", "Geometric Asian call K=100%, daily fixings", ("analytic", "mc")),
                        ("arithmetic", "Arithmetic Asian call K=100%, daily fixings", ("mc", "pde")))
        for avg, label, engines in daily_asians:
            req = C.request("asian", "trading", option_type="call", strike=1.0, averaging=avg,
                            fixings="daily")
            fn = lambda st, avg=avg: P.asian_mc(st, "call", 1.0, avg, paths, seed)  # noqa: E731
            for eng in engines:
                rows.append(Row(label, req, "pricelib", f"MC {paths // 1000}k", fn, eng, None, note,
                                peer_mc_no_se=True))

    if "pricelib" in peers:
        req = C.snowball_request()
        label = "Snowball (pricelib demo) KO 103% KI 80% 11.2% note"
        fn = lambda st, terms=req["terms"]: P.snowball(st, terms, "pde")  # noqa: E731
        rows.append(Row(label, req, "pricelib", "PDE", fn, "pde", pde_tol,
                        "KO coupons discounted on pricelib's trading-day clock"))
        fn = lambda st, terms=req["terms"]: P.snowball(st, terms, "mc", paths=paths, seed=seed)  # noqa: E731
        rows.append(Row(label, req, "pricelib", f"MC {paths // 1000}k", fn, "mc", None,
                        "pricelib MC gives no standard error: otclab's MC one on the same "
                        "contract counted twice", peer_mc_no_se=True))
    return rows


def run(rows: list[Row], repeats: int, paths: int, seed: int, progress=print) -> list[dict]:
    import otclab

    otclab_cache: dict = {}
    peer_cache: dict = {}

    def otclab_priced(req, engine):
        """(value, stderr, median seconds) of otclab on ``req``, measured once per (req, engine)."""
        key = (json.dumps(req, sort_keys=True), engine)
        if key not in otclab_cache:
            kw = {"paths": paths, "seed": seed} if engine == "mc" else {}
            res, sec = measure(lambda: otclab.price(req, engine=engine, **kw), repeats)
            otclab_cache[key] = (res.value, res.stderr, sec)
        return otclab_cache[key]

    out = []
    for row in rows:
        st = C.setup(row.request)
        ov, ose, osec = otclab_priced(row.request, row.engine)
        pkey = (json.dumps(row.request, sort_keys=True), row.peer, row.peer_engine)
        if pkey not in peer_cache:
            (pv, pse), psec = measure(lambda: row.peer_fn(st), repeats)
            peer_cache[pkey] = (pv, pse, psec)
        pv, pse, psec = peer_cache[pkey]
        diff = (ov - pv) / st.notional
        notes = [row.note] if row.note else []
        if row.tol is not None:
            tol = row.tol
        else:
            # 3 combined standard errors. A peer MC that reports none (pricelib) is taken to be
            # as noisy as otclab's MC on the same contract with the same number of paths.
            se_p = otclab_priced(row.request, "mc")[1] if row.peer_mc_no_se else (pse or 0.0)
            tol = 3 * math.hypot(ose or 0.0, se_p) / st.notional
        if row.peer == "pricelib":
            from peers import pricelib_peer
            cal = pricelib_peer.check_calendar(st)
            if cal:
                notes.append(cal)
        rec = {"contract": row.contract, "basis": st.time_basis, "peer": row.peer,
               "peer_engine": row.peer_engine, "peer_value": pv, "peer_stderr": pse,
               "otclab_value": ov, "otclab_stderr": ose, "otclab_engine": row.engine,
               "diff_pct_notional": 100 * diff, "tol_pct_notional": 100 * tol,
               "agree": abs(diff) <= tol, "peer_seconds": psec, "otclab_seconds": osec,
               "notional": st.notional, "notes": "; ".join(notes)}
        out.append(rec)
        if progress:
            progress(f"  {row.contract} | {row.peer} {row.peer_engine} vs otclab {row.engine}: "
                     f"diff {rec['diff_pct_notional']:+.5f}% of notional", file=sys.stderr)
    return out


def _fmt_value(v, se, notional):
    nd = 2 if notional >= 1e4 else 4      # the demo snowball has a notional of 100
    return f"{v:,.{nd}f}" + (f" ± {se:,.{nd}f}" if se else "")


def table(results: list[dict]) -> str:
    head = ["contract", "basis", "peer (engine)", "peer value", "otclab value (engine)",
            "diff % notional", "tol %", "ok", "peer s", "otclab s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        lines.append("| " + " | ".join([
            r["contract"], r["basis"], f"{r['peer']} ({r['peer_engine']})",
            _fmt_value(r["peer_value"], r["peer_stderr"], r["notional"]),
            f"{_fmt_value(r['otclab_value'], r['otclab_stderr'], r['notional'])} ({r['otclab_engine']})",
            f"{r['diff_pct_notional']:+.5f}", f"{r['tol_pct_notional']:.4f}",
            "yes" if r["agree"] else "NO", f"{r['peer_seconds']:.3g}", f"{r['otclab_seconds']:.3g}",
        ]) + " |")
    notes = sorted({r["notes"] for r in results if r["notes"]})
    if notes:
        lines.append("")
        lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


def header(peers) -> str:
    import numpy
    import otclab  # noqa: F401
    from importlib.metadata import version
    parts = [f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC", platform.node() or "?",
             f"{os.cpu_count()} CPUs", f"Python {platform.python_version()}",
             f"otclab {version('otclab')}", f"numpy {numpy.__version__}"]
    if "quantlib" in peers:
        from peers import ql_peer
        parts.append(f"QuantLib {ql_peer.version()}")
    if "pricelib" in peers:
        from peers import pricelib_peer
        parts.append(f"pricelib {pricelib_peer.version()}")
    return " · ".join(parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per pricing (median)")
    ap.add_argument("--paths", type=int, default=200_000, help="Monte Carlo paths (otclab and peers)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = ap.parse_args(argv)

    missing = _missing(args.peers)
    if missing:
        print(f"compare_peers: {', '.join(missing)} not installed. They are benchmark-only tools, "
              f"not otclab dependencies; install them into the benchmark's environment with\n"
              f"    {INSTALL}\n(pricelib pins numpy<=1.26.4, pandas<=2.2.2, scipy<=1.13.0: use a "
              f"separate venv, see docs/peers.md) or leave a peer out with --peers.", file=sys.stderr)
        return 2
    rows = build_rows(args.peers, args.paths, args.seed)
    results = run(rows, args.repeats, args.paths, args.seed)
    if args.json:
        print(json.dumps({"header": header(args.peers), "rows": results}, indent=1, default=str))
    else:
        print(header(args.peers))
        print(f"median of {args.repeats} timed calls after one warm-up; MC {args.paths} paths, "
              f"seed {args.seed}\n")
        print(table(results))
    return 0 if all(r["agree"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
