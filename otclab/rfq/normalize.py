"""Normalisation of chat text before parsing, with a map back to the original characters.

Chat messages arrive with full-width characters (ＫＯ１０３，), upper/lower case mixes, input-method
typos (雪求 for 雪球) and Chinese numerals (一年, 两千万). The parser works on a normalised copy and
every character of that copy remembers which character of the original it came from, so spans
reported to the user always point into the text they sent.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Input-method typos seen on desks (homophones / neighbouring keys) -> intended word.
TYPOS: dict[str, str] = {
    "雪求": "雪球", "血球": "雪球", "雪毬": "雪球", "学球": "雪球", "雪秋": "雪球",
    "敲处": "敲出", "巧出": "敲出", "悄出": "敲出", "翘出": "敲出",
    "敲如": "敲入", "巧入": "敲入", "悄入": "敲入", "敲人": "敲入", "翘入": "敲入",
    "票吸": "票息", "漂息": "票息", "票熄": "票息", "飘息": "票息",
    "鲨鱼翅": "鲨鱼鳍", "沙鱼鳍": "鲨鱼鳍", "鲨鱼奇": "鲨鱼鳍", "鲨鱼旗": "鲨鱼鳍", "沙鱼": "鲨鱼",
    "参于率": "参与率", "参预率": "参与率", "餐与率": "参与率",
    "明本": "名本", "名苯": "名本",
    "行全价": "行权价", "形权价": "行权价", "行劝价": "行权价",
    "看胀": "看涨", "看张": "看涨", "看叠": "看跌", "看迭": "看跌",
    "平直": "平值", "平植": "平值",
    "锁定其": "锁定期",
    "中正": "中证", "忠证": "中证", "钟证": "中证",
    "沪身": "沪深", "呼深": "沪深", "护深": "沪深",
    "凤皇": "凤凰", "风凰": "凤凰",
    "派习": "派息",
    "期权废": "期权费", "期权飞": "期权费",
}

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
# A run of Chinese numerals is converted only when a unit of time, money or percent follows (or
# 百分之 precedes), so words such as 一个 / 统一 / 五粮液 are left alone.
_CN_NUM_RE = re.compile(
    # a run is matched from its first numeral only (not from each of its characters in turn, which
    # made a long run without a unit quadratic work)
    r"(百分之)?(?<![零〇一二两俩三四五六七八九十百千])((?:(?<![\d.])[十百千]|[零〇一二两俩三四五六七八九])[零〇一二两俩三四五六七八九十百千]*)(?=(?:个半?月|个亿|个w|个点|年|亿|万|千万|周|%|倍|bp|kw|w(?![a-z])))"
    r"|(百分之)([零〇一二两俩三四五六七八九十百千]+)"
)

# Chinese numerals that stand for a level or rate without a unit: after a keyword that takes a
# number (敲出一百零三, 敲入七十五, 参与率八十), or any compound numeral with 十/百 and a digit
# (七十五, 一百零三), which no common word contains; a whole thousand (一千, 两千: the index
# nicknames of CSI 1000 and 2000 in '五百和一千的雪球'). Single characters (一个, 十分) stay words.
_CN_RUN = r"[零〇一二两三四五六七八九十百]"
_CN_KEY_RE = re.compile(
    r"(敲出|敲入|障碍|派息|付息|行权|执行|参与率|补偿|降敲|线|价|ko|ki)(\s*(?:[:=]|为|是)?\s*)"
    r"(" + _CN_RUN + r"+(?:点[零〇一二三四五六七八九]+)?)(?![零〇一二两三四五六七八九十百千万亿个年月周天])"
)
_CN_COMPOUND_RE = re.compile(
    r"(?<![零〇一二两三四五六七八九十百千])((?:[一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九]百(?:[零〇][一二三四五六七八九]|[一二三四五六七八九]十[一二三四五六七八九]?|[一二三四五六七八九]十?)?|[一二两三四五六七八九]千))"
    r"(?![零〇一二两三四五六七八九十百千万亿个年月周天岁])"
)


MAX_NUMERAL_CHARS = 12  # a longer run of Chinese numerals is not a number anyone quotes


def cn_to_int(s: str) -> int | None:
    """Value of a Chinese numeral below 10,000 (十八 = 18, 两千 = 2000, 一五 = 15 digit-wise);
    None for a run longer than ``MAX_NUMERAL_CHARS`` (5,000 of them once made an integer too long
    to convert)."""
    if not s or len(s) > MAX_NUMERAL_CHARS:
        return None
    if all(ch in _CN_DIGITS for ch in s):  # digit-by-digit (一五 -> 15, 三 -> 3)
        return int("".join(str(_CN_DIGITS[ch]) for ch in s))
    total, cur = 0, 0
    for ch in s:
        if ch in _CN_DIGITS:
            cur = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (cur or 1) * _CN_UNITS[ch]
            cur = 0
        else:
            return None
    return total + cur


@dataclass(frozen=True)
class Normalized:
    """Normalised text and, for each of its characters, the index of the original character."""

    text: str
    original: str
    origin: tuple[int, ...]

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span [start, end) of the normalised text to the original text."""
        if start >= end or not self.origin:
            o = self.origin[start] if start < len(self.origin) else len(self.original)
            return o, o
        return self.origin[start], self.origin[end - 1] + 1


def _replace(text: str, origin: list[int], pattern: re.Pattern, repl) -> tuple[str, list[int]]:
    """Apply a regex substitution while keeping the origin map: replaced characters inherit the
    origins of the matched characters, position by position (the last one repeats)."""
    out, new_origin, pos = [], [], 0
    for m in pattern.finditer(text):
        rep = repl(m)
        if rep is None:
            continue
        out.append(text[pos:m.start()])
        new_origin.extend(origin[pos:m.start()])
        src = origin[m.start():m.end()] or [origin[m.start() - 1] if m.start() else 0]
        out.append(rep)
        new_origin.extend(src[min(i, len(src) - 1)] for i in range(len(rep)))
        pos = m.end()
    out.append(text[pos:])
    new_origin.extend(origin[pos:])
    return "".join(out), new_origin


# Formal (banker's) numerals, as in 伍仟万 / 壹年: ordinary numerals, where they form a number
_FORMAL = str.maketrans("壹贰叁肆伍陆柒捌玖拾佰仟", "一二三四五六七八九十百千")
_FORMAL_RE = re.compile(r"[壹贰叁肆伍陆柒捌玖拾佰仟](?:[壹贰叁肆伍陆柒捌玖拾佰仟零]+|(?=[万亿年个月%]))")
# Thousands separators inside amounts: 50,000,000 / 5,000万 (not '500,300', two index numbers)
_THOUSANDS_RE = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3}){2,}(?![\d,])|(?<![\d,.])\d{1,3}(?:,\d{3})+(?=\s*(?:万|亿|w|元|块|rmb|cny))")
# w is 万 in amounts: 5千w = 5千万, 8百w = 8百万; 半个亿 is half of 1亿
_AMOUNT_WORD_RE = re.compile(r"(?<=[\d一二两三四五六七八九十])([千百])w(?![a-z])|半个?亿")
_TYPO_RE = re.compile("|".join(sorted(map(re.escape, TYPOS), key=len, reverse=True)))
_SPACE_RE = re.compile(r"[ \t\u00a0\u3000]+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\u200b-\u200f\ufeff]+")


def _cn_number(m: re.Match) -> str | None:
    pct = m.group(1) or m.group(3)
    digits = m.group(2) or m.group(4)
    value = cn_to_int(digits)
    if value is None:
        return None
    # keep a converted number apart from digits before it ('敲入75一年' -> '敲入75 1年')
    lead = " " if m.start() and m.string[m.start() - 1].isdigit() else ""
    return lead + (f"{value}%" if pct else str(value))


def _cn_keyword_number(m: re.Match) -> str | None:
    run = m.group(3)
    whole, _, frac = run.partition("点")
    value = cn_to_int(whole) if len(run) >= 2 else None
    if value is None or (frac and not all(ch in _CN_DIGITS for ch in frac)):
        return None
    return m.group(1) + m.group(2) + str(value) + (("." + "".join(str(_CN_DIGITS[ch]) for ch in frac)) if frac else "")


def _cn_compound(m: re.Match) -> str | None:
    value = cn_to_int(m.group(1))
    if value is None or len(m.group(1)) < 2:
        return None
    lead = " " if m.start() and m.string[m.start() - 1].isdigit() else ""
    return lead + str(value)


class TooLong(ValueError):
    """The normalised text would exceed the limit given to ``normalize``."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"more than {limit} characters once normalised")


def normalize(original: str, max_chars: int | None = None) -> Normalized:
    """Normalise chat text: NFKC per character (full-width to half-width), ASCII lower case,
    control characters dropped, runs of spaces collapsed, common typos fixed, Chinese numerals
    before a unit, after a level keyword or as compound numerals converted to digits ("两年" ->
    "2年", "百分之八十" -> "80%", "敲出一百零三" -> "敲出103", "七十五" -> "75").

    ``max_chars``: raise ``TooLong`` as soon as the NFKC form passes this many characters (one
    character can expand to 18: U+FDFA), before any further work."""
    chars, origin = [], []
    for i, ch in enumerate(original):
        for c in unicodedata.normalize("NFKC", ch):
            chars.append(c.lower() if c.isascii() else c)
            origin.append(i)
        if max_chars is not None and len(chars) > max_chars:
            raise TooLong(max_chars)
    text = "".join(chars)
    text, origin = _replace(text, origin, _CONTROL_RE, lambda m: "")
    text, origin = _replace(text, origin, _SPACE_RE, lambda m: " " if len(m.group()) > 1 or m.group() != " " else None)
    text, origin = _replace(text, origin, _TYPO_RE, lambda m: TYPOS[m.group()])
    text, origin = _replace(text, origin, _FORMAL_RE, lambda m: m.group().translate(_FORMAL))
    text, origin = _replace(text, origin, _AMOUNT_WORD_RE, lambda m: m.group(1) + "万" if m.group(1) else "0.5亿")
    text, origin = _replace(text, origin, _THOUSANDS_RE, lambda m: m.group().replace(",", ""))
    text, origin = _replace(text, origin, _CN_NUM_RE, _cn_number)
    text, origin = _replace(text, origin, _CN_KEY_RE, _cn_keyword_number)
    text, origin = _replace(text, origin, _CN_COMPOUND_RE, _cn_compound)
    return Normalized(text=text, original=original, origin=tuple(origin))
