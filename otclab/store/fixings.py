"""Daily closes (fixings) per underlying: CSV import with checks, revisions, lookups.

CSV format (UTF-8, header row, comma-separated), either *long*::

    date,underlying,close
    2025-06-03,000905.SH,5612.34

or *wide* (one column per underlying, as exported by market-data terminals)::

    date,000905.SH,000852.SH
    2025-06-03,5612.34,6021.10

Every row is checked and the whole file is refused, nothing written, when any row is wrong,
each named by its row number (the header is row 1): a date that is not an SSE trading day, an
unknown underlying code, a missing value, a price that is not a positive finite number. A
close that differs from the stored one for the same date is refused unless ``revise`` is set
(then it is kept as a new revision; the newest revision is used, and lifecycle events name the
exact fixing row they read). A move from the previous close beyond ``max_move`` (default 10%)
is accepted and flagged.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, func, insert, select

from ..core.calendar import sse_calendar
from ..core.dates import Date
from ..core.errors import InputError
from ..templates.common import UNDERLYING_PATTERN
from . import tables as T
from .db import Store, now

MAX_MOVE = 0.10
_CODE = re.compile(UNDERLYING_PATTERN)


class FixingsError(InputError):
    """A fixings file cannot be imported as it is."""


@dataclass
class ImportResult:
    import_id: int | None
    rows: int
    added: int
    unchanged: int
    revised: int
    flagged: list = field(default_factory=list)    # (underlying, date, message)
    underlyings: list = field(default_factory=list)
    first: Date | None = None
    last: Date | None = None


def parse_csv(text: str, source: str = "fixings") -> list[tuple[int, str, Date, float]]:
    """(row number, underlying, date, close) of every value in the file, or ``FixingsError``."""
    cal = sse_calendar()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FixingsError("the file is empty; expected a header such as date,underlying,close", source) from None
    low = [h.lower() for h in header]
    if "date" not in low:
        raise FixingsError(f"row 1: the header needs a 'date' column; got {', '.join(header)}", source)
    long = "underlying" in low and "close" in low
    if not long:
        bad = [h for h in header if h.lower() != "date" and not _CODE.match(h)]
        if bad or len(header) < 2:
            raise FixingsError("row 1: expected date,underlying,close (long) or date,<code>,<code>... (wide); "
                               f"not an exchange code: {', '.join(bad) or '(none)'}", source)
    i_date = low.index("date")
    out, errors = [], []

    def err(row, msg):
        errors.append(f"row {row}: {msg}")

    for row_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        cells = [c.strip() for c in cells] + [""] * max(0, len(header) - len(cells))
        raw_date = cells[i_date]
        try:
            d = Date.fromisoformat(raw_date)
        except ValueError:
            err(row_no, f"date {raw_date!r} is not YYYY-MM-DD")
            continue
        if cal.last_year is not None and d.year > cal.last_year:
            err(row_no, f"{d} lies after the last year of known SSE holidays ({cal.last_year}); add the "
                        "year's holidays first")
            continue
        if not cal.is_trading_day(d):
            err(row_no, f"{d} is not an SSE trading day (weekend or exchange holiday)")
            continue
        pairs = ([(cells[low.index("underlying")], cells[low.index("close")])] if long
                 else [(h, cells[j]) for j, h in enumerate(header) if j != i_date])
        for code, value in pairs:
            if long and not _CODE.match(code):
                err(row_no, f"underlying {code!r} is not an exchange code like 000905.SH")
                continue
            if value == "":
                if long:
                    err(row_no, f"{code}: the close is missing")
                continue   # wide files leave a cell empty where an underlying has no close
            try:
                close = float(value.replace(",", ""))
            except ValueError:
                err(row_no, f"{code}: close {value!r} is not a number")
                continue
            if not math.isfinite(close) or close <= 0:
                err(row_no, f"{code}: close {value!r} must be a positive finite price")
                continue
            out.append((row_no, code, d, close))
        if len(errors) >= 20:
            break
    if errors:
        more = " (stopped after 20)" if len(errors) >= 20 else ""
        raise FixingsError(f"{len(errors)} bad row(s){more}, nothing imported: " + "; ".join(errors), source)
    if not out:
        raise FixingsError("no closes in the file", source)
    seen = {}
    for row_no, code, d, _ in out:
        if (code, d) in seen:
            raise FixingsError(f"row {row_no}: {code} on {d} also appears in row {seen[(code, d)]}; "
                               "nothing imported", source)
        seen[(code, d)] = row_no
    return out


def latest(conn, underlyings=None, after: Date | None = None, through: Date | None = None) -> dict:
    """{underlying: {date: (close, fixing id)}} of the newest revisions in (after, through]."""
    fx = T.fixings
    q = select(fx.c.underlying, fx.c.date, fx.c.close, fx.c.id, fx.c.revision)
    if underlyings is not None:
        q = q.where(fx.c.underlying.in_(sorted(set(underlyings))))
    if after is not None:
        q = q.where(fx.c.date > after)
    if through is not None:
        q = q.where(fx.c.date <= through)
    out: dict = defaultdict(dict)
    rev: dict = {}
    for u, d, c, i, r in conn.execute(q):
        if rev.get((u, d), -1) < r:
            rev[(u, d)] = r
            out[u][d] = (c, i)
    return dict(out)


def closes_on(conn, d: Date) -> dict[str, float]:
    """{underlying: close} on date ``d`` (newest revisions)."""
    import datetime as dt

    return {u: v[d][0] for u, v in latest(conn, after=d - dt.timedelta(days=1), through=d).items() if d in v}


def import_fixings(store: Store, text: str, source: str, revise: bool = False, max_move: float = MAX_MOVE,
                   imported_by: str | None = None) -> ImportResult:
    """Import a fixings CSV (see module docstring) in one transaction."""
    rows = parse_csv(text, source)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    codes = sorted({r[1] for r in rows})
    first, last = min(r[2] for r in rows), max(r[2] for r in rows)
    with store.begin() as conn:
        have = latest(conn, codes)
        fx = T.fixings
        revs = dict(((u, d), r) for u, d, r in conn.execute(
            select(fx.c.underlying, fx.c.date, func.max(fx.c.revision)).where(
                and_(fx.c.underlying.in_(codes), fx.c.date >= first, fx.c.date <= last))
            .group_by(fx.c.underlying, fx.c.date)))
        new, unchanged, revised, conflicts = [], 0, 0, []
        for row_no, code, d, close in rows:
            old = have.get(code, {}).get(d)
            if old is not None and abs(old[0] - close) <= 1e-9 * max(1.0, abs(close)):
                unchanged += 1
                continue
            if old is not None and not revise:
                conflicts.append(f"row {row_no}: {code} on {d} is stored as {old[0]:g}, the file says {close:g}")
                continue
            revision = revs.get((code, d), -1) + 1
            revised += old is not None
            new.append({"underlying": code, "date": d, "close": close, "revision": revision, "flag": None})
        if conflicts:
            raise FixingsError(f"{len(conflicts)} close(s) differ from the stored ones (import with --revise to "
                               f"keep the file's as new revisions), nothing imported: " + "; ".join(conflicts[:10]),
                               source)
        # moves against the previous close (stored or in this file)
        merged = {u: dict(v) for u, v in have.items()}
        for r in new:
            merged.setdefault(r["underlying"], {})[r["date"]] = (r["close"], None)
        flagged = []
        fresh = {(r["underlying"], r["date"]): r for r in new}
        for u, series in merged.items():
            days = sorted(series)
            for prev, d in zip(days, days[1:]):
                r = fresh.get((u, d))
                if r is None:
                    continue
                p = series[prev][0]
                move = r["close"] / p - 1.0
                if abs(move) > max_move:
                    r["flag"] = f"move of {move:+.1%} from the previous close {p:g} on {prev}"
                    flagged.append((u, d, r["flag"]))
        res = conn.execute(insert(T.fixing_imports).values(
            source=source, sha256=sha, rows=len(rows), added=len(new) - revised, revised=revised,
            flagged=len(flagged), imported_at=now(), imported_by=imported_by))
        import_id = res.inserted_primary_key[0]
        if new:
            conn.execute(insert(fx), [{**r, "import_id": import_id} for r in new])
    return ImportResult(import_id, len(rows), len(new) - revised, unchanged, revised, flagged, codes, first, last)


def to_csv(series: dict[str, dict[Date, float]]) -> str:
    """Long-format CSV of {underlying: {date: close}} (the import format)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["date", "underlying", "close"])
    for u in sorted(series):
        for d in sorted(series[u]):
            w.writerow([d.isoformat(), u, repr(float(series[u][d]))])
    return buf.getvalue()
