"""The contracts of the peer comparison, as otclab requests, and what a peer needs to know of them.

Every contract is an otclab request (levels as fractions of ``initial_price``, value for the whole
notional in currency). ``Setup`` reads back from otclab's own pricing context what the peers must
be given so that they price the same thing: the maturity and observation dates otclab derived
from the SSE calendar, the diffusion time ``T`` (ACT/365F or trading days / 243, per the market's
``time_basis``), the discount time ``T_disc`` (always ACT/365F), rate, dividend yield and vol.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REFERENCES = Path(__file__).resolve().parents[2] / "tests" / "data" / "pricing_references.json"

START = "2025-06-03"          # a 6-month trade over the National Day week: the two time bases differ
MARKET = {"valuation_date": START, "spot": 6000.0, "rate": 0.018, "div_yield": 0.01, "vol": 0.22}
TERMS = {"underlying": "000905.SH", "notional": 1_000_000.0, "initial_price": 6000.0,
         "start_date": START, "tenor_months": 6}


def request(template: str, basis: str, **terms) -> dict:
    """An otclab request on the common market, with diffusion time ``basis`` ("calendar"/"trading")."""
    return {"template": template, "terms": {**TERMS, **terms},
            "market": {**MARKET, "time_basis": basis}}


def snowball_request() -> dict:
    """The pricelib demo snowball of tests/data/pricing_references.json (trading-day time, 243/yr)."""
    return json.loads(REFERENCES.read_text(encoding="utf-8"))["snowball"]["request"]


def snowball_references() -> dict:
    return json.loads(REFERENCES.read_text(encoding="utf-8"))["snowball"]["values"]


@dataclass(frozen=True)
class Setup:
    """What otclab derived for a request; levels absolute (fraction × initial_price)."""
    valuation_date: date
    maturity: date
    schedules: dict            # name -> future observation dates (datetime.date)
    notional: float
    s0: float                  # initial_price
    spot: float                # absolute spot
    T: float                   # diffusion time to maturity, years of the market's basis
    T_disc: float              # ACT/365F years to maturity
    rate: float
    div_yield: float
    vol: float
    time_basis: str
    trading_days: int          # SSE trading days in (valuation_date, maturity]

    @property
    def units(self) -> float:
        """Units of the underlying the notional holds (notional / initial_price)."""
        return self.notional / self.s0

    def level(self, fraction: float) -> float:
        return fraction * self.s0


def setup(req: dict) -> Setup:
    """Read the dates, times and market inputs otclab itself uses for ``req``."""
    from otclab.pricing.request import parse_request
    from otclab.templates.context import PricingContext

    r = parse_request(req)
    ctx = PricingContext(r.template, r.terms, r.market, r.state, r.fixings)
    bs = ctx.bs_inputs()
    return Setup(valuation_date=ctx.valuation_date, maturity=ctx.maturity,
                 schedules={k: list(v) for k, v in ctx.future.items()}, notional=ctx.notional,
                 s0=ctx.s0, spot=ctx.spot, T=ctx.T, T_disc=ctx.T_disc, rate=ctx.r,
                 div_yield=ctx.q, vol=bs["vol"], time_basis=r.market.time_basis,
                 trading_days=len(ctx.cal.trading_days(ctx.valuation_date, ctx.maturity)))
