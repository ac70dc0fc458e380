"""Canonical JSON bytes (sorted keys, no spaces, UTF-8) so the same record always hashes the same."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import InputError


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
