"""The book's Monte Carlo Greeks for all contracts at once (``group_greeks_many``) equal the
contract-by-contract ``group_greeks``, standard errors included."""
from __future__ import annotations

import numpy as np
import pytest

from otclab.book.pricing import GREEK_SCENARIOS, group_greeks, group_greeks_many


@pytest.mark.parametrize("groups", [1, 7, 64])
def test_many_equals_one_by_one(groups):
    rng = np.random.default_rng(groups)
    n = 25
    gvals = {s.name: 0.9 + 0.1 * rng.random((n, groups)) for s in GREEK_SCENARIOS}
    count = rng.integers(100, 200, groups)
    N = rng.choice([1e6, 1e7], n)
    spot = rng.uniform(2, 6000, n)
    h = rng.uniform(0.005, 0.03, n)
    g, se = group_greeks_many(gvals, count, N, spot, h)
    for j in range(n):
        g1, se1 = group_greeks({k: v[j] for k, v in gvals.items()}, count, N[j], spot[j], h[j])
        for k in g1:
            assert g[k][j] == pytest.approx(g1[k], rel=1e-12, abs=1e-9)
            if groups == 1:
                assert se[k] is None and se1[k] is None
            else:
                assert se[k][j] == pytest.approx(se1[k], rel=1e-10, abs=1e-12)
