"""Trades that mature today, looked at during the day: what their last observation pays at the
current spot.

The pricers have nothing left to price on a trade's maturity date, and the end of day has not
observed it yet (its close is not known). Intraday, such a trade is worth the cash its remaining
observations pay if today's close were the current spot: the lifecycle's own rules
(``lifecycle.observe.advance``, the template's payoff for a generic plan) on the store's closes
and the spot for today, undiscounted (payment within days). Its cash delta and 1% cash gamma are
central differences of that cash over today's close moved by ±``bump`` (default 1%); vega, rho and
theta are zero (tomorrow the trade has paid; the theta convention counts that cash). Holder's view,
as ``price_book`` returns it, in the frame's columns.
"""
from __future__ import annotations

from ...core.dates import Date
from ...store.fixings import latest
from ..lifecycle.observe import advance, initial_state, positions_between
from ..lifecycle.run import _covered, _settler, checkpoints

BUMP = 0.01


def maturing(trades, d: Date) -> list[int]:
    """Positions of the trades whose maturity is ``d`` (or earlier and not yet observed)."""
    return [i for i, t in enumerate(trades) if t.record.maturity_date <= d]


def _cash_functions(conn, trades, plans: dict, snap, d: Date) -> dict:
    """trade id -> ``cash(x)``: what the trade still pays (holder, CNY) if today's close is the
    spot moved by the fraction x; or -> an error message when a past close is missing."""
    ck = checkpoints(trades, plans, _covered(conn))
    lo = Date.fromordinal(min(ck.values()))
    closes = latest(conn, {t.record.underlying for t in trades}, after=lo, through=d)
    dd = d.toordinal()
    out = {}
    for t in trades:
        plan, u = plans[t.version_id], t.record.underlying
        spot = float(snap.spot(u))
        have = {k.toordinal(): v for k, v in closes.get(u, {}).items()}
        days = [plan["d"][k] for k in positions_between(plan, ck[t.trade_id], dd)]
        missing = [o for o in days if o != dd and o not in have]
        if missing:
            out[t.trade_id] = (f"fixings: no close of {u} on {Date.fromordinal(missing[0])}, due for trade "
                               f"{t.trade_id}; import it (`otclab fixings import`)")
            continue
        state = t.state if t.state is not None else initial_state(plan)

        def cash(x: float, t=t, plan=plan, spot=spot, have=have, days=days, state=state) -> float:
            obs = {o: have[o] for o in days if o != dd}
            # a close in the store already leaves no uncertainty; else today's close is the spot
            obs[dd] = have[dd] if dd in have else (spot * (1.0 + x), None)
            settle = _settler(conn, t, plan, {d: obs[dd][0]}) if plan["family"] == "generic" else None
            events, _ = advance(plan, state, obs, ck[t.trade_id], dd, settle)
            return sum((e["amount"] or 0.0) for e in events) * t.record.notional
        out[t.trade_id] = cash
    return out


def expiry_frame_rows(conn, trades, plans: dict, snap, d: Date, bump: float = BUMP) -> list[dict]:
    """One ``price_book``-style row per trade (see the module docstring); a trade whose closes are
    missing gets its error."""
    if not trades:
        return []
    fns = _cash_functions(conn, trades, plans, snap, d)
    out = []
    for t in trades:
        base = {"id": t.trade_id, "template": t.record.template, "engine": "expiry", "vol": 0.0, "rate": 0.0,
                "stderr": 0.0, "flagged": None}
        cash = fns[t.trade_id]
        if isinstance(cash, str):
            out.append({**base, "error": cash})
            continue
        spot = float(snap.spot(t.record.underlying))
        c0, up, dn = cash(0.0), cash(bump), cash(-bump)
        cash_delta = (up - dn) / (2 * bump)
        second = (up - 2 * c0 + dn) / bump**2
        out.append({**base, "error": None, "value": c0, "delta": cash_delta / spot, "cash_delta": cash_delta,
                    "delta_pct": 100.0 * cash_delta / t.record.notional, "gamma": second / spot**2,
                    "cash_gamma_1pct": second / 100.0, "vega": 0.0, "theta": 0.0, "rho": 0.0,
                    **{k: 0.0 for k in ("delta_se", "gamma_se", "vega_se", "theta_se", "rho_se")}})
    return out


def expiry_grid_rows(conn, trades, plans: dict, snap, d: Date, spot_shifts, vol_shifts) -> list[dict]:
    """The scenario grid's long rows (id, spot_shift, vol_shift, pnl; holder) of maturing trades:
    the cash at each moved spot less the cash at the spot; vol moves change nothing."""
    if not trades:
        return []
    fns = _cash_functions(conn, trades, plans, snap, d)
    out = []
    for t in trades:
        cash = fns[t.trade_id]
        if isinstance(cash, str):
            continue
        c0 = cash(0.0)
        for x in spot_shifts:
            cx = cash(float(x)) - c0
            out.extend({"id": t.trade_id, "spot_shift": float(x), "vol_shift": float(v), "pnl": cx} for v in vol_shifts)
    return out
