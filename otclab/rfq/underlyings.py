"""Underlyings as data: exchange code, names, nicknames, pinyin initials, futures codes.

The table is read from the pool file the desk edits (``data/pool.toml``, see ``pool.py``):
``$OTCLAB_RFQ_POOL`` replaces it, ``$OTCLAB_RFQ_UNDERLYINGS`` (one or more files,
``os.pathsep``-separated) or paths passed to :func:`load_underlyings` add to it; entries with a
known code add surface forms to it, new codes add underlyings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pool import Jargon

ENV_VAR = "OTCLAB_RFQ_UNDERLYINGS"


@dataclass
class Underlying:
    """One underlying: ``code`` like 000905.SH, its exchange and every surface form that names it."""

    code: str
    exchange: str = ""
    names: list[str] = field(default_factory=list)
    nicknames: list[str] = field(default_factory=list)
    pinyin: list[str] = field(default_factory=list)
    futures: list[str] = field(default_factory=list)
    bare: list[str] = field(default_factory=list)


@dataclass
class UnderlyingTable:
    """Lookup from normalised surface form to exchange code, with the jargon of the same pool."""

    by_code: dict[str, Underlying]
    forms: dict[str, str]  # lower-case surface form (names, nicknames, pinyin, 6-digit codes) -> code
    futures: dict[str, str]  # upper-case futures product code -> code
    bare: dict[str, str]  # bare number -> code, used only in context
    jargon: "Jargon" = None
    source: str = ""  # the pool file read

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


def load_underlyings(extra: list[str | Path] | tuple = (), pool: str | Path | None = None) -> UnderlyingTable:
    """The pool's underlyings (``pool``, $OTCLAB_RFQ_POOL or the shipped file) plus those of the
    files in ``extra`` and in $OTCLAB_RFQ_UNDERLYINGS."""
    from .pool import load_pool

    return load_pool(pool, tuple(extra))
