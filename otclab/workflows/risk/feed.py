"""Where the refresh gets its market: the market-data adapter.

An adapter is any object with ``latest() -> (MarketSnapshot, market_time, source)``: the newest
market it has, the time it describes (timezone-aware) and a name for it (a file, a feed's id).
The default, ``FolderFeed``, reads a folder where snapshots are dropped:

- ``*.json``: a market snapshot in the pricing request's form (``MarketSnapshot.from_dict``);
  an optional top-level ``"as_of": "2025-12-31T10:30:00+08:00"`` gives the market time;
- ``*.csv``: spots only, ``underlying,spot`` rows (header required), applied to the newest JSON
  snapshot of the folder (or the store's latest market) for curves and vols; its market time is
  an ``as_of`` column if present, else the file's modification time.

The newest file (by market time) wins. A file being written is skipped until its size is stable
for ``settle`` seconds; a file that cannot be read is reported, not silently ignored. A real
feed (Wind, a vendor's socket) is another class with the same ``latest()``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import InputError, MarketError
from ...market.snapshot import MarketSnapshot

CST = dt.timezone(dt.timedelta(hours=8))


class FeedError(InputError):
    """The market feed has nothing usable."""


def parse_time(v, where: str) -> dt.datetime:
    """An ISO time; without a zone it is China time (+08:00)."""
    try:
        t = dt.datetime.fromisoformat(str(v))
    except ValueError:
        raise FeedError(f"as_of must be an ISO time such as 2025-12-31T10:30:00+08:00; got {v!r}", where) from None
    return t if t.tzinfo else t.replace(tzinfo=CST)


@dataclass
class FolderFeed:
    folder: Path
    settle: float = 1.0
    base: MarketSnapshot | None = None     # curves and vols for CSV spot files when no JSON exists

    def _files(self):
        folder = Path(self.folder)
        if not folder.is_dir():
            raise FeedError(f"no market folder {folder}", "feed")
        now = time.time()
        out = []
        self.young = []
        for p in folder.iterdir():
            if p.suffix.lower() not in (".json", ".csv") or p.name.startswith("."):
                continue
            st = p.stat()
            if now - st.st_mtime < self.settle:
                self.young.append(p.name)      # may still be being written: the next refresh reads it
                continue
            out.append(p)
        return out

    def _json(self, p: Path):
        try:
            d = json.loads(p.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FeedError(f"{p.name} is not a readable JSON market snapshot: {e}", "feed") from None
        if not isinstance(d, dict):
            raise FeedError(f"{p.name}: a market snapshot is a JSON object", "feed")
        as_of = d.pop("as_of", None)
        snap = MarketSnapshot.from_dict(d)
        t = parse_time(as_of, p.name) if as_of else dt.datetime.fromtimestamp(p.stat().st_mtime, CST)
        return snap, t

    def _csv(self, p: Path, base: MarketSnapshot):
        try:
            rows = list(csv.DictReader(io.StringIO(p.read_text(encoding="utf-8-sig"))))
        except (OSError, UnicodeDecodeError) as e:
            raise FeedError(f"{p.name} is not readable: {e}", "feed") from None
        spots, as_of = {}, None
        for i, r in enumerate(rows, start=2):
            try:
                u, s = r["underlying"].strip(), float(r["spot"])
            except (KeyError, TypeError, ValueError, AttributeError):
                raise FeedError(f"{p.name} row {i}: expected underlying,spot", "feed") from None
            if not math.isfinite(s) or s <= 0:
                raise FeedError(f"{p.name} row {i}: spot must be a positive finite price; got {r['spot']!r}", "feed")
            spots[u] = s
            as_of = r.get("as_of") or as_of
        t = parse_time(as_of, p.name) if as_of else dt.datetime.fromtimestamp(p.stat().st_mtime, CST)
        d = base.to_dict()
        d["spots"] = {**{k: v for k, v in d["spots"].items() if k != "*"}, **spots}
        d["valuation_date"] = t.astimezone(CST).date().isoformat()
        return MarketSnapshot.from_dict(d), t

    def latest(self):
        """(snapshot, market time, file name) of the newest readable file."""
        files = self._files()
        jsons = [p for p in files if p.suffix.lower() == ".json"]
        best = None
        parsed = {}
        for p in jsons:
            snap, t = self._json(p)
            parsed[p] = (snap, t)
            if best is None or t > best[1]:
                best = (snap, t, p.name)
        base = max(parsed.values(), key=lambda x: x[1])[0] if parsed else self.base
        for p in files:
            if p.suffix.lower() != ".csv":
                continue
            if base is None:
                raise FeedError(f"{p.name} has spots only and there is no JSON snapshot for curves and vols", "feed")
            snap, t = self._csv(p, base)
            if best is None or t > best[1]:
                best = (snap, t, p.name)
        if best is None and self.young:
            raise FeedError(f"{', '.join(sorted(self.young))} changed less than {self.settle:g} s ago (still being "
                            f"written?); try again in a moment", "feed")
        if best is None:
            raise FeedError(f"no market snapshot in {self.folder} (drop a .json snapshot or a .csv of spots)", "feed")
        return best


__all__ = ["FolderFeed", "FeedError", "MarketError", "CST", "parse_time"]
