"""Every row of a book's fused batch at once: the per-contract part built once a day, the market
part as array operations across contracts.

``program._rows`` builds one contract's row in Python; for a book of 2000 contracts that loop is
most of the host-side time of a refresh. ``BatchLayout`` splits a row into what depends on terms,
dates and state only (flags, levels, cash, accruals, most scalars: ``program.Static``, padded
into (contracts, steps) arrays once) and what the market gives (diffusion steps, vols, carry,
discount factors, the delta bump, the theta row), computed for all contracts with one gather from
the day grid per underlying. The result is the same ``ProgramBatch`` as ``build_batch_reference``
(tests/book/test_layout.py checks them equal), so every kernel runs it unchanged.
"""
from __future__ import annotations

import math

import numpy as np

from .program import (BASE, COL, FAMILIES, SCALARS, MarketGrid, ProgramBatch, _underlying_key, build_batch_reference,
                      static_part)

def _ordinals(dates) -> list[int]:
    return [d.toordinal() for d in dates]


class BatchLayout:
    """The market-independent arrays of the rows of ``items`` ((context, program) pairs of one
    valuation date); ``batch(contexts, scenarios)`` adds the market of the given contexts (the
    same contracts on another snapshot of that day, e.g. a refresh) with array operations."""

    def __init__(self, items):
        self.programs = tuple(prog for _, prog in items)
        n = len(items)
        statics = [static_part(ctx, prog) for ctx, prog in items]
        lengths = np.array([len(ctx.dates) for ctx, _ in items], np.int64)
        S = int(lengths.max()) if n else 1
        self.n, self.S, self.lengths = n, S, lengths
        self.filled = np.arange(S)[None, :] < lengths[:, None]
        fill = self.filled

        def pad(arrays, dtype=float):
            out = np.zeros((n, S), dtype)
            if n:
                out[fill] = np.concatenate(arrays)
            return out

        self.flags = pad([s.flags for s in statics], np.uint8)
        self.lvl = pad([s.lvl for s in statics])
        self.cash_u = pad([s.cash_u for s in statics])
        self.acc = pad([s.acc for s in statics])
        # date ordinals of each step, padded with the contract's last date (gathers stay in range)
        last = np.array([ctx.dates[-1].toordinal() for ctx, _ in items], np.int64)
        ords = np.repeat(last[:, None], S, axis=1) if n else np.zeros((0, S), np.int64)
        if n:
            ords[fill] = np.array([o for ctx, _ in items for o in _ordinals(ctx.dates)], np.int64)
        self.ords = ords
        self.scal = np.array([[s.scal[k] for k in SCALARS] for s in statics]).reshape(n, len(SCALARS))
        self.end_cash_u = np.array([s.end_cash_u for s in statics])
        self.principal_u = np.array([s.principal_u for s in statics])
        self.rebate_T_u = np.array([s.rebate_T_u for s in statics])
        self.at_maturity = np.array([s.at_maturity for s in statics], bool)
        self.fam = np.array([FAMILIES[s.fam] for s in statics], np.int32)
        self.key = np.array([_underlying_key(ctx.underlying) for ctx, _ in items], np.uint32)
        self.maturity = max((ctx.maturity for ctx, _ in items), default=None)
        self._days: dict = {}
        self._interleaved: dict = {}
        self._task_names: dict = {}

    def matches(self, items) -> bool:
        """Whether ``items`` are this layout's contracts (the same program objects, in order)."""
        return len(items) == self.n and all(p is q for (_, p), q in zip(items, self.programs))

    def _day(self, market, grid: MarketGrid | None) -> dict:
        """What the day's grid gives every row (positions, diffusion and calendar steps, times
        to the dates): the same for every snapshot of one valuation date, so computed once."""
        key = (market.valuation_date, id(market.calendar), market.time_basis, market.trading_days_per_year)
        day = self._days.get(key)
        if day is not None:
            return day
        grid = grid or MarketGrid(market, self.maturity)
        n = self.n
        day_ord = np.array(_ordinals(grid.days), np.int64)
        pos = np.searchsorted(day_ord, self.ords)
        if not np.array_equal(day_ord[np.minimum(pos, len(day_ord) - 1)], self.ords):
            raise ValueError("a contract date is not a trading day of the grid")
        idx0 = np.concatenate([np.zeros((n, 1), np.int64), pos], axis=1)
        td, tc = grid.t_diff[idx0], grid.t_disc[idx0]
        dtau, dcal = np.diff(td, axis=1), np.diff(tc, axis=1)
        last = (self.lengths - 1)[:, None]
        pad = np.flatnonzero(~self.filled.ravel())
        t_disc = tc[:, 1:].copy()
        t_disc.ravel()[pad] = 0.0
        day = dict(grid=grid, idx0=idx0, td=td, dtau=dtau, safe_t=np.where(dtau > 0, dtau, 1.0),
                   safe_c=np.where(dcal > 0, dcal, 1.0), t_disc=t_disc, t_T=np.take_along_axis(t_disc, last, 1)[:, 0],
                   last=last, pad=pad, curves={})
        self._days = {key: day}        # one valuation date at a time
        return day

    def _curves(self, ctxs, day: dict, groups: dict):
        """(carry r − q per step, discount factor of each date) of every row; per underlying, kept
        while its curves are unchanged (an intraday refresh usually moves spots and vols only)."""
        n, S = self.n, self.S
        grid, idx0 = day["grid"], day["idx0"]
        carry, cdf = np.empty((n, S)), np.empty((n, S))
        for u, rows in groups.items():
            c0 = ctxs[rows[0]]
            ck = (u, c0.rate_curve.times, c0.rate_curve.rates, c0.div_curve.times, c0.div_curve.rates)
            hit = day["curves"].get(ck)
            if hit is None:
                integ = c0.rate_curve.integral(grid.t_disc) - c0.div_curve.integral(grid.t_disc)
                df_days = c0.rate_curve.discount(grid.t_disc)
                sub = idx0[rows]
                ca = np.diff(integ[sub], axis=1) / day["safe_c"][rows]
                d = df_days[sub[:, 1:]]
                hit = day["curves"][ck] = (ca, d)
            carry[rows], cdf[rows] = hit
        cdf.ravel()[day["pad"]] = 0.0
        return carry, cdf

    def _vols(self, ctxs, day: dict, groups: dict):
        """Vol of every step of every row from its underlying's surface at its moneyness."""
        n, S = self.n, self.S
        grid, idx0 = day["grid"], day["idx0"]
        w = np.empty((n, S + 1))
        for rows in groups.values():
            surf = ctxs[rows[0]].vol_surface
            sub = idx0[rows]
            if len(surf.moneyness) == 1:
                w_days = np.concatenate([[0.0], np.atleast_1d(surf.total_variance(grid.t_diff[1:], 1.0))])
                w[rows] = w_days[sub]
            else:
                mny = np.array([float(ctxs[i].vol_moneyness) for i in rows])
                w[rows] = np.where(sub > 0, surf.total_variance(day["td"][rows], mny[:, None]), 0.0)
        return np.sqrt(np.maximum(np.diff(w, axis=1), 0.0) / day["safe_t"])

    def _static_rows(self, k: int) -> dict:
        """The static arrays interleaved for ``k`` rows per contract (base, theta), in the kernel's dtypes."""
        got = self._interleaved.get(k)
        if got is None:
            def rows(a, dtype):
                return np.repeat(a.astype(dtype), k, axis=0)
            got = self._interleaved[k] = dict(
                fam=rows(self.fam, np.int32), n_steps=rows(self.lengths, np.int32), zoff=np.zeros(self.n * k, np.int32),
                key=rows(self.key, np.uint32), flags=rows(self.flags, np.uint8), lvl=rows(self.lvl, np.float32),
                acc=rows(self.acc, np.float32))
        return got

    def _scalars(self, out, df_T, h, t_T):
        out[:] = self.scal
        out[:, COL["h_up"]] = np.log1p(h)
        out[:, COL["h_dn"]] = np.log1p(-h)
        out[:, COL["df_T"]] = df_T
        out[:, COL["end_cash"]] = self.end_cash_u * df_T
        out[:, COL["principal_T"]] = self.principal_u * df_T
        out[:, COL["rebate_T"]] = self.rebate_T_u * df_T
        out[:, COL["t_T"]] = t_T

    def batch(self, ctxs, scenarios=(BASE,), grid: MarketGrid | None = None) -> ProgramBatch:
        """The batch of this layout's contracts seen through ``ctxs`` (their contexts on one
        market, in layout order), one kernel task per (contract, scenario): the rows and tasks
        of ``program.build_batch_reference`` in the same order (base row, then the theta row,
        contract by contract)."""
        n, S = self.n, self.S
        plain = [sc for sc in scenarios if not sc.theta]
        theta_name = next((sc.name for sc in scenarios if sc.theta), None)
        scen = [(math.log1p(sc.spot_rel), sc.vol_abs, sc.rate_abs, float(sc.spot_bump)) for sc in plain] + [(0.0,) * 4]
        k = 2 if theta_name is not None else 1
        if n == 0:
            return build_batch_reference([], scenarios)
        day = self._day(ctxs[0].market, grid)
        groups: dict = {}
        for i, ctx in enumerate(ctxs):
            groups.setdefault(ctx.underlying, []).append(i)
        groups = {u: np.asarray(r) for u, r in groups.items()}
        carry, cdf = self._curves(ctxs, day, groups)
        vols = self._vols(ctxs, day, groups)
        vol = np.fromiter((ctx.vol for ctx in ctxs), float, n)
        T = np.fromiter((ctx.T for ctx in ctxs), float, n)
        log_s0 = np.log(np.fromiter((ctx.spot_rel for ctx in ctxs), float, n))
        # PricingContext.delta_bump, for every contract
        h = np.minimum(np.maximum(0.07 * vol * np.sqrt(np.maximum(T, 1e-8)), 0.005), 0.03)

        def out(dtype, width=S):
            return np.empty((n, k, width), dtype)

        dtau, t_disc, last = day["dtau"], day["t_disc"], day["last"]
        o_dt, o_td, o_cash, o_dfk, o_scal = out(np.float32), out(np.float32), out(np.float32), out(np.float32), \
            out(np.float64, len(SCALARS))
        o_vol, o_carry = out(np.float32), out(np.float32)
        o_vol[:] = vols[:, None, :]
        o_carry[:] = carry[:, None, :]
        df_T = np.take_along_axis(cdf, last, 1)[:, 0]
        at_T = np.flatnonzero(self.at_maturity)
        f64 = dict(casting="same_kind")
        np.maximum(dtau, 0.0, out=o_dt[:, 0], **f64)
        o_td[:, 0] = t_disc
        o_dfk[:, 0] = cdf
        cash = self.cash_u * cdf
        cash[at_T] = self.cash_u[at_T] * df_T[at_T, None]        # knock-out cash paid at maturity
        o_cash[:, 0] = cash
        self._scalars(o_scal[:, 0], df_T, h, day["t_T"])
        if k == 2:
            # the paths start tomorrow at today's spot: the first step loses a day (none is left
            # when its date is tomorrow, so that date's observation happens at today's spot)
            g = day["grid"]
            dt_tau, dt_cal = float(g.t_diff[1]), float(g.t_disc[1])
            inv = 1.0 / curve_df_tomorrow(ctxs[0], g)
            o_dt[:, 1] = o_dt[:, 0]
            o_dt[:, 1, 0] = np.maximum(dtau[:, 0] - dt_tau, 0.0)
            th = o_td[:, 1]
            np.subtract(t_disc, dt_cal, out=th, **f64)
            th[~self.filled] = 0.0
            np.multiply(cdf, inv, out=o_dfk[:, 1], **f64)
            np.multiply(cash, inv, out=o_cash[:, 1], **f64)
            self._scalars(o_scal[:, 1], df_T * inv, h, day["t_T"] - dt_cal)
        st = self._static_rows(k)
        R = n * k
        return ProgramBatch(
            fam=st["fam"], n_steps=st["n_steps"], zoff=st["zoff"], key=st["key"],
            log_s0=np.repeat(log_s0, k), dtau=o_dt.reshape(R, S), vol=o_vol.reshape(R, S),
            carry=o_carry.reshape(R, S), tdisc=o_td.reshape(R, S), flags=st["flags"], lvl=st["lvl"],
            cash=o_cash.reshape(R, S), acc=st["acc"], dfk=o_dfk.reshape(R, S),
            scal=o_scal.reshape(R, len(SCALARS)), scen=np.array(scen, np.float64),
            task_row=self._task_rows(k, len(plain)), task_scen=self._task_scen(k, len(plain), len(scen)),
            tasks=self._tasks([sc.name for sc in plain] + ([theta_name] if k == 2 else [])))

    def _task_rows(self, k: int, m: int) -> np.ndarray:
        r = np.arange(self.n, dtype=np.int32) * k
        rows = np.repeat(r, m).reshape(self.n, m)
        if k == 2:
            rows = np.concatenate([rows, (r + 1)[:, None]], axis=1)
        return rows.ravel()

    def _task_scen(self, k: int, m: int, n_scen: int) -> np.ndarray:
        sc = np.tile(np.arange(m, dtype=np.int32), (self.n, 1))
        if k == 2:
            sc = np.concatenate([sc, np.full((self.n, 1), n_scen - 1, np.int32)], axis=1)
        return sc.ravel()

    def _tasks(self, names: list) -> list:
        key = tuple(names)
        got = self._task_names.get(key)
        if got is None:
            got = self._task_names[key] = [(i, nm) for i in range(self.n) for nm in names]
        return list(got)


def curve_df_tomorrow(ctx, grid: MarketGrid) -> float:
    """Discount factor to the next trading day (the theta row's discounting is taken there)."""
    return float(ctx.rate_curve.discount(grid.t_disc[1]))
