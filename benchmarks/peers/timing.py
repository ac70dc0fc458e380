"""Median wall time of a pricing call after one warm-up call."""
from __future__ import annotations

import statistics
import time


def measure(fn, repeats: int):
    """Call ``fn`` once to warm up, then ``repeats`` times; return (last result, median seconds).

    ``fn`` must build its own objects on every call: QuantLib instruments cache their NPV and
    pricelib's MC engines reuse their paths, so a reused object would time a cache lookup.
    """
    fn()
    seconds = []
    result = None
    for _ in range(max(int(repeats), 1)):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    return result, statistics.median(seconds)
