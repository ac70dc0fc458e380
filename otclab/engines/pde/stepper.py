"""One theta-scheme stepper for ``dV/dτ = ½σ²V_xx + μV_x − rV`` on uniform log-spot grids.

Both PDE engines step through here: the generic one (``solver.solve_backward``, one contract,
its discrete states as systems) and the batched one (``fused/pde.py``, many contracts × vol
shifts, each row on its own grid). As tf-quant-finance's ``math/pde/steppers``, the scheme is a
parameter: θ = ½ is Crank–Nicolson, θ = 1 implicit Euler (the Rannacher restart after maturity
and after events that create jumps, which damps CN's oscillations at a kink).

Shapes: values ``V`` are (states, nodes, rows) = (S, N, R); every (state, row) pair is one
tridiagonal system and the rows' operators (``Operator``, arrays (R,)) are shared by their
states. The step is one function on either array namespace: on CuPy a CUDA kernel (one thread a
system, the explicit half and the Thomas sweep in one pass, nothing copied to or from the host);
on NumPy the explicit half as array operations and one LAPACK ``gtsv`` call over all systems at
once (the systems side by side as one block-diagonal tridiagonal matrix: the solve runs in
compiled code, with no Python loop over nodes or systems).

Boundaries: V linear in x (V_xx = 0) at both edges, so the edge rows keep only the one-sided
first derivative and the discounting. Both implementations derive them from the interior
coefficients in the same way (μ/dx = upper − lower, r = −(lower + diag + upper)).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CRANK_NICOLSON = 0.5
IMPLICIT = 1.0

# Kept as it was written for the batched PDE (tests/book/test_cuda_source.py compiles it with nvcc).
CN_STEP_SOURCE = r"""
extern "C" __global__ void cn_step(double *V, double *cp, const double *lo_, const double *di_, const double *up_,
                                   const double *dxr, const double *theta, const int *active, double dt, int N, int M, int R) {
    // one thread per system (state, row); V and cp laid out [node][system] for coalescing
    int sys = blockIdx.x * blockDim.x + threadIdx.x;
    if (sys >= M) return;
    int r = sys % R;
    if (!active[r]) return;
    double a = lo_[r], b = di_[r], c = up_[r], th = theta[r], dx = dxr[r];
    double mu_dx = (c - a);          // = mu / dx
    double rr = -(b + a + c);        // = r
    double b0 = -mu_dx - rr, c0 = mu_dx, aN = -mu_dx, bN = mu_dx - rr;
    double vm = 0.0, v0 = V[sys], vp = V[(size_t)M + sys];
    double beta, dprev = 0.0, cprev = 0.0;
    for (int j = 0; j < N; ++j) {
        double aj = j == 0 ? 0.0 : (j == N - 1 ? aN : a);
        double bj = j == 0 ? b0 : (j == N - 1 ? bN : b);
        double cj = j == N - 1 ? 0.0 : (j == 0 ? c0 : c);
        double Lv = aj * vm + bj * v0 + cj * (j == N - 1 ? 0.0 : vp);
        double rhs = v0 + (1.0 - th) * dt * Lv;
        double A = -th * dt * aj, B = 1.0 - th * dt * bj, C = -th * dt * cj;
        double den = B - A * cprev;
        double cpj = C / den;
        double dj = (rhs - A * dprev) / den;
        cp[(size_t)j * M + sys] = cpj;
        V[(size_t)j * M + sys] = dj;
        cprev = cpj; dprev = dj;
        vm = v0; v0 = vp;
        vp = (j + 2 < N) ? V[(size_t)(j + 2) * M + sys] : 0.0;
    }
    double x = V[(size_t)(N - 1) * M + sys];
    for (int j = N - 2; j >= 0; --j) {
        x = V[(size_t)j * M + sys] - cp[(size_t)j * M + sys] * x;
        V[(size_t)j * M + sys] = x;
    }
}
"""
THOMAS_BLOCK = 128    # threads a block of the CUDA kernel (one system a thread); benchmarks/pde_batch.py varies it
_KERNELS: dict = {}   # cupy.RawKernel, compiled on first use (per process)


@dataclass(frozen=True)
class Operator:
    """Interior coefficients of L on each row's grid, arrays (R,) on the step's device:
    ``(L V)_j = lower·V_{j−1} + diag·V_j + upper·V_{j+1}``; ``dx`` the rows' node spacing (the
    CUDA kernel takes it though the step does not need it)."""

    lower: object
    diag: object
    upper: object
    dx: object
    # NumPy only: the (R, N) rows with their edges, formed once for the steps of an interval
    _rows: dict = field(default_factory=dict, compare=False, repr=False)


def operator(xp, sigma, mu, r, dx) -> Operator:
    """L = ½σ²∂²ₓ + μ∂ₓ − r by central differences, per row (broadcast over leading axes too:
    (days, rows) arrays give every day's coefficients at once). σ and μ per unit diffusion time,
    ``r`` the discount rate per unit diffusion time, ``dx`` the spacing in log spot."""
    s2 = sigma * sigma / dx**2
    mdx = mu / dx
    return Operator(0.5 * s2 - 0.5 * mdx, -s2 - r, 0.5 * s2 + 0.5 * mdx, xp.broadcast_to(dx, np.shape(mdx)))


def is_cupy(xp) -> bool:
    return getattr(xp, "__name__", "") == "cupy"


def theta_step(xp, V, op: Operator, dt: float, theta=CRANK_NICOLSON, active=None):
    """One step back in τ of every system: solves (I − θ·dt·L) V_new = (I + (1−θ)·dt·L) V.

    ``V`` (S, N, R); ``dt`` diffusion time (one number for all rows); ``theta`` a number or (R,)
    array (rows restarting take 1 while the others take ½); ``active`` None or a (R,) bool array:
    inactive rows come back unchanged. Returns the new values (S, N, R). On CuPy the kernel works
    in place: ``V``'s buffer may be overwritten, so the caller keeps only the returned array. On
    NumPy a small batch keeps the step's matrix on ``op`` for the next step with the same dt and
    the very same θ and ``active`` objects: change those arrays by making new ones, not in place.
    """
    if is_cupy(xp):
        return _step_cuda(xp, V, op, dt, theta, active)
    return _step_numpy(V, op, dt, theta, active)


def _edges(op: Operator, N: int):
    """Full (R, N) coefficient rows of L with the V_xx = 0 edge rows, formed as the kernel forms
    them (cached on the operator: an interval's steps share them)."""
    if N not in op._rows:
        lo, di, up = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (op.lower, op.diag, op.upper))
        mu_dx = up - lo
        rr = -(di + lo + up)
        a = np.repeat(lo[:, None], N, axis=1)
        b = np.repeat(di[:, None], N, axis=1)
        c = np.repeat(up[:, None], N, axis=1)
        a[:, 0], b[:, 0], c[:, 0] = 0.0, -mu_dx - rr, mu_dx
        a[:, -1], b[:, -1], c[:, -1] = -mu_dx, mu_dx - rr, 0.0
        op._rows[N] = (a, b, c)
    return op._rows[N]


def _step_numpy(V, op: Operator, dt, theta, active):
    """The step on NumPy. Works in the layout (S, R, N): each system's nodes contiguous, so that
    all S·R systems are one block-diagonal tridiagonal matrix of order R·N (the edge rows' zero
    couplings separate the blocks; gtsv's partial pivoting never swaps across them) with S
    right-hand sides, and one LAPACK call solves them. The result is returned as an (S, N, R)
    view of that layout, so the next step's transpose is free. An inactive row steps with dt = 0:
    the identity, its values unchanged exactly."""
    from scipy.linalg import lapack

    S, N, R = V.shape
    a, b, c = _edges(op, N)
    if a.shape[0] != R:
        raise ValueError(f"the operator has {a.shape[0]} rows, the values {R}")
    key, w, dl, d, du = _system(op, a, b, c, dt, theta, active)
    v = np.ascontiguousarray(V.transpose(0, 2, 1))                              # (S, R, N)
    rhs = b * v
    rhs[..., 1:] += a[:, 1:] * v[..., :-1]
    rhs[..., :-1] += c[:, :-1] * v[..., 1:]
    rhs *= w                             # then + V: the kernel's V + ((1 − θ)·dt)·LV, in place
    rhs += v
    rhs_f = rhs.reshape(S, R * N).T                                             # Fortran (R·N, S)
    fresh = int(key is None)             # a kept system is copied by the wrapper, a fresh one solved in place
    _, _, _, x, info = lapack.dgtsv(dl, d, du, rhs_f, overwrite_dl=fresh, overwrite_d=fresh, overwrite_du=fresh,
                                    overwrite_b=1)
    if info != 0:
        raise FloatingPointError(f"tridiagonal solve failed (LAPACK gtsv info {info}): a zero pivot at node "
                                 f"{(info - 1) % N} of row {(info - 1) // N}")
    return x.T.reshape(S, R, N).transpose(0, 2, 1)


_CACHE_NODES = 1 << 17    # systems of at most this many nodes (R·N) keep their matrix for the next steps


def _system(op: Operator, a, b, c, dt, theta, active):
    """The step's matrix I − θ·dt·L as gtsv's three diagonals over all rows, and the explicit
    weight (1 − θ)·dt per row: (key, w, dl, d, du). Small batches (the generic PDE: one row)
    keep it on the operator for the interval's next steps with the same dt, θ and active rows,
    which saves most of a small step's array calls (key None: not kept). The key holds θ and
    the active rows themselves, compared by identity when arrays: an entry is found again only
    for those very objects, which it keeps alive."""
    R, N = a.shape
    key = None
    if R * N <= _CACHE_NODES:
        key = (float(dt), theta if np.ndim(theta) else float(theta), active)
        hit = op._rows.get(("system", N))
        if hit is not None and all(x is y if (x is None or np.ndim(x)) else x == y for x, y in zip(hit[0], key)):
            return hit
    th = np.broadcast_to(np.asarray(theta, dtype=np.float64), (R,))[:, None]     # (R, 1)
    h = np.float64(dt) if active is None else np.where(np.asarray(active), np.float64(dt), 0.0)
    h = np.broadcast_to(h, (R,))[:, None]
    A = -th * h * a                      # the kernel's −θ·dt·a, 1 − θ·dt·b, −θ·dt·c
    B = th * h * b
    np.subtract(1.0, B, out=B)
    C = -th * h * c
    system = (key, (1.0 - th) * h, A.ravel()[1:], B.ravel(), C.ravel()[:-1])
    if key is not None:
        op._rows[("system", N)] = system
    return system


def _step_cuda(xp, V, op: Operator, dt, theta, active):
    """The step on CuPy: the ``cn_step`` kernel on V laid out [node][state·R + row]."""
    kernel = _KERNELS.get("cn_step")
    if kernel is None:
        kernel = _KERNELS["cn_step"] = xp.RawKernel(CN_STEP_SOURCE, "cn_step")
    S, N, R = V.shape
    M = S * R
    per_row = [_row_array(xp, a, R) for a in (op.lower, op.diag, op.upper, op.dx)]
    th = _row_array(xp, theta, R)
    if active is None:
        act = xp.ones(R, dtype=xp.int32)
    elif active.dtype == np.int32 and active.flags.c_contiguous:
        act = active
    else:
        act = xp.ascontiguousarray(active, dtype=xp.int32)
    flat = xp.ascontiguousarray(V.transpose(1, 0, 2).reshape(N, M))     # [node][state*R + r]
    cp = xp.empty_like(flat)
    block = int(THOMAS_BLOCK)
    kernel(((M + block - 1) // block,), (block,), (flat, cp, *per_row, th, act, np.float64(dt), np.int32(N),
                                                   np.int32(M), np.int32(R)))
    return flat.reshape(N, S, R).transpose(1, 0, 2)


def _row_array(xp, a, R: int):
    """``a`` (a number or (R,)) as a contiguous float64 (R,) device array; a number by a fill
    kernel (``xp.full``), not a host-to-device copy; an array already so is passed through
    (checked by attributes only: this runs for every argument of every substep)."""
    if np.ndim(a) == 0:
        return xp.full(R, float(a))
    if getattr(a, "dtype", None) == np.float64 and a.shape == (R,) and a.flags.c_contiguous:
        return a
    return xp.ascontiguousarray(xp.broadcast_to(xp.asarray(a, dtype=xp.float64), (R,)))


def march(xp, V, op: Operator, dt: float, substeps: int, restart=False, rannacher: str = "halves", active=None,
          after=None, theta=CRANK_NICOLSON):
    """``substeps`` steps of ``dt`` back through one interval with a constant operator.

    ``theta`` is the scheme of the steps (½: Crank–Nicolson). ``restart`` starts the interval
    with implicit Euler (Rannacher), in one of two ways:

    - ``rannacher="halves"``: the first step is replaced by two implicit steps of dt/2
      (``restart`` one bool for all rows; the generic PDE's way);
    - ``rannacher="steps"``: the first two steps are implicit steps of dt for the rows where
      ``restart`` (a bool array (R,)) holds, CN for the others (the batched PDE's way: rows of a
      batch restart on different days).

    ``after(V) -> V`` (optional) runs after every step (continuous barrier monitoring, American
    exercise); with "halves" once after the pair. Returns V at the interval's start.
    """
    if rannacher not in ("halves", "steps"):
        raise ValueError(f"rannacher must be 'halves' or 'steps', not {rannacher!r}")
    if np.ndim(restart) and rannacher == "halves":
        raise ValueError("rannacher 'halves' restarts all rows together: restart must be one bool")
    if np.ndim(restart):
        # θ + (1 − θ)·restart: exactly 1 where a row restarts, θ elsewhere (arrays of either namespace)
        first = theta + (IMPLICIT - theta) * restart.astype(xp.float64)
    else:
        restart = bool(restart)
        first = IMPLICIT if restart and rannacher == "steps" else theta
    if is_cupy(xp):
        # the interval's per-row arguments in the kernel's types once, not at every substep
        R = V.shape[2]
        first, theta = _row_array(xp, first, R), _row_array(xp, theta, R)
        if active is not None:
            active = xp.ascontiguousarray(active, dtype=xp.int32)
    for k in range(substeps):
        if rannacher == "halves" and restart and k == 0:
            V = theta_step(xp, V, op, 0.5 * dt, IMPLICIT, active)
            V = theta_step(xp, V, op, 0.5 * dt, IMPLICIT, active)
        else:
            V = theta_step(xp, V, op, dt, first if k < 2 else theta, active)
        if after is not None:
            V = after(V)
    return V
