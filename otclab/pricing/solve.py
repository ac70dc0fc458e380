"""Solve a term for a target value: fair coupon, fair participation, strike, ...

Values are re-computed with the same engine and the same random numbers (common seed), so the
value is a deterministic function of the term. Secant steps from two points; a term the value is
linear in (a snowball's coupon) converges in one step, checked by a third evaluation.
"""
from __future__ import annotations

from ..core.errors import EngineError, TermsError
from .price import price
from .request import parse_request


def solve(request, field: str, target: float | None = None, x0: float | None = None,
          x1: float | None = None, tol: float = 1e-9, max_iter: int = 30, **engine_kw) -> dict:
    """The value of term ``field`` that makes the trade worth ``target`` (currency).

    ``target`` defaults to the template's ``FAIR_TARGET(terms)`` × notional (par for a note,
    zero for an option form), else zero.
    """
    req = parse_request(request)
    if field not in req.template.schema.fields:
        raise TermsError(f"cannot solve for unknown field; {req.template.name} has "
                         f"{', '.join(req.template.schema.fields)}", f"solve.{field}")
    if target is None:
        fair = req.template.get("FAIR_TARGET")
        target = (fair(req.terms) if callable(fair) else 0.0) * req.terms.notional
    start = req.raw_terms.get(field, req.terms.get(field))
    a = float(x0 if x0 is not None else (start if isinstance(start, (int, float)) and start else 0.05))
    b = float(x1 if x1 is not None else a * 1.5 + 0.01)

    def f(x):
        return price(req.with_terms(**{field: x}), **engine_kw).value - target

    fa, fb = f(a), f(b)
    evals = 2
    for _ in range(max_iter):
        if fb == fa:
            raise EngineError(f"the value does not depend on {field}; cannot solve", f"solve.{field}")
        c = b - fb * (b - a) / (fb - fa)
        fc = f(c)
        evals += 1
        a, fa, b, fb = b, fb, c, fc
        if abs(fc) <= tol * max(1.0, abs(req.terms.notional)):
            break
    else:
        raise EngineError(f"no solution for {field} within {max_iter} iterations (last {b:.6g})",
                          f"solve.{field}")
    return {"field": field, "value": b, "target": target, "residual": fb, "evaluations": evals}
