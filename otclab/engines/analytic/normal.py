"""Standard normal CDF and density for NumPy or CuPy arrays.

The one place in the analytic engines that looks at which array module it is given: the CDF
comes from ``scipy.special.ndtr`` for NumPy and ``cupyx.scipy.special.ndtr`` for CuPy (imported
only when a CuPy array arrives, so CPU installs never need CuPy). ``ndtr`` keeps full relative
accuracy in the lower tail, which ``0.5 * erfc`` written by hand would also do but ``1 - ...``
would not.
"""
from __future__ import annotations

import math

from otclab.core.backend import xp_of

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def ncdf(x):
    """Standard normal cumulative distribution function N(x), element-wise."""
    xp = xp_of(x)
    if xp.__name__ == "cupy":
        from cupyx.scipy.special import ndtr  # noqa: PLC0415 - optional GPU dependency
    else:
        from scipy.special import ndtr  # noqa: PLC0415 - keeps import of this module light
    return ndtr(xp.asarray(x))


def npdf(x):
    """Standard normal density n(x) = exp(-x^2/2) / sqrt(2 pi), element-wise."""
    xp = xp_of(x)
    x = xp.asarray(x)
    return _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
