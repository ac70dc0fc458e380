"""Canonical JSON bytes (sorted keys, no spaces, UTF-8) so the same record always hashes the same,
and the one strict reader of JSON that comes from outside (``load_json``)."""
from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from .errors import InputError, OtcError


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no insignificant whitespace."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def b64e(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def b64d(text: str, field: str) -> bytes:
    """Strict base64 decode: refuses non-alphabet characters and non-canonical encodings.

    Canonical check: re-encoding must give back the same text, so two different strings never
    decode to the same bytes (a flipped padding bit is detected, not ignored).
    """
    if not isinstance(text, str):
        raise InputError("expected a base64 string", field=field)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InputError("not valid base64", field=field) from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise InputError("non-canonical base64", field=field)
    return raw


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _depth(obj: Any) -> int:
    depth, level = 0, [obj]
    while level:
        depth += 1
        level = [c for o in level for c in (o.values() if isinstance(o, dict) else o if isinstance(o, list) else ())]
    return depth


def load_json(data: bytes | str, field: str, error: type[OtcError] = InputError, max_depth: int | None = None) -> Any:
    """Parse JSON from outside strictly: UTF-8 only, no NaN/Infinity or numbers that overflow to
    them, no duplicate keys, nesting at most ``max_depth`` (default: the ``json_depth`` limit).
    Any failure is one ``error`` naming ``field``; never another exception."""
    from .limits import limit

    max_depth = max_depth or limit("json_depth")
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        if not isinstance(text, str):
            raise ValueError("expected JSON text")
        obj = json.loads(text, parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=_unique)
    except UnicodeDecodeError:
        raise error("not UTF-8 text", field=field) from None
    except RecursionError:
        raise error(f"JSON nested more than {max_depth} levels deep", field=field) from None
    except ValueError as exc:
        raise error(f"not valid JSON ({exc})", field=field) from None
    if _depth(obj) > max_depth:
        raise error(f"JSON nested more than {max_depth} levels deep", field=field)
    return obj
