import dataclasses
import json

import numpy as np
import pytest

from otclab.core.errors import MarketError
from otclab.market.curves import Curve
from otclab.market.snapshot import MarketSnapshot
from otclab.market.vol import VolSurface

FULL = {
    "valuation_date": "2025-03-03",
    "spots": {"000905.SH": 5800.0, "000852.SH": 6100.0},
    "rate": {"tenors": ["3M", "1Y", "2Y"], "rates": [0.016, 0.018, 0.02]},
    "div_yields": {"000905.SH": 0.01, "000852.SH": {"tenors": ["6M", "1Y"], "rates": [0.0, 0.005]}},
    "vols": {"000905.SH": {"tenors": ["1M", "6M", "1Y"], "moneyness": [0.8, 1.0, 1.2],
                           "vols": [[0.28, 0.22, 0.2], [0.26, 0.21, 0.19], [0.25, 0.2, 0.185]]},
             "000852.SH": {"tenors": ["3M", "1Y"], "vols": [0.26, 0.24]}},
    "time_basis": "calendar",
}


def test_json_round_trip(tmp_path):
    m = MarketSnapshot.from_dict(FULL)
    p = tmp_path / "m.json"
    m.save(p)
    m2 = MarketSnapshot.load(p)
    assert m2 == m
    assert m2.to_dict() == json.loads(p.read_text())
    assert m.spot("000852.SH") == 6100.0


def test_snapshot_is_immutable():
    m = MarketSnapshot.from_dict(FULL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.time_basis = "trading"
    with pytest.raises(TypeError):
        m.spots["000905.SH"] = 1.0
    b = m.bumped(spot_rel=0.01, vol_abs=0.01, rate_abs=0.001, underlying="000905.SH")
    assert m.spot("000905.SH") == 5800.0 and b.spot("000905.SH") == pytest.approx(5858.0)
    assert b.spot("000852.SH") == 6100.0
    assert b.vol("000905.SH").vol(0.5, 1.0) == pytest.approx(m.vol("000905.SH").vol(0.5, 1.0) + 0.01)


def test_time_bases_differ_over_a_long_holiday():
    trading = MarketSnapshot.from_dict({**FULL, "valuation_date": "2025-09-26", "time_basis": "trading"})
    calendar = MarketSnapshot.from_dict({**FULL, "valuation_date": "2025-09-26"})
    # 09-29, 09-30, 10-09, 10-10: the National Day week is closed
    assert trading.diffusion_time(["2025-10-10"])[0] == pytest.approx(4 / 243)
    assert calendar.diffusion_time(["2025-10-10"])[0] == pytest.approx(14 / 365)
    assert calendar.discount_time(["2025-10-10"])[0] == trading.discount_time(["2025-10-10"])[0]


def test_missing_and_bad_fields_name_the_field():
    with pytest.raises(MarketError, match="market.valuation_date"):
        MarketSnapshot.from_dict({"spot": 1, "rate": 0.01, "vol": 0.2})
    with pytest.raises(MarketError, match="market.time_basis"):
        MarketSnapshot.from_dict({**FULL, "time_basis": "weekly"})
    with pytest.raises(MarketError, match="market.vols.000905.SH.vols"):
        MarketSnapshot.from_dict({**FULL, "vols": {"000905.SH": {"tenors": ["1M"], "vols": [-0.2]}}})
    with pytest.raises(MarketError, match="no spot for 000300.SH"):
        MarketSnapshot.from_dict(FULL).spot("000300.SH")
    with pytest.raises(MarketError, match="unknown field"):
        MarketSnapshot.from_dict({**FULL, "volatility": 0.2})


def test_curve_forwards_and_discounting():
    c = Curve.from_json({"tenors": ["1Y", "2Y"], "rates": [0.02, 0.03]}, "rate")
    assert c.discount(2.0) == pytest.approx(np.exp(-0.06))
    assert c.forward(1.0, 2.0) == pytest.approx(0.04)
    assert c.zero(0.5) == pytest.approx(0.02)       # flat before the first pillar
    assert Curve.flat(0.03).discount(1.0) == pytest.approx(np.exp(-0.03))


def test_vol_surface_interpolation_is_sound():
    v = VolSurface.from_json(FULL["vols"]["000905.SH"], "vol")
    assert v.vol(0.5, 0.8) == pytest.approx(0.26)                  # pillars are reproduced
    w1, w2 = v.total_variance(0.5, 1.0), v.total_variance(1.0, 1.0)
    assert v.total_variance(0.75, 1.0) == pytest.approx(0.5 * (w1 + w2))   # linear in time
    ks = np.linspace(0.7, 1.3, 61)
    vols = v.vol(np.full_like(ks, 0.5), ks)
    assert np.all(np.diff(vols) <= 1e-12)                          # PCHIP keeps monotone smiles monotone
    assert vols[0] == pytest.approx(0.26) and vols[-1] == pytest.approx(0.19)   # flat outside
    times = np.array([0.25, 0.5, 1.0])
    fv = v.forward_vols(times, 1.0)
    assert np.sum(fv**2 * np.diff(np.concatenate([[0], times]))) == pytest.approx(v.total_variance(1.0, 1.0))
