"""Every built-in template: MC and PDE agree (3 standard errors or 0.1% of notional), and MC
converges to the closed form where there is one."""
import pytest

from otclab.pricing import price

from builders import market, terms

TERM_MARKET = market(rate={"tenors": ["3M", "1Y"], "rates": [0.015, 0.022]},
                     div_yield={"tenors": ["6M", "2Y"], "rates": [0.0, 0.02]},
                     vol={"tenors": ["1M", "6M", "1Y"], "vols": [0.26, 0.23, 0.21]})

CASES = [
    ("vanilla", terms(option_type="call", strike=1.0), market()),
    ("vanilla", terms(option_type="put", strike=0.95, tenor_months=12), TERM_MARKET),
    ("vanilla", terms(option_type="put", strike=1.05), market(time_basis="calendar")),
    ("digital", terms(option_type="call", strike=1.05, payout=0.1), market()),
    ("digital", terms(option_type="put", strike=0.9, payout=0.05), TERM_MARKET),
    ("barrier", terms(option_type="call", strike=1.0, barrier=1.2, barrier_type="up_out", rebate=0.01,
                      monitoring="continuous"), market()),
    ("barrier", terms(option_type="put", strike=1.0, barrier=0.85, barrier_type="down_in", rebate=0.01,
                      monitoring="daily"), market()),
    ("barrier", terms(option_type="call", strike=0.95, barrier=0.88, barrier_type="down_out",
                      monitoring="expiry"), TERM_MARKET),
    ("sharkfin", terms(option_type="call", barrier=1.15, participation=0.9, rebate=0.02), market()),
    ("sharkfin", terms(option_type="put", strike=1.0, barrier=0.85, participation=1.0, monitoring="expiry",
                       form="note"), TERM_MARKET),
    ("double_sharkfin", terms(barrier_low=0.85, barrier_high=1.15, strike_low=0.98, strike_high=1.02,
                              rebate=0.01), market()),
    ("snowball", terms(tenor_months=12, ko_barrier=1.0, ki_barrier=0.75, coupon=0.15, lockup_months=3,
                       ko_step_down=0.005), market()),
    ("snowball", terms(tenor_months=12, ko_barrier=1.03, ki_barrier=None, coupon=0.05, form="option"),
     TERM_MARKET),
    ("snowball", terms(tenor_months=12, ko_barrier=1.0, ki_barrier=0.8, coupon=0.2, ki_strike=0.95,
                       loss_floor=0.6, ko_coupons=[0.3] * 3 + [0.2] * 9), market(time_basis="calendar")),
    ("phoenix", terms(tenor_months=12, ko_barrier=1.0, ki_barrier=0.7, coupon_barrier=0.8, coupon=0.12,
                      memory=True, lockup_months=3), market()),
    ("asian", terms(option_type="call", averaging="arithmetic", fixings="weekly"), market()),
    ("asian", terms(option_type="put", strike=1.02, averaging="geometric", fixings="monthly"), TERM_MARKET),
]


@pytest.mark.parametrize("template,t,m", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_mc_and_pde_agree(template, t, m):
    req = {"template": template, "terms": t, "market": m}
    mc = price(req, engine="mc", paths=60_000, seed=17)
    pde = price(req, engine="pde")
    tol = max(3 * mc.stderr, 1e-3 * t["notional"])
    assert abs(mc.value - pde.value) <= tol, (mc.value, mc.stderr, pde.value)


ANALYTIC = [c for c in CASES if c[0] in ("vanilla", "digital")] + [
    ("barrier", terms(option_type="call", strike=1.0, barrier=1.2, barrier_type="up_out", rebate=0.01,
                      monitoring="continuous"), market()),
    ("barrier", terms(option_type="put", strike=1.0, barrier=0.9, barrier_type="down_in", rebate=0.02,
                      monitoring="continuous"), TERM_MARKET),
    ("sharkfin", terms(option_type="call", barrier=1.15, participation=0.9, rebate=0.02, monitoring="expiry"),
     market()),
    ("asian", terms(option_type="call", averaging="geometric", fixings="weekly"), market()),
    ("asian", terms(option_type="put", strike=1.02, averaging="geometric", fixings="monthly"), TERM_MARKET),
]


@pytest.mark.parametrize("template,t,m", ANALYTIC, ids=[f"{c[0]}-{i}" for i, c in enumerate(ANALYTIC)])
def test_mc_converges_to_closed_form(template, t, m):
    req = {"template": template, "terms": t, "market": m}
    exact = price(req, engine="analytic").value
    mc = price(req, engine="mc", paths=100_000, seed=29)
    assert abs(mc.value - exact) <= max(3.5 * mc.stderr, 2e-4 * t["notional"]), (mc.value, mc.stderr, exact)
    if template != "asian":
        assert abs(price(req, engine="pde").value - exact) <= 1e-3 * t["notional"]


def test_mc_error_shrinks_like_one_over_root_n():
    req = {"template": "vanilla", "terms": terms(option_type="call", strike=1.0), "market": market()}
    small = price(req, engine="mc", paths=10_000, seed=1).stderr
    large = price(req, engine="mc", paths=160_000, seed=1).stderr
    assert large == pytest.approx(small / 4, rel=0.15)


def test_seasoned_asian_engines_agree():
    fixings = {"2025-03-10": 6050.0, "2025-03-17": 5980.0, "2025-03-24": 6120.0, "2025-03-31": 6200.0}
    req = {"template": "asian", "terms": terms(option_type="call", averaging="arithmetic", fixings="weekly"),
           "market": market(valuation_date="2025-04-02", spot=6150.0), "fixings": fixings}
    mc = price(req, engine="mc", paths=60_000, seed=3)
    pde = price(req, engine="pde")
    assert abs(mc.value - pde.value) <= max(3 * mc.stderr, 1e-3 * 1e6)
    with pytest.raises(Exception, match="fixings needed for the past fix dates 2025-03-10"):
        price({**req, "fixings": {"2025-03-31": 6200.0}}, engine="mc", paths=1000)


def test_template_geometric_asian_matches_the_analytic_library():
    from otclab.engines.analytic import geometric_asian_discrete
    from otclab.pricing.request import parse_request
    from otclab.templates.context import PricingContext

    req = parse_request({"template": "asian", "market": market(),
                         "terms": terms(option_type="call", averaging="geometric", fixings="weekly")})
    ctx = PricingContext(req.template, req.terms, req.market)
    bs = ctx.bs_inputs()
    lib = geometric_asian_discrete("call", bs["spot"], 1.0, ctx.t_diff[ctx.index["fix"]], bs["T"], bs["rate"],
                                   bs["div_yield"], bs["vol"], T_disc=bs["T_disc"])
    assert price(req, engine="analytic").value == pytest.approx(1e6 * float(lib), rel=1e-10)
