"""Readers for the values printed on confirmations: dates, CNY amounts, levels, rates, ids.

Every reader takes the raw text of a value (as printed, or as OCR read it) and returns the value
in platform units, or None when the text holds no such value:

- dates -> ISO ``YYYY-MM-DD`` from ``2025-01-17``, ``2025/1/17``, ``2025.01.17``, ``2025年1月17日``;
- amounts -> CNY as float from ``人民币30,000,000.00元``, ``3,000万元``, ``CNY 30 000 000``, ``叁仟万元整``;
- levels -> fraction of the initial price from ``期初价格×103%``, ``103%``,
  ``5768.00（期初价格的103%）`` or, given the initial price, a bare price ``5768.00``;
- rates (coupon, participation, rebate) -> fractions, annualised when printed per month.

OCR swaps letters and digits that look alike (O/0, l/1, I/1 next to digits); the readers
repair those inside digit runs only, so names and exchange suffixes are left alone.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

# Only swaps that cannot turn a currency code or exchange suffix into a digit (RMB, USD, .SH).
# ("|" is left alone: on a scan it is far more often a table rule than a digit.)
_LOOKALIKE = {"O": "0", "o": "0", "I": "1", "l": "1"}


def normalize(text: str) -> str:
    """NFKC form (full-width digits and punctuation to ASCII) with runs of spaces collapsed."""
    t = unicodedata.normalize("NFKC", text)
    t = t.replace("〇", "0").replace("—", "-").replace("–", "-").replace("−", "-")
    t = re.sub(r"(?<=[0-9A-Za-z])\s*[·•]\s*(?=[0-9A-Za-z])", "-", t)  # OCR's middle dot for a hyphen
    return re.sub(r"\s+", " ", t).strip()


def fix_digits(text: str) -> str:
    """Repair OCR look-alikes inside numbers: a letter next to a digit (or to a repaired letter)
    that looks like a digit becomes that digit; letters in words stay letters.

    Repairs spread from digit to neighbour (``OOO1`` -> ``0001``); each repair only makes its
    neighbours more likely to change, so the result is the unique fixed point, reached here by a
    work list in linear time (repeated sweeps were quadratic on a long run)."""
    chars = list(text)
    n = len(chars)

    def changes(i: int) -> bool:
        c = chars[i]
        if c not in _LOOKALIKE:
            return False
        left = chars[i - 1] if i > 0 else ""
        right = chars[i + 1] if i + 1 < n else ""
        # neighbours: a digit, or a separator flanked by a digit (3,O00 / 2O25-O1)
        near = left.isdigit() or right.isdigit()
        if not near and left in ",." and left and i > 1 and chars[i - 2].isdigit():
            near = True
        return near and not (left.isalpha() and left.isascii() and right.isalpha() and right.isascii())

    todo = [i for i in range(n) if chars[i] in _LOOKALIKE]
    while todo:
        i = todo.pop()
        if changes(i):
            chars[i] = _LOOKALIKE[chars[i]]
            todo.extend(j for j in (i - 1, i + 1, i + 2) if 0 <= j < n and chars[j] in _LOOKALIKE)
    return "".join(chars)


# ---------------------------------------------------------------- dates

_DATE_PATTERNS = [
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"),
    re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})"),
    re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"),
    # OCR lost one separator or read it as a space: 2025-0428, 2026 02-05
    re.compile(r"(?<![\d,.])(\d{4})\s*[-/. ]\s*(\d{2})\s*[-/. ]?\s*(\d{2})(?![\d,.%])"),
    re.compile(r"(?<![\d,.])(\d{4})\s*[-/. ]?\s*(\d{2})\s*[-/. ]\s*(\d{2})(?![\d,.%])"),
]


_CN_DATE = re.compile(r"([零0一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月\s*"
                      r"([一二三四五六七八九十]{1,3})\s*日")


def _cn_small(s: str) -> int:
    """一 .. 三十一 as an integer."""
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[s]


def parse_date(text: str) -> str | None:
    """First calendar date in ``text`` as ISO ``YYYY-MM-DD``; None if there is none.
    Dates written in Chinese numerals (二〇二五年一月十七日) are read too."""
    t = fix_digits(normalize(text))
    m = _CN_DATE.search(t)
    if m:
        try:
            year = int("".join(str(_CN_DIGITS.get(c, c)) for c in m.group(1)))
            return dt.date(year, _cn_small(m.group(2)), _cn_small(m.group(3))).isoformat()
        except (ValueError, KeyError):
            pass
    # A date holds no letters: a lone l/I/O between 年 and 月 (OCR) is a digit too.
    t = re.sub(r"[lI]", "1", re.sub(r"[Oo]", "0", t)) if re.search(r"\d", t) else t
    for pat in _DATE_PATTERNS:
        for m in pat.finditer(t):
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                continue
    return None


def format_date_cn(iso: str) -> str:
    """``2025-01-17`` -> ``2025年1月17日``."""
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


# ---------------------------------------------------------------- numbers

_CN_DIGITS = {"零": 0, "〇": 0, "壹": 1, "一": 1, "贰": 2, "二": 2, "两": 2, "叁": 3, "三": 3,
              "肆": 4, "四": 4, "伍": 5, "五": 5, "陆": 6, "六": 6, "柒": 7, "七": 7, "捌": 8,
              "八": 8, "玖": 9, "九": 9}
_CN_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}


def parse_cn_numeral(text: str) -> float | None:
    """Value of a Chinese upper-case amount such as ``叁仟万元整`` (integer part, yuan)."""
    total, section, digit, seen = 0, 0, 0, False
    for c in text:
        if c in _CN_DIGITS:
            digit, seen = _CN_DIGITS[c], True
        elif c in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[c]
            digit, seen = 0, True
        elif c in _CN_BIG:
            total = (total + section + digit) * _CN_BIG[c] if _CN_BIG[c] > 10_000 else total + (section + digit) * _CN_BIG[c]
            section, digit, seen = 0, 0, True
        elif c in "元圆":
            break
    return float(total + section + digit) if seen else None


def _number(s: str) -> float | None:
    """A decimal number printed with thousands separators, possibly OCR'd with '.' for ','."""
    s = s.replace(" ", "")
    if s.count(".") > 1:  # 30.000.000.00: all but the last dot are thousands separators
        head, _, tail = s.rpartition(".")
        s = head.replace(".", "") + ("." + tail if len(tail) <= 2 else tail)
    s = s.replace(",", "")
    try:
        return float(s)
    except ValueError:
        return None


_NUM = r"\d[\d,. ]*\d|\d"


def parse_amount(text: str) -> float | None:
    """Amount in CNY: digits with an optional 万/亿 multiplier, else Chinese upper-case numerals."""
    t = fix_digits(normalize(text))
    m = re.search(rf"({_NUM})\s*(亿|万)?", t)
    if m:
        num = m.group(1)
        if m.group(2) and re.fullmatch(r"\d{1,3}\.\d{3}", num.replace(" ", "")):
            num = num.replace(".", "")  # 1.050万: OCR read the thousands comma as a point
        v = _number(num)
        if v is not None:
            mult = {"亿": 1e8, "万": 1e4}.get(m.group(2) or "", 1.0)
            return round(v * mult, 2)
    return parse_cn_numeral(t)


def parse_price(text: str) -> float | None:
    """First decimal number in ``text`` (a price in index points or CNY)."""
    t = fix_digits(normalize(text))
    m = re.search(rf"({_NUM})", t)
    return _number(m.group(1)) if m else None


def _percents(t: str) -> list[float]:
    return [float(x) / 100.0 for x in re.findall(r"(\d+(?:\.\d+)?)\s*%", t)]


LEVEL_RANGE = (0.05, 3.0)  # levels outside this, as fractions of the initial price, are misreads


def parse_level(text: str, initial_price: float | None = None) -> tuple[float | None, bool]:
    """Level as a fraction of the initial price and whether it had to be derived from a bare price.

    A plausible percentage anywhere in the text wins (``期初价格×103%``,
    ``5768.00(期初价格的103%)``); otherwise a price is divided by ``initial_price`` (returned flag
    True) when known.
    """
    t = fix_digits(normalize(text))
    pct = [p for p in _percents(t) if LEVEL_RANGE[0] < p < LEVEL_RANGE[1]]
    if pct:
        return round(pct[-1], 6), False
    # no plausible percentage (none printed, or OCR garbled it: 964% for 64%): use the price
    price = parse_price(t)
    if price is not None and initial_price:
        return round(price / initial_price, 4), True
    return None, False


def parse_rate(text: str) -> float | None:
    """A rate as a fraction: ``年化15.00%`` -> 0.15; ``每月1.25%`` -> 0.15 (annualised ×12)."""
    t = fix_digits(normalize(text))
    pct = _percents(t)
    if not pct:
        return None
    annual = re.search(r"年化[^\d%]{0,6}(\d+(?:\.\d+)?)\s*%", t)
    if annual:  # 每月1.05%（年化12.60%）: the annual figure is the one the platform keeps
        return round(float(annual.group(1)) / 100.0, 6)
    v = pct[0]
    if re.search(r"每月|月息|/月|per month", t):
        v *= 12
    return round(v, 6)


# ---------------------------------------------------------------- identifiers and words

_AMBIGUOUS = set("Oo0Il1|")  # look-alikes common enough to be decided by a vote
_AS_DIGIT = {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"}
_AS_LETTER = {"0": "O", "1": "I", "|": "I"}
_WEAK = {"S": "5", "B": "8", "Z": "2", "5": "S", "8": "B", "2": "Z"}  # changed only when surrounded


def id_key(text: str) -> str:
    """Comparison key of a trade id: canonical form without separators (OCR drops hyphens)."""
    return re.sub(r"[-_/.]", "", canonical_id(text))


def canonical_id(text: str) -> str:
    """Trade id in canonical form: upper case, OCR look-alikes repaired by context.

    The id is cut at separators (``-``, ``_``, ``/``). S/5, B/8 and Z/2 change only when every
    known neighbour is of the other kind (``5WAP`` -> ``SWAP``). Then each run of O/0 and I/l/1
    becomes digits or letters by a vote of its own characters and of its neighbours (a digit or a
    letter on either side counts double). So ``0TC-2O25-00l23`` and ``OTC-2025-00123`` have the
    same canonical form, and ``OPT25`` keeps its letter O.
    """
    t = normalize(text).replace(" ", "")
    m = re.search(r"[A-Za-z0-9|][A-Za-z0-9|\-_/]*[A-Za-z0-9|]|[A-Za-z0-9]", t)
    if not m:
        return t
    s = list(m.group(0))

    def kind(c: str) -> str | None:
        if c in _AMBIGUOUS or not c.isalnum():
            return None
        return "d" if c.isdigit() else "a"

    for i, c in enumerate(list(s)):
        if c in _WEAK:
            kinds = {kind(s[k]) for k in (i - 1, i + 1) if 0 <= k < len(s)}
            if kinds == ({"a"} if c.isdigit() else {"d"}):  # every neighbour known and of the other kind
                s[i] = _WEAK[c]
    out = list(s)
    i = 0
    while i < len(s):
        if s[i] not in _AMBIGUOUS:
            i += 1
            continue
        j = i
        while j < len(s) and s[j] in _AMBIGUOUS:
            j += 1
        vote = sum(1 if c.isdigit() else -1 for c in s[i:j])
        for k in (i - 1, j):
            if 0 <= k < len(s):
                vote += 2 if s[k].isdigit() else -2 if s[k].isalpha() else 0
        for k in range(i, j):
            out[k] = _AS_DIGIT.get(s[k], s[k]) if vote >= 0 else _AS_LETTER.get(s[k], s[k])
        i = j
    return "".join(out).upper()


STRUCTURE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    # order matters: the first family whose word appears wins (凤凰 before 雪球: "凤凰式雪球")
    ("phoenix", ("凤凰", "phoenix")),
    ("snowball", ("雪球", "autocall", "snowball")),
    ("sharkfin", ("鲨鱼鳍", "鲨", "sharkfin", "shark fin")),
    ("asian", ("亚式", "亚洲式", "平均价", "asian")),
    ("digital", ("二元", "数字期权", "数字型", "digital", "binary")),
    ("barrier", ("障碍", "敲出期权", "敲入期权", "barrier", "knock")),
    ("vanilla", ("香草", "欧式", "普通期权", "vanilla", "european")),
]


def parse_structure(text: str) -> str | None:
    """Template family named in ``text`` (snowball, phoenix, ...), or None."""
    t = normalize(text).lower()
    for family, words in STRUCTURE_WORDS:
        if any(w in t for w in words):
            return family
    return None


def parse_option_type(text: str) -> str | None:
    """``call`` or ``put`` from 看涨/认购/call or 看跌/认沽/put; None if neither appears."""
    t = normalize(text).lower()
    call = any(w in t for w in ("看涨", "认购", "call", "上涨"))
    put = any(w in t for w in ("看跌", "认沽", "put", "下跌"))
    if not call and not put:  # OCR misread one character of the word: shapes it is confused with
        call = bool(re.search(r"认[购构沟钩]|看[涨张胀]|[涨购]", t))
        put = bool(re.search(r"认[沽活洁沾估姑诂]|看[跌趺跃铁]|[跌沽]", t))
    if call and not put:
        return "call"
    if put and not call:
        return "put"
    return None


def clean_text(text: str) -> str:
    """Free text (a counterparty name) in comparable form: NFKC, no spaces, no trailing colon."""
    return re.sub(r"\s+", "", normalize(text)).strip(":;,。").replace("（", "(").replace("）", ")")
