"""Property-based fuzzing of the pricing boundaries: a request, a market, a book. Valid inputs are
mutated with random JSON values (NaN and infinities, wrong types, huge and negative numbers,
unknown keys); every answer must be a clear ``OtcError`` or a result whose every number is finite,
never another exception. Derandomized (the same examples every run); examples per test:
``test_request`` 400, ``test_market`` 400, ``test_book`` 150."""
import math

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from otclab.core.errors import OtcError

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["2025-06-03", "2024-02-30", "1Y", "3M", "", "000905.SH", "call", "up_out", "note"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=8)

MARKET = {"valuation_date": "2025-06-03", "spot": 5600.0, "rate": 0.016, "div_yield": 0.03, "vol": 0.22}
TERMS = {
    "vanilla": {"option_type": "call", "strike": 1.0},
    "digital": {"option_type": "put", "strike": 0.95, "payout": 0.05},
    "barrier": {"option_type": "call", "strike": 1.0, "barrier": 1.2, "barrier_type": "up_out", "monitoring": "daily"},
    "snowball": {"ko_barrier": 1.03, "ki_barrier": 0.75, "coupon": 0.15, "lockup_months": 3},
}
COMMON = {"underlying": "000905.SH", "notional": 1e6, "initial_price": 5600.0, "start_date": "2025-06-03",
          "tenor_months": 6}
FUZZ = settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))


def finite(x) -> bool:
    return x is None or (isinstance(x, (int, float)) and math.isfinite(x))


NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(min_value=-2.0, max_value=3.0), st.integers(min_value=-5, max_value=10**9))


@st.composite
def mutated(draw, base: dict):
    """``base`` with up to two values replaced (by a value of the same kind, mostly: numbers by
    numbers across their whole range, NaN and infinities included) and sometimes an unknown key."""
    out = dict(base)
    n = draw(st.sampled_from([0, 0, 1, 1, 1, 2]))
    for key in draw(st.lists(st.sampled_from(sorted(base)), min_size=n, max_size=n, unique=True)):
        same_kind = isinstance(base[key], (int, float)) and not isinstance(base[key], bool)
        out[key] = draw(NUMBERS if same_kind and draw(st.integers(0, 3)) else VALUES)
    if draw(st.integers(0, 5)) == 0:
        out[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
    return out


@FUZZ
@given(template=st.sampled_from(sorted(TERMS) * 3 + ["snowbal", "../x.ipynb", "payoffs/vanilla.ipynb"]),
       data=st.data(), engine=st.sampled_from(["auto", "mc", "pde", "analytic"]))
def test_request(template, data, engine):
    from otclab.pricing import price

    base_terms = {**COMMON, **TERMS.get(template, TERMS["vanilla"])}
    req = {"template": template, "terms": data.draw(mutated(base_terms)), "market": data.draw(mutated(MARKET))}
    try:
        r = price(req, engine=engine, paths=200, greeks=data.draw(st.booleans()), n_x=101, steps_per_day=1)
    except OtcError as e:
        event(f"refused: {type(e).__name__}")
        return
    event("priced")
    assert finite(r.value) and all(finite(v) for v in r.greeks.values()) and finite(r.stderr)


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_market(data):
    from otclab.market.snapshot import MarketSnapshot

    full = {**MARKET, "vols": {"000905.SH": {"tenors": ["1M", "1Y"], "vols": [0.2, 0.22]}},
            "div_yields": {"000905.SH": {"tenors": ["6M", "1Y"], "rates": [0.01, 0.02]}}}
    m = data.draw(mutated(full))
    try:
        snap = MarketSnapshot.from_dict(m)
    except OtcError:
        event("refused")
        return
    event("accepted")
    assert all(math.isfinite(v) and v > 0 for v in snap.spots.values())
    for u in list(snap.spots):
        assert math.isfinite(float(snap.vol(u).vol(1.0, 1.0))) and math.isfinite(float(snap.div_yield(u).zero(1.0)))
    assert math.isfinite(float(snap.rate.zero(1.0)))


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), n=st.integers(min_value=1, max_value=3))
def test_book(data, n):
    from otclab.book import price_book

    book = []
    for i in range(n):
        tpl = data.draw(st.sampled_from(sorted(TERMS)))
        c = {"id": data.draw(st.sampled_from([f"T{i}"] * 6 + ["T0", 7, None, ""])), "template": tpl,
             "terms": data.draw(mutated({**COMMON, **TERMS[tpl]}))}
        book.append(data.draw(mutated(c)) if data.draw(st.booleans()) else c)
    try:
        df = price_book(book, data.draw(mutated(MARKET)), paths=64, greeks=data.draw(st.booleans()), device="cpu",
                        errors=data.draw(st.sampled_from(["raise", "record"])))
    except OtcError:
        event("refused")
        return
    event("priced")
    for col in ("value", "delta", "vega", "theta", "rho"):
        if col in df.columns:
            ok = df[df["engine"] != "failed"][col]
            assert ok.map(lambda v: v is None or math.isfinite(v)).all(), col
