"""The pricelib snowball term sheet (pricing_references.json) under design.md conventions."""
import pytest

from otclab.pricing import price, solve


def test_pde_and_mc_match_the_reference(snowball_request, references):
    ref = references["snowball"]["values"]["independent_mc_20M"]
    notional = snowball_request["terms"]["notional"]
    pde = price(snowball_request, engine="pde")
    assert abs(pde.value - ref) <= 1e-3 * notional
    assert abs(pde.value - references["snowball"]["values"]["pricelib_pde"]) <= 1e-3 * notional
    mc = price(snowball_request, engine="mc", paths=100_000, seed=3)
    assert abs(mc.value - ref) <= max(3 * mc.stderr, 1e-3 * notional)
    assert abs(mc.value - pde.value) <= max(3 * mc.stderr, 1e-3 * notional)


def test_fair_coupon_solves_near_0112(snowball_request):
    out = solve(snowball_request, "coupon", engine="pde")
    assert out["target"] == pytest.approx(100.0)          # note form: par
    assert out["value"] == pytest.approx(0.112, abs=0.002)
    assert abs(out["residual"]) < 1e-8
    assert out["evaluations"] <= 4                         # linear in the coupon


def test_pde_greeks_match_pricelib(snowball_request, references):
    ref = references["snowball"]["pde_greeks_pricelib"]
    g = price(snowball_request, engine="pde", greeks=True).greeks
    assert g["delta"] == pytest.approx(ref["delta_per_1pt_spot_per_100_notional"], abs=0.01)
    assert g["gamma"] == pytest.approx(ref["gamma"], abs=0.005)
    assert g["vega"] == pytest.approx(ref["vega_per_vol_pt"], abs=0.06)
    assert g["theta"] == pytest.approx(ref["theta"], abs=0.01)
    assert g["rho"] == pytest.approx(ref["rho"], abs=0.02)
    assert g["cash_delta"] == pytest.approx(g["delta"] * 100.0)


def test_mc_greeks_agree_with_pde(snowball_request):
    pde = price(snowball_request, engine="pde", greeks=True).greeks
    mc = price(snowball_request, engine="mc", paths=60_000, seed=5, greeks=True).greeks
    assert mc["delta"] == pytest.approx(pde["delta"], abs=0.03)
    assert mc["vega"] == pytest.approx(pde["vega"], abs=0.1)
    assert mc["theta"] == pytest.approx(pde["theta"], abs=0.02)
    assert mc["rho"] == pytest.approx(pde["rho"], abs=0.06)


def test_seasoned_states(snowball_request):
    base = price(snowball_request, engine="pde").value
    knocked_in = price({**snowball_request, "state": {"ki_hit": True}}, engine="pde").value
    assert knocked_in < base - 1.0
    # A trade six months in, valued from its fixings: the past is not re-observed.
    later = {**snowball_request, "market": {**snowball_request["market"], "valuation_date": "2022-07-06", "spot": 98.0}}
    with pytest.raises(Exception, match="state.ki_hit"):
        price(later, engine="pde")
    v_no = price({**later, "state": {"ki_hit": False}}, engine="pde")
    v_ki = price({**later, "state": {"ki_hit": True}}, engine="pde")
    assert v_ki.value < v_no.value
    mc = price({**later, "state": {"ki_hit": True}}, engine="mc", paths=60_000, seed=1)
    assert abs(mc.value - v_ki.value) <= max(3 * mc.stderr, 0.1)
