"""The structured quote request the parser produces (the public contract of the RFQ bot)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

# Public field names, in the order they are reported.
FIELDS = (
    "underlying", "structure", "option_type", "tenor_months", "strike", "ko_barrier", "ki_barrier",
    "barrier", "coupon_barrier", "coupon", "participation", "rebate", "notional", "lockup_months",
    "ko_step_down", "ko_frequency", "solve_for",
)


@dataclass
class QuoteRequest:
    """One request for a quote, as stated in a chat message.

    Levels (strike, barriers) are fractions of the initial price; coupon, participation, rebate
    and step-down are fractions (annual for the coupon); notional is CNY; tenor and lock-up are
    months. ``spans[field]`` is the [start, end) character range in the ORIGINAL message the value
    came from; ``confidence[field]`` is 1.0 for rule matches and the model's probability for
    values found by the trained NER. Unset fields are None and left out of ``to_dict()``.
    """

    underlying: str | None = None
    structure: str | None = None  # snowball | phoenix | sharkfin | vanilla | digital | asian | barrier
    option_type: str | None = None  # call | put
    tenor_months: float | None = None
    strike: float | None = None
    ko_barrier: float | None = None
    ki_barrier: float | None = None
    barrier: float | None = None
    coupon_barrier: float | None = None
    coupon: float | None = None
    participation: float | None = None
    rebate: float | None = None
    notional: float | None = None
    lockup_months: float | None = None
    ko_step_down: float | None = None
    ko_frequency: str | None = None  # monthly | daily
    solve_for: str | None = None  # coupon | price | participation | vol | strike
    spans: dict[str, list[int]] = field(default_factory=dict, compare=False)
    confidence: dict[str, float] = field(default_factory=dict, compare=False)

    def to_dict(self, with_meta: bool = False) -> dict:
        """The set fields by their public names; with ``with_meta`` also spans and confidence."""
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name in FIELDS and getattr(self, f.name) is not None}
        if with_meta:
            out["spans"] = {k: list(v) for k, v in self.spans.items()}
            out["confidence"] = dict(self.confidence)
        return out
