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
