"""Price two templates of one structure on the same cases and report the differences.

The risk-control team writes its own template of a structure; both are priced on agreed cases
with the same engine and random numbers. A case differs when |A − B| exceeds
``tol × notional`` plus three combined standard errors (MC).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import InputError
from ..pricing import price


def load_cases(path) -> list[dict]:
    """Cases from a JSON list or JSON-lines file: each ``{"terms", "market", "state"?, "name"?}``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read cases file: {e.strerror}", "cases") from None
    try:
        data = json.loads(text)
        cases = data if isinstance(data, list) else data.get("cases", [data])
    except json.JSONDecodeError:
        try:
            cases = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise InputError(f"not JSON or JSON lines: {e}", "cases") from None
    for i, c in enumerate(cases):
        if not isinstance(c, dict) or "terms" not in c or "market" not in c:
            raise InputError("each case needs 'terms' and 'market'", f"cases[{i}]")
    if not cases:
        raise InputError("no cases in file", "cases")
    return cases


def compare(a: str, b: str, cases, engine: str = "mc", paths: int = 100_000, seed: int = 7,
            tol: float = 1e-3) -> list[dict]:
    rows = []
    for i, c in enumerate(cases):
        req = {k: c[k] for k in ("terms", "market", "state", "fixings") if k in c}
        ra = price({**req, "template": a}, engine=engine, paths=paths, seed=seed)
        rb = price({**req, "template": b}, engine=engine, paths=paths, seed=seed)
        se = ((ra.stderr or 0) ** 2 + (rb.stderr or 0) ** 2) ** 0.5
        limit = tol * ra.notional + 3 * se
        diff = ra.value - rb.value
        rows.append({"case": c.get("name", i), "a": ra.value, "b": rb.value, "diff": diff,
                     "diff_pct_notional": diff / ra.notional, "limit": limit, "ok": abs(diff) <= limit,
                     "a_version": ra.version, "b_version": rb.version})
    return rows
