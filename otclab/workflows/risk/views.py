"""What the risk dashboard shows, computed once per refresh from the snapshot's rows and stored
with it (a page view reads these, it never prices): exposures, the scenario grid and spot
ladders, the barrier watch list, the lifecycle calendar of the next days.

Units are the desk's (README): cash delta and 1% cash gamma in currency, vega per vol point,
theta per trading day, rho per 1%; values and Greeks from the desk's view.
"""
from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict

import numpy as np
import pandas as pd

from ...core.dates import Date
from ...engines.fused.program import BAR, CPN, FIX, KI, KO
from ..lifecycle.observe import advance, initial_state, positions_between

BUCKETS = ((21, "≤1M"), (63, "1-3M"), (126, "3-6M"), (243, "6-12M"), (10**9, ">12M"))
MEASURES = ("value", "cash_delta", "cash_gamma_1pct", "vega", "theta", "rho")


def bucket(days: int) -> str:
    """Maturity bucket of a number of trading days to maturity."""
    return next(name for limit, name in BUCKETS if days <= limit)


def exposures(rows: pd.DataFrame, cal, d: Date) -> list[dict]:
    """Sums by underlying × structure × maturity bucket (trades, notional and every measure)."""
    if rows.empty:
        return []
    df = rows[rows["error"].isna()].copy()
    df["bucket"] = [bucket(cal.count(d, m)) for m in df["maturity_date"]]
    agg = {"trade_id": "count", "notional": "sum", **{k: "sum" for k in MEASURES}}
    out = df.groupby(["underlying", "template", "bucket"]).agg(agg).reset_index().rename(columns={"trade_id": "trades"})
    return out.to_dict(orient="records")


def grid_view(long: pd.DataFrame, rows: pd.DataFrame) -> dict:
    """The book's and each underlying's P&L over spot × vol shifts, and the spot ladders of cash
    delta and 1% cash gamma at the unshifted vol (central differences along the spot axis)."""
    if long is None or long.empty:
        return {}
    und = rows.set_index("trade_id")["underlying"]
    sign = rows.set_index("trade_id")["direction"].map({"buy": 1.0, "sell": -1.0})
    # per trade (a few thousand) rather than per row of the long table (~740,000 on a GPU grid)
    codes, ids = pd.factorize(long["id"])
    trade_sign = pd.Series(ids).map(sign).to_numpy(dtype=float, na_value=np.nan)
    trade_und = pd.Series(ids).map(und)
    und_names = sorted(trade_und.dropna().unique())
    trade_u = trade_und.map({u: k for k, u in enumerate(und_names)}).to_numpy(dtype=float, na_value=np.nan)
    pnl = long["pnl"].to_numpy(dtype=float) * trade_sign[codes]       # the grid prices the holder's view
    spots = sorted(long["spot_shift"].unique())
    vols = sorted(long["vol_shift"].unique())
    cell = (np.searchsorted(spots, long["spot_shift"].to_numpy()) * len(vols)
            + np.searchsorted(vols, long["vol_shift"].to_numpy()))
    known = ~np.isnan(pnl)                  # a missing value adds nothing (a sum skips it)
    size = len(spots) * len(vols)

    def matrix(rows_of):
        m = np.bincount(cell[rows_of], weights=pnl[rows_of], minlength=size)
        return m.reshape(len(spots), len(vols)).tolist()

    u_row = trade_u[codes]
    out = {"spot_shifts": [float(x) for x in spots], "vol_shifts": [float(x) for x in vols],
           "book": matrix(known), "by_underlying": {u: matrix(known & (u_row == k)) for k, u in enumerate(und_names)}}
    spot_now = rows.groupby("underlying")["spot"].first()
    v0 = vols.index(min(vols, key=abs))
    x = np.array(spots)
    ladders = {}
    # with every spot moved by the same fraction x, S dV/dS = (1 + x) dV/dx and S^2 d2V/dS2 =
    # (1 + x)^2 d2V/dx2: one formula for an underlying and for the book
    for scope, m in [("book", out["book"])] + list(out["by_underlying"].items()):
        if len(x) < 3:
            break
        pnl = np.array([r[v0] for r in m])
        dv = np.gradient(pnl, x)
        ladders[scope] = {"spot_shift": x.tolist(), "cash_delta": (dv * (1 + x)).tolist(),
                          "cash_gamma_1pct": (np.gradient(dv, x) * (1 + x) ** 2 / 100).tolist()}
        if scope != "book":
            ladders[scope]["spot"] = (spot_now[scope] * (1 + x)).tolist()
    out["ladders"] = ladders
    return out


def _sqrt_tau(vol: float, days: int, per_year: float = 243.0) -> float:
    return vol * math.sqrt(max(days, 1) / per_year)


def watch_list(trades, plans: dict, rows: pd.DataFrame, snap, cal, d: Date) -> list[dict]:
    """Autocallables and barrier options with their distance to knock-in and to the next knock-out
    (in % of spot and in σ√τ to the date it is observed), trading days to the next observation,
    the knocked-in flag, notional, cash delta and 1% cash gamma."""
    by_id = {r["trade_id"]: r for r in rows.to_dict("records")}     # dicts: a pandas lookup per trade is slow
    out = []
    today = d.toordinal()
    for t in trades:
        plan = plans.get(t.version_id)
        if plan is None or plan["family"] not in ("autocall", "barrier") or t.trade_id not in by_id:
            continue
        r = by_id[t.trade_id]
        s0, spot = plan["s0"], float(r["spot"])
        vol = float(r["vol"]) if r["vol"] is not None and not pd.isna(r["vol"]) else 0.2
        s, f, dates = plan["s"], plan["f"], plan["d"]
        first = bisect.bisect_right(dates, today)          # observation dates are in order
        ahead = range(first, len(dates))
        nxt = first if first < len(dates) else None
        mat_days = cal.count(d, Date.fromordinal(dates[-1])) if dates else 0
        state = t.state if t.state is not None else initial_state(plan)
        row = {"trade_id": t.trade_id, "template": t.record.template, "underlying": t.record.underlying,
               "notional": t.record.notional, "spot": spot, "knocked_in": bool(state.get("ki")),
               "cash_delta": _num(r.get("cash_delta")), "cash_gamma_1pct": _num(r.get("cash_gamma_1pct")),
               "next_observation": Date.fromordinal(dates[nxt]).isoformat() if nxt is not None else None,
               "days_to_next": cal.count(d, Date.fromordinal(dates[nxt])) if nxt is not None else None}
        ki = s.get("ki_level") if plan["family"] == "autocall" else (s.get("barrier") if not s.get("out") else None)
        if ki and not row["knocked_in"]:
            level = ki * s0
            # the way the spot has to go: down to a knock-in below it, up to one above it
            up_in = plan["family"] == "barrier" and s.get("up")
            row.update(ki_level=level, to_ki_pct=(level / spot - 1.0) if up_in else (spot / level - 1.0),
                       to_ki_sigma=(math.log(level / spot) if up_in else math.log(spot / level))
                       / _sqrt_tau(vol, mat_days))
        ko_pos = None
        if plan["family"] == "autocall":
            ko = plan.get("ko") or {}
            for p, lv in zip(ko.get("p", ()), ko.get("l", ())):
                if dates[p] > today:
                    ko_pos, ko_level = p, lv
                    break
        elif s.get("out"):
            ko_pos = next((k for k in ahead if f[k] & BAR), None)
            ko_level = s.get("barrier")
        if ko_pos is not None:
            level = ko_level * s0
            days = cal.count(d, Date.fromordinal(dates[ko_pos]))
            up = plan["family"] == "autocall" or s.get("up")
            row.update(ko_level=level, ko_date=Date.fromordinal(dates[ko_pos]).isoformat(),
                       to_ko_pct=(level / spot - 1.0) if up else (spot / level - 1.0),
                       to_ko_sigma=(math.log(level / spot) if up else math.log(spot / level)) / _sqrt_tau(vol, days))
        out.append(row)
    # nearest barrier first, knock-in or knock-out
    out.sort(key=lambda x: min(abs(x.get("to_ki_pct", math.inf)), abs(x.get("to_ko_pct", math.inf))))
    return out


def _num(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v)


def calendar(trades, plans: dict, rows: pd.DataFrame, cal, d: Date, days: int = 5) -> list[dict]:
    """Observations, coupons and maturities of the next ``days`` trading days, each with the cash
    it pays if observed at today's spot (desk's view), from the trades' plans. Daily monitoring
    (knock-in and barrier checks every day, daily averaging) is left out: it is every day."""
    spots = rows.groupby("underlying")["spot"].first().to_dict()
    end = cal.add_trading_days(d, days).toordinal()
    today = d.toordinal()
    out = []
    for t in trades:
        plan = plans.get(t.version_id)
        if plan is None or t.record.underlying not in spots:
            continue
        ks = list(positions_between(plan, today, end))
        if not ks:
            continue
        spot = spots[t.record.underlying]
        closes = {plan["d"][k]: (spot, None) for k in ks}
        state = t.state if t.state is not None else initial_state(plan)
        events, _ = advance(plan, state, closes, today, end) if plan["family"] != "generic" else ([], state)
        paid = defaultdict(float)
        kinds = defaultdict(set)
        for e in events:
            paid[e["date"]] += (e["amount"] or 0.0) * t.record.notional * t.record.sign
            kinds[e["date"]].add(e["type"])
        last = len(plan["d"]) - 1
        for k in ks:
            f, o = plan["f"][k], plan["d"][k]
            what = [name for bit, name in ((KO, "knock-out observation"), (CPN, "coupon observation"))
                    if f & bit]
            if f & FIX and plan["family"] == "asian" and _sparse(plan):
                what.append("averaging fixing")
            if f & (BAR | KI) and _sparse(plan):
                what.append("barrier observation")
            if k == last:
                what.append("maturity")
            if not what:
                continue
            out.append({"date": Date.fromordinal(o).isoformat(), "trade_id": t.trade_id, "template": t.record.template,
                        "underlying": t.record.underlying, "observes": ", ".join(what),
                        "at_today_spot": ", ".join(sorted(kinds.get(o, ()))) or "nothing",
                        "cash_at_today_spot": paid.get(o, 0.0)})
    out.sort(key=lambda x: (x["date"], x["trade_id"]))
    return out


def _sparse(plan) -> bool:
    """Whether a plan's observations are not every trading day (then each one is news)."""
    d = plan["d"]
    return len(d) < 2 or (d[-1] - d[0]) / max(len(d) - 1, 1) > 3


def grid_table(grid: dict, header: dict) -> pd.DataFrame:
    """The stored scenario grid as one long table for reporting: snapshot id, valuation date,
    market time, scope (``book`` or an underlying), spot shift (fraction), vol shift (vol as a
    fraction, 0.01 = one point), P&L (CNY, desk's view, against the unshifted value)."""
    cols = ["snapshot_id", "valuation_date", "market_time", "scope", "spot_shift", "vol_shift", "pnl_cny"]
    if not grid:
        return pd.DataFrame(columns=cols)
    sid = grid.get("from_snapshot", header["id"])
    cst = dt.timezone(dt.timedelta(hours=8))
    mt = header.get("market_time")
    mt = grid.get("from_market_time") or (mt.astimezone(cst).isoformat() if mt else None)
    out = []
    for scope, m in [("book", grid["book"])] + sorted(grid.get("by_underlying", {}).items()):
        for i, x in enumerate(grid["spot_shifts"]):
            for j, v in enumerate(grid["vol_shifts"]):
                out.append((sid, str(header["valuation_date"]), mt, scope, x, v, m[i][j]))
    return pd.DataFrame(out, columns=cols)


def grid_files(grid: dict, header: dict) -> tuple[bytes, bytes]:
    """(CSV, Excel) of ``grid_table``; the workbook has the long table and one spot × vol sheet per
    scope."""
    import io

    long = grid_table(grid, header)
    csv = long.to_csv(index=False).encode("utf-8-sig")      # with a BOM: Excel opens Chinese text right
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        long.to_excel(xw, sheet_name="grid", index=False)
        for scope, g in long.groupby("scope", sort=False):
            g.pivot(index="spot_shift", columns="vol_shift", values="pnl_cny").to_excel(xw, sheet_name=scope[:31])
    return csv, buf.getvalue()
