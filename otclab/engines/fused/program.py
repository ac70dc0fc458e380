"""Programs: contracts reduced to arrays the fused kernels run, with bump scenarios as rows.

A template's ``fused(ctx)`` cell returns its family and *undiscounted* per-date data on the
context's grid; ``build_batch`` adds the market (diffusion steps, vols, carry, discount factors)
as one row per contract. Scenarios do not copy rows: a kernel task is a (row, scenario) pair and
the kernel applies the scenario itself: a spot shift moves the starting log-level (by the
scenario's shift, or by the row's own delta bump ±h when the scenario says ``spot_bump``), a vol
bump the per-step vols, a rate bump the carry and discounting (by exp(−Δr·t) of each cash date).
Theta gets a row of its own on the same dates and random numbers: the paths start one trading day
later (the first step loses a day of diffusion; when the first date is tomorrow it has none, so
its observation happens at today's spot) and discount factors are taken to tomorrow, so the row's
value is tomorrow's, cash paid tomorrow included (the desk's convention, pricing/price.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

FAMILIES = {"european": 0, "barrier": 1, "autocall": 2, "asian": 3}
KO, KI, CPN, FIX, BAR = 1, 2, 4, 8, 16
SCALARS = ("log_ki", "log_cb", "cpn_rate", "memory", "acc_from0", "principal_T", "ki_strike", "loss_floor",
           "end_cash", "df_T", "phi", "strike", "part", "payout", "bar_up", "bar_out", "rebate_T", "init_ki",
           "n_total", "past_sum", "past_logsum", "geo", "t_T", "cash_T", "log_lo", "bar_cont", "strike2", "part2",
           "h_up", "h_dn")
COL = {name: i for i, name in enumerate(SCALARS)}


@dataclass(frozen=True)
class Scenario:
    """A bump of the market for one row: spot (relative), vol (absolute), rate (absolute), theta;
    ``spot_bump`` +1 / −1 moves spot by the contract's own delta bump (pricing.price.spot_bump)."""

    name: str
    spot_rel: float = 0.0
    vol_abs: float = 0.0
    rate_abs: float = 0.0
    theta: bool = False
    spot_bump: int = 0


BASE = Scenario("base")


@dataclass
class ProgramBatch:
    fam: np.ndarray          # (R,) int32
    n_steps: np.ndarray      # (R,) int32
    zoff: np.ndarray         # (R,) int32: first random-number step
    key: np.ndarray          # (R,) uint32: underlying key (shared paths)
    log_s0: np.ndarray       # (R,) float64
    dtau: np.ndarray         # (R, S) float32: diffusion years of each step
    vol: np.ndarray          # (R, S) float32: vol of each step
    carry: np.ndarray        # (R, S) float32: r − q of each step
    tdisc: np.ndarray        # (R, S) float32: ACT/365F years to each date (rate bumps)
    flags: np.ndarray        # (R, S) uint8
    lvl: np.ndarray          # (R, S) float32: log of the KO level / barrier at the step
    cash: np.ndarray         # (R, S) float32: discounted cash if knocked out at the step
    acc: np.ndarray          # (R, S) float32: coupon accrual (ACT/365F from start)
    dfk: np.ndarray          # (R, S) float32: discount factor of the step's date
    scal: np.ndarray         # (R, len(SCALARS)) float64
    scen: np.ndarray         # (n_scenarios, 4) float64: log spot shift, vol shift, rate shift, delta bump ±1/0
    task_row: np.ndarray     # (T,) int32: row of each kernel task
    task_scen: np.ndarray    # (T,) int32: scenario of each kernel task
    tasks: list = field(default_factory=list)   # (contract index, scenario name) per task

    @property
    def n_rows(self) -> int:
        return int(self.fam.shape[0])

    @property
    def n_tasks(self) -> int:
        return int(self.task_row.shape[0])

    def path_steps(self, paths: int) -> float:
        return float(self.n_steps[self.task_row].sum()) * paths


def _underlying_key(code: str) -> int:
    import zlib

    return zlib.crc32(code.encode()) & 0xFFFFFFFF


class MarketGrid:
    """Diffusion time, discounting, carry and total variance on every trading day of a book.

    Computed once per underlying (and moneyness, for smiles) so that a contract's steps are
    differences at its own dates: the same numbers as ``PricingContext.step_params``.
    """

    def __init__(self, market, last_date):
        self.market = market
        self.days = [market.valuation_date] + market.calendar.trading_days(market.valuation_date, last_date)
        self.pos = {d: i for i, d in enumerate(self.days)}
        self.t_diff = np.concatenate([[0.0], market.diffusion_time(self.days[1:])])
        self.t_disc = np.concatenate([[0.0], market.discount_time(self.days[1:])])
        self.tomorrow = self.days[1] if len(self.days) > 1 else None
        self._cache: dict = {}
        self._idx: dict = {}      # per context: positions of its dates (base and theta rows)

    def arrays(self, ctx):
        """(t_diff, t_disc, discount, carry integral, total variance) at the context's dates."""
        idx = self._idx.get(id(ctx))
        if idx is None or idx[0] is not ctx:
            idx = self._idx[id(ctx)] = (ctx, np.array([self.pos[d] for d in ctx.dates]))
        idx = idx[1]
        u = ctx.underlying
        surf = ctx.vol_surface
        mkey = None if len(surf.moneyness) == 1 else round(float(ctx.vol_moneyness), 10)
        key = (u, mkey)
        if key not in self._cache:
            carry = ctx.rate_curve.integral(self.t_disc) - ctx.div_curve.integral(self.t_disc)
            w = np.concatenate([[0.0], np.atleast_1d(surf.total_variance(self.t_diff[1:], ctx.vol_moneyness))])
            self._cache[key] = (ctx.rate_curve.discount(self.t_disc), carry, w)
        df, carry, w = self._cache[key]
        idx0 = np.concatenate([[0], idx])
        return idx0, df, carry, w


@dataclass
class Static:
    """What a contract's row holds that does not depend on the market (terms, dates, state):
    built once per contract and day, reused by every refresh and scenario set."""

    fam: str
    flags: np.ndarray      # (n,) uint8
    lvl: np.ndarray        # (n,) log level / barrier
    cash_u: np.ndarray     # (n,) undiscounted cash if knocked out at the step
    acc: np.ndarray        # (n,) coupon accrual
    scal: dict             # the scalars that need no market (the others are set by ``finish``)
    end_cash_u: float
    principal_u: float
    rebate_T_u: float
    at_maturity: bool      # knock-out cash paid at maturity (discounted from there)


def static_part(ctx, prog: dict) -> Static:
    """The market-independent part of a contract's row (see ``Static``)."""
    n = len(ctx.dates)
    s = {k: 0.0 for k in SCALARS}
    fam = prog["family"]
    flags = np.zeros(n, np.uint8)
    lvl = np.zeros(n)
    cash_u = np.zeros(n)
    at_maturity = bool(prog.get("cash_at_maturity", False))
    if fam == "autocall":
        ko = np.asarray(prog["ko_level"], float)
        flags |= np.where(np.isfinite(ko), KO, 0).astype(np.uint8)
        lvl = np.log(np.where(np.isfinite(ko), ko, 1.0))
        cash_u = np.asarray(prog["ko_cash"], float)
        flags |= np.where(np.asarray(prog.get("ki_obs", np.zeros(n, bool))), KI, 0).astype(np.uint8)
        flags |= np.where(np.asarray(prog.get("cpn_obs", np.zeros(n, bool))), CPN, 0).astype(np.uint8)
        ki = prog.get("ki_level")
        s["log_ki"] = math.log(ki) if ki else -1e30
        cb = prog.get("cb_level")
        s["log_cb"] = math.log(cb) if cb else 1e30
        s.update(cpn_rate=prog.get("cpn_rate", 0.0), memory=float(prog.get("memory", False)),
                 acc_from0=prog.get("acc_from0", 0.0), ki_strike=prog.get("ki_strike", 1.0),
                 loss_floor=prog.get("loss_floor", 0.0), init_ki=float(prog.get("init_ki", False)))
        end_cash_u, principal_u = prog["end_cash"], prog["principal"]
    elif fam == "barrier":
        obs = np.asarray(prog["bar_obs"], bool)
        flags |= np.where(obs, BAR, 0).astype(np.uint8)
        lvl[:] = math.log(prog["barrier"])
        cash_u[:] = prog["ko_cash"]
        lo = prog.get("barrier_low")
        # log_lo: a second, lower barrier (double knock-out); bar_cont: continuous monitoring,
        # the hit probability of each step by the Brownian bridge between its ends
        s.update(bar_up=float(prog["up"]), bar_out=float(prog["out"]), init_ki=float(prog.get("init_hit", False)),
                 log_lo=math.log(lo) if lo else -1e30, bar_cont=float(prog.get("continuous", False)))
        end_cash_u, principal_u = 0.0, prog.get("principal", 0.0)
    elif fam == "asian":
        flags |= np.where(np.asarray(prog["fix_obs"], bool), FIX, 0).astype(np.uint8)
        s.update(n_total=prog["n_total"], past_sum=prog.get("past_sum", 0.0), past_logsum=prog.get("past_logsum", 0.0),
                 geo=float(prog.get("geometric", False)))
        end_cash_u, principal_u = 0.0, prog.get("principal", 0.0)
    else:
        end_cash_u, principal_u = 0.0, prog.get("principal", 0.0)
    if fam != "barrier":
        s["log_lo"] = -1e30
    # the terminal payoff: principal + part·max(φ(x − strike), 0) + payout·1{φ(x − strike) > 0}
    # + part2·max(strike2 − x, 0) (the put leg of a double sharkfin)
    s.update(phi=prog.get("phi", 1.0), strike=prog.get("strike", 0.0), part=prog.get("part", 0.0),
             payout=prog.get("payout", 0.0), strike2=prog.get("strike2", 0.0), part2=prog.get("part2", 0.0),
             cash_T=float(at_maturity))
    acc = np.asarray(prog.get("acc", np.zeros(n)), float)
    return Static(fam, flags, lvl, cash_u, acc, s, float(end_cash_u), float(principal_u),
                  float(prog.get("rebate_T", 0.0)), at_maturity)


def _rows(ctx, prog: dict, theta: bool = False, grid: MarketGrid | None = None, h: float = 0.01,
          static: Static | None = None):
    """(base row, theta row or None): arrays and scalars of one contract on today's grid and,
    if ``theta``, seen from tomorrow. ``h``: the contract's relative delta bump. This is the
    per-contract reference of ``layout.BatchLayout`` (which builds every row at once)."""
    if grid is None:
        dtau, dcal, vols, carry, r_f = ctx.step_params()
        t_disc = ctx.t_disc.copy()
        curve_df = ctx.rate_curve.discount(t_disc)
    else:
        idx0, df_all, carry_all, w_all = grid.arrays(ctx)
        td, tc = grid.t_diff[idx0], grid.t_disc[idx0]
        dtau, dcal = np.diff(td), np.diff(tc)
        safe_t, safe_c = np.where(dtau > 0, dtau, 1.0), np.where(dcal > 0, dcal, 1.0)
        vols = np.sqrt(np.maximum(np.diff(w_all[idx0]), 0.0) / safe_t)
        carry = np.diff(carry_all[idx0]) / safe_c
        t_disc = tc[1:].copy()
        curve_df = df_all[idx0[1:]]
    log_s0 = math.log(ctx.spot_rel)
    st = static or static_part(ctx, prog)
    s = dict(st.scal)
    s.update(h_up=math.log1p(h), h_dn=math.log1p(-h))
    fam, flags, lvl, cash_u, acc, at_maturity = st.fam, st.flags, st.lvl, st.cash_u, st.acc, st.at_maturity
    end_cash_u, principal_u, rebate_T_u = st.end_cash_u, st.principal_u, st.rebate_T_u

    key = _underlying_key(ctx.underlying)

    def finish(theta: bool):
        sc = dict(s)
        zoff = 0
        dt, vo, ca, fl, lv, cu, ac, cdf, td = dtau, vols, carry, flags, lvl, cash_u, acc, curve_df, t_disc
        if theta:
            if grid is not None:
                dt_tau, dt_cal = float(grid.t_diff[1]), float(grid.t_disc[1])
                df_tom = float(df_all[1])
            else:
                tomorrow = ctx.cal.add_trading_days(ctx.valuation_date, 1)
                dt_tau = float(ctx.market.diffusion_time([tomorrow])[0])
                dt_cal = float(ctx.market.discount_time([tomorrow])[0])
                df_tom = float(ctx.rate_curve.discount(dt_cal))
            # the paths start tomorrow at today's spot: the first step loses a day (none is left
            # when its date is tomorrow, so that date's observation happens at today's spot)
            cdf = cdf / df_tom
            td = td - dt_cal
            dt = dt.copy()
            dt[0] -= dt_tau
        df_T = float(cdf[-1])
        cash = cu * (df_T if at_maturity else cdf)
        sc.update(df_T=df_T, end_cash=end_cash_u * df_T, principal_T=principal_u * df_T,
                  rebate_T=rebate_T_u * df_T, t_T=float(td[-1]))
        return dict(fam=FAMILIES[fam], zoff=zoff, key=key, log_s0=log_s0, dtau=np.maximum(dt, 0.0), vol=vo,
                    carry=ca, tdisc=td, flags=fl, lvl=lv, cash=cash, acc=ac, dfk=cdf,
                    scal=np.array([sc[k] for k in SCALARS]))

    # the theta row shares everything up to here with the base row
    return finish(False), (finish(True) if theta else None)


def _row(ctx, prog: dict, theta: bool = False, grid: MarketGrid | None = None):
    """Arrays and scalars of one contract's row (today's, or seen from tomorrow for theta)."""
    base, th = _rows(ctx, prog, theta, grid)
    return th if theta else base


def build_batch(items, scenarios=(BASE,), cache: dict | None = None) -> ProgramBatch:
    """One row per (context, program) in ``items`` (plus a theta row where a scenario asks for
    theta) and one kernel task per (contract, scenario), built for all contracts at once
    (``layout.BatchLayout``). ``cache``: a dict kept between calls on the same contracts (a
    refresh, another scenario set): the market-independent part of the rows is kept there."""
    if not items or any(ctx.market is not items[0][0].market for ctx, _ in items):
        return build_batch_reference(items, scenarios)
    from .layout import BatchLayout

    lay = cache.get("batch_layout") if cache is not None else None
    if lay is None or not lay.matches(items):
        lay = BatchLayout(items)
        if cache is not None:
            cache["batch_layout"] = lay
    return lay.batch([ctx for ctx, _ in items], scenarios)


def build_batch_reference(items, scenarios=(BASE,)) -> ProgramBatch:
    """``build_batch`` contract by contract (``_rows``): the reference the batched layout is
    checked against, and the path for contexts on different markets."""
    plain = [sc for sc in scenarios if not sc.theta]
    want_theta = any(sc.theta for sc in scenarios)
    rows, task_row, task_scen, tasks = [], [], [], []
    scen = [(math.log1p(sc.spot_rel), sc.vol_abs, sc.rate_abs, float(sc.spot_bump)) for sc in plain] + [(0.0,) * 4]
    grid = None
    if items:
        market = items[0][0].market
        if all(ctx.market is market for ctx, _ in items):
            grid = MarketGrid(market, max(ctx.maturity for ctx, _ in items))
    for i, (ctx, prog) in enumerate(items):
        base, th = _rows(ctx, prog, want_theta, grid, ctx.delta_bump())
        rows.append(base)
        r = len(rows) - 1
        for j, sc in enumerate(plain):
            task_row.append(r)
            task_scen.append(j)
            tasks.append((i, sc.name))
        if want_theta:
            if th is not None:
                rows.append(th)
                task_row.append(len(rows) - 1)
                task_scen.append(len(scen) - 1)
                tasks.append((i, next(sc.name for sc in scenarios if sc.theta)))
    R = len(rows)
    S = max([len(r["dtau"]) for r in rows] + [1])

    lengths = np.array([len(r["dtau"]) for r in rows], np.int64)
    filled = np.arange(S)[None, :] < lengths[:, None]

    def pad(name, dtype):
        out = np.zeros((R, S), dtype)
        if rows:
            out[filled] = np.concatenate([r[name] for r in rows])
        return out

    return ProgramBatch(
        fam=np.array([r["fam"] for r in rows], np.int32),
        n_steps=np.array([len(r["dtau"]) for r in rows], np.int32),
        zoff=np.array([r["zoff"] for r in rows], np.int32),
        key=np.array([r["key"] for r in rows], np.uint32),
        log_s0=np.array([r["log_s0"] for r in rows], np.float64),
        dtau=pad("dtau", np.float32), vol=pad("vol", np.float32), carry=pad("carry", np.float32),
        tdisc=pad("tdisc", np.float32), flags=pad("flags", np.uint8), lvl=pad("lvl", np.float32),
        cash=pad("cash", np.float32), acc=pad("acc", np.float32), dfk=pad("dfk", np.float32),
        scal=np.stack([r["scal"] for r in rows]) if rows else np.zeros((0, len(SCALARS))),
        scen=np.array(scen, np.float64), task_row=np.array(task_row, np.int32),
        task_scen=np.array(task_scen, np.int32), tasks=tasks)
