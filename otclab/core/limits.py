"""Input limits: every size and count the platform accepts, checked at its boundary.

Each limit has a default and, where a desk may need another, an environment variable; going past
one is a user error naming the field (docs/limits.md lists them all with what happens past each).
"""
from __future__ import annotations

import math
import os

from .errors import InputError


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        raise InputError(f"must be a whole number; got {os.environ.get(name)!r}", name) from None


def max_paths() -> int:
    """Monte Carlo paths a request or a book may ask for (``OTCLAB_MAX_PATHS``, default 50 million)."""
    return _env_int("OTCLAB_MAX_PATHS", 50_000_000)


def max_contracts() -> int:
    """Contracts in one book file (``OTCLAB_MAX_CONTRACTS``, default 200,000)."""
    return _env_int("OTCLAB_MAX_CONTRACTS", 200_000)


MAX_SPOT_STEPS = 201
MAX_VOL_STEPS = 101
MAX_SPOT_RANGE = 0.95      # a spot shift of -100% or below is no market
MAX_VOL_RANGE = 0.5


def check_paths(paths, field: str = "paths") -> int:
    """``paths`` if it is a whole number in [2, max_paths()], else ``InputError``."""
    if isinstance(paths, bool) or not isinstance(paths, (int, float)) or paths != int(paths):
        raise InputError(f"must be a whole number; got {paths!r}", field)
    paths = int(paths)
    if paths < 2:
        raise InputError(f"must be at least 2; got {paths}", field)
    cap = max_paths()
    if paths > cap:
        raise InputError(f"must be at most {cap:,} (OTCLAB_MAX_PATHS); got {paths:,}", field)
    return paths


def check_range(value, lo: float, hi: float, field: str, lo_open: bool = False) -> float:
    """``value`` if finite and in [lo, hi] (or (lo, hi] with ``lo_open``), else ``InputError``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        raise InputError(f"must be in {'(' if lo_open else '['}{lo:g}, {hi:g}]; got {value!r}", field)
    return float(value)


def check_count(value, lo: int, hi: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InputError(f"must be between {lo} and {hi}; got {value!r}", field)
    return value


def check_out(out) -> None:
    """Refuse an output file whose folder is missing or not writable, before any work is done."""
    import os
    from pathlib import Path

    if out is None:
        return
    folder = Path(out).expanduser().resolve().parent
    if not folder.is_dir():
        raise InputError(f"the folder {folder} does not exist", "out")
    if not os.access(folder, os.W_OK):
        raise InputError(f"cannot write into {folder}", "out")


def csv_safe(value):
    """A text cell that a spreadsheet will not run as a formula (=, +, -, @, tab or CR first)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
