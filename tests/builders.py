"""Small builders for pricing requests in tests (importable: tests/ is on pythonpath)."""


def market(**kw) -> dict:
    base = {"valuation_date": "2025-03-03", "spot": 6000.0, "rate": 0.018, "div_yield": 0.01, "vol": 0.22,
            "time_basis": "trading"}
    base.update(kw)
    return base


def terms(**kw) -> dict:
    base = {"underlying": "000905.SH", "notional": 1_000_000.0, "initial_price": 6000.0,
            "start_date": "2025-03-03", "tenor_months": 6}
    base.update(kw)
    return base
