"""The closed-form trades of a book priced together (``book/closed_form.py``) equal the
one-by-one analytic path (``pricing.price``): value and every Greek, on term vols, a smile and
flat markets, fresh and seasoned, and across a cached refresh on a moved market."""
from __future__ import annotations

import dataclasses
import warnings

import pytest

from otclab.book.closed_form import FAMILIES, batchable, shipped_version
from otclab.book.pricing import compile_book, price_book
from otclab.book.synthetic import synthetic_book, synthetic_market
from otclab.core.calendar import sse_calendar
from otclab.core.dates import parse_date
from otclab.market.snapshot import MarketSnapshot
from otclab.pricing import price
from otclab.pricing.price import GREEKS
from otclab.templates.loader import get_template

FAMILY_KINDS = ("vanilla", "digital", "sharkfin", "asian", "barrier")


def _market(smile: bool = False, flat: bool = False) -> MarketSnapshot:
    m = synthetic_market()
    if smile:
        m["vols"]["000905.SH"] = {"tenors": ["1M", "6M", "1Y", "2Y"], "moneyness": [0.8, 0.9, 1.0, 1.1, 1.2],
                                  "vols": [[0.30, 0.26, 0.23, 0.22, 0.22], [0.28, 0.25, 0.22, 0.21, 0.21],
                                           [0.27, 0.24, 0.21, 0.20, 0.205], [0.26, 0.23, 0.205, 0.20, 0.20]]}
    if flat:
        m["rate"] = 0.018
        m["div_yields"] = {u: 0.01 for u in m["spots"]}
        m["vols"] = {u: 0.22 for u in m["spots"]}
    return MarketSnapshot.from_dict(m)


def _extra() -> list[dict]:
    """Branches a synthetic book rarely holds: a knocked-in barrier (a vanilla now), a continuous
    barrier (exact on a flat market), a seasoned geometric Asian with its fixings."""
    cal = sse_calendar()
    val = parse_date(synthetic_market()["valuation_date"])
    start = cal.add_trading_days(val, -25)
    common = {"underlying": "000905.SH", "notional": 1e7, "initial_price": 5500.0, "start_date": val.isoformat()}
    barrier = {**common, "tenor_months": 6, "option_type": "call", "strike": 1.0, "barrier": 1.2,
               "barrier_type": "up_out", "rebate": 0.01, "monitoring": "continuous"}
    asian = {**common, "start_date": start.isoformat(), "tenor_months": 3, "option_type": "put", "strike": 1.02,
             "averaging": "geometric", "fixings": "weekly"}
    fix = {d.isoformat(): 5500.0 * (1 + 0.01 * k) for k, d in enumerate(cal.trading_days(start, val)) if d <= val}
    return [{"id": "B-hit", "template": "barrier", "terms": {**barrier, "barrier_type": "up_in"},
             "state": {"barrier_hit": True}},
            {"id": "B-cont", "template": "barrier", "terms": {**barrier, "barrier_type": "down_out", "barrier": 0.85},
             "state": {"barrier_hit": False}},
            {"id": "A-seasoned", "template": "asian", "terms": asian, "fixings": fix}]


def _book(n: int = 120, seed: int = 11) -> list[dict]:
    book = [c for c in synthetic_book(n, seed=seed) if c["template"] in FAMILY_KINDS]
    for c in book:          # the closed forms' terms (the others go to Monte Carlo)
        if c["template"] in ("sharkfin", "barrier"):
            c["terms"]["monitoring"] = "expiry" if c["template"] == "sharkfin" else "continuous"
        if c["template"] == "asian":
            c["terms"]["averaging"] = "geometric"
    return book + _extra()


def _one_by_one(c: dict, snap: MarketSnapshot) -> dict:
    req = {"template": c["template"], "terms": c["terms"], "market": snap,
           **{k: c[k] for k in ("state", "fixings") if k in c}}
    r = price(req, engine="analytic", greeks=True, device="cpu")
    return {"value": r.value, "vol": r.details["vol"], "rate": r.details["rate"], **r.greeks}


def _check(df, book, snap, expect_batched: int):
    assert df.attrs["timing"]["closed"] == expect_batched
    worst = 0.0
    for c, (_, row) in zip(book, df.iterrows()):
        assert row["engine"] == "analytic", (c["id"], row.get("error"))
        ref = _one_by_one(c, snap)
        N = c["terms"]["notional"]
        for k in ("value", *GREEKS):
            worst = max(worst, abs(row[k] - ref[k]) / N)
            assert row[k] == pytest.approx(ref[k], rel=1e-10, abs=1e-12 * N), (c["id"], k)
        assert row["vol"] == pytest.approx(ref["vol"], rel=1e-14) and row["rate"] == pytest.approx(ref["rate"], rel=1e-14)
        assert all(row[f"{k}_se"] is None for k in GREEKS)
    return worst


@pytest.mark.parametrize("smile,flat", [(False, False), (True, False), (False, True)])
def test_batched_closed_forms_equal_one_by_one(smile, flat):
    snap = _market(smile, flat)
    book = _book()
    if not flat:        # a continuous barrier is exact only on a flat market: Monte Carlo here
        book = [c for c in book if not (c["template"] == "barrier" and not c.get("state", {}).get("barrier_hit"))]
    closed: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile_book(book, snap, engine="auto", closed=closed)
    assert len(closed) == len(book)
    n_batched = sum(batchable(ctx) for ctx in closed.values())
    assert n_batched >= len(book) - 3            # those expiring tomorrow go one by one
    df = price_book(book, snap, paths=200, engine="auto", device="cpu")
    _check(df, book, snap, n_batched)


def test_cached_refresh_on_a_moved_market_equals_one_by_one():
    snap = _market(smile=True)
    book = [c for c in _book(80, seed=5) if c["template"] != "barrier" or c.get("state", {}).get("barrier_hit")]
    cache: dict = {}
    price_book(book, snap, paths=200, engine="auto", device="cpu", cache=cache)
    moved = MarketSnapshot.from_dict({**snap.to_dict(), "spots": {u: s * (1.004 if k % 2 else 0.995)
                                                                  for k, (u, s) in enumerate(snap.spots.items())}})
    moved = moved.bumped(vol_abs=0.005)
    df = price_book(book, moved, paths=200, engine="auto", device="cpu", cache=cache)
    _check(df, book, moved, df.attrs["timing"]["closed"])
    assert df.attrs["timing"]["closed"] >= len(book) - 3


def test_only_the_shipped_template_version_is_batched():
    snap = _market()
    vanilla = next(c for c in _book() if c["template"] == "vanilla")
    tpl = get_template("vanilla")
    assert tpl.version == shipped_version("vanilla")
    other = dataclasses.replace(tpl, version="0123456789ab")    # an edited notebook, another version
    book = [vanilla, {**vanilla, "id": "other", "template": other}]
    df = price_book(book, snap, paths=200, engine="auto", device="cpu")
    assert df.attrs["timing"]["closed"] == 1
    assert df["engine"].tolist() == ["analytic", "analytic"]
    assert df["value"][0] == pytest.approx(df["value"][1], rel=1e-14)
    assert df["vega"][0] == pytest.approx(df["vega"][1], rel=1e-12)


def test_every_family_transcribes_a_shipped_template_with_a_closed_form():
    for name in FAMILIES:
        assert shipped_version(name) is not None
        assert get_template(name).has_analytic


def test_without_greeks_the_values_equal_one_by_one():
    snap = _market()
    book = [c for c in _book(60, seed=2) if c["template"] != "barrier" or c.get("state", {}).get("barrier_hit")]
    df = price_book(book, snap, paths=200, engine="auto", device="cpu", greeks=False)
    assert df.attrs["timing"]["closed"] >= len(book) - 3
    for c, v in zip(book, df["value"]):
        assert v == pytest.approx(_one_by_one(c, snap)["value"], rel=1e-10, abs=1e-12 * c["terms"]["notional"])
