"""Values of recognised mentions: levels, rates, amounts, tenors, keywords.

The desk's words for structures, option types and moneyness are data (``pool.toml``, read by
``pool.py``); the frequency and question words below are grammar and stay here.

Each parser takes the (normalised) text of one mention, with or without its keyword, and returns
the value in the units of the public contract, or None when the text does not hold one (which is
how a doubtful model prediction is discarded). Conventions: levels are fractions of the initial
price (103 / 103% / 1.03 -> 1.03); rates and percentages are fractions (20% -> 0.2); amounts are
CNY (5000w -> 5e7); tenors are months (1y -> 12).
"""
from __future__ import annotations

import re

NUM = r"\d+(?:\.\d+)?"
_NUM_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(%|bps?|bp)?")

LEVEL_RANGE = (0.2, 3.0)  # fractions of initial price that are plausible strikes/barriers


def _last_number(text: str) -> tuple[float, str] | None:
    found = list(_NUM_RE.finditer(text))
    if not found:
        return None
    m = found[-1]
    return float(m.group(1)), (m.group(2) or "")


def level(text: str) -> float | None:
    """A level as a fraction of the initial price: '103' / '103%' / '1.03' -> 1.03."""
    got = _last_number(text)
    if got is None:
        return None
    x, unit = got
    if unit == "%" or x > LEVEL_RANGE[1]:
        x = x / 100.0
    x = round(x, 6)
    return x if LEVEL_RANGE[0] <= x <= LEVEL_RANGE[1] else None


def rate(text: str, upper: float = 5.0) -> float | None:
    """A rate or ratio as a fraction: '20%' / '20' -> 0.2; '0.2' -> 0.2; '150%' -> 1.5."""
    got = _last_number(text)
    if got is None:
        return None
    x, unit = got
    if unit.startswith("bp"):
        x = x / 1e4
    elif unit == "%" or x > 1.0:
        x = x / 100.0
    x = round(x, 8)
    return x if 0.0 <= x <= upper else None


def step_down(text: str) -> float | None:
    """Monthly KO step-down as a fraction: '0.5%' -> 0.005, '50bp' -> 0.005; a bare number is
    read as percent below 5 ('降敲0.5') and as basis points from 5 on ('降敲50')."""
    got = _last_number(text)
    if got is None:
        return None
    x, unit = got
    if unit == "%":
        v = x / 100
    elif unit.startswith("bp") or x >= 5:
        v = x / 1e4
    else:
        v = x / 100
    v = round(v, 8)
    return v if 0 < v <= 0.05 else None


_AMOUNT_UNITS = [
    (r"个亿|亿|e", 1e8), (r"kw|千万|k万", 1e7), (r"百万|mm|mio|million|mn|m", 1e6),
    (r"个w|万|w", 1e4), (r"k|千", 1e3),
]
_AMOUNT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(个亿|亿|kw|千万|k万|百万|mm|mio|million|mn|个w|万|w|k|千|m|e)?(?![a-z])")


_SCI_RE = re.compile(r"(?<![\d.])\d+(?:\.\d+)?e\d{1,2}(?![\d.])")


def amount(text: str) -> float | None:
    """A notional in CNY: '5000w' -> 5e7, '5kw' -> 5e7, '1个亿' -> 1e8, '2000万' -> 2e7, '1e8' -> 1e8.
    A number without a unit counts only from 100,000 on (smaller ones are not notionals)."""
    sci = list(_SCI_RE.finditer(text))
    if sci:  # '1e8' / '5e7'
        x = float(sci[-1].group(0))
        return float(round(x, 2)) if 1e4 <= x <= 1e11 else None
    found = list(_AMOUNT_RE.finditer(text))
    if not found:
        return None
    m = found[-1]
    x, unit = float(m.group(1)), m.group(2)
    if unit:
        for pat, mult in _AMOUNT_UNITS:
            if re.fullmatch(pat, unit):
                x *= mult
                break
    elif x < 1e5:
        return None
    return float(round(x, 2)) if 1e4 <= x <= 1e11 else None


_TENOR_RE = re.compile(
    r"(半年)|(?<!\d)(\d+(?:\.\d+)?)\s*(年半|个半月|个月|月期|月|months?|mos?|mths?|m|年期|年|years?|yrs?|y|周|weeks?|wks?|w|天|days?|d)(?![a-z])"
)


def months(text: str) -> float | int | None:
    """A tenor in months: '3个月' / '3m' -> 3, '1年' / '1y' -> 12, '1年半' -> 18, '半年' -> 6,
    '2周' -> 0.46 (weeks and days as fractions of 365/12 days). Needs a unit."""
    found = list(_TENOR_RE.finditer(text))
    if not found:
        return None
    m = found[-1]
    if m.group(1):
        return 6
    x, unit = float(m.group(2)), m.group(3)
    if unit == "年半":
        v = x * 12 + 6
    elif unit == "个半月":
        v = x + 0.5
    elif unit[0] in "年y":
        v = x * 12
    elif unit[0] in "周w":
        v = round(x * 7 / (365 / 12), 2)
    elif unit[0] in "天d":
        v = round(x / (365 / 12), 2)
    else:
        v = x
    if not 0 < v <= 120:
        return None
    return int(v) if float(v).is_integer() else v


def bare_months(text: str) -> int | None:
    """A number of months written without a unit ('锁3' -> 3)."""
    got = _last_number(text)
    if got is None or got[1] or not float(got[0]).is_integer() or not 0 < got[0] <= 36:
        return None
    return int(got[0])


# '每日敲出' / '月度敲出 103': the word before 敲出 is the frequency (敲出 stays free to introduce the
# KO level), unless the phrase is a step-down ('每月敲出价下调0.5%'). Read with keyword_at.
_BEFORE_KO = r"(?=\s*敲出(?!\s*(?:价格?|线|水平|障碍)?\s*(?:降|下调|递减|下降)))"
FREQ_WORDS = {
    # '月观察' but not '每两个月观察' / '3个月观察' (another frequency); '观察日：每月' is monthly
    "monthly": r"(?:每月|按月|月度|逐月|每个月|(?<![\d两二三四五六七八九十个])月)\s*(?:敲出)?\s*(?:观察|obs)|monthly|月敲出观察"
               r"|(?:每月|按月|月度|逐月)" + _BEFORE_KO
               + r"|(?:观察频率|敲出观察(?:频率|日)?)\s*(?:[:=]|为|是)?\s*(?:每|按)?个?月",
    "daily": r"(?:每日|每天|逐日|按日|日度|每个交易日|(?<![\d两二三四五六七八九十个])日)\s*(?:敲出)?\s*(?:观察|obs)|daily|日敲出"
             r"|(?:每日|每天|逐日|按日|日度)" + _BEFORE_KO
             + r"|(?:观察频率|敲出观察(?:频率|日)?)\s*(?:[:=]|为|是)?\s*(?:每|按|逐)?(?:交易)?[日天](?!\s*[:=])",
}
SOLVE_WORDS = {
    # latin words bounded by non-letters: \b would not separate 'iv' from the CJK in 'iv多少'
    "participation": r"参与率|参与|participation|(?<![a-z])pr(?![a-z])",
    "vol": r"vol|波动率|隐波|(?<![a-z])iv(?![a-z])|波动",
    "strike": r"行权价|行权|执行价|strike",
    "coupon": r"票息|coupon|cpn|收益",
    "price": r"期权费|权利金|premium|价|钱|price|费|pricing",
    # a question that names no field ('103 75 一年 多少', '现在什么水平'): the builder reads it as
    # the coupon of an autocallable and the price of an option
    "ask": r"多少|水平|几个点|how\s?much",
}


def keyword(text: str, table: dict[str, str]) -> str | None:
    """The key of ``table`` whose pattern occurs in ``text`` (first key wins)."""
    for key, pat in table.items():
        if re.search(pat, text):
            return key
    return None


def keyword_at(text: str, table: dict[str, str], after: str = "") -> str | None:
    """The key of ``table`` whose pattern matches starting inside ``text`` when ``after`` follows
    it (words whose meaning depends on what follows: 向上 before 鲨鱼鳍 is a call, 欧式 before
    雪球 is not a vanilla); first key wins."""
    full = text + after
    for key, pat in table.items():
        for m in re.finditer(pat, full):
            if m.start() >= len(text):
                break
            if m.end() > m.start():
                return key
    return None


def strike(text: str, jargon=None) -> float | tuple[str, float] | None:
    """A strike: '平值'/'atm' -> 1.0; '103%' -> 1.03; '虚值5%' -> ('otm', 0.05) and '实值5%' ->
    ('itm', 0.05), which the request builder turns into a level once the option type is known;
    a number of 50% or more after 虚值/实值 is the strike level itself ('ITM 105' -> 1.05).
    The moneyness words are the pool's (``jargon``, a ``pool.Jargon``; the shipped pool's if None)."""
    if jargon is None:
        from .pool import load_pool

        jargon = load_pool().jargon
    if re.search(jargon.moneyness_re("atm") or "(?!)", text):
        return 1.0
    kind = "otm" if re.search(jargon.moneyness_re("otm") or "(?!)", text) else (
        "itm" if re.search(jargon.moneyness_re("itm") or "(?!)", text) else None)
    if kind:
        got = _last_number(text)
        if got is None:
            return None
        x = got[0] / 100 if (got[1] == "%" or got[0] >= 1) else got[0]
        if x >= 0.5:  # no option is 50% or more in/out of the money: the number is the strike level
            return level(text)
        return (kind, round(x, 6)) if 0 < x < 1 else None
    return level(text)
