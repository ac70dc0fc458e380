"""Monte Carlo: exact GBM steps on a date grid, chunked, seedable, antithetic, NumPy or CuPy."""
from .bridge import crossing_probability
from .engine import MCResult, mc_expectation, mc_scenarios
from .paths import make_rng, simulate_levels

__all__ = ["MCResult", "mc_expectation", "mc_scenarios", "make_rng", "simulate_levels", "crossing_probability"]
