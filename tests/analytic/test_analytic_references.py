"""The analytic formulas reproduce published reference tables.

The tables are tests/data/pricing_references.json (a copy of the project's shared examples).
"""
import json
from pathlib import Path

import numpy as np
import pytest

from otclab.engines.analytic import (
    barrier_price,
    bgk_barrier,
    bs_greeks,
    bs_price,
    geometric_asian_continuous,
    geometric_asian_discrete,
)

REFERENCES = Path(__file__).resolve().parents[1] / "data" / "pricing_references.json"
CASES = json.loads(REFERENCES.read_text(encoding="utf-8"))


def _market(case):
    return case["spot"], case["strike"], case["T"], case["rate"], case["div_yield"], case["vol"]


@pytest.mark.parametrize("case", CASES["black_scholes"]["cases"])
def test_black_scholes_reference(case):
    price = bs_price(case["option_type"], *_market(case))
    assert abs(float(price) - case["expected"]) <= case["tol"]


@pytest.mark.parametrize("case", CASES["greeks"]["cases"])
def test_greeks_reference(case):
    greeks = bs_greeks(case["option_type"], *_market(case))
    assert abs(float(greeks[case["greek"]]) - case["expected"]) <= case["tol"]


@pytest.mark.parametrize("case", CASES["barrier"]["cases"])
def test_barrier_reference(case):
    assert case["monitoring"] == "continuous"
    price = barrier_price(case["option_type"], case["barrier_type"], case["spot"], case["strike"],
                          case["barrier"], case["rebate"], case["T"], case["rate"],
                          case["div_yield"], case["vol"])
    assert abs(float(price) - case["expected"]) <= case["tol"]


def test_barrier_reference_table_as_one_batch():
    cases = CASES["barrier"]["cases"]
    col = {k: np.array([c[k] for c in cases]) for k in cases[0] if k != "monitoring"}
    prices = barrier_price(col["option_type"], col["barrier_type"], col["spot"], col["strike"],
                           col["barrier"], col["rebate"], col["T"], col["rate"], col["div_yield"],
                           col["vol"])
    assert prices.shape == (len(cases),)
    np.testing.assert_array_less(np.abs(prices - col["expected"]), col["tol"] + 1e-12)


@pytest.mark.parametrize("case", CASES["discrete_barrier_bgk"]["cases"])
def test_discrete_barrier_bgk_reference(case):
    args = (case["option_type"], case["barrier_type"], case["spot"], case["strike"],
            case["barrier"], 0.0, case["T"], case["rate"], case["div_yield"], case["vol"])
    assert abs(float(barrier_price(*args)) - case["continuous"]) <= 1e-3
    dt = case["T"] / case["monitoring_dates"]
    assert abs(float(bgk_barrier(*args, dt=dt)) - case["bgk"]) <= 1e-3


def test_geometric_asian_continuous_reference():
    (case,) = [c for c in CASES["geometric_asian"]["cases"] if c["fixings"] == "continuous"]
    assert case["day_count_note"] == "90 days on ACT/360"
    T = 90 / 360  # the table's T = 0.25 is 90 days on ACT/360
    price = geometric_asian_continuous(case["option_type"], case["spot"], case["strike"], T,
                                       case["rate"], case["div_yield"], case["vol"])
    assert abs(float(price) - case["expected"]) <= case["tol"]


def test_geometric_asian_discrete_reference():
    (case,) = [c for c in CASES["geometric_asian"]["cases"] if c["fixings"] != "continuous"]
    fixing_times = np.arange(36, 361, 36) / 360  # 10 fixings every 36 days, last at 360 days
    assert fixing_times.shape == (10,) and fixing_times[-1] == case["T"]
    price = geometric_asian_discrete(case["option_type"], *_market(case)[:2], fixing_times,
                                     *_market(case)[2:])
    assert abs(float(price) - case["expected"]) <= case["tol"]

