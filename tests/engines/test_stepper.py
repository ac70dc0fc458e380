"""The shared theta-scheme stepper (engines/pde/stepper.py) on its own: against dense solves of the
same systems, its Rannacher restarts, a heat equation with a known solution, and NumPy against
CuPy (skipped where there is no CuPy and GPU)."""
import math

import numpy as np
import pytest

from otclab.engines.pde import stepper


def _random_batch(rng, S=3, N=40, R=7):
    sigma = rng.uniform(0.1, 0.6, R)
    mu = rng.uniform(-0.2, 0.1, R)
    r = rng.uniform(0.0, 0.05, R)
    dx = rng.uniform(0.01, 0.05, R)
    V = rng.normal(size=(S, N, R))
    return sigma, mu, r, dx, V


def _dense_L(N, sigma, mu, r, dx):
    """L = ½σ²∂²ₓ + μ∂ₓ − r as a dense N × N matrix, written out from the PDE (not from the
    stepper's coefficients): central differences inside, V_xx = 0 at both edges."""
    s2 = sigma**2 / dx**2
    L = np.zeros((N, N))
    for j in range(1, N - 1):
        L[j, j - 1] = 0.5 * s2 - 0.5 * mu / dx
        L[j, j] = -s2 - r
        L[j, j + 1] = 0.5 * s2 + 0.5 * mu / dx
    L[0, 0], L[0, 1] = -mu / dx - r, mu / dx
    L[-1, -2], L[-1, -1] = -mu / dx, mu / dx - r
    return L


def _dense_step(L, v, dt, theta):
    eye = np.eye(L.shape[0])
    return np.linalg.solve(eye - theta * dt * L, (eye + (1 - theta) * dt * L) @ v)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_one_step_matches_a_dense_solve(seed):
    """Random batches, θ per row (CN, implicit Euler or in between), some rows inactive: each
    (state, row) system against numpy.linalg.solve of the same θ-scheme system."""
    rng = np.random.default_rng(seed)
    sigma, mu, r, dx, V = _random_batch(rng)
    S, N, R = V.shape
    theta = rng.choice([0.5, 1.0, 0.75], R)
    active = rng.random(R) < 0.8
    dt = float(rng.uniform(1e-3, 0.05))
    op = stepper.operator(np, sigma, mu, r, dx)
    got = stepper.theta_step(np, V.copy(), op, dt, theta, active)
    assert got.shape == V.shape
    for k in range(R):
        L = _dense_L(N, sigma[k], mu[k], r[k], dx[k])
        for s in range(S):
            want = _dense_step(L, V[s, :, k], dt, theta[k]) if active[k] else V[s, :, k]
            scale = np.abs(want).max()
            assert np.abs(got[s, :, k] - want).max() <= 1e-12 * scale, (k, s, theta[k], active[k])
        if not active[k]:
            assert np.array_equal(got[:, :, k], V[:, :, k])     # exactly unchanged


def test_an_operator_reused_across_steps_gives_the_same_steps_as_a_fresh_one():
    """Small batches keep the step's matrix on the operator: changing dt, θ (a number or an
    array) or the active rows (a new array with the same contents too) must form it again."""
    rng = np.random.default_rng(8)
    sigma, mu, r, dx, V = _random_batch(rng, S=2, N=25, R=4)
    op = stepper.operator(np, sigma, mu, r, dx)
    on = np.array([True, False, True, True])
    steps = [(0.01, 0.5, None), (0.01, 0.5, None), (0.005, 1.0, None), (0.01, np.array([1.0, 0.5, 0.5, 1.0]), None),
             (0.01, 0.5, on), (0.01, 0.5, on.copy()), (0.01, 0.5, ~on), (0.01, 0.5, None)]
    for dt, theta, active in steps:
        fresh = stepper.operator(np, sigma, mu, r, dx)
        want = stepper.theta_step(np, V.copy(), fresh, dt, theta, active)
        assert np.array_equal(stepper.theta_step(np, V.copy(), op, dt, theta, active), want), (dt, theta, active)


def _dense_march(V, sigma, mu, r, dx, dt, thetas, after=None):
    """The reference march: dense steps of (dt, θ) for each entry of ``thetas`` (per row)."""
    S, N, R = V.shape
    out = V.copy()
    for k in range(R):
        L = _dense_L(N, sigma[k], mu[k], r[k], dx[k])
        for s in range(S):
            v = V[s, :, k]
            for h, th in thetas[k]:
                v = _dense_step(L, v, h, th)
                if after is not None and h == dt:
                    v = after(v)
            out[s, :, k] = v
    return out


def test_restart_by_steps_per_row():
    """The batched PDE's restart: the first two steps implicit on the rows that restart, CN on
    the others, all in one batch; an ``after`` hook (an exercise floor) after every step."""
    rng = np.random.default_rng(11)
    sigma, mu, r, dx, V = _random_batch(rng, S=2, N=30, R=6)
    restart = np.array([True, False, True, False, False, True])
    dt, n = 0.01, 5
    floor = 0.2
    op = stepper.operator(np, sigma, mu, r, dx)
    got = stepper.march(np, V.copy(), op, dt, n, restart=restart, rannacher="steps",
                        after=lambda U: np.maximum(U, floor))
    plan = [[(dt, 1.0 if (restart[k] and i < 2) else 0.5) for i in range(n)] for k in range(6)]
    want = _dense_march(V, sigma, mu, r, dx, dt, plan, after=lambda v: np.maximum(v, floor))
    assert np.abs(got - want).max() <= 1e-12 * np.abs(want).max()


def test_restart_by_halves_and_the_generic_solver():
    """The generic PDE's restart: the first step replaced by two implicit half steps; then CN.
    solve_backward (the generic PDE, its states as systems) runs the same march."""
    from otclab.engines.pde import PdeInterval, solve_backward

    N = 50
    x = np.linspace(-0.6, 0.6, N)
    dx = float(x[1] - x[0])
    V = np.stack([np.maximum(np.exp(x) - 1.0, 0.0), (x >= 0).astype(float)])       # call, digital
    sigma, mu, r = 0.3, 0.01 - 0.045, 0.02
    dt, n = 0.02, 4
    plan = [(0.5 * dt, 1.0), (0.5 * dt, 1.0)] + [(dt, 0.5)] * (n - 1)
    want = _dense_march(V[..., None], *(np.array([v]) for v in (sigma, mu, r, dx)), dt, [plan])[..., 0]
    op = stepper.operator(np, np.array([sigma]), np.array([mu]), np.array([r]), dx)
    got = stepper.march(np, V[..., None].copy(), op, dt, n, restart=True, rannacher="halves")[..., 0]
    assert np.abs(got - want).max() <= 1e-12
    res = solve_backward(x, V, [PdeInterval(dtau=n * dt, sigma=sigma, mu=mu, r_eff=r, substeps=n)])
    assert np.abs(res.values - want).max() <= 1e-12
    with pytest.raises(ValueError, match="one bool"):
        stepper.march(np, V[..., None], op, dt, n, restart=np.array([True]), rannacher="halves")


def test_rannacher_damps_the_oscillations_of_a_digital():
    """A digital's jump at the strike: plain CN with large steps leaves values oscillating next
    to it (non-monotone in spot); two implicit steps first remove that. Against the closed form
    e^{−rT}·N(d₂) in log-moneyness x."""
    T, sig, r, q = 0.25, 0.25, 0.02, 0.0
    N = 401
    x = np.linspace(-1.0, 1.0, N)
    dx = float(x[1] - x[0])
    V0 = np.clip((x + 0.5 * dx) / dx, 0.0, 1.0)[None, :, None]     # cell-averaged, as the engines' payoffs
    op = stepper.operator(np, np.array([sig]), np.array([r - q - 0.5 * sig**2]), np.array([r]), dx)
    n = 10
    plain = stepper.march(np, V0.copy(), op, T / n, n, restart=False, rannacher="steps")[0, :, 0]
    damped = stepper.march(np, V0.copy(), op, T / n, n, restart=np.array([True]), rannacher="steps")[0, :, 0]
    d2 = (x + (r - q - 0.5 * sig**2) * T) / (sig * math.sqrt(T))
    exact = math.exp(-r * T) * 0.5 * np.vectorize(math.erfc)(-d2 / math.sqrt(2))
    near = np.abs(x) < 0.1
    err_plain = np.abs(plain - exact)[near].max()
    err_damped = np.abs(damped - exact)[near].max()
    assert err_plain > 0.05                        # CN alone rings at the jump (0.116 here)
    assert err_damped < 2e-3 and err_damped < 0.02 * err_plain      # 1.1e-3
    assert np.all(np.diff(damped) >= -1e-12)      # monotone in spot, as the true value
    assert not np.all(np.diff(plain) >= -1e-12)


def test_heat_equation_with_a_known_solution_converges_at_second_order():
    """V_τ = ½σ²V_xx − rV with V(0) = sin(kπ(x − a)/ℓ): V = e^{−(r + ½σ²(kπ/ℓ)²)τ} sin(kπ(x − a)/ℓ)
    (zero and V_xx = 0 at both edges, as the stepper's boundary rows assume). Several rows of
    different σ, r and k in one batch; halving dx and dt divides the error by about 4."""
    sig = np.array([0.2, 0.35, 0.5])
    r = np.array([0.0, 0.03, 0.05])
    k = np.array([1.0, 2.0, 3.0])
    a, ell, T = -0.5, 1.0, 0.5

    def error(N, n):
        x = np.linspace(a, a + ell, N)
        dx = float(x[1] - x[0])
        V0 = np.sin(k[None, :] * math.pi * (x[:, None] - a) / ell)[None]             # (1, N, 3)
        op = stepper.operator(np, sig, np.zeros(3), r, dx)
        V = stepper.march(np, V0.copy(), op, T / n, n)
        exact = np.exp(-(r + 0.5 * sig**2 * (k * math.pi / ell) ** 2) * T) * V0[0]
        return np.abs(V[0] - exact).max(axis=0)                                      # per row

    e1, e2 = error(81, 40), error(161, 80)
    assert np.all(e1 < 2e-3)
    assert np.all((e1 / e2 > 3.5) & (e1 / e2 < 4.5)), e1 / e2


def _cupy():
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # noqa: BLE001 - CuPy installed without a driver
        pytest.skip(f"no CUDA device ({exc})")
    return cp


def test_numpy_and_cupy_run_the_same_steps():
    """One call on either namespace: the CUDA kernel and the NumPy/LAPACK path agree to rounding
    on a random batch with per-row restarts, inactive rows and an after-step hook."""
    cp = _cupy()
    rng = np.random.default_rng(21)
    sigma, mu, r, dx, V = _random_batch(rng, S=4, N=301, R=33)
    restart = rng.random(33) < 0.5
    active = rng.random(33) < 0.9
    dt, n = 0.004, 6
    out = {}
    for xp in (np, cp):
        op = stepper.operator(xp, *(xp.asarray(a) for a in (sigma, mu, r, dx)))
        got = stepper.march(xp, xp.asarray(V), op, dt, n, restart=xp.asarray(restart), rannacher="steps",
                            active=xp.asarray(active), after=lambda U, xp=xp: xp.maximum(U, -0.5))
        out[xp.__name__] = got.get() if hasattr(got, "get") else got
    assert np.abs(out["cupy"] - out["numpy"]).max() <= 1e-12 * np.abs(out["numpy"]).max()
    # inactive rows are not stepped; the after-step hook still runs over every row
    assert np.array_equal(out["cupy"][:, :, ~active], np.maximum(V, -0.5)[:, :, ~active])
    assert np.array_equal(out["numpy"][:, :, ~active], np.maximum(V, -0.5)[:, :, ~active])
