"""Term-sheet schemas: typed fields with defaults and range checks, and the validated ``Terms``.

A template declares its fields with ``Field``; ``Schema.validate`` turns a JSON term sheet into
``Terms`` or raises ``TermsError`` naming the field and what is allowed. Unknown fields are
refused (a misspelt ``ko_barier`` must not silently price a different trade).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ..core.dates import Date, parse_date
from ..core.errors import OtcError, TermsError

REQUIRED = object()
_TYPES = {"float", "int", "str", "bool", "date", "floats", "dict"}


@dataclass(frozen=True)
class Field:
    """One term-sheet field. ``type`` is one of float, int, str, bool, date, floats, dict.

    Levels are fractions of ``initial_price``; rates and coupons annual fractions.
    ``default=REQUIRED`` makes the field mandatory; ``nullable`` lets ``None`` mean "absent".
    """

    name: str
    type: str = "float"
    default: Any = REQUIRED
    doc: str = ""
    choices: tuple | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    nullable: bool = False

    def __post_init__(self):
        if self.type not in _TYPES:
            raise TypeError(f"Field {self.name}: type must be one of {sorted(_TYPES)}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def _range(self) -> str:
        parts = []
        for op, v in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt)):
            if v is not None:
                parts.append(f"{op} {v:g}")
        return " and ".join(parts)

    def convert(self, value, path: str):
        """The value converted to this field's type, or ``TermsError``."""
        if value is None:
            if self.nullable:
                return None
            raise TermsError(f"must not be null ({self.describe()})", path)
        t = self.type
        if t == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TermsError(f"expected a number; got {value!r}", path)
            out = float(value)
            if out != out or out in (float("inf"), float("-inf")):
                raise TermsError("must be finite", path)
        elif t == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                raise TermsError(f"expected a whole number; got {value!r}", path)
            out = int(value)
        elif t == "str":
            if not isinstance(value, str):
                raise TermsError(f"expected text; got {value!r}", path)
            out = value.strip()
        elif t == "bool":
            if not isinstance(value, bool):
                raise TermsError(f"expected true or false; got {value!r}", path)
            out = value
        elif t == "date":
            out = parse_date(value, path)
        elif t == "floats":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = [value]
            if not isinstance(value, (list, tuple)):
                raise TermsError(f"expected a list of numbers; got {value!r}", path)
            out = tuple(Field(self.name, "float", ge=self.ge, gt=self.gt, le=self.le, lt=self.lt)
                        .convert(v, f"{path}[{i}]") for i, v in enumerate(value))
            return out
        else:  # dict
            if not isinstance(value, dict):
                raise TermsError(f"expected an object; got {value!r}", path)
            out = dict(value)
        if self.choices is not None and out not in self.choices:
            raise TermsError(f"must be one of {', '.join(map(str, self.choices))}; got {value!r}", path)
        if isinstance(out, (int, float)) and not isinstance(out, bool):
            bad = ((self.ge is not None and out < self.ge) or (self.gt is not None and out <= self.gt)
                   or (self.le is not None and out > self.le) or (self.lt is not None and out >= self.lt))
            if bad:
                raise TermsError(f"must be {self._range()}; got {value!r}", path)
        return out

    def describe(self) -> str:
        bits = [self.type]
        if self.choices:
            bits.append("one of " + "|".join(map(str, self.choices)))
        if self._range():
            bits.append(self._range())
        if not self.required:
            bits.append(f"default {self.default!r}")
        return ", ".join(bits)


class Terms(dict):
    """Validated term sheet: a dict whose keys are also attributes (``terms.ko_barrier``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("Terms are read-only; use terms.replace(...)")

    def replace(self, **changes) -> "Terms":
        out = Terms(self)
        out.update(changes)
        return out

    def to_json(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, Date) else list(v) if isinstance(v, tuple) else v)
                for k, v in self.items()}


class Schema:
    """An ordered set of fields plus an optional cross-field ``check(terms)``."""

    def __init__(self, fields, check=None, name: str = "terms"):
        self.fields = {f.name: f for f in fields}
        self.check = check
        self.name = name

    def validate(self, raw, prefix: str = "terms") -> Terms:
        if not isinstance(raw, dict):
            raise TermsError("must be a JSON object of term-sheet fields", prefix)
        unknown = [k for k in raw if k not in self.fields]
        if unknown:
            k = unknown[0]
            near = difflib.get_close_matches(k, self.fields, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise TermsError(f"unknown field for {self.name}{hint} Allowed: {', '.join(self.fields)}",
                             f"{prefix}.{k}")
        out = {}
        for name, f in self.fields.items():
            if name in raw:
                out[name] = f.convert(raw[name], f"{prefix}.{name}")
            elif f.required:
                raise TermsError(f"is required ({f.describe()}){': ' + f.doc if f.doc else ''}",
                                 f"{prefix}.{name}")
            else:
                out[name] = f.default
        terms = Terms(out)
        if self.check is not None:
            try:
                result = self.check(terms)
            except OtcError:
                raise
            if isinstance(result, dict):
                terms = Terms({**terms, **result})
        return terms

    def restore(self, stored: dict) -> Terms:
        """``Terms`` from the JSON of terms this schema validated before (``Terms.to_json``): dates
        and lists converted back, no checks repeated (the store validated them at booking)."""
        out = {}
        for name, f in self.fields.items():
            v = stored.get(name, None if f.required else f.default)
            if v is not None and f.type == "date":
                v = parse_date(v, name)
            elif v is not None and f.type == "floats":
                v = tuple(v)
            out[name] = v
        return Terms(out)

    def describe(self) -> list[dict]:
        return [{"name": f.name, "type": f.type, "required": f.required,
                 "default": None if f.required else f.default, "choices": list(f.choices) if f.choices else None,
                 "range": f._range() or None, "doc": f.doc} for f in self.fields.values()]
