"""Batched PDE for the fused families: many contracts × vol shifts solved together.

Every contract's program (per-date flags, levels, cash) drives a Crank–Nicolson solve on its own
uniform log-spot grid, all rows stepping backward through the trading days together: one
batched tridiagonal solve per substep (a CUDA kernel, one thread per system, on the GPU; one
LAPACK solve over all systems on the CPU) and the observation events of the day as array operations.
States: ``ki·H + m`` where ki = 1 once knocked in (or the barrier of an in-option hit) and, for
a phoenix with coupon memory, m = which coupon was paid last (0: none since the valuation date,
j + 1: the j-th future coupon date), so that a coupon paid on date j accrues from the last paid
one; H = 1 + the most future coupon dates of a memory row (H = 1 without memory). Barrier and
level switches are cell-averaged as in the generic PDE engine, with implicit (Rannacher) steps
after events; the steps are the generic PDE's stepper (``engines/pde/stepper.py``), all rows and
states at once. The spot axis of a scenario grid comes free: values are read off the grid at
shifted spots. Supported: european (also American exercise), barrier (daily, expiry or
continuous monitoring; one or two barriers), autocall with or without coupon memory, and Asians
(states = nodes of the running average, ``pde_asian.py``). Rows needing many states (memory
phoenixes, Asians) or fine steps (continuous barriers) are solved in batches of their own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..analytic.barrier import BGK_BETA
from ..pde import stepper
from . import pde_asian
from .program import BAR, COL, CPN, KI, KO, MarketGrid, _row

_THOMAS = stepper.CN_STEP_SOURCE   # the batched PDE's CUDA kernel, where its compile check looks for it
SUBSTEPS = 4            # CN substeps a trading day
SUBSTEPS_CONTINUOUS = 12   # with continuous barriers: the BGK-shifted knock is applied per substep, and
                           # 4 a day leave ~1.5e-4 of notional; 12 agree with the closed form to ~3e-5


def supported(prog: dict) -> bool:
    return prog["family"] in ("european", "barrier", "autocall", "asian")


@dataclass
class PdeBatch:
    n_x: int
    xlo: np.ndarray        # (R,) log-level of node 0
    dx: np.ndarray         # (R,)
    x0: np.ndarray         # (R,) log spot (relative)
    mat: np.ndarray        # (R,) day index of maturity
    init: np.ndarray       # (R,) starting state
    sig: np.ndarray        # (R, D) vol of day d (step d-1 -> d), d = 1..D
    mu: np.ndarray         # (R, D) drift of ln s per unit diffusion time
    reff: np.ndarray       # (R, D) discount rate per unit diffusion time
    dtau: np.ndarray       # (D,) diffusion years of each day step
    flags: np.ndarray      # (R, D+1) uint8 events on day d
    lvl: np.ndarray        # (R, D+1) level (relative) of KO / barrier on day d
    cash: np.ndarray       # (R, D+1) value at day d of the cash paid if knocked out on day d
    cpn: np.ndarray        # (R, D+1) coupon paid on day d when s >= coupon barrier
    scal: np.ndarray       # (R, n_scalars) program scalars (undiscounted at maturity where relevant)
    fam: np.ndarray        # (R,) family code
    rows: list             # (item index, vol shift) per row
    n_states: int = 2      # 2·H
    substeps: int = SUBSTEPS
    mem: np.ndarray = None       # (R,) bool: coupon memory
    mem_acc: np.ndarray = None   # (R, H) accrual the coupon starts from in memory state m
    cpn_idx: np.ndarray = None   # (R, D+1) which future coupon date day d is (−1: none)
    acc_day: np.ndarray = None   # (R, D+1) coupon accrual (ACT/365F from start) at day d
    american: np.ndarray = None  # (R,) bool: exercisable at any time (value floored by intrinsic)
    cont: np.ndarray = None      # (R,) bool: barrier monitored continuously
    cont_lvl: np.ndarray = None  # (R,) its level (relative)
    asian: bool = False          # a batch of Asians: states = nodes of the running average
    la: np.ndarray = None        # (R, N_AVG) log-average nodes
    fix_no: np.ndarray = None    # (R, D+1) number of the fixing on day d (0: none)
    init_j: np.ndarray = None    # (R, 2) states holding today's value, with weights init_w
    init_w: np.ndarray = None


def build_pde(items, vol_shifts=(0.0,), n_x: int = 601, substeps: int | None = None) -> PdeBatch:
    market = items[0][0].market
    grid = MarketGrid(market, max(ctx.maturity for ctx, _ in items))
    D = len(grid.days) - 1
    dtau_all = np.diff(grid.t_diff)
    out = {k: [] for k in ("xlo", "dx", "x0", "mat", "init", "sig", "mu", "reff", "flags", "lvl", "cash", "cpn",
                           "scal", "fam", "mem", "mem_acc", "cpn_idx", "acc_day", "american", "cont",
                           "cont_lvl", "la", "fix_no", "init_j", "init_w")}
    rows = []
    asian = {p["family"] == "asian" for _, p in items}
    if len(asian) > 1:
        raise ValueError("Asians need a batch of their own (price_batched groups them)")
    asian = asian.pop()
    H = 1 + max((int(np.count_nonzero(np.asarray(p.get("cpn_obs", [])))) for _, p in items if p.get("memory")),
                default=0)
    for i, (ctx, prog) in enumerate(items):
        r = _row(ctx, prog, grid=grid)
        _, df_all, carry_all, w_all = grid.arrays(ctx)
        safe_t = np.where(dtau_all > 0, dtau_all, 1.0)
        dcal = np.diff(grid.t_disc)
        sig_day = np.sqrt(np.maximum(np.diff(w_all), 0.0) / safe_t)
        carry_day = np.diff(carry_all) / dcal
        rf_day = -np.diff(np.log(df_all)) / dcal
        pos = np.array([grid.pos[d] for d in ctx.dates])
        flags = np.zeros(D + 1, np.uint8)
        lvl = np.ones(D + 1)
        cash = np.zeros(D + 1)
        cpn = np.zeros(D + 1)
        flags[pos] = r["flags"]
        lvl[pos] = np.exp(r["lvl"])
        with np.errstate(divide="ignore", invalid="ignore"):
            cash[pos] = np.where(r["dfk"] > 0, r["cash"] / r["dfk"], 0.0)
        sc = r["scal"].copy()
        memory = prog["family"] == "autocall" and bool(prog.get("memory"))
        mem_acc = np.zeros(H)
        cpn_idx = np.full(D + 1, -1, np.int64)
        acc_day = np.zeros(D + 1)
        if prog["family"] == "autocall":
            acc = r["acc"]
            prev = sc[COL["acc_from0"]]
            j = 0
            mem_acc[0] = prev
            for k in range(len(pos)):
                if r["flags"][k] & CPN:
                    cpn[pos[k]] = sc[COL["cpn_rate"]] * (acc[k] - prev)
                    prev = acc[k]
                    cpn_idx[pos[k]] = j
                    acc_day[pos[k]] = acc[k]
                    if memory and j + 1 < H:
                        mem_acc[j + 1] = acc[k]
                    j += 1
        df_T = sc[COL["df_T"]]
        for name in ("end_cash", "principal_T", "rebate_T"):
            sc[COL[name]] /= df_T
        width = 6.0 * max(ctx.vol, 0.05) * math.sqrt(max(ctx.T, 1 / 243))
        x0 = math.log(ctx.spot_rel)
        lo, hi = x0 - max(width, 0.45), x0 + max(width, 0.45)
        levels = [v for v in (lvl[pos][r["flags"] & (KO | BAR) > 0] if len(pos) else [])]
        for name in ("log_ki", "log_lo"):
            if sc[COL[name]] > -1e29:
                levels.append(math.exp(sc[COL[name]]))
        for lv in levels:
            lo, hi = min(lo, math.log(lv) - 0.5 * width), max(hi, math.log(lv) + 0.5 * width)
        dx = (hi - lo) / (n_x - 1)
        lo = x0 - math.ceil((x0 - lo) / dx) * dx        # a node exactly at spot
        for dv in vol_shifts:
            sig = np.maximum(sig_day + dv, 1e-4)
            out["xlo"].append(lo)
            out["dx"].append(dx)
            out["x0"].append(x0)
            out["mat"].append(grid.pos[ctx.maturity])
            out["init"].append(int(sc[COL["init_ki"]] > 0))
            out["sig"].append(sig)
            out["mu"].append(carry_day - 0.5 * sig**2)
            out["reff"].append(rf_day * dcal / safe_t)
            out["flags"].append(flags)
            out["lvl"].append(lvl)
            out["cash"].append(cash)
            out["cpn"].append(cpn)
            out["scal"].append(sc)
            out["fam"].append(r["fam"])
            out["mem"].append(memory)
            out["american"].append(bool(prog.get("american", False)))
            cont = prog["family"] == "barrier" and bool(prog.get("continuous", False))
            out["cont"].append(cont)
            out["cont_lvl"].append(float(prog["barrier"]) if cont else 1.0)
            if asian:
                la = pde_asian.average_grid(ctx, prog, dv)
                j, w = pde_asian.initial_weights(prog, la)
                out["la"].append(la)
                out["fix_no"].append(pde_asian.fixing_numbers(prog, flags))
            else:
                j, w = (int(sc[COL["init_ki"]] > 0) * H,) * 2, (1.0, 0.0)
            out["init_j"].append(j)
            out["init_w"].append(w)
            out["mem_acc"].append(mem_acc)
            out["cpn_idx"].append(cpn_idx)
            out["acc_day"].append(acc_day)
            rows.append((i, float(dv)))
    arr = {k: np.array(v) for k, v in out.items()}
    if substeps is None:
        substeps = SUBSTEPS_CONTINUOUS if arr["cont"].any() else SUBSTEPS
    return PdeBatch(n_x=n_x, dtau=dtau_all, rows=rows, mat=arr["mat"].astype(np.int64), substeps=int(substeps),
                    init=arr["init"].astype(np.int64), fam=arr["fam"].astype(np.int64),
                    flags=arr["flags"].astype(np.uint8), n_states=pde_asian.N_AVG if asian else 2 * H,
                    mem=arr["mem"].astype(bool), asian=asian, la=arr["la"] if asian else None,
                    fix_no=arr["fix_no"].astype(np.int64) if asian else None,
                    init_j=arr["init_j"].astype(np.int64), init_w=arr["init_w"].astype(np.float64),
                    american=arr["american"].astype(bool), cont=arr["cont"].astype(bool),
                    **{k: arr[k] for k in ("xlo", "dx", "x0", "sig", "mu", "reff", "lvl", "cash", "cpn", "scal",
                                           "mem_acc", "cpn_idx", "acc_day", "cont_lvl")})


def _frac_above(xp, x, dx, level):
    """Cell-averaged indicator of s >= level on grids x (N, R) with spacing dx (R,)."""
    return xp.clip((x + 0.5 * dx - xp.log(xp.maximum(level, 1e-300))) / dx, 0.0, 1.0)


def _terminal(xp, b: PdeBatch, x):
    if b.asian:
        return pde_asian.terminal(xp, b, x.shape[0])
    s = xp.exp(x)
    sc = {k: xp.asarray(b.scal[:, COL[k]]) for k in ("principal_T", "end_cash", "ki_strike", "loss_floor", "phi",
                                                      "strike", "part", "payout", "rebate_T", "bar_out", "strike2",
                                                      "part2")}
    fam = xp.asarray(b.fam)
    dx = xp.asarray(b.dx)
    d = sc["phi"] * (s - sc["strike"])
    up = _frac_above(xp, x, dx, sc["strike"])
    digital = xp.where(sc["phi"] > 0, up, 1.0 - up)
    euro = (sc["principal_T"] + sc["part"] * xp.maximum(d, 0.0) + sc["payout"] * digital
            + sc["part2"] * xp.maximum(sc["strike2"] - s, 0.0))
    loss = xp.maximum(sc["ki_strike"] - s, 0.0) - xp.maximum(sc["loss_floor"] - s, 0.0)
    auto_ki = sc["principal_T"] - loss
    v1 = xp.where(fam == 2, auto_ki, euro)
    v0 = xp.where(fam == 2, sc["end_cash"] + 0 * s,
                  xp.where((fam == 1) & (sc["bar_out"] == 0), sc["principal_T"] + sc["rebate_T"] + 0 * s, euro))
    H = b.n_states // 2
    return xp.stack([v0] * H + [v1] * H)          # (2H, N, R)


class _Dev:
    """A batch's arrays on the solve's device, each copied once per solve (per-day arrays as
    (days, rows), so a day is one contiguous slice): host-to-device copies every day or substep
    would cost more than the GPU work of a small batch."""

    def __init__(self, xp, b: PdeBatch):
        self.xp, self.b, self._c = xp, b, {}

    def get(self, name, make):
        if name not in self._c:
            self._c[name] = self.xp.asarray(make())
        return self._c[name]

    def day(self, name: str, day: int):
        return self.get(name, lambda: np.ascontiguousarray(getattr(self.b, name).T))[day]

    def col(self, name: str, fn=lambda a: a):
        return self.get("col:" + name, lambda: fn(self.b.scal[:, COL[name]]))


def _events(xp, b: PdeBatch, day: int, x, V, dev: _Dev):
    """Observations of ``day`` applied backward (the reverse of the Monte Carlo order). The host
    reads the day's flags only to skip what no row observes; every array the day needs is a
    slice of the batch's device copy (no host-to-device copy a day)."""
    f = b.flags[:, day]
    if not f.any():
        return V
    if b.asian:
        return pde_asian.fixing(xp, b, day, x, V, dev)
    S, H = V.shape[0], b.n_states // 2
    dx = dev.get("dx", lambda: b.dx)
    cash = dev.day("cash", day)
    fj = dev.day("flags", day)
    up_w = _frac_above(xp, x, dx, dev.day("lvl", day)) if (f & (KO | BAR)).any() else None
    if (f & BAR).any():
        # barrier family: knocked out (cash) or knocked in (to the upper half of the states)
        bar_out = dev.col("bar_out", lambda a: a > 0)
        lo_w = 1.0 - _frac_above(xp, x, dx, dev.col("log_lo", lambda a: np.exp(np.maximum(a, -700.0))))
        bw = xp.minimum(xp.where(dev.col("bar_up", lambda a: a > 0), up_w, 1.0 - up_w) + lo_w, 1.0)
        # continuous barriers knock after every substep instead
        on = ((fj & BAR) > 0) & ~dev.get("cont", lambda: b.cont)
        V = _knock(xp, V, bw * on, bar_out, cash)
    # autocall: knock-out and coupon together. A coupon paid in memory state m accrues from
    # mem_acc[m] and moves to state j + 1 (j = this coupon date); without memory it is fixed.
    if (f & (KO | CPN)).any():
        kw = up_w * ((fj & KO) > 0) if up_w is not None else 0.0
        cw = _frac_above(xp, x, dx, dev.col("log_cb", lambda a: np.exp(np.minimum(a, 700.0)))) * ((fj & CPN) > 0)
        mem = dev.get("mem", lambda: b.mem)[None, :]
        cpn_mem = xp.maximum(dev.col("cpn_rate")[None, :] * (dev.day("acc_day", day)[None, :]
                                                            - dev.get("mem_acc_t", lambda: b.mem_acc.T)), 0.0)
        cpn = xp.where(mem, cpn_mem, dev.day("cpn", day)[None, :])                          # (H, R)
        Vk = V.reshape(2, H, *V.shape[1:])
        if H == 1:   # no memory: a paid coupon leaves the state as it is
            paid = Vk
        else:
            m = xp.arange(H, dtype=xp.int64)[:, None]
            has_cpn = ((fj & CPN) > 0)[None, :]
            tgt = xp.where(mem & has_cpn, xp.minimum(dev.day("cpn_idx", day) + 1, H - 1)[None, :], m)   # (H, R)
            idx = xp.broadcast_to(tgt[None, :, None, :], (2, H, 1, tgt.shape[1]))
            paid = xp.take_along_axis(Vk, xp.broadcast_to(idx, Vk.shape), axis=1)
        c = cpn[None, :, None, :]
        Vk = kw * (cash + c) + (1 - kw) * (cw * (c + paid) + (1 - cw) * Vk)
        V = Vk.reshape(S, *V.shape[1:])
    if (f & KI).any():
        ki_level = dev.col("log_ki", lambda a: np.exp(np.maximum(a, -700.0)))
        kiw = (1.0 - _frac_above(xp, x, dx, ki_level)) * ((fj & KI) > 0)
        V = xp.concatenate([kiw * V[H:] + (1 - kiw) * V[:H], V[H:]])
    return V


def _knock(xp, V, bw, out, cash):
    """A barrier hit with weight ``bw`` (nodes, rows; 0 where a row does not observe): rows with
    ``out`` pay ``cash`` and stop, the others move to the knocked-in half of the states."""
    H = V.shape[0] // 2
    V = xp.where(out, bw * cash + (1 - bw) * V, V)
    knocked_in = bw * V[H:] + (1 - bw) * V[:H]
    return xp.concatenate([xp.where(out, V[:H], knocked_in), V[H:]])


def _knock_continuous(xp, b: PdeBatch, x, V, day: int, level, rows, dev: _Dev):
    """Continuous barriers after a substep: monitored at the step at ``level`` (R,) (the barrier
    moved towards spot by the Broadie–Glasserman–Kou shift exp(0.5826 σ √dt), as the generic PDE
    does), on the rows where ``rows`` holds."""
    w = _frac_above(xp, x, dev.get("dx", lambda: b.dx), level)
    bw = xp.where(dev.col("bar_up", lambda a: a > 0), w, 1.0 - w) * rows
    return _knock(xp, V, bw, dev.col("bar_out", lambda a: a > 0), dev.day("cash", day))


def solve_pde(b: PdeBatch, xp=np, tomorrow: bool = False):
    """Values at valuation on every node: array (states, N, R) (fractions of notional); with
    ``tomorrow`` also the values on the next trading day after its observations (cum-event, the
    day's cash included): the theta convention's value at today's spot, read at x0.

    Backward day by day; each day: rows maturing that day start from their payoff, the day's
    observations, then ``SUBSTEPS`` (or ``SUBSTEPS_CONTINUOUS``) steps of the shared stepper
    (``engines/pde/stepper.py``), the first two implicit for rows that started or had an event
    that day (Rannacher). Everything the days need is formed up front and copied to the device
    once: the loop only slices it, so on CuPy no day or substep waits on a host-to-device copy.
    """
    N, R = b.n_x, len(b.rows)
    dev = _Dev(xp, b)
    dx = dev.get("dx", lambda: b.dx)
    j = xp.arange(N, dtype=xp.float64)[:, None]
    x = xp.asarray(b.xlo)[None, :] + j * dx[None, :]
    terminal = _terminal(xp, b, x)
    V = terminal.copy()     # the GPU step may overwrite V's buffer; rows maturing later read terminal
    D = b.sig.shape[1]
    # the operator of every day, (days, rows): formed on the host at once, copied once
    ops = stepper.operator(np, b.sig.T, b.mu.T, b.reff.T, b.dx)
    lower, diag, upper = (xp.asarray(np.ascontiguousarray(a)) for a in (ops.lower, ops.diag, ops.upper))
    mat = dev.get("mat", lambda: b.mat)
    exercise = None
    if b.american is not None and b.american.any():
        # American exercise after every substep, as the generic PDE does after every step
        phi, strike, part = (dev.col(k) for k in ("phi", "strike", "part"))
        exercise = part * xp.maximum(phi * (xp.exp(x) - strike), 0.0)
        american = dev.get("american", lambda: b.american)
    cont = b.cont is not None and b.cont.any()
    if cont:
        # continuous barriers are monitored at each substep at the level moved towards spot by
        # the Broadie–Glasserman–Kou shift exp(0.5826 σ √dt) of that day's vol and substep
        shift = np.exp(BGK_BETA * b.sig * np.sqrt(b.dtau / b.substeps)[None, :])       # (R, D)
        up_side = (b.scal[:, COL["bar_up"]] > 0)[:, None]
        levels = xp.asarray(np.ascontiguousarray(np.where(up_side, b.cont_lvl[:, None] / shift,
                                                          b.cont_lvl[:, None] * shift).T))   # (D, R)
        cont_rows = dev.get("cont", lambda: b.cont)
    started = np.zeros(R, bool)      # host: which rows have begun (maturity at or after the day)
    for day in range(D, 0, -1):
        at_mat = b.mat == day
        if at_mat.any():
            # each row starts at its own maturity with its payoff (the day's events follow)
            V = xp.where((mat == day)[None, None, :], terminal, V)
            started |= at_mat
        if started.any():
            V = _events(xp, b, day, x, V, dev)
        if day == 1 and tomorrow:
            V_tomorrow = V.copy()
        if not started.any():
            continue
        active = mat >= day          # started, and not past its maturity
        # restart (implicit steps) where a row starts today or an observation changed its values
        restart = (mat == day) | (active & ((dev.day("flags", day) & (KO | KI | BAR | CPN)) > 0))

        def after(V, day=day, active=active):
            """After every substep: continuous barriers, American exercise (device work only)."""
            if cont:
                V = _knock_continuous(xp, b, x, V, day, levels[day - 1], cont_rows & active, dev)
            if exercise is not None:
                V = xp.where(active & american, xp.maximum(V, exercise), V)
            return V

        op = stepper.Operator(lower[day - 1], diag[day - 1], upper[day - 1], dx)
        dt = float(b.dtau[day - 1]) / b.substeps
        V = stepper.march(xp, V, op, dt, b.substeps, restart=restart, rannacher="steps", active=active,
                          after=after if cont or exercise is not None else None)
    return (V, V_tomorrow) if tomorrow else V


def read_values(b: PdeBatch, V, spot_shifts=(0.0,)):
    """Values (R, n_shifts) at log spot x0 + log(1 + shift), linear in x between nodes."""
    V = V.get() if hasattr(V, "get") else V
    out = np.empty((len(b.rows), len(spot_shifts)))
    for r in range(len(b.rows)):
        (j0, j1), (w0, w1) = b.init_j[r], b.init_w[r]
        v = w0 * V[j0, :, r] + w1 * V[j1, :, r]
        xs = b.x0[r] + np.log1p(np.asarray(spot_shifts))
        pos = (xs - b.xlo[r]) / b.dx[r]
        out[r] = np.interp(pos, np.arange(b.n_x), v)
    return out


def price_batched(items, vol_shifts=(0.0,), spot_shifts=(0.0,), xp=np, n_x: int = 601, timings: list | None = None,
                  theta: bool = False):
    """Values (fractions of notional) of ``items`` = [(ctx, program)] under every vol shift, read
    at every spot shift: {(item index, vol shift): array over spot shifts}; with ``theta`` also
    {(item index, vol shift): theta as a fraction of notional} (next trading day at today's
    spot, its observations applied, minus today).

    Memory phoenixes are solved in a batch of their own: they need 2·(coupon dates + 1) states,
    the others two, and a batch carries the most states of any of its rows. Continuous barriers
    too: they need finer time steps (``SUBSTEPS_CONTINUOUS``). ``timings``, if
    given, receives one dict per batch: rows, states, seconds.
    """
    import time

    groups: dict = {}
    for i, (ctx, prog) in enumerate(items):
        memory = bool(prog.get("memory")) and prog["family"] == "autocall"
        continuous = bool(prog.get("continuous")) and prog["family"] == "barrier"
        groups.setdefault((memory, continuous, prog["family"] == "asian"), []).append(i)
    out, thetas = {}, {}
    for idx in groups.values():
        t0 = time.perf_counter()
        b = build_pde([items[i] for i in idx], vol_shifts, n_x=n_x)
        V = solve_pde(b, xp, tomorrow=theta)
        if theta:
            V, V1 = V
            th = read_values(b, V1)[:, 0] - read_values(b, V)[:, 0]
        vals = read_values(b, V, spot_shifts)
        if timings is not None:
            timings.append({"rows": len(b.rows), "states": b.n_states, "substeps": b.substeps,
                            "seconds": time.perf_counter() - t0})
        for r, ((j, dv), v) in enumerate(zip(b.rows, vals)):
            out[(idx[j], dv)] = v
            if theta:
                thetas[(idx[j], dv)] = float(th[r])
    return (out, thetas) if theta else out
