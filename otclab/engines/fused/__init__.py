"""Fused Monte Carlo for the built-in families: one pass simulates and evaluates every contract.

A *program* is a contract reduced to per-step arrays (observation flags, levels, discounted
cash) and a few scalars; a template's ``fused`` cell builds it from a pricing context. Many
programs (contracts × bump scenarios) run in one launch: on a GPU as one CUDA kernel (one
thread per antithetic pair of paths, Philox random numbers, payoff in registers), on a CPU as
the NumPy reference implementation of the same program, with the same random numbers.
"""
from .philox import normals
from .program import FAMILIES, ProgramBatch, build_batch

__all__ = ["normals", "FAMILIES", "ProgramBatch", "build_batch"]
