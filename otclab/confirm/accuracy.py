"""Score extractions against the truth of a generated corpus: per-field accuracy per route.

A field counts for a document when the truth states it: it is right when the extracted value
equals the truth (amounts and prices to 1e-6 relative, levels to 2e-4 absolute since a level
printed only as a price is known to the price's printed precision, rates to 1e-6, ids and names
in canonical form). A field the truth does not state but the extractor reports is counted
separately as spurious.
"""
from __future__ import annotations

from collections import defaultdict

from . import values as V
from .extract import FIELDS, LEVEL_FIELDS


def same_value(field: str, truth, got) -> bool:
    """Whether an extracted value matches the truth for ``field``."""
    if got is None:
        return truth is None
    if truth is None:
        return False
    if field == "trade_id":
        return V.id_key(str(truth)) == V.id_key(str(got))
    if field == "counterparty":
        return V.clean_text(str(truth)) == V.clean_text(str(got))
    if isinstance(truth, (int, float)):
        tol = 2e-4 if field in LEVEL_FIELDS else 1e-6 * max(1.0, abs(float(truth)))
        return abs(float(truth) - float(got)) <= tol
    return str(truth) == str(got)


def score(results: list[tuple[str, dict, dict]]) -> dict:
    """``results``: (route, truth fields, extracted fields) per document.

    Returns {route: {field: [right, stated, spurious]}} with an ``all`` row per route.
    """
    table: dict = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for route, truth, got in results:
        for f in FIELDS:
            t, g = truth.get(f), got.get(f)
            row = table[route][f]
            if t is not None:
                row[1] += 1
                row[0] += same_value(f, t, g)
            elif g is not None:
                row[2] += 1
    for route in list(table):
        tot = [0, 0, 0]
        for f in FIELDS:
            for k in range(3):
                tot[k] += table[route][f][k]
        table[route]["all"] = tot
    return table
