"""Rule matcher: the mentions the parser is sure about, found with patterns on normalised text.

Rules cover what has an unambiguous surface form: numbers with units (3个月, 5000w, 20%), keyword
plus number (敲出103, 参与率80%), codes and names of underlyings, structure and option-type words,
questions (票息多少). Bare numbers whose role depends on context (雪球 103 75) are left to the
trained NER, which runs after the rules and respects what they found.

The desk's words (structures, option types, moneyness, tenor words) come from the pool file
(``pool.py``): the patterns that use them are compiled per jargon (``rule_set``) and cached.

A mention is ``(label, start, end)`` in the normalised text; labels are listed in ``LABELS``.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache

from .underlyings import UnderlyingTable
from .values import FREQ_WORDS, NUM, level

LABELS = (
    "UNDERLYING", "STRUCTURE", "OPTION_TYPE", "TENOR", "STRIKE", "KO", "KI", "BARRIER",
    "COUPON_BARRIER", "COUPON", "PARTICIPATION", "REBATE", "NOTIONAL", "LOCKUP", "STEP_DOWN",
    "FREQ", "SOLVE",
)

_SEP = r"\s*(?:[:=@]|(?:分别|也|都|均)?(?:为|是)|分别|在|设为|设|定在|定|给|at)?\s*"
# A level number must not run on into a unit (敲出 12个月 is a tenor, not a barrier).
_LV = NUM + r"\s*%?(?![\d.]|个|月|年|万|w|亿|k|bp|y|m|天|周|日)"
# '12个点' is 12% ('票息12个点')
_PCT = NUM + r"\s*(?:%|bps?|个点)?(?![\d.]|个|月|年|万|w|亿|k|y|m|天|周|日)"
_NB = r"(?<![a-z])"  # latin keyword starts a word

_KO = r"(?:敲出|" + _NB + r"ko|" + _NB + r"k\.o\.|knock[\s-]?out|up[\s-]?and[\s-]?out)"
_KI = r"(?:敲入|" + _NB + r"ki|" + _NB + r"k\.i\.|knock[\s-]?in|down[\s-]?and[\s-]?in)"
_LVWORD = r"\s*(?:价格|价位|价|线|水平|界限|障碍|level|barrier|lvl)?"
_ASK = r"[^\d,;\n。%:]{0,6}?(?:多少|几个点|几|多高|\?|how\s?much)"
_REPORT = r"(?:报|给|(?<!敲)出|来|求|问)\s*(?:个|一下|下|一个|一)?\s*"
# Politeness and filler that may sit between a field word and 'quote it' or close a message
# ('票息麻烦都报一下', 'coupon pls', '票息 谢谢'); emojis are dropped before matching.
_FILL = r"(?:\s*(?:麻烦|帮忙|辛苦|请|都|也|再|先|各|大概|一起|给我|帮我|pls|plz|please))*\s*"
_COURTESY = r"(?:\s*(?:pls|plz|please|thx|thanks|thank\s*you|谢谢|多谢|感谢|辛苦了?|麻烦了|哈|啊|呀|呢|吧|哦|~|!))*"

# (label, priority, pattern); on an overlap the smaller priority wins, then the longer match.
# Patterns that use the desk's words are in _jargon_patterns.
_PATTERNS: list[tuple[str, int, str]] = [
    ("SOLVE", 0, r"(?:票息|coupon|cpn|收益率|派息率)" + _ASK),
    ("SOLVE", 0, r"(?:票息|coupon|cpn)(?=" + _COURTESY + r"\s*(?:$|[\n,;。!~]))"),
    # '给票息15%' states the coupon (a price request follows), '报个票息' asks for it
    ("SOLVE", 0, _REPORT + r"(?:票息|coupon)(?!\s*(?:[:=]|为|是|按|给)?\s*" + NUM + r"\s*(?:%|个点))|solve\s*(?:for\s*)?(?:coupon|price|vol|strike|participation)"),
    ("SOLVE", 0, r"(?:参与率|participation(?:\s*rate)?)" + _ASK + r"|" + _REPORT + r"参与率"),
    ("SOLVE", 0, r"(?:" + _NB + r"vol|波动率|隐波|隐含波动率|" + _NB + r"iv)" + _ASK + r"|" + _REPORT + r"(?:vol|波动率|隐波)"),
    ("SOLVE", 0, r"(?:行权价|strike|执行价)" + _ASK + r"|" + _REPORT + r"(?:行权价|strike)"),
    ("SOLVE", 0, r"(?:期权费|权利金|premium)(?!\s*(?:[:=]|为|是)?\s*\d)|价格\s*(?:分别|各)?\s*(?:多少|几|\?|呢|如何)|多少钱|什么价|"
                 + _REPORT + r"价格?(?!值)|报价|" + _NB + r"pric(?:e|ing)|费率\s*(?:多少|几|\?)"),
    # ('15%票息 报个价' asks the price: 报个 before 价 is not the coupon's question)
    ("SOLVE", 0, r"(?:票息|coupon|cpn|参与率|vol|波动率|行权价|strike|价格?)" + _FILL + r"(?:报|给|出|问)\s*(?:一下|下|个)(?!\s*(?:价|price))"),
    ("SOLVE", 0, r"(?:多少|几个点)\s*(?:的)?\s*(?:票息|coupon|参与率|期权费|权利金|vol|波动率)"),
    ("SOLVE", 0, r"(?:票息|coupon|cpn|参与率|期权费|价格|vol|波动率|行权价|strike)\s*[:=]\s*(?:\?|多少|待定|tbd|求)"),
    ("SOLVE", 0, r"(?:什么|啥)\s*水平|(?:多少|几个点|how\s?much)(?=\s*(?:$|[?\n,;。!~]|呢|啊|哈|呀))"),
    ("LOCKUP", 1, r"(?:锁定期|锁定|锁仓|锁|lock[\s-]?up|lock|封闭期|不敲出期)" + _SEP + r"半年"),
    ("LOCKUP", 1, r"(?:锁定期|锁定|锁仓|锁|lock[\s-]?up|lock|封闭期|不敲出期)" + _SEP + NUM + r"\s*(?:个月|月|mos?|months?|m(?![a-z])|年|y(?![a-z]))?(?![\d.])"),
    ("LOCKUP", 1, NUM + r"\s*(?:个月|月|m)(?:的)?(?:锁定期?|锁|\s?lock(?:[\s-]?up)?|封闭期?)(?![\d期定]|\s*\d)"),
    ("LOCKUP", 1, r"前\s*" + NUM + r"\s*个?月\s*(?:不敲出|不观察|不可敲出|锁定|锁)"),
    ("LOCKUP", 1, NUM + r"\s*个?月\s*(?:内)?\s*(?:不敲出|不观察敲出|不可敲出|不能敲出)"),
    ("STEP_DOWN", 1, r"(?:(?:月度|逐月|每月|按月)?\s*降敲|(?:敲出(?:价格?|线|水平)?\s*)?(?:每月|逐月|按月)\s*(?:降低|下降|下调|递减|降)"
                     r"|(?:每月|逐月|按月|月度)\s*敲出(?:价格?|线|水平|障碍)?\s*(?:降低|下降|下调|递减|降)|step[\s-]?down)"
                     r"\s*(?:每月|逐月|按月)?\s*(?:幅度)?" + _SEP + NUM + r"\s*(?:%|bps?)?"),
    ("FREQ", 1, "|".join(FREQ_WORDS.values())),
    ("NOTIONAL", 2, r"(?:名本|名义本金|名义金额|名义|本金|规模|金额|" + _NB + r"notional|" + _NB + r"size|" + _NB + r"notl|" + _NB + r"nominal)"
                    + r"\s*(?:[:=]|为|是|大概|约|大约|共)?\s*(?:cny|rmb|人民币)?\s*" + NUM + r"(?:e\d{1,2})?\s*(?:个亿|亿|kw|千万|百万|mm|mio|million|mn|个w|万|w|m|k)?(?![a-z\d])"),
    ("NOTIONAL", 2, NUM + r"\s*(?:个亿|亿|kw|千万|百万|个w|万|w|mm|mio|million|mn)(?![a-z])"),
    # the keyword after the amount: '100m notional', '5000万名本', '3kw的规模'
    ("NOTIONAL", 2, NUM + r"(?:e\d{1,2})?\s*(?:个亿|亿|kw|千万|百万|mm|mio|million|mn|个w|万|w)?\s*(?:的)?\s*(?=(?:名本|名义本金|规模|" + _NB + r"notional|" + _NB + r"size|" + _NB + r"notl)(?!\s*[:=]?\s*\d))"),
    ("NOTIONAL", 2, NUM + r"\s*m(?=\s*(?:notional|size|notl)(?![a-z])(?!\s*[:=]?\s*(?:cny|rmb)?\s*\d))"),  # '100m notional': m is million here
    ("KO", 3, _KO + _LVWORD + _SEP + _LV),
    ("KI", 3, _KI + _LVWORD + _SEP + _LV),
    # '103敲出，75敲入': number first; the keyword must not introduce a number of its own
    ("KO", 4, r"(?<![\d.])" + NUM + r"\s*%?\s*(?:的)?\s*" + _KO + r"(?:价|线)?(?!\s*[\d:=]|\s*(?:价|线)?\s*\d)"),
    ("KI", 4, r"(?<![\d.])" + NUM + r"\s*%?\s*(?:的)?\s*" + _KI + r"(?:价|线)?(?!\s*[\d:=]|\s*(?:价|线)?\s*\d)"),
    ("COUPON_BARRIER", 3, r"(?:派息线|派息障碍|派息界限|派息水平|派息价|付息线|付息障碍|票息障碍|票息线|coupon\s*barrier|派息|付息)" + _SEP + _LV),
    ("BARRIER", 3, r"(?:障碍价格|障碍价|障碍水平|障碍线|障碍|" + _NB + r"barrier|触发价|触发)" + _SEP + _LV),
    ("STRIKE", 3, r"(?:行权价格|行权价|行权|执行价格|执行价|执行|strike|" + _NB + r"k)" + _SEP + _LV),
    ("STRIKE", 4, NUM + r"\s*%\s*(?:的)?\s*(?:行权价?|执行价?|strike)(?!\s*[\d:=])"),
    ("COUPON", 4, r"(?:年化票息|票息率|票息|" + _NB + r"coupon|" + _NB + r"cpn|年化收益率?|收益率|票面利率|年化)" + _SEP + _PCT),
    ("COUPON", 4, NUM + r"\s*%\s*(?:的)?\s*(?:票息|coupon|年化)(?!\s*[\d:=])"),
    ("PARTICIPATION", 4, r"(?:参与率|参与度|参与比例|参与|participation(?:\s*rate)?|" + _NB + r"pr)" + _SEP + _PCT),
    ("PARTICIPATION", 4, NUM + r"\s*%\s*(?:的)?\s*(?:参与率|参与|participation)(?!\s*[\d:=])"),
    ("REBATE", 4, r"(?:敲出补偿|补偿收益|补偿|返息|" + _NB + r"rebate|敲出收益|固定收益|保底收益)" + _SEP + _PCT),
    # '每2个月观察' is an observation period, not a tenor
    ("TENOR", 5, r"(?<!每)(?<!每 )(?<![\d.])" + NUM + r"\s*(?:年半|个半月|个月|月期|月|months?|mos?|mths?|m|年期|年|years?|yrs?|y|周|weeks?|wks?|天|days?)(?![a-z])"),
]


def _alt(*parts: str) -> str:
    """Alternation of the non-empty ``parts`` ('(?!)', matching nothing, if none: an empty
    alternative would match everywhere)."""
    kept = [f"(?:{p})" for p in parts if p]
    return "|".join(kept) if kept else "(?!)"


def _jargon_patterns(j) -> list[tuple[str, int, str]]:
    """The patterns built from the pool's jargon (moneyness, option and structure words, tenor words)."""
    opt_words = _alt(*(re.escape(w) for w in j.option_words))
    opt_behind = "|".join(f"(?<={re.escape(w)})" for w in j.option_words) or "(?!)"
    oi = j.moneyness_re("otm", "itm")
    return [
        ("STRIKE", 3, _alt(j.moneyness_re("atm"))),
        ("STRIKE", 3, r"(?:" + _alt(oi) + r")" + _SEP + _LV),
        ("STRIKE", 3, NUM + r"\s*%\s*(?:" + _alt(oi) + r")"),
        ("STRIKE", 4, NUM + r"\s*%\s*(?=" + opt_words + r")"),
        ("STRIKE", 4, r"(?:" + opt_behind + r")\s*" + NUM + r"\s*%(?!\s*参与)"),
        ("TENOR", 5, _alt(*(re.escape(w) for w, _ in j.tenor))),
        ("OPTION_TYPE", 6, _alt(*(p for _, p in j.option_type))),
        ("STRUCTURE", 6, _alt(*(p for _, p in j.structure))),
    ]


# A pattern that starts with a number never starts inside one: without this guard a failed match
# is retried at every digit of a long digit run, each retry scanning to its end (quadratic work;
# 9,999 digits took a minute). A match starting inside a run is never needed: whatever matches from
# a digit in the middle of a run also matches from the run's first digit, which is tried first.
def _compile(patterns: list[tuple[str, int, str]]) -> list[tuple[str, int, re.Pattern]]:
    return [(label, prio, re.compile((r"(?<!\d)" if pat.startswith(NUM) else "") + pat)) for label, prio, pat in patterns]
# A tenor list '1/3/6个月': every number but the last is a tenor (the last one, with its unit, is
# matched by the TENOR pattern above). Found as whole runs, so a long list without a unit costs one
# scan, not one scan per number.
_NUMBER_RUN = re.compile(r"(?<![\d.])" + NUM + r"(?:\s*[/、,]\s*" + NUM + r")+")
_RUN_UNIT = re.compile(r"\s*(?:个月|月|m|年|y)(?![a-z])")
_NUMBER = re.compile(NUM)

# Item numbers of a list ('1.' '2、' '3)' '(4)' '①' at a line start or after a space): they are
# neither levels nor tenors, so the NER must not label them (see pipeline.RuleComponent).
LIST_MARKER = re.compile(r"(?:(?<=\s)|^)(?:\d{1,2}\s*(?:\.(?![\d])|[、)])|[①-⑳]|\(\d{1,2}\))")
# A bare level number right before the option word ('IF 3M 105 call', '103 看涨') is the strike;
# bare index numbers ('300 看涨' is CSI 300) are left to the underlying rules.
def _strike_before_type(opt_words: str) -> re.Pattern:
    return re.compile(r"(?<![\d.a-z%])(" + NUM + r")\s*(?=(?:" + opt_words + r")(?![a-z]))"
                      # or right after it: 'put 95 1m', '看跌 0.95'
                      r"|(?:" + opt_words + r")\s*(" + NUM + r")(?![\d.%]|\s*(?:%|个|月|年|万|w|亿|k|m|y|天|周|日|bp|e\d))")
# '降0.5' / '降50bp' alone is the monthly KO step-down in a snowball or phoenix
_BARE_STEP = re.compile(r"(?<![\u4e00-\u9fff])降\s*(" + NUM + r"\s*(?:%|bps?)?)(?![\d.])")


def list_markers(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the item numbers of numbered lists in normalised ``text``."""
    return [(m.start(), m.end()) for m in LIST_MARKER.finditer(text)]

# 'already received the quote' is not a request for one.
_NOT_ASKING = re.compile(r"(?:收到|已经?|看到|谢谢)\s*(?:了)?\s*(?:的)?\s*$")
_GENERIC_ASK = re.compile(r"(?:什么|啥|多少|几个点|how)")
_NOT_TERMS = re.compile(r"(?:规模|名本|本金|金额|额度|起投|起做|最低|最少|最多|最高|能做|可以做|做了|买了|亏了|赚了|涨了|跌了)\s*$")
_KI_BEFORE = re.compile(r"(?:敲入|(?<![a-z])ki|knock[\s-]?in)\s*(?:价|线)?\s*$")
# Pair of levels '100/70' read as KO/KI in an autocallable context.
_PAIR = re.compile(r"(?<![\d.a-z/-])(" + NUM + r")\s*%?\s*[/-]\s*(" + NUM + r")\s*%?(?![\d.]|\s*(?:个|月|年|万|w|亿|k|m|y|/))")
# Joint keyword 'ko/ki 100/70', '敲出敲入 103/75'.
_JOINT = re.compile(_KO + r"\s*[/、和与&]?\s*" + _KI + r"\s*(?:[:=]|为|是|分别|分别为|分别是)?\s*(" + NUM + r")\s*%?\s*[/、和与&,-]\s*(" + NUM + r")\s*%?")
# A bare index number is an underlying when it stands where an underlying stands.
_GREETING = r"另外|然后|再来|再要|外加|加上|also|plus|老板们?|老师们?|[哥姐总]|大佬|各位|您好|你好|早上好|早|好的?|嗨|hi|hello|麻烦|帮忙|请问|看下|看看|想问"
# (after another underlying's tenor too: '500 1年 300 6个月')
_BEFORE_OK = re.compile(r"(?:^|(?<![\d.])\d{2,4}\s|(?<![\d.])\d{1,2}\s*(?:个月|年)\s|[\n,;/、&+()\[\]:!?~「」『』【】]|和|与|跟|及|还有|以及|或|@\S+|询|报|问|下|个|的|做|\d[.、)]|[a-z]|"
                        + _GREETING + r")\s*$")


class RuleSet:
    """The compiled patterns of one jargon (the desk's words from the pool file)."""

    def __init__(self, j):
        s = j.structure_words
        products = _alt(*(p for _, p in j.structure), *(p for _, p in j.option_type), j.moneyness_re())
        opt_words = _alt(*(re.escape(w) for w in j.option_words))
        self.compiled = _compile(_PATTERNS + _jargon_patterns(j))
        self.strike_before_type = _strike_before_type(opt_words)
        self.autocall = re.compile(_alt(s.get("snowball", ""), s.get("phoenix", ""), r"敲出|敲入|(?<![a-z])k[oi](?![a-z])"))
        self.other_struct = re.compile(_alt(*(s.get(k, "") for k in ("sharkfin", "vanilla", "digital", "asian", "barrier")),
                                            *(p for _, p in j.option_type)))
        self.after_ok = re.compile(r"^\s*(?:的\s*)?(?:(?:[/、和与跟及&+,]\s*)?(?:\d{2,4}(?![\d.%])|中证|沪深|上证)|指数|" + products
                                   # '1000也按这个结构': a word referring back to the terms before
                                   + r"|" + NUM + r"\s*(?:个月|年|m|y)(?![a-z])|敲出|ko|也?(?:" + _alt(j.same_terms) + r"))")
        self.product_after = re.compile(r"^\s*(?:的\s*)?(?:" + products + r")")
        oi = _alt(j.moneyness_re("otm", "itm"))
        self.moneyness = re.compile(oi)
        # a value continuing a moneyness list ('虚值5%/10%'): the text before it, back to the keyword
        self.moneyness_list_before = re.compile(r"(" + oi + r")\s*" + NUM + r"\s*%?(?:\s*(?:和|或|、|/|or)\s*" + NUM
                                                + r"\s*%?)*\s*(?:和|或|、|/|or)\s*$")


@lru_cache(maxsize=8)
def rule_set(jargon) -> RuleSet:
    """The rule patterns for ``jargon`` (a ``pool.Jargon``), compiled once per jargon."""
    return RuleSet(jargon)


def _alias_pattern(table: UnderlyingTable) -> re.Pattern:
    forms = sorted(table.forms, key=len, reverse=True)
    # ASCII/number forms must not be part of a longer word or number ('zz500' is, 'zz5000' not).
    alts = []
    for f in forms:
        esc = re.escape(f).replace(r"\ ", r"\s*")
        if re.match(r"[a-z0-9]", f):
            esc = r"(?<![a-z0-9.])" + esc
        if re.search(r"[a-z0-9]$", f):
            esc = esc + r"(?![a-z0-9])" if not f[-1].isdigit() else esc + r"(?![0-9.%]|\s*%)"
        alts.append(esc)
    return re.compile("|".join(alts))




def _width_folded(original: str) -> str:
    """``original`` with each full-width character replaced by its one-character NFKC form (ＩＣ ->
    IC), case kept and offsets unchanged, for matching the upper-case-only futures codes."""
    out = []
    for ch in original:
        n = unicodedata.normalize("NFKC", ch) if ord(ch) > 0x7f else ch
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


def find_mentions(text: str, original: str, origin: tuple[int, ...], table: UnderlyingTable) -> list[tuple[str, int, int]]:
    """All rule mentions of normalised ``text`` as non-overlapping (label, start, end), sorted.

    ``original``/``origin`` give access to the original characters (futures codes such as IC are
    matched only in upper case there, so the English word 'if' is not CSI 300 futures)."""
    rs = rule_set(table.jargon)
    cands: list[tuple[int, int, int, str]] = []  # (priority, start, end, label)
    for label, prio, rx in rs.compiled:
        for m in rx.finditer(text):
            if m.end() > m.start():
                if label == "SOLVE" and _NOT_ASKING.search(text[max(0, m.start() - 4):m.start()]):
                    continue
                if label == "SOLVE" and _GENERIC_ASK.match(m.group()) and _NOT_TERMS.search(text[max(0, m.start() - 6):m.start()]):
                    continue  # '能做多少规模' / '最低多少' ask about size or limits, not a price
                if label == "FREQ" and not text.startswith("敲出", m.end()) and (
                        _KI_BEFORE.search(text[max(0, m.start() - 8):m.start()]) or text.startswith("敲入", m.end())):
                    continue  # '敲入每日观察' is the knock-in observation, not the knock-out frequency
                cands.append((prio, m.start(), m.end(), label))
    for run in _NUMBER_RUN.finditer(text):
        if _RUN_UNIT.match(text, run.end()):
            nums = list(_NUMBER.finditer(text, run.start(), run.end()))
            cands.extend((5, m.start(), m.end(), "TENOR") for m in nums[:-1])
    for m in _JOINT.finditer(text):
        cands.append((2, m.start(1), m.end(1), "KO"))
        cands.append((2, m.start(2), m.end(2), "KI"))
    autocall = bool(rs.autocall.search(text))
    if autocall and not rs.other_struct.search(text):
        for m in _PAIR.finditer(text):
            a, b = level(m.group(1)), level(m.group(2))
            if a is not None and b is not None and 0.9 <= a <= 1.3 and 0.4 <= b <= 0.95 and a > b:
                cands.append((2, m.start(1), m.end(1), "KO"))
                cands.append((2, m.start(2), m.end(2), "KI"))
    for m in rs.strike_before_type.finditer(text):
        g = 1 if m.group(1) is not None else 2
        lv = level(m.group(g))
        if m.group(g) not in table.bare and lv is not None and 0.5 <= lv <= 2.0 and not autocall:
            cands.append((4, m.start(g), m.end(g), "STRIKE"))
    if autocall:
        for m in _BARE_STEP.finditer(text):
            cands.append((4, m.start(), m.end(), "STEP_DOWN"))
    alias_re = getattr(table, "_alias_re", None)
    if alias_re is None:  # compiled once per table, kept on it (a reloaded pool is a new table)
        alias_re = table._alias_re = _alias_pattern(table)
    for m in alias_re.finditer(text):
        cands.append((1, m.start(), m.end(), "UNDERLYING"))
    cased = _width_folded(original)
    for code in table.futures:
        for m in re.finditer(r"(?<![A-Za-z0-9])" + code + r"(?:\d{4})?(?![A-Za-z0-9])", cased):
            # map original offsets to normalised ones (origin is non-decreasing: bisect, not a scan)
            s = bisect.bisect_left(origin, m.start())
            e = bisect.bisect_right(origin, m.end() - 1)
            if s >= len(origin) or origin[s] != m.start() or e == 0 or origin[e - 1] != m.end() - 1:
                continue
            cands.append((1, s, e, "UNDERLYING"))
    for bare in table.bare:
        for m in re.finditer(r"(?<![\d.a-z%])" + bare + r"(?![\d.%]|\s*%|\s*(?:个|月|年|万|w|亿|k|m|y|bp|e))", text):
            after = text[m.end():m.end() + 16]
            before = text[max(0, m.start() - 12):m.start()]
            # a product word right after ('300 平值看涨', '1000 的雪球') is context enough after a space
            if (_BEFORE_OK.search(before) or (before.endswith(" ") and rs.product_after.search(after))) \
                    and rs.after_ok.search(after):
                cands.append((5, m.start(), m.end(), "UNDERLYING"))
    cands.sort(key=lambda c: (c[0], -(c[2] - c[1]), c[1]))
    taken: list[tuple[int, int, str]] = []
    used = [False] * len(text)
    for prio, s, e, label in cands:
        while e > s and text[e - 1].isspace():
            e -= 1
        while s < e and text[s].isspace():
            s += 1
        if e <= s or any(used[s:e]):
            continue
        for i in range(s, e):
            used[i] = True
        taken.append((label, s, e))
    taken.extend(_list_values(text, taken, used, rs.moneyness))
    return sorted(taken, key=lambda t: t[1])


# '敲出100和103', '敲入70/75', '参与率80%、100%': more values of the same field.
_LISTABLE = {"KO", "KI", "BARRIER", "COUPON_BARRIER", "STRIKE", "COUPON", "PARTICIPATION", "REBATE"}
_MORE = re.compile(r"\s*(?:和|或|、|/|or)\s*(" + NUM + r"\s*%?)(?![\d.]|\s*(?:个|月|年|万|w|亿|k|m|y|/))")




def _distance(text: str) -> float | None:
    """A moneyness distance as a fraction ('5%' / '5' -> 0.05), None if not one."""
    m = re.search(NUM, text)
    if not m:
        return None
    x = float(m.group()) / 100 if "%" in text or float(m.group()) >= 1 else float(m.group())
    return x if 0 < x < 0.5 else None


def _list_values(text: str, taken: list[tuple[str, int, int]], used: list[bool],
                 moneyness_re: re.Pattern) -> list[tuple[str, int, int]]:
    extra = []
    for label, s, e in list(taken):
        if label not in _LISTABLE:
            continue
        moneyness = label == "STRIKE" and moneyness_re.search(text[s:e])
        first = _distance(text[s:e]) if moneyness else level(text[s:e])
        while True:
            m = _MORE.match(text, e)
            if not m or any(used[m.start(1):m.end(1)]):
                break
            nxt = _distance(m.group(1)) if moneyness else level(m.group(1))
            # a list holds values of one kind: '103/75' after 敲出 is KO/KI, not two KOs
            if first is None or nxt is None or abs(nxt - first) > 0.15:
                break
            for i in range(m.start(1), m.end(1)):
                used[i] = True
            extra.append((label, m.start(1), m.end(1)))
            e = m.end(1)
    return extra
