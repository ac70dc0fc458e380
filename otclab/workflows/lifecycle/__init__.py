"""Lifecycle of booked trades: observation plans, their execution on realised closes, daily runs."""
from .plan import compile_plan
from .observe import advance, initial_state

__all__ = ["compile_plan", "advance", "initial_state"]
