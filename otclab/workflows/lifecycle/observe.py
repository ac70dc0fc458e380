"""Execute an observation plan on realised closes: the events of a trade and what they pay.

``advance(plan, state, closes)`` applies the plan's observations on the given dates in order
and returns the events and the new state. Semantics are those the engines price (the fused
program's, ``engines/fused/reference.py``), on closing prices, comparisons inclusive:

- autocall (snowball, phoenix): a knock-in observation with close <= KI level knocks in (once,
  irreversibly); a coupon observation pays ``cpn_rate × (accrual now − accrual from)`` if close >=
  coupon barrier, else is missed (with memory the next paid coupon accrues from the first missed
  period); a knock-out observation with close >= its level terminates the trade and pays its cash
  (coupon and, for notes, principal); surviving to maturity pays the knocked-in loss or the
  dividend coupon;
- barrier (barriers, sharkfins, double sharkfins): the first observation beyond a barrier knocks
  out (rebate at the hit or at maturity) or knocks in; maturity pays the option or the rebate;
- asian: every averaging fixing is recorded; maturity pays on the realised average;
- european: maturity pays the option (American exercise is the holder's decision, never
  automatic: unexercised, it settles at maturity);
- generic (templates without a program): maturity pays the template's own payoff on the closes.

Amounts are fractions of notional from the holder's view. Continuous barriers are observed on
closes here (intraday highs and lows are not imported).
"""
from __future__ import annotations

import math

from ...engines.fused.program import BAR, CPN, FIX, KI, KO

EPS = 1e-12     # relative tolerance of level comparisons: a close exactly on a level is on it


def initial_state(plan: dict) -> dict:
    s = plan.get("s", {})
    return {"ki": bool(s.get("init_ki", False) or s.get("init_hit", False)), "alive": True,
            "acc_from": float(s.get("acc_from0", 0.0)), "fsum": float(s.get("past_sum", 0.0)),
            "flog": float(s.get("past_logsum", 0.0)), "nfix": 0, "missed": 0}


def _euro(s: dict, x: float) -> float:
    """principal + part·max(φ(x − K), 0) + payout·1{φ(x − K) > 0} + part2·max(K2 − x, 0)."""
    d = s.get("phi", 1.0) * (x - s.get("strike", 0.0))
    return (s.get("principal", 0.0) + s.get("part", 0.0) * max(d, 0.0) + s.get("payout", 0.0) * (d > 0)
            + s.get("part2", 0.0) * max(s.get("strike2", 0.0) - x, 0.0))


def _ge(x: float, level: float) -> bool:
    return x >= level * (1 - EPS)


def _le(x: float, level: float) -> bool:
    return x <= level * (1 + EPS)


def positions_between(plan: dict, after: int, through: int) -> range:
    """Plan positions whose dates lie in (after, through] (ordinals)."""
    import bisect

    d = plan["d"]
    return range(bisect.bisect_right(d, after), bisect.bisect_right(d, through))


def advance(plan: dict, state: dict, closes: dict, after: int, through: int, settle=None):
    """Events of the plan's observations in (after, through] (ordinals) and the state after them.

    ``closes`` maps each observed ordinal to ``(close, fixing_id)``; every date of the range
    must have one (the caller checks). ``settle()`` evaluates a generic plan's maturity payoff
    (as a fraction of notional) on all its realised closes. Returns (events, state); each event is a dict with ordinal ``date``,
    ``type``, ``close``, ``fixing_id``, ``level``, ``amount`` (fraction of notional, holder),
    ``pay`` (payment ordinal), ``status`` and ``state``.
    """
    st = dict(state)
    if not st["alive"]:
        return [], st
    s, fam, s0 = plan.get("s", {}), plan["family"], plan["s0"]
    d, f = plan["d"], plan["f"]
    last = len(d) - 1
    ko = plan.get("ko") or {}
    ko_at = dict(zip(ko.get("p", ()), zip(ko.get("l", ()), ko.get("c", ()))))
    start = plan["start"]
    events = []

    def emit(k, typ, close, fid, level=None, amount=None, pay=None, status="live", **details):
        events.append({"date": d[k], "type": typ, "close": close, "fixing_id": fid, "level": level,
                       "amount": amount, "pay": pay if pay is not None else d[k], "status": status,
                       "state": dict(st), "details": details or None})

    for k in positions_between(plan, after, through):
        flags = f[k]
        close, fid = closes[d[k]]
        x = close / s0
        if fam == "autocall":
            if flags & KI and not st["ki"] and _le(x, s["ki_level"]):
                st["ki"] = True
                emit(k, "knock_in", close, fid, level=s["ki_level"])
            if flags & CPN:
                acc = (d[k] - start) / 365.0
                if _ge(x, s["cb_level"]):
                    amount = s.get("cpn_rate", 0.0) * (acc - st["acc_from"])
                    periods = st["missed"] + 1
                    st["acc_from"], st["missed"] = acc, 0
                    emit(k, "coupon", close, fid, level=s["cb_level"], amount=amount, periods=periods)
                else:
                    st["missed"] += 1
                    if not s.get("memory"):
                        st["acc_from"] = acc
                    emit(k, "coupon_missed", close, fid, level=s["cb_level"], amount=0.0, memory=bool(s.get("memory")))
            if flags & KO and k in ko_at:
                level, cash = ko_at[k]
                if _ge(x, level):
                    st["alive"] = False
                    emit(k, "knock_out", close, fid, level=level, amount=cash,
                         status="matured" if k == last else "knocked_out")
                    break
            if k == last:
                s_T = x
                if st["ki"]:
                    loss = max(s.get("ki_strike", 1.0) - s_T, 0.0) - max(s.get("loss_floor", 0.0) - s_T, 0.0)
                    amount = s.get("principal", 0.0) - loss
                else:
                    amount = s.get("end_cash", 0.0)
                st["alive"] = False
                emit(k, "maturity", close, fid, amount=amount, status="matured", knocked_in=st["ki"])
        elif fam == "barrier":
            if flags & BAR and (st["alive"] and not (st["ki"] and not s.get("out"))):
                lo = s.get("barrier_low")
                hit = (_ge(x, s["barrier"]) if s.get("up") else _le(x, s["barrier"])) or (lo is not None and _le(x, lo))
                if hit and s.get("out"):
                    st["alive"] = False
                    pay = d[last] if s.get("cash_at_maturity") else d[k]
                    emit(k, "knock_out", close, fid, level=s["barrier"] if not (lo is not None and _le(x, lo)) else lo,
                         amount=s.get("ko_cash", 0.0), pay=pay, status="matured" if k == last else "knocked_out")
                    break
                if hit:
                    st["ki"] = True
                    emit(k, "knock_in", close, fid, level=s["barrier"])
            if k == last:
                if s.get("out") or st["ki"]:
                    amount = _euro(s, x)
                else:
                    amount = s.get("principal", 0.0) + s.get("rebate_T", 0.0)
                st["alive"] = False
                emit(k, "maturity", close, fid, amount=amount, status="matured", knocked_in=st["ki"])
        elif fam == "asian":
            if flags & FIX:
                st["fsum"] += x
                st["flog"] += math.log(x)
                st["nfix"] += 1
                emit(k, "fixing", close, fid, average=st["fsum"] / st["nfix"])
            if k == last:
                n = s["n_total"]
                avg = math.exp(st["flog"] / n) if s.get("geometric") else st["fsum"] / n
                st["alive"] = False
                emit(k, "maturity", close, fid, amount=_euro(s, avg), status="matured", average=avg)
        elif fam == "european":
            if k == last:
                st["alive"] = False
                emit(k, "maturity", close, fid, amount=_euro(s, x), status="matured")
        else:   # generic: the template's payoff on the realised closes at maturity
            if k == last:
                amount = settle() if settle is not None else None
                st["alive"] = False
                emit(k, "maturity", close, fid, amount=amount, status="matured")
    return events, st
