"""One theta convention for every engine: value on the next trading day (today's spot carried
forward, tomorrow's observations applied at it, its cash included) minus today's; every family
with an observation tomorrow, spot on either side of each barrier (benchmarks/theta_table.py)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import theta_table  # noqa: E402

N = theta_table.N
CASES = theta_table.cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c['family']}-{c['tomorrow']}-{c['spot']}" for c in CASES])
def test_every_engine_gives_the_same_theta(case):
    th = theta_table.theta_by_engine(case, paths=20_000, seed=11)
    assert "pde" in th or "analytic" in th
    ref = th["analytic"][0] if "analytic" in th else th["pde"][0]
    for engine, (v, se) in th.items():
        tol = 2e-4 * N if se is None else 4 * se + 2e-5 * N     # PDEs: their discretisation
        assert abs(v - ref) <= tol, (engine, v, se, ref)
    if case["expected"] is not None:
        # almost sure to knock out tomorrow: one day of carry, not a percent of notional
        assert abs(ref - case["expected"]) <= 2e-5 * N, (ref, case["expected"])
        assert th["mc"][1] < 1e-4 * N


def test_a_knock_out_tomorrow_prices_with_greeks_by_every_engine():
    """The issue's phoenix: the day before its first knock-out observation, spot 5.5% above
    the level; Monte Carlo used to fail ("the fixings show a knock-out on <tomorrow>")."""
    from otclab.pricing import price

    req = next(c for c in CASES if c["family"] == "phoenix" and c["spot"].startswith("5.5%"))["request"]
    mc = price(req, engine="mc", greeks=True, paths=20_000)
    pde = price(req, engine="pde", greeks=True)
    assert abs(mc.greeks["theta"] - pde.greeks["theta"]) < 1e-4 * N and 0 < pde.greeks["theta"] < 1e-4 * N
    assert set(mc.greeks_se) == set(mc.greeks) and mc.greeks_se["theta"] < 1e-5 * N
