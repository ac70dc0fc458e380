"""Helpers the store commands share: the ``--db`` option, reading JSON input, printing tables."""
from __future__ import annotations

import json
import math
import sys
from typing import Optional

import typer

from ..core.errors import InputError

DB_HELP = "database URL (default: OTCLAB_DB_URL, else sqlite in OTCLAB_DATA or ~/.otclab)"


def db_option() -> Optional[str]:
    return typer.Option(None, "--db", help=DB_HELP)


def get_store(db: Optional[str]):
    from ..store.db import open_store

    return open_store(db)


def read_json(source: str, what: str):
    """JSON from a file path or ``-`` (standard input)."""
    if source == "-":
        text = sys.stdin.read()
        if not text.strip():
            raise InputError("nothing on standard input", what)
    else:
        try:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            raise InputError(f"cannot read {source}: {e.strerror}", what) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{source} is not valid JSON: {e}", what) from None


def read_text(source: str, what: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        with open(source, encoding="utf-8") as fh:
            return fh.read()
    except OSError as e:
        raise InputError(f"cannot read {source}: {e.strerror}", what) from None
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text", what) from None


def dump(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=1, default=_default))


def _default(o):
    import datetime as dt

    import numpy as np

    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, set):
        return sorted(o)
    return str(o)


def money(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:,.0f}"


def table(df, floats: str = "{:,.0f}", formats: dict | None = None) -> str:
    """A plain fixed-width table, text left and numbers right (readable piped to head or grep);
    ``formats`` gives some columns a format of their own."""
    if df is None or len(df) == 0:
        return "(none)"
    import numbers

    formats = {"delta % notional": "{:,.2f}", **(formats or {})}

    def fmt(v, f=floats):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, numbers.Integral):
            return str(v)
        if isinstance(v, numbers.Real):
            return f.format(v)
        return str(v)

    cols = list(df.columns)
    cells = [[fmt(v, formats.get(c, floats)) for v in df[c].tolist()] for c in cols]
    numeric = [all(isinstance(v, numbers.Number) and not isinstance(v, bool) or v is None
                   for v in df[c].tolist()) for c in cols]
    widths = [max(len(str(c)), *(len(x) for x in col)) for c, col in zip(cols, cells)]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line([str(c) for c in cols])]
    out += [line([col[i] for col in cells]) for i in range(len(df))]
    return "\n".join(out)


def user() -> str | None:
    import getpass
    import os

    return os.environ.get("OTCLAB_USER") or getpass.getuser()
