"""NumPy implementation of the fused program: the CPU engine and the reference for the kernel.

Vectorised over paths, one loop over steps per row; float32 levels like the kernel, float64 sums.
Each thread of the kernel evaluates one antithetic pair; here a row evaluates all pairs at once.
"""
from __future__ import annotations

import numpy as np

from .philox import normals
from .program import BAR, COL, CPN, FIX, KI, KO, ProgramBatch


def step_arrays(b: ProgramBatch, r: int, j: int):
    """Per-step drift, vol·√dτ and rate-bump discount factor of row ``r`` under scenario ``j``
    (float32, computed as the kernel computes them)."""
    f32 = np.float32
    n = int(b.n_steps[r])
    _, dv, dr, _ = (f32(x) for x in b.scen[j])
    vol = b.vol[r, :n] + dv
    drift = (b.carry[r, :n] + dr - f32(0.5) * vol * vol) * b.dtau[r, :n]
    vsd = vol * np.sqrt(b.dtau[r, :n])
    bump = np.exp(-np.float64(b.scen[j][2]) * b.tdisc[r, :n].astype(np.float64))
    return drift, vsd, bump


def hit_probability(prev, x, lvl, log_lo, up: bool, continuous: bool, vsd):
    """Probability (float64) that a barrier step was hit: the observation at its end, or, when
    monitored continuously, any time in it (Brownian bridge between the log-levels ``prev`` and
    ``x`` with variance vsd²). ``log_lo`` is a second, lower barrier observed at the step's end."""
    h = ((x >= lvl) if up else (x <= lvl)) | (x <= log_lo)
    if not continuous:
        return h.astype(np.float64)
    a = np.float64(lvl) - prev.astype(np.float64)
    c = np.float64(lvl) - x.astype(np.float64)
    beyond = h | ((a <= 0) if up else (a >= 0))
    p = np.exp(-2.0 * a * c / max(np.float64(vsd) ** 2, 1e-300))
    return np.where(beyond, 1.0, np.minimum(p, 1.0))


def _path_values(b: ProgramBatch, r: int, j: int, z: np.ndarray) -> np.ndarray:
    """Present values (float64) of row ``r``, scenario ``j``, along the paths of normals ``z``."""
    sc = b.scal[r].copy()
    g = lambda name: sc[COL[name]]  # noqa: E731
    P, n = z.shape[0], int(b.n_steps[r])
    drift, vsd, bump = step_arrays(b, r, j)
    bump_T = np.exp(-b.scen[j][2] * g("t_T"))
    for name in ("df_T", "end_cash", "principal_T", "rebate_T"):
        sc[COL[name]] *= bump_T
    f32 = np.float32
    code = b.scen[j][3]
    shift = b.scen[j][0] + (g("h_up") if code > 0 else g("h_dn") if code < 0 else 0.0)
    logs = np.full(P, f32(b.log_s0[r] + shift), dtype=f32)
    alive = np.ones(P, bool)
    pv = np.zeros(P)
    ki = np.full(P, g("init_ki") > 0)
    # barrier family: w = probability the barrier has not been hit (0/1 when monitored
    # discretely, the Brownian-bridge survival product when continuously)
    w = np.full(P, 0.0 if g("init_ki") > 0 else 1.0)
    log_lo, cont = f32(max(g("log_lo"), -1e30)), g("bar_cont") > 0
    acc_from = np.full(P, g("acc_from0"), dtype=f32)
    fsum = np.full(P, g("past_sum"))
    flog = np.full(P, g("past_logsum"))
    log_ki, log_cb = f32(max(g("log_ki"), -1e30)), f32(min(g("log_cb"), 1e30))
    up, out, memory = g("bar_up") > 0, g("bar_out") > 0, g("memory") > 0
    for k in range(n):
        prev = logs
        logs = logs + drift[k] + vsd[k] * z[:, k]
        f = int(b.flags[r, k])
        if not f:
            continue
        if f & KI:
            ki |= logs <= log_ki
        if f & CPN:
            paid = alive & (logs >= log_cb)
            pv += np.where(paid, g("cpn_rate") * (b.acc[r, k] - acc_from) * b.dfk[r, k] * bump[k], 0.0)
            acc_from = np.where(paid | (not memory), b.acc[r, k], acc_from)
        if f & FIX:
            fsum += np.exp(logs.astype(np.float64))
            flog += logs
        if f & KO:
            ko = alive & (logs >= b.lvl[r, k])
            pv += np.where(ko, b.cash[r, k] * bump[k], 0.0)
            alive &= ~ko
        if f & BAR:
            p = hit_probability(prev, logs, b.lvl[r, k], log_lo, up, cont, vsd[k])
            if out:
                pv += np.where(alive, w * p * b.cash[r, k] * (bump_T if g("cash_T") > 0 else bump[k]), 0.0)
                w = w * (1.0 - p)
                alive &= w > 0
            else:
                w = w * (1.0 - p)
    s = np.exp(logs.astype(np.float64))
    fam = int(b.fam[r])
    if fam == 2:   # autocall
        loss = np.maximum(g("ki_strike") - s, 0.0) - np.maximum(g("loss_floor") - s, 0.0)
        end = np.where(ki, g("principal_T") - loss * g("df_T"), g("end_cash"))
    else:
        if fam == 3:
            x = np.exp(flog / g("n_total")) if g("geo") > 0 else fsum / g("n_total")
        else:
            x = s
        d = g("phi") * (x - g("strike"))
        euro = g("principal_T") + (g("part") * np.maximum(d, 0.0) + g("payout") * (d > 0)
                                   + g("part2") * np.maximum(g("strike2") - x, 0.0)) * g("df_T")
        if fam == 1:
            end = w * euro if out else w * (g("principal_T") + g("rebate_T")) + (1.0 - w) * euro
        else:
            end = euro
    return pv + np.where(alive, end, 0.0)


BLOCK = 256       # pairs a block of the CUDA kernel; groups of blocks give the batch means


def n_groups(pairs: int, groups: int = 32) -> int:
    """How many groups of pair blocks the batch means use (at most ``groups``, one per block)."""
    return max(1, min(groups, (pairs + BLOCK - 1) // BLOCK))


def group_of(pairs: int, G: int) -> np.ndarray:
    """The group of every pair: its block (of ``BLOCK`` pairs) modulo ``G``, as on the GPU."""
    return (np.arange(pairs) // BLOCK) % G


def run_numpy(b: ProgramBatch, n_paths: int, seed: int, progress=None, groups: bool = False):
    """(mean, stderr) per task over ``n_paths`` paths in antithetic pairs; with ``groups`` also
    (group means (tasks, G), pairs per group (G,)): the same pairs in every task, so a difference
    of tasks has its own standard error from the spread of its group means."""
    pairs = max(1, n_paths // 2)
    mean = np.zeros(b.n_tasks)
    se = np.zeros(b.n_tasks)
    G = n_groups(pairs)
    gid = group_of(pairs, G)
    count = np.bincount(gid, minlength=G).astype(np.float64)
    gmean = np.zeros((b.n_tasks, G))
    cache: dict = {}
    for t in range(b.n_tasks):
        r, j = int(b.task_row[t]), int(b.task_scen[t])
        key = int(b.key[r])
        need = int(b.zoff[r] + b.n_steps[r])
        if key not in cache or cache[key].shape[1] < need:
            need_all = int(max(b.zoff[i] + b.n_steps[i] for i in range(b.n_rows) if int(b.key[i]) == key))
            cache[key] = normals(seed, key, pairs, need_all)
        z = cache[key][:, int(b.zoff[r]): need]
        v = 0.5 * (_path_values(b, r, j, z) + _path_values(b, r, j, -z))
        mean[t] = v.mean()
        se[t] = v.std(ddof=1) / np.sqrt(pairs) if pairs > 1 else 0.0
        gmean[t] = np.bincount(gid, weights=v, minlength=G) / count
        if progress:
            progress(t + 1, b.n_tasks)
    return (mean, se, gmean, count) if groups else (mean, se)
