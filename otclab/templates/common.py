"""Fields every template shares, and their cross-field checks."""
from __future__ import annotations

from ..core.errors import TermsError
from .schema import Field

UNDERLYING_PATTERN = r"^\d{6}\.(SH|SZ|CSI|BJ)$"

COMMON_FIELDS = (
    Field("underlying", "str", doc="exchange code, e.g. 000905.SH"),
    Field("currency", "str", "CNY", choices=("CNY", "USD", "HKD")),
    Field("notional", "float", gt=0, doc="currency amount; value is for the whole notional"),
    Field("initial_price", "float", gt=0, doc="S0 in index points; levels are fractions of it"),
    Field("start_date", "date", doc="trade start (YYYY-MM-DD)"),
    Field("tenor_months", "int", None, ge=1, le=120, nullable=True, doc="tenor in months (or maturity_date)"),
    Field("maturity_date", "date", None, nullable=True, doc="maturity (or tenor_months)"),
)


def check_common(terms) -> None:
    import re

    if not re.match(UNDERLYING_PATTERN, terms.underlying):
        raise TermsError(f"expected an exchange code like 000905.SH, 600519.SH, 932000.CSI; "
                         f"got {terms.underlying!r}", "terms.underlying")
    if terms.tenor_months is None and terms.maturity_date is None:
        raise TermsError("one of tenor_months or maturity_date is required", "terms.tenor_months")
    if terms.maturity_date is not None and terms.maturity_date <= terms.start_date:
        raise TermsError(f"must be after start_date {terms.start_date}; got {terms.maturity_date}",
                         "terms.maturity_date")
