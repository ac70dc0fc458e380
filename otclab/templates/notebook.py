"""Helpers for the validation cells of template notebooks (run interactively or by papermill).

``record(key, value)`` stores a result: papermill runs set ``OTCLAB_RECORD`` to a JSON-lines
file that ``otclab payoffs validate`` collects into its report; interactively it just returns
the value. ``check_close`` asserts and records a comparison in one call.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def record(key: str, value):
    """Record ``value`` (JSON-serialisable) under ``key`` for the validation report."""
    path = os.environ.get("OTCLAB_RECORD")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"key": key, "value": value}, default=float) + "\n")
    return value


def check_close(key: str, a: float, b: float, tol: float, note: str = "") -> dict:
    """Assert ``|a - b| <= tol`` and record the comparison under ``key``."""
    diff = abs(float(a) - float(b))
    row = {"a": float(a), "b": float(b), "diff": diff, "tol": float(tol), "ok": diff <= tol, "note": note}
    record(key, row)
    assert diff <= tol, f"{key}: |{a:.6g} - {b:.6g}| = {diff:.3g} > {tol:.3g} {note}"
    return row


def load_here(filename: str):
    """Load the template notebook ``filename`` from the current folder (the notebook's own)."""
    from .loader import load_notebook

    return load_notebook(Path(filename).resolve())


def check_fused(key: str, request: dict, paths: int = 100_000, seed: int = 3) -> dict:
    """Assert that the template's ``fused`` program prices ``request`` like its payoff/PDE cells.

    The program runs on the NumPy reference of the fused kernel; the generic value comes from
    the template's PDE if it has one, else its payoff cell by MC. Tolerance: 4 combined
    standard errors plus 1e-3 of notional (PDE discretisation). Records the comparison.
    """
    import math

    from ..engines.fused.program import build_batch
    from ..engines.fused.reference import run_numpy
    from ..pricing import price
    from ..pricing.request import parse_request
    from .context import PricingContext

    req = parse_request(request)
    ctx = PricingContext(req.template, req.terms, req.market, req.state, req.fixings)
    prog = req.template.get("fused")(ctx)
    assert prog is not None, f"{key}: the template declares no fused program for these terms"
    mean, se = run_numpy(build_batch([(ctx, prog)]), paths, seed)
    engine = "pde" if req.template.has_pde else "mc"
    ref = price(req, engine=engine, paths=paths, seed=seed + 1)
    N = ctx.notional
    tol = 4 * math.hypot(N * se[0], ref.stderr or 0.0) + 1e-3 * N
    return check_close(key, N * mean[0], ref.value, tol, f"fused program vs {engine}")
