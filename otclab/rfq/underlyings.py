"""Underlyings as data: exchange code, names, aliases, pinyin initials, futures codes.

The built-in table lives in ``data/underlyings.json``. Users extend it without code changes by
pointing ``OTCLAB_RFQ_UNDERLYINGS`` at one or more JSON files (``os.pathsep``-separated) of the
same shape, or by passing paths to :func:`load_underlyings`; entries with a known code add aliases
to it, new codes add underlyings.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..core.errors import InputError
from .normalize import normalize

ENV_VAR = "OTCLAB_RFQ_UNDERLYINGS"
_CODE_RE = re.compile(r"^\d{6}\.(SH|SZ|CSI|BJ)$")


@dataclass
class Underlying:
    """One underlying: ``code`` like 000905.SH and every surface form that names it."""

    code: str
    names: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    pinyin: list[str] = field(default_factory=list)
    futures: list[str] = field(default_factory=list)
    bare: list[str] = field(default_factory=list)


@dataclass
class UnderlyingTable:
    """Lookup from normalised surface form to exchange code."""

    by_code: dict[str, Underlying]
    forms: dict[str, str]  # lower-case surface form (names, aliases, pinyin, 6-digit codes) -> code
    futures: dict[str, str]  # upper-case futures product code -> code
    bare: dict[str, str]  # bare number -> code, used only in context

    def lookup(self, surface: str) -> str | None:
        """Exchange code for a surface form (case-insensitive, spaces ignored), or None."""
        s = surface.strip().lower()
        if s in self.forms:
            return self.forms[s]
        compact = re.sub(r"\s+", "", s)
        if compact in self.forms:
            return self.forms[compact]
        if compact in self.bare:
            return self.bare[compact]
        m = re.fullmatch(r"([a-z]{2})(\d{4})?", compact)
        if m and m.group(1).upper() in self.futures:
            return self.futures[m.group(1).upper()]
        return None


def _read(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read underlyings file {path}: {exc}", field=ENV_VAR) from exc
    rows = data.get("underlyings") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise InputError(f"{path}: expected a list of underlyings or {{'underlyings': [...]}}", field=ENV_VAR)
    for row in rows:
        if not isinstance(row, dict) or not _CODE_RE.match(str(row.get("code", ""))):
            raise InputError(f"{path}: every entry needs a code like 000905.SH, got {row!r}", field="underlyings.code")
    return rows


def load_underlyings(extra: list[str | Path] | tuple = ()) -> UnderlyingTable:
    """Built-in underlyings plus those of the files in ``extra`` and in $OTCLAB_RFQ_UNDERLYINGS."""
    env = os.environ.get(ENV_VAR, "")
    paths = [Path(p) for p in extra] + [Path(p) for p in env.split(os.pathsep) if p.strip()]
    return _load(tuple(str(p) for p in paths))


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> UnderlyingTable:
    builtin = json.loads(resources.files("otclab.rfq").joinpath("data/underlyings.json").read_text("utf-8"))
    rows = list(builtin["underlyings"])
    for p in paths:
        rows.extend(_read(Path(p)))
    by_code: dict[str, Underlying] = {}
    for row in rows:
        u = by_code.setdefault(row["code"], Underlying(code=row["code"]))
        for key in ("names", "aliases", "pinyin", "futures", "bare"):
            for v in row.get(key, []) or []:
                if v not in getattr(u, key):
                    getattr(u, key).append(str(v))
    forms, futures, bare = {}, {}, {}
    for u in by_code.values():
        six = u.code.split(".")[0]
        for s in [u.code, six, *u.names, *u.aliases, *u.pinyin]:
            # messages are matched after normalisation (全角, typos, 五百 -> 500): so are the forms
            for f in (s.lower(), normalize(s).text):
                forms[f] = u.code
                forms[re.sub(r"\s+", "", f)] = u.code
        for f in u.futures:
            futures[f.upper()] = u.code
        for b in u.bare:
            bare[b] = u.code
    return UnderlyingTable(by_code=by_code, forms=forms, futures=futures, bare=bare)
