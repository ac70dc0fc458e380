"""The batched PDE (many contracts × vol shifts in one backward sweep) against the generic PDE."""
import numpy as np
import pytest

from otclab.book.pricing import compile_book
from otclab.book.scenarios import scenario_grid
from otclab.engines.fused.pde import build_pde, read_values, solve_pde, supported
from otclab.market.snapshot import MarketSnapshot
from otclab.pricing import price
from otclab.templates.context import PricingContext

from builders import market, terms

BOOK = [
    {"template": "vanilla", "terms": terms(option_type="put", strike=0.95, tenor_months=3)},
    {"template": "digital", "terms": terms(option_type="call", strike=1.05, payout=0.1, tenor_months=3)},
    {"template": "sharkfin", "terms": terms(option_type="call", barrier=1.15, participation=0.9, rebate=0.02, tenor_months=3)},
    {"template": "barrier", "terms": terms(option_type="put", strike=1.0, barrier=0.85, barrier_type="down_in",
                                           rebate=0.01, monitoring="daily", tenor_months=3)},
    {"template": "barrier", "terms": terms(option_type="call", strike=1.0, barrier=1.2, barrier_type="up_out",
                                           rebate=0.01, monitoring="daily", tenor_months=2)},
    {"template": "snowball", "terms": terms(tenor_months=4, ko_barrier=1.0, ki_barrier=0.8, coupon=0.15, lockup_months=1)},
    {"template": "phoenix", "terms": terms(tenor_months=4, ko_barrier=1.0, ki_barrier=0.7, coupon_barrier=0.8,
                                           coupon=0.12, memory=False, lockup_months=1)},
]


def test_batched_pde_matches_the_generic_pde_across_shifts():
    m = market()
    fused, _ = compile_book(BOOK, MarketSnapshot.from_dict(m))
    assert all(supported(p) for _, _, p in fused)
    b = build_pde([(c, p) for _, c, p in fused], vol_shifts=(0.0, 0.02), n_x=601)
    vals = read_values(b, solve_pde(b), [0.0, 0.1])
    for (i, dv), v in zip(b.rows, vals):
        c = BOOK[i]
        for j, ds in enumerate((0.0, 0.1)):
            mm = {**m, "vol": m["vol"] + dv, "spot": m["spot"] * (1 + ds)}
            ref = price({"template": c["template"], "terms": c["terms"], "market": mm}, engine="pde").value
            assert v[j] * 1e6 == pytest.approx(ref, abs=3e-4 * 1e6), (c["template"], dv, ds)


MORE = [
    {"template": "phoenix", "terms": terms(tenor_months=5, ko_barrier=1.0, ki_barrier=0.7, coupon_barrier=0.85,
                                           coupon=0.12, memory=True, lockup_months=2)},
    {"template": "phoenix", "terms": terms(tenor_months=6, ko_barrier=1.02, ki_barrier=0.75, coupon_barrier=0.9,
                                           coupon=0.2, memory=True, start_date="2024-12-02"),
     "state": {"ki_hit": False, "missed": 2}},
    {"template": "phoenix", "terms": terms(tenor_months=4, ko_barrier=1.0, ki_barrier=0.7, coupon_barrier=0.9,
                                           coupon=0.2, memory=True, start_date="2025-01-02"),
     "state": {"ki_hit": True, "missed": 1}},
    {"template": "double_sharkfin", "terms": terms(tenor_months=3, strike_low=0.97, strike_high=1.03, barrier_low=0.88,
                                                   barrier_high=1.12, participation_low=0.5, participation_high=0.7,
                                                   rebate=0.01, form="note")},
    {"template": "double_sharkfin", "terms": terms(tenor_months=2, strike_low=1.0, strike_high=1.0, barrier_low=0.9,
                                                   barrier_high=1.1, monitoring="expiry")},
]


def test_memory_phoenix_and_double_sharkfin_match_the_generic_pde():
    """Memory phoenixes (also seasoned, with missed coupons, and knocked in) need more states;
    double sharkfins two barriers and a put leg. Mixed with two-state rows in one call."""
    from otclab.engines.fused.pde import price_batched

    m = market()
    book = MORE + BOOK[:2]
    fused, _ = compile_book(book, MarketSnapshot.from_dict(m))
    assert len(fused) == len(book) and all(supported(p) for _, _, p in fused)
    vals = price_batched([(c, p) for _, c, p in fused], vol_shifts=(0.0, 0.02), spot_shifts=(0.0, -0.05))
    assert len(vals) == 2 * len(book)
    for (i, dv), v in vals.items():
        c = book[i]
        for j, ds in enumerate((0.0, -0.05)):
            mm = {**m, "vol": m["vol"] + dv, "spot": m["spot"] * (1 + ds)}
            ref = price({**c, "market": mm}, engine="pde").value
            assert v[j] * 1e6 == pytest.approx(ref, abs=3e-4 * 1e6), (i, c["template"], dv, ds)


def test_american_put_in_the_batched_pde_and_the_grid():
    """American exercise has no fused Monte Carlo program (price_book prices it by its own PDE)
    but a PDE-only one: the grid solves it in the batch, as the generic PDE would."""
    from otclab.engines.fused.pde import price_batched

    m = market()
    amer = {"template": "vanilla", "terms": terms(option_type="put", strike=1.05, tenor_months=6, exercise="american")}
    fused, generic = compile_book([amer], MarketSnapshot.from_dict(m))
    assert not fused and len(generic) == 1
    req = generic[0][1]
    ctx = PricingContext(req.template, req.terms, req.market, req.state, req.fixings)
    prog = req.template.get("fused")(ctx)
    assert prog["mc"] is False and prog["american"]
    vals = price_batched([(ctx, prog)], vol_shifts=(0.0, 0.03), spot_shifts=(0.0, -0.1))
    euro = price({**amer, "terms": {**amer["terms"], "exercise": "european"}, "market": m}, engine="pde").value
    for (_, dv), v in vals.items():
        for j, ds in enumerate((0.0, -0.1)):
            mm = {**m, "vol": m["vol"] + dv, "spot": m["spot"] * (1 + ds)}
            ref = price({**amer, "market": mm}, engine="pde").value
            assert v[j] * 1e6 == pytest.approx(ref, abs=3e-4 * 1e6), (dv, ds)
    assert vals[(0, 0.0)][0] * 1e6 > euro + 300           # the early-exercise premium (~570) is there
    long, _ = scenario_grid([amer, BOOK[0]], m, spot_shifts=[-0.1, 0.0], vol_shifts=[0.0], paths=2000)
    assert set(long["method"]) == {"pde"}


def test_continuous_barriers_match_the_generic_pde():
    from otclab.engines.fused.pde import price_batched

    m = market()
    book = [{"template": "barrier", "terms": terms(option_type=ot, strike=1.0, barrier=lv, barrier_type=bt,
                                                   rebate=0.01, monitoring="continuous", tenor_months=3)}
            for ot, lv, bt in (("call", 1.15, "up_out"), ("put", 0.88, "down_out"), ("put", 0.9, "down_in"),
                               ("call", 1.1, "up_in"))]
    fused, _ = compile_book(book, MarketSnapshot.from_dict(m))
    vals = price_batched([(c, p) for _, c, p in fused], vol_shifts=(0.0, 0.02), spot_shifts=(0.0, 0.05))
    for (i, dv), v in vals.items():
        for j, ds in enumerate((0.0, 0.05)):
            mm = {**m, "vol": m["vol"] + dv, "spot": m["spot"] * (1 + ds)}
            ref = price({**book[i], "market": mm}, engine="pde").value
            assert v[j] * 1e6 == pytest.approx(ref, abs=1e-4 * 1e6), (book[i]["terms"]["barrier_type"], dv, ds)
    long, mat = scenario_grid(book[:1], m, spot_shifts=[-0.1, 0.0, 0.1], vol_shifts=[0.0, 0.02])
    assert set(long["method"]) == {"pde"} and abs(mat.loc[0.0, 0.0]) < 1e-6 and mat.shape == (3, 2)


def test_asians_carry_the_running_average_as_states():
    """Arithmetic and geometric, fresh and seasoned (past fixings): the batched PDE against the
    template's own PDE; the scenario grid solves them in their own batch."""
    from otclab.engines.fused.pde import price_batched

    m = market()
    fixings = dict(zip(["2025-02-05", "2025-02-10", "2025-02-17", "2025-02-24", "2025-03-03"],
                       [6100.0, 6050.0, 6120.0, 5980.0, 5950.0]))
    book = [{"template": "asian", "terms": terms(option_type="call", strike=1.0, fixings="daily", tenor_months=1)},
            {"template": "asian", "terms": terms(option_type="put", strike=1.02, averaging="geometric", fixings="weekly",
                                                 tenor_months=2)},
            {"template": "asian", "terms": terms(option_type="call", strike=1.0, fixings="weekly", tenor_months=3,
                                                 start_date="2025-01-27"), "fixings": fixings}]
    fused, _ = compile_book(book, MarketSnapshot.from_dict(m))
    vals = price_batched([(c, p) for _, c, p in fused], vol_shifts=(0.0,), spot_shifts=(0.0, -0.05))
    for (i, _), v in vals.items():
        for j, ds in enumerate((0.0, -0.05)):
            ref = price({**book[i], "market": {**m, "spot": m["spot"] * (1 + ds)}}, engine="pde").value
            assert v[j] * 1e6 == pytest.approx(ref, abs=5e-5 * 1e6), (i, ds)
    long, _ = scenario_grid([book[0], BOOK[0]], m, spot_shifts=[0.0, 0.1], vol_shifts=[0.0])
    assert set(long["method"]) == {"pde"}


def test_grid_by_pde_agrees_with_grid_by_mc():
    m = market()
    book = [BOOK[0], BOOK[5]]
    _, by_pde = scenario_grid(book, m, spot_shifts=[-0.2, 0.0, 0.2], vol_shifts=[-0.03, 0.03])
    _, by_mc = scenario_grid(book, m, spot_shifts=[-0.2, 0.0, 0.2], vol_shifts=[-0.03, 0.03], paths=40_000,
                             method="mc")
    assert np.allclose(by_pde.to_numpy(), by_mc.to_numpy(), atol=0.006 * 2e6)


def test_the_batched_pde_on_cupy_matches_numpy():
    """The same solve on the GPU (the stepper's CUDA kernel, the day's events on the device) and
    on NumPy (LAPACK): two-state, memory, continuous-barrier and Asian batches, with theta.
    Skipped where there is no CuPy and GPU; run on the GPU machine."""
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # noqa: BLE001 - CuPy installed without a driver
        pytest.skip(f"no CUDA device ({exc})")
    from otclab.engines.fused.pde import price_batched

    m = market()
    cont = {"template": "barrier", "terms": terms(option_type="put", strike=1.0, barrier=0.88, barrier_type="down_out",
                                                  rebate=0.01, monitoring="continuous", tenor_months=3)}
    asian = {"template": "asian", "terms": terms(option_type="call", strike=1.0, fixings="weekly", tenor_months=2)}
    for book in (BOOK + MORE + [cont], [asian]):
        fused, _ = compile_book(book, MarketSnapshot.from_dict(m))
        items = [(c, p) for _, c, p in fused]
        on_cpu = price_batched(items, vol_shifts=(0.0, 0.02), spot_shifts=(0.0, 0.05), xp=np, theta=True)
        on_gpu = price_batched(items, vol_shifts=(0.0, 0.02), spot_shifts=(0.0, 0.05), xp=cp, theta=True)
        for part in (0, 1):
            assert on_cpu[part].keys() == on_gpu[part].keys()
            for k in on_cpu[part]:
                assert np.max(np.abs(np.asarray(on_gpu[part][k]) - np.asarray(on_cpu[part][k]))) < 1e-10, (part, k)
