"""Underlyings a confirmation may name: exchange code <-> Chinese name.

A small table of the usual underlyings of the desk, enough to print a confirmation and to read the
code back when a document gives only the name. Codes follow the platform convention
(``000905.SH``); names are what Chinese confirmations print.
"""
from __future__ import annotations

import re
import unicodedata

# code -> (name printed on confirmations, other names seen in documents)
UNDERLYINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "000905.SH": ("中证500指数", ("中证500", "CSI500", "CSI 500")),
    "000852.SH": ("中证1000指数", ("中证1000", "CSI1000", "CSI 1000")),
    "000300.SH": ("沪深300指数", ("沪深300", "CSI300", "CSI 300")),
    "000016.SH": ("上证50指数", ("上证50", "SSE50", "SSE 50")),
    "000688.SH": ("科创50指数", ("科创50", "STAR50")),
    "399006.SZ": ("创业板指数", ("创业板指", "ChiNext")),
    "932000.CSI": ("中证2000指数", ("中证2000", "CSI2000")),
    "510300.SH": ("沪深300ETF", ("华泰柏瑞沪深300ETF", "300ETF")),
    "510500.SH": ("中证500ETF", ("南方中证500ETF", "500ETF")),
    "588000.SH": ("科创50ETF", ("华夏科创50ETF",)),
    "600519.SH": ("贵州茅台", ("贵州茅台酒", "茅台")),
    "601318.SH": ("中国平安", ()),
    "600036.SH": ("招商银行", ()),
    "300750.SZ": ("宁德时代", ()),
    "000858.SZ": ("五粮液", ()),
}

_CODE = re.compile(r"(?<![0-9A-Za-z])([0-9OoDIl|]{6})\s*[.．·,]?\s*(SH|SZ|SS|CSI|sh|sz|csi)\b")
_CODE_PREFIXED = re.compile(r"\b(SH|SZ|sh|sz)\s*([0-9OoDIl|]{6})(?![0-9])")
_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1"})


def name_of(code: str) -> str:
    """Chinese name printed for ``code``; the code itself when the table does not know it."""
    entry = UNDERLYINGS.get(code)
    return entry[0] if entry else code


def parse_underlying(text: str) -> tuple[str | None, str | None]:
    """Exchange code named in ``text`` and a warning (or None).

    The code is read from the text first (``000905.SH``, ``SH000905``, OCR's O/0 and l/1 swaps
    repaired, ``.SS`` read as ``.SH``); failing that, from the longest known name the text
    contains. When both a code and a name are present and disagree, the code wins and a warning
    says so.
    """
    t = unicodedata.normalize("NFKC", text)
    code = None
    m = _CODE.search(t)
    if m:
        exch = m.group(2).upper()
        code = f"{m.group(1).translate(_DIGIT_FIX)}.{'SH' if exch == 'SS' else exch}"
    else:
        m = _CODE_PREFIXED.search(t)
        if m:
            code = f"{m.group(2).translate(_DIGIT_FIX)}.{m.group(1).upper()}"
    by_name = _code_by_name(t)
    if code is None:
        return by_name, None
    if by_name is not None and by_name != code:
        return code, f"underlying: code {code} disagrees with name of {by_name}; code kept"
    return code, None


def _code_by_name(text: str) -> str | None:
    compact = re.sub(r"\s+", "", text)
    best, best_len = None, 0
    for code, (name, aliases) in UNDERLYINGS.items():
        for n in (name, *aliases):
            n2 = n.replace(" ", "")
            if n2 in compact and len(n2) > best_len:
                best, best_len = code, len(n2)
    return best
