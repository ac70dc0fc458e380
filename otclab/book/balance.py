"""Splitting a book into chunks of about equal cost, one chunk per worker, and merging the
chunks' results back in the book's order.

The cost of a contract is its number of trading days from the valuation date to maturity: the
fused pass simulates one step per trading day (for each scenario row, the same for every
contract), and building a contract's rows walks its dates. It ignores the per-contract overhead
of parsing the terms and the contracts that fall back to the generic engines (PDE or MC one by
one); a book of those is better balanced by Dask's own scheduling (``price_book_dask``).
"""
from __future__ import annotations

import heapq
import warnings

import numpy as np
import pandas as pd

from ..core.calendar import CalendarWarning
from ..core.dates import add_months, parse_date
from ..core.errors import OtcError


def contract_costs(contracts, snap) -> np.ndarray:
    """Trading days in (valuation date, maturity] of each contract (at least 1), for ``snap``, a
    ``MarketSnapshot``. Maturity is ``terms.maturity_date``, else ``start_date + tenor_months``.
    A contract whose dates cannot be read costs 1 here; pricing it reports the bad field."""
    val = snap.valuation_date
    mats = []
    for c in contracts:
        t = c.get("terms") if isinstance(c, dict) else None
        try:
            if t.get("maturity_date"):
                mats.append(parse_date(t["maturity_date"]))
            else:
                mats.append(add_months(parse_date(t["start_date"]), int(t["tenor_months"])))
        except (AttributeError, KeyError, TypeError, ValueError, OtcError):
            mats.append(val)
    if not mats:
        return np.zeros(0, dtype=np.int64)
    with warnings.catch_warnings():
        # a maturity past the last holiday year: pricing warns about it, the estimate need not
        warnings.simplefilter("ignore", CalendarWarning)
        days = snap.calendar.counts(val, mats)
    return np.maximum(np.asarray(days, dtype=np.int64), 1)


def balanced_split(costs, n_parts: int) -> list[list[int]]:
    """Indices of ``costs`` in ``n_parts`` groups of about equal total cost, each group in
    increasing order; empty groups are dropped. Greedy (longest first): contracts taken by
    decreasing cost, each to the group with the least total so far (ties: the lower index), so
    the split is deterministic and the largest group exceeds the ideal share by at most one
    contract's cost."""
    n_parts = int(n_parts)
    if n_parts < 1:
        raise ValueError(f"n_parts must be at least 1; got {n_parts}")
    costs = np.asarray(costs, dtype=float)
    heap = [(0.0, k) for k in range(n_parts)]
    groups: list[list[int]] = [[] for _ in range(n_parts)]
    for i in np.argsort(-costs, kind="stable"):
        load, k = heapq.heappop(heap)
        groups[k].append(int(i))
        heapq.heappush(heap, (load + float(costs[i]), k))
    return [sorted(g) for g in groups if g]


def merge_chunks(contracts, parts, groups) -> pd.DataFrame:
    """Frames of chunks back into one frame in the input order.

    ``groups``: the input positions of each chunk's contracts, in the chunk's order. A frame
    holds the same number of rows for each of its contracts, contract by contract (one row a
    contract for prices, one a grid point for scenario grids). Ids default to the position in
    the whole book, as ``price_book`` and ``scenario_grid`` number them."""
    frames = []
    for df, idx in zip(parts, groups):
        idx = list(idx)
        per, extra = divmod(len(df), max(len(idx), 1))
        if extra or (idx and not per):
            raise RuntimeError(f"a chunk of {len(idx)} contracts came back with {len(df)} rows")
        df = df.copy()
        df.insert(0, "_pos", np.repeat(np.asarray(idx, dtype=np.int64), per))
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames).sort_values("_pos", kind="stable").reset_index(drop=True)
    if out["_pos"].nunique() != len(contracts):
        raise RuntimeError(f"merged {out['_pos'].nunique()} contracts for {len(contracts)}")
    out["id"] = [contracts[i].get("id", i) for i in map(int, out["_pos"])]
    return out.drop(columns="_pos")

