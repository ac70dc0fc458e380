"""Finite differences: Crank–Nicolson with Rannacher start on a log-spot grid, with events."""
from .grid import log_grid
from .solver import PdeInterval, PdeResult, solve_backward

__all__ = ["log_grid", "PdeInterval", "PdeResult", "solve_backward"]
