"""The fused kernel on NVIDIA GPUs (CuPy RawKernel): one thread per antithetic pair of paths.

Each thread simulates its pair through one task's steps — a contract's row under a scenario
(spot, vol and rate shifts applied in the kernel) — in float32 registers (log-levels; exp only
at the end), draws its normals with Philox4x32-10 from (seed, underlying, pair, step),
evaluates the row's program, and adds the pair's average and its square to the task's float64
accumulators of its group (block reduction, then one atomic add per block; group = block modulo
the number of groups, the same pairs in every task, for the batch means of Greeks).
Grid = (pair blocks, tasks).
Semantics and random numbers are those of ``reference.py``.
"""
from __future__ import annotations

import numpy as np

from .program import COL, SCALARS, ProgramBatch

_SRC = r"""
#define NS %(NS)d
struct St { float x; bool alive; bool ki; float acc_from; double fsum; double flog; double pv; double w; };

__device__ __forceinline__ void philox(unsigned int c[4], unsigned int k0, unsigned int k1) {
    #pragma unroll
    for (int i = 0; i < 10; ++i) {
        unsigned int hi0 = __umulhi(0xD2511F53u, c[0]), lo0 = 0xD2511F53u * c[0];
        unsigned int hi1 = __umulhi(0xCD9E8D57u, c[2]), lo1 = 0xCD9E8D57u * c[2];
        unsigned int n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
}

__device__ __forceinline__ void box_muller(unsigned int a, unsigned int b, float &z0, float &z1) {
    float u1 = ((float)a + 0.5f) * 2.3283064365386963e-10f;
    float u2 = ((float)b + 0.5f) * 2.3283064365386963e-10f;
    float r = sqrtf(-2.0f * logf(u1));
    float s, c; sincosf(6.2831853071795865f * u2, &s, &c);
    z0 = r * c; z1 = r * s;
}

// Probability that a barrier step was hit: at its end, or anywhere in it by the Brownian bridge
// when monitored continuously; the lower barrier (double knock-out) is observed at the end.
__device__ __forceinline__ double hit_prob(float prev, float x, float lvl, const double *sc, float vsd) {
    bool up = sc[%(bar_up)d] > 0.0;
    bool h = (up ? (x >= lvl) : (x <= lvl)) || x <= (float)sc[%(log_lo)d];
    if (sc[%(bar_cont)d] == 0.0) return h ? 1.0 : 0.0;
    double a = (double)lvl - (double)prev, c = (double)lvl - (double)x;
    if (h || (up ? a <= 0.0 : a >= 0.0)) return 1.0;
    double v = (double)vsd * (double)vsd;
    return fmin(exp(-2.0 * a * c / fmax(v, 1e-300)), 1.0);
}

__device__ __forceinline__ void step(St &p, float z, float drift, float vsd, unsigned int f, float lvl,
                                     float cash, float acc, float dfk, const double *sc, double bump, double bump_T) {
    float prev = p.x;
    p.x = p.x + drift + vsd * z;
    if (!f) return;
    dfk = (float)(dfk * bump);
    if ((f & 2u) && p.x <= (float)sc[%(log_ki)d]) p.ki = true;
    if (f & 4u) {
        bool paid = p.alive && p.x >= (float)sc[%(log_cb)d];
        if (paid) p.pv += sc[%(cpn_rate)d] * (double)(acc - p.acc_from) * (double)dfk;
        if (paid || sc[%(memory)d] == 0.0) p.acc_from = acc;
    }
    if (f & 8u) { p.fsum += exp((double)p.x); p.flog += (double)p.x; }
    if ((f & 1u) && p.alive && p.x >= lvl) { p.pv += (double)cash * bump; p.alive = false; }
    if (f & 16u) {
        double ph = hit_prob(prev, p.x, lvl, sc, vsd);
        if (sc[%(bar_out)d] > 0.0 && p.alive) {
            p.pv += p.w * ph * (double)cash * (sc[%(cash_T)d] > 0.0 ? bump_T : bump);
            p.w *= 1.0 - ph;
            p.alive = p.w > 0.0;
        }
        else p.w *= 1.0 - ph;
    }
}

__device__ __forceinline__ double terminal(const St &p, int fam, const double *sc, double bT) {
    if (!p.alive) return p.pv;
    double s = exp((double)p.x), end;
    double df_T = sc[%(df_T)d] * bT, principal_T = sc[%(principal_T)d] * bT;
    if (fam == 2) {
        double loss = fmax(sc[%(ki_strike)d] - s, 0.0) - fmax(sc[%(loss_floor)d] - s, 0.0);
        end = p.ki ? principal_T - loss * df_T : sc[%(end_cash)d] * bT;
    } else {
        double x = s;
        if (fam == 3) x = sc[%(geo)d] > 0.0 ? exp(p.flog / sc[%(n_total)d]) : p.fsum / sc[%(n_total)d];
        double d = sc[%(phi)d] * (x - sc[%(strike)d]);
        double euro = principal_T + (sc[%(part)d] * fmax(d, 0.0) + (d > 0.0 ? sc[%(payout)d] : 0.0)
                                     + sc[%(part2)d] * fmax(sc[%(strike2)d] - x, 0.0)) * df_T;
        if (fam == 1)
            end = sc[%(bar_out)d] > 0.0 ? p.w * euro : p.w * (principal_T + sc[%(rebate_T)d] * bT) + (1.0 - p.w) * euro;
        else end = euro;
    }
    return p.pv + end;
}

// at most 64 registers a thread (4 blocks of 256 per SM, full occupancy): measured faster than
// the 91 the compiler picks on its own (benchmarks/RESULTS.md)
extern "C" __global__ void __launch_bounds__(256, 4) fused_mc(
    const int *fam, const int *n_steps, const int *zoff, const unsigned int *key, const double *log_s0,
    const float *dtau, const float *vol, const float *carry, const float *tdisc, const unsigned char *flags,
    const float *lvl, const float *cash, const float *acc, const float *dfk, const double *scal,
    const double *scen, const int *task_row, const int *task_scen, int S, int n_pairs, unsigned int seed,
    int G, double *sum, double *sumsq)
{
    const int t = blockIdx.y;
    const int r = task_row[t], j = task_scen[t];
    const int p = blockIdx.x * blockDim.x + threadIdx.x;
    const double *sc = scal + (size_t)r * NS;
    const float dv = (float)scen[4 * j + 1], dr = (float)scen[4 * j + 2];
    const double ddr = scen[4 * j + 2], code = scen[4 * j + 3];
    const double shift = scen[4 * j] + (code > 0.0 ? sc[%(h_up)d] : (code < 0.0 ? sc[%(h_dn)d] : 0.0));
    const double bT = exp(-ddr * sc[%(t_T)d]);
    double v = 0.0;
    if (p < n_pairs) {
        St a, b;
        a.x = b.x = (float)(log_s0[r] + shift);
        a.alive = b.alive = true;
        a.ki = b.ki = sc[%(init_ki)d] > 0.0;
        a.acc_from = b.acc_from = (float)sc[%(acc_from0)d];
        a.fsum = b.fsum = sc[%(past_sum)d];
        a.flog = b.flog = sc[%(past_logsum)d];
        a.pv = b.pv = 0.0;
        a.w = b.w = sc[%(init_ki)d] > 0.0 ? 0.0 : 1.0;
        const size_t base = (size_t)r * S;
        const int n = n_steps[r], z0 = zoff[r];
        float zs[4];
        int group = -1;
        for (int k = 0; k < n && (a.alive || b.alive); ++k) {
            int zi = z0 + k;
            if ((zi >> 2) != group) {
                group = zi >> 2;
                unsigned int c[4] = {(unsigned int)group, (unsigned int)p, 0u, 0u};
                philox(c, seed, key[r]);
                box_muller(c[0], c[1], zs[0], zs[1]);
                box_muller(c[2], c[3], zs[2], zs[3]);
            }
            int lane = zi & 3;
            float z = lane == 0 ? zs[0] : lane == 1 ? zs[1] : lane == 2 ? zs[2] : zs[3];
            size_t i = base + k;
            float sg = vol[i] + dv, dt = dtau[i];
            float d = (carry[i] + dr - 0.5f * sg * sg) * dt, s = sg * sqrtf(dt);
            unsigned int f = flags[i];
            double bump = 1.0;
            float l = 0.f, c = 0.f, ac = 0.f, df = 0.f;
            if (f) {
                l = lvl[i]; c = cash[i]; ac = acc[i]; df = dfk[i];
                if (ddr != 0.0) bump = exp(-ddr * (double)tdisc[i]);
            }
            if (a.alive) step(a, z, d, s, f, l, c, ac, df, sc, bump, bT);
            if (b.alive) step(b, -z, d, s, f, l, c, ac, df, sc, bump, bT);
        }
        v = 0.5 * (terminal(a, fam[r], sc, bT) + terminal(b, fam[r], sc, bT));
    }
    __shared__ double s1[256], s2[256];
    s1[threadIdx.x] = v; s2[threadIdx.x] = v * v;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) { s1[threadIdx.x] += s1[threadIdx.x + w]; s2[threadIdx.x] += s2[threadIdx.x + w]; }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        const size_t o = (size_t)t * G + blockIdx.x %% G;
        atomicAdd(&sum[o], s1[0]); atomicAdd(&sumsq[o], s2[0]);
    }
}
"""

_KERNEL = None


def _kernel():
    global _KERNEL
    if _KERNEL is None:
        import cupy as cp

        src = _SRC % {"NS": len(SCALARS), **COL}
        _KERNEL = cp.RawKernel(src, "fused_mc", options=("-std=c++14",))
    return _KERNEL


def run_cuda(b: ProgramBatch, n_paths: int, seed: int, block: int = 256, max_tasks: int = 65535,
             groups: bool = False):
    """(mean, stderr) per task on the current GPU (with ``groups`` also the group means and pairs
    per group, as ``reference.run_numpy``); tasks go in launches of at most ``max_tasks``."""
    import cupy as cp

    from .reference import BLOCK, group_of, n_groups

    if block != BLOCK:
        raise ValueError(f"the groups of the batch means assume blocks of {BLOCK} pairs")
    pairs = max(1, n_paths // 2)
    G = n_groups(pairs)
    k = _kernel()
    names = ("fam", "n_steps", "zoff", "key", "log_s0", "dtau", "vol", "carry", "tdisc", "flags", "lvl", "cash",
             "acc", "dfk", "scal", "scen")
    dev = {name: cp.asarray(getattr(b, name)) for name in names}
    T, S = b.n_tasks, b.dtau.shape[1]
    rows, scen = cp.asarray(b.task_row), cp.asarray(b.task_scen)
    sums = cp.zeros((T, G), cp.float64)
    sq = cp.zeros((T, G), cp.float64)
    blocks = (pairs + block - 1) // block
    for lo in range(0, T, max_tasks):
        hi = min(T, lo + max_tasks)
        k((blocks, hi - lo), (block,), (*[dev[n] for n in names], rows[lo:hi], scen[lo:hi], np.int32(S),
                                        np.int32(pairs), np.uint32(seed & 0xFFFFFFFF), np.int32(G),
                                        sums[lo:hi], sq[lo:hi]))
    tot, tot_sq = sums.sum(axis=1), sq.sum(axis=1)
    mean = tot / pairs
    var = cp.maximum(tot_sq / pairs - mean * mean, 0.0)
    se = cp.sqrt(var / max(pairs - 1, 1))
    if not groups:
        return cp.asnumpy(mean), cp.asnumpy(se)
    count = np.bincount(group_of(pairs, G), minlength=G).astype(np.float64)
    return cp.asnumpy(mean), cp.asnumpy(se), cp.asnumpy(sums) / count, count
