"""Field-level precision / recall / F1 and exact-message accuracy of parsed quote requests.

Within a message, predicted and expected requests are paired to maximise the number of agreeing
fields (Hungarian assignment); a field counts as a true positive when both have it with the same
value (numbers within 1e-6), a false positive when only the prediction has it (or a different
value), a false negative when only the expectation has it. Unpaired requests count all their
fields. A message is exact when its requests equal the expected ones as a multiset.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    return a == b


def _agree(p: dict, e: dict) -> int:
    return sum(1 for k, v in p.items() if k in e and _same(v, e[k]))


@dataclass
class Score:
    """Counts per field; ``report()`` gives P/R/F1 per field and overall."""

    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    messages: int = 0
    exact: int = 0

    def add(self, predicted: list[dict], expected: list[dict]) -> bool:
        """Score one message; returns whether it was parsed exactly."""
        self.messages += 1
        pairs = []
        if predicted and expected:
            agree = np.array([[_agree(p, e) for e in expected] for p in predicted])
            rows, cols = linear_sum_assignment(-agree)
            pairs = list(zip(rows, cols))
        used_p = {i for i, _ in pairs}
        used_e = {j for _, j in pairs}
        for i, j in pairs:
            p, e = predicted[i], expected[j]
            for k in set(p) | set(e):
                if k in p and k in e and _same(p[k], e[k]):
                    self.tp[k] += 1
                else:
                    if k in p:
                        self.fp[k] += 1
                    if k in e:
                        self.fn[k] += 1
        for i, p in enumerate(predicted):
            if i not in used_p:
                self.fp.update(p.keys())
        for j, e in enumerate(expected):
            if j not in used_e:
                self.fn.update(e.keys())
        exact = len(predicted) == len(expected) and all(
            set(predicted[i]) == set(expected[j]) and _agree(predicted[i], expected[j]) == len(expected[j])
            for i, j in pairs)
        self.exact += exact
        return exact

    @staticmethod
    def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def overall(self) -> tuple[float, float, float]:
        """Micro-averaged precision, recall, F1 over all fields."""
        return self._prf(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))

    @property
    def accuracy(self) -> float:
        return self.exact / self.messages if self.messages else 1.0

    def rows(self) -> list[tuple[str, int, int, int, float, float, float]]:
        """(field, tp, fp, fn, precision, recall, f1) per field, sorted by name."""
        keys = sorted(set(self.tp) | set(self.fp) | set(self.fn))
        return [(k, self.tp[k], self.fp[k], self.fn[k], *self._prf(self.tp[k], self.fp[k], self.fn[k])) for k in keys]
