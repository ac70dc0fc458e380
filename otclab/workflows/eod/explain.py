"""``otclab eod explain``: the P&L between two risk snapshots, explained by Greeks and events.

For every trade, from the desk's view, between the previous snapshot (date D0) and this one (D1):

    total       = V1 − V0 + cash flows that became known in (D0, D1]
    delta       = Δ0 · (S1 − S0)                  gamma  = ½ Γ0 · (S1 − S0)²
    vega        = vega0 · (σ1 − σ0) · 100          (vega per vol point)
    theta       = θ0 · trading days from D0 to D1  (theta per trading day)
    rho         = ρ0 · (r1 − r0) · 100             (rho per 1%)
    new_trades  = V1 + the trade's cash flows to D1, for a trade not in the previous snapshot
    unexplained = total − the terms above

The terms add up to the total. Theta counts the cash of the next day's observations at the
previous spot (the desk's convention: a coupon observed tomorrow is paid, a knock-out pays), so
lifecycle cash flows are inside the terms, not beside them; ``lifecycle_cash`` shows them (the
coupons, knock-outs, maturities and reversals of (D0, D1]) for each trade and sum. Greeks and
spots come from the previous snapshot's rows, moves from the two markets; a trade that left the
book (knocked out, matured, cancelled) has V1 = 0 and no vega or rho move. Sums by underlying and
by structure come with the per-trade table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...core.calendar import sse_calendar
from ...store import risk

TERMS = ("delta", "gamma", "vega", "theta", "rho", "new_trades", "unexplained")


@dataclass
class Explain:
    snapshot: dict
    previous: dict
    trades: pd.DataFrame        # one row per trade
    by_underlying: pd.DataFrame
    by_structure: pd.DataFrame
    total: dict

    def to_dict(self) -> dict:
        def records(df):
            return df.reset_index().replace({np.nan: None}).to_dict(orient="records")

        return {"snapshot_id": self.snapshot["id"], "date": str(self.snapshot["valuation_date"]),
                "previous_snapshot_id": self.previous["id"], "previous_date": str(self.previous["valuation_date"]),
                "total": self.total, "by_underlying": records(self.by_underlying),
                "by_structure": records(self.by_structure)}


def explain(conn, snapshot_id: int | None = None, previous_id: int | None = None) -> Explain:
    """The P&L explain of ``snapshot_id`` (default: the latest EOD) against ``previous_id``
    (default: the latest EOD snapshot before it)."""
    s1 = risk.header(conn, snapshot_id)
    s0 = risk.header(conn, previous_id) if previous_id is not None else risk.header(conn, before=s1["valuation_date"])
    r1, r0 = risk.rows(conn, s1["id"]), risk.rows(conn, s0["id"])
    m1 = risk.market_data(conn, s1["market_snapshot_id"])
    return explain_rows(conn, s0, r0, s1, r1, m1)


def explain_rows(conn, s0: dict, r0: pd.DataFrame, s1: dict, r1: pd.DataFrame, m1: dict,
                 flows: pd.DataFrame | None = None) -> Explain:
    """The explain of rows ``r1`` (header ``s1``, market ``m1``) against ``r0`` (header ``s0``):
    a refresh explains itself against the last end of day before it is stored. ``flows``: the
    cash flows known through ``s1``'s date when the caller has them (``cashflows_between``)."""
    d0, d1 = s0["valuation_date"], s1["valuation_date"]
    days = sse_calendar().count(d0, d1)
    if flows is None:
        flows = risk.cashflows_between(conn, None, d1)
    known = flows[flows.event_date > d0].groupby("trade_id")["amount"].sum() if len(flows) else pd.Series(dtype=float)
    all_to_d1 = flows.groupby("trade_id")["amount"].sum() if len(flows) else pd.Series(dtype=float)

    cols = ["trade_id", "template", "underlying", "value", "spot", "vol", "rate"] + list(
        ("delta", "gamma", "vega", "theta", "rho"))
    a = r0[cols].set_index("trade_id")
    b = r1[["trade_id", "template", "underlying", "value", "spot", "vol", "rate"]].set_index("trade_id")
    ids = sorted(set(a.index) | set(b.index))
    out = pd.DataFrame(index=pd.Index(ids, name="trade_id"))
    out["template"] = b["template"].combine_first(a["template"])
    out["underlying"] = b["underlying"].combine_first(a["underlying"])
    out["value_prev"] = a["value"]
    out["value"] = b["value"]
    in_prev = out.index.isin(a.index)
    in_now = out.index.isin(b.index)
    spot1_mkt = pd.Series(m1.get("spots", {}), dtype=float)
    spot0 = a["spot"].reindex(out.index)
    spot1 = b["spot"].reindex(out.index).fillna(out["underlying"].map(spot1_mkt))
    ds = (spot1 - spot0).fillna(0.0)
    g = a.reindex(out.index)
    dvol = (b["vol"].reindex(out.index) - g["vol"]).fillna(0.0)
    drate = (b["rate"].reindex(out.index) - g["rate"]).fillna(0.0)
    cf = known.reindex(out.index).fillna(0.0)
    out["delta"] = np.where(in_prev, g["delta"].fillna(0.0) * ds, 0.0)
    out["gamma"] = np.where(in_prev, 0.5 * g["gamma"].fillna(0.0) * ds**2, 0.0)
    out["vega"] = np.where(in_prev, g["vega"].fillna(0.0) * dvol * 100.0, 0.0)
    out["theta"] = np.where(in_prev, g["theta"].fillna(0.0) * days, 0.0)
    out["rho"] = np.where(in_prev, g["rho"].fillna(0.0) * drate * 100.0, 0.0)
    v0 = out["value_prev"].fillna(0.0)
    v1 = out["value"].fillna(0.0)
    new_total = v1 + all_to_d1.reindex(out.index).fillna(0.0)
    out["new_trades"] = np.where(in_prev, 0.0, new_total)
    out["total"] = np.where(in_prev, v1 - v0 + cf, new_total)
    explained = out[["delta", "gamma", "vega", "theta", "rho", "new_trades"]].sum(axis=1)
    out["unexplained"] = out["total"] - explained
    out["lifecycle_cash"] = np.where(in_prev, cf, 0.0)
    out["status"] = np.where(in_now, np.where(in_prev, "held", "new"), "left")
    keep = list(TERMS) + ["total", "lifecycle_cash"]
    by_u = out.groupby("underlying")[keep].sum()
    by_s = out.groupby("template")[keep].sum()
    total = {k: float(out[k].sum()) for k in keep}
    total.update(trades=int(len(out)), held=int((out.status == "held").sum()), new=int((out.status == "new").sum()),
                 left=int((out.status == "left").sum()), trading_days=int(days))
    return Explain(s1, s0, out.reset_index(), by_u, by_s, total)
