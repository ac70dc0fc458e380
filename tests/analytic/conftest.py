"""A book of random contracts shared by the batch tests (NumPy loop and CuPy comparisons)."""
import numpy as np
import pytest

BOOK_SIZE = 1000


@pytest.fixture(scope="session")
def book():
    """BOOK_SIZE random contracts: every argument of every analytic formula, as NumPy arrays.

    Some expire today (T = 0), some barriers are already crossed, T_disc differs from T.
    """
    n = BOOK_SIZE
    rng = np.random.default_rng(20240605)
    spot = rng.uniform(50, 150, n)
    T = rng.uniform(0.0, 3.0, n)
    T[:20] = 0.0  # expiring today
    option_type = rng.choice(["call", "put"], n)
    barrier_type = rng.choice(["up_out", "up_in", "down_out", "down_in"], n)
    up = np.char.startswith(barrier_type, "up")
    return {
        "option_type": option_type,
        "is_call": option_type == "call",
        "spot": spot,
        "strike": spot * rng.uniform(0.6, 1.5, n),
        "T": T,
        "T_disc": T * rng.uniform(0.8, 1.5, n),
        "rate": rng.uniform(0.0, 0.08, n),
        "div_yield": rng.uniform(-0.02, 0.06, n),
        "vol": rng.uniform(0.05, 0.8, n),
        "barrier_type": barrier_type,
        # mostly away from spot, some already knocked
        "barrier": spot * np.where(up, rng.uniform(0.95, 1.5, n), rng.uniform(0.6, 1.05, n)),
        "rebate": rng.choice([0.0, 1.0, 3.0], n),
        "dt": rng.uniform(1 / 243, 1 / 12, n),
        "fixing_times": np.sort(rng.uniform(0.0, 1.0, (n, 12)), axis=-1) * T[:, None],
        "past_log_sum": np.log(spot) * 3 + rng.normal(0, 0.1, n),
        "n_past": rng.integers(0, 4, n),
    }
