"""Request builder: from the mentions of one message to a list of quote requests.

How a message maps to requests:
- Lines (newline, ';', numbered list items such as '1.' '2、' '①') split the message. A line
  without an underlying holds shared settings: they apply to every request of the message.
- Inside a line each underlying starts a group, except underlyings joined by connectors
  ('500 和 300', '500/1000', '500、300'), which share one group. Mentions after a group's
  underlying belong to it; mentions before the first underlying of a line are shared by the line.
- A clause (between commas) saying 都/均/统一/全部 holds settings for every request; so do the
  terms after 都/均 that follow several groups of one line ('中证500 1年 中证1000 2年 都是雪球 …').
- A question closing a line of several groups ('A 1年 和 B 2年 票息多少') asks for all of them;
  so does one closing the last item of a numbered list whose other items ask nothing.
- A group saying 同上/同样/一样/也要/也按这个结构 (the pool's jargon.same_terms) takes the previous
  group's terms where it states none.
- A group with several values of one field ('1M/3M', '1年 和 18个月', '雪球和凤凰') gives one
  request per combination (with several products, a field goes only to those that have it:
  派息线 to the phoenix, not the snowball); with 分别 and equal counts of several fields, values pair up instead;
  KO and KI lists of equal length always pair up ('103/75，100/70'), and so do lists of equal
  length whose values alternate in the text ('看涨105 看跌95' is two requests, not four;
  '1年 103/75，2年 100/70').
- Only groups with an underlying and at least one of structure / option type / solve-for and one
  more term become requests, so chatter ('谢谢，已收到报价') gives nothing. A message with no
  known underlying but a product, a question and a term gives one request without underlying
  (an unknown name such as 恒生科技 must not make a clear request vanish). Talk about a trade
  already done or quoted (已成交, 昨天报的) gives nothing unless it asks a question.
"""
from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass

from ..core.errors import InputError
from .normalize import Normalized
from .request import QuoteRequest
from .rules import LIST_MARKER

FIELD_OF = {
    "UNDERLYING": "underlying", "STRUCTURE": "structure", "OPTION_TYPE": "option_type",
    "TENOR": "tenor_months", "STRIKE": "strike", "KO": "ko_barrier", "KI": "ki_barrier",
    "BARRIER": "barrier", "COUPON_BARRIER": "coupon_barrier", "COUPON": "coupon",
    "PARTICIPATION": "participation", "REBATE": "rebate", "NOTIONAL": "notional",
    "LOCKUP": "lockup_months", "STEP_DOWN": "ko_step_down", "FREQ": "ko_frequency",
    "SOLVE": "solve_for",
}


@dataclass(frozen=True)
class Mention:
    """A recognised mention with its parsed value; start/end index the normalised text."""

    label: str
    start: int
    end: int
    value: object
    confidence: float
    source: str  # "rule" or "model"

    @property
    def field(self) -> str:
        return FIELD_OF[self.label]


MAX_REQUESTS = 64  # more combinations than this in one message is not a request a desk can quote

_LINE_BREAK = re.compile(r"\n|;|。(?=\s*\S)|" + LIST_MARKER.pattern)
# (written so that a long gap fails in one pass: two starred runs of the same class around an
# optional word backtracked quadratically)
_JOIN = re.compile(r"[\s和与跟及、,/&+]*(?:(?:还有|以及|or|and|或者?)[\s和与跟及、,/&+]*)?")
_SHARED = re.compile(r"都|均|统一|全部|全都|一律|all\b")
_CLAUSE = re.compile(r"[,，。!！?？]")
_RESPECTIVE = re.compile(r"分别|respectively")


def _lines(text: str) -> list[tuple[int, int]]:
    cuts = sorted({0, len(text), *(m.start() for m in _LINE_BREAK.finditer(text))})
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


class _Clauses:
    """The clauses of a message (between commas and sentence ends), found once: the clause of a
    position by bisection, and whether it says 都/均/统一 (searched once per clause, not once per
    mention: per-mention scans of a long clause were quadratic work)."""

    def __init__(self, text: str):
        self.text = text
        self.cuts = [m.start() for m in _CLAUSE.finditer(text)]
        self._shared: dict[int, bool] = {}

    def index(self, pos: int) -> int:
        return bisect.bisect_left(self.cuts, pos)

    def bounds(self, k: int) -> tuple[int, int]:
        a = self.cuts[k - 1] + 1 if k > 0 else 0
        return a, (self.cuts[k] if k < len(self.cuts) else len(self.text))

    def shared(self, k: int) -> bool:
        if k not in self._shared:
            a, b = self.bounds(k)
            self._shared[k] = bool(_SHARED.search(self.text, a, b))
        return self._shared[k]


# Talk about a trade already quoted or done ('已成交', '昨天报的 ... 客户嫌低') is not a new request
# unless it asks for something explicitly.
_PAST = re.compile(r"成交|已报|报过|报的|上次|昨天|之前|嫌|取消|撤单|不做了|作废"
                   # the life of a trade already booked: paid, started, knocked, confirmed
                   r"|打款|起息|到账|已下单|已签|签了|确认书|(?:敲入|敲出|到期|下单)了")
# Asking for documents about a product ('条款发我一份') is not asking for a quote.
_DOCUMENT = re.compile(r"(?:条款|合同|确认书|估值|报告|term\s?sheet|资料|材料|说明书|定价书)\s*(?:\S{0,3})?\s*(?:发|给|传|看)")
# A verdict on a quote ('票息太低', '这个水平可以', '贵了') is feedback, not a new request, unless it asks.
_VERDICT = re.compile(r"(?:太|偏|有点|有些)\s*(?:低|高|贵|便宜)|贵了|低了|(?:水平|价格|票息|这个)\s*(?:可以|ok|不错|没问题)|可以做")
# What a product is quoted in when a question names no field.
_QUOTED_IN = {"snowball": "coupon", "phoenix": "coupon", "vanilla": "price", "digital": "price",
              "asian": "price", "barrier": "price"}
# Words referring a group back to the previous one's terms ('同上', '也按这个结构') are the pool's
# jargon.same_terms (pool.toml); compiled once per jargon.
@functools.lru_cache(maxsize=8)
def _same_re(pattern: str) -> re.Pattern:
    return re.compile(pattern or "(?!)")


class _Group:
    def __init__(self, line: int, start: int):
        self.line = line
        self.start = start
        self.end = start
        self.mentions: list[Mention] = []


def _distinct(ms: list[Mention]) -> list[Mention]:
    seen, out = set(), []
    for m in ms:
        if m.value not in seen:
            seen.add(m.value)
            out.append(m)
    return out


def build_requests(norm: Normalized, mentions: list[Mention], jargon=None) -> list[QuoteRequest]:
    """Turn the mentions of one normalised message into quote requests (see module doc);
    ``jargon``: the pool's words (``pool.Jargon``; the shipped pool's if None)."""
    if jargon is None:
        from .pool import load_pool

        jargon = load_pool().jargon
    same = _same_re(jargon.same_terms)
    text = norm.text
    mentions = sorted(mentions, key=lambda m: m.start)
    starts = [m.start for m in mentions]
    clauses = _Clauses(text)
    groups: list[_Group] = []
    shared: list[Mention] = []
    line_shared: dict[int, list[Mention]] = {}
    lines = _lines(text)
    for li, (a, b) in enumerate(lines):
        in_line = mentions[bisect.bisect_left(starts, a):bisect.bisect_left(starts, b)]
        current: _Group | None = None
        current_und_clauses: set[int] = set()  # clauses holding an underlying of the current group
        n_groups = 0
        last_und: Mention | None = None
        leading: list[Mention] = []
        for m in in_line:
            if m.label == "UNDERLYING":
                joined = last_und is not None and current is not None and _JOIN.fullmatch(text, last_und.end, m.start)
                if not joined:
                    if current is not None:
                        current.end = m.start
                    current = _Group(li, m.start)
                    current_und_clauses = set()
                    groups.append(current)
                    n_groups += 1
                current.mentions.append(m)
                current_und_clauses.add(clauses.index(m.start))
                last_und = m
                continue
            k = clauses.index(m.start)
            if current is not None and clauses.shared(k) and k not in current_und_clauses:
                shared.append(m)
            elif n_groups > 1 and last_und is not None and _SHARED.search(text, last_und.end, m.start):
                # '中证500 1年 中证1000 2年 都是雪球 103/75': after 都 that follows several groups of
                # the line, the terms are every group's
                leading.append(m)
            elif current is None:
                leading.append(m)
            else:
                current.mentions.append(m)
        if current is not None:
            current.end = b
        # a question closing a line with several groups ('A 1年 和 B 2年 票息多少') asks for all
        if n_groups > 1 and current.mentions[-1].label == "SOLVE":
            leading.append(current.mentions.pop())
        if current is None:
            shared.extend(leading)
        else:
            line_shared[li] = leading
    # a question closing the last item of a numbered list whose other items ask nothing
    # ('(1) 500 雪球 103/75 1y (2) 1000 雪球 103/70 1y 票息') asks for every item
    numbered = {li for li, (a, b) in enumerate(lines) if LIST_MARKER.match(text[a:b].lstrip("\n; "))}
    if len(groups) > 1 and groups[-1].mentions[-1].label == "SOLVE" and {g.line for g in groups} <= numbered \
            and not any(m.label == "SOLVE" for g in groups[:-1] for m in g.mentions):
        shared.append(groups[-1].mentions.pop())
    if not groups and shared:
        # No known underlying: a clear request still becomes one (underlying unset) instead of
        # vanishing, so the desk sees it; _request asks more of such a group.
        orphan = _Group(-1, 0)
        orphan.mentions, shared = shared, []
        groups.append(orphan)
    requests: list[QuoteRequest] = []
    previous: dict[str, list[Mention]] = {}
    respective_anywhere = bool(_RESPECTIVE.search(text))
    # talk about a trade already done, a document request or a verdict: read once per message
    chatter = bool(_PAST.search(text) or _DOCUMENT.search(text) or _VERDICT.search(text))
    shared_by_field: dict[str, list[Mention]] = {}
    for m in shared:
        shared_by_field.setdefault(m.field, []).append(m)
    for g in groups:
        by_field: dict[str, list[Mention]] = {}
        for m in g.mentions:
            by_field.setdefault(m.field, []).append(m)
        if previous and same.search(text[g.start:g.end]):
            # '中证1000 同样条件' / '同上': the terms of the previous group, its own ones first
            for f, ms in previous.items():
                by_field.setdefault(f, ms)
        previous = dict(by_field)
        inherited: dict[str, list[Mention]] = {}
        for m in line_shared.get(g.line, []):
            if m.field not in by_field:
                inherited.setdefault(m.field, []).append(m)
        by_field.update(inherited)
        for f, ms in shared_by_field.items():  # the message's shared settings: grouped once
            by_field.setdefault(f, ms)
        by_field = {f: _distinct(ms) for f, ms in by_field.items()}
        _prefer_rule_questions(by_field)
        g_text = text[min(m.start for m in g.mentions):max(m.end for m in g.mentions)] if g.mentions else ""
        requests.extend(_expand(norm, by_field, bool(respective_anywhere or _RESPECTIVE.search(g_text)), chatter))
        if len(requests) > MAX_REQUESTS:  # stop building as soon as the message is past the limit
            break
    if len(requests) > MAX_REQUESTS:
        raise InputError(f"message asks for {len(requests)} requests; at most {MAX_REQUESTS} per message", field="text")
    out: list[QuoteRequest] = []
    seen = set()
    for r in requests:
        key = tuple(sorted(r.to_dict().items()))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _prefer_rule_questions(by_field: dict[str, list[Mention]]) -> None:
    """Drop model-found questions that the rules contradict: any when the rules found a question,
    and one asking for a field the message states ('110% 行权 ... 报价' asks the price, not the
    strike); a question naming no field ('多少') yields to one that names it."""
    asks = by_field.get("solve_for")
    if not asks:
        return
    if any(m.value != "ask" for m in asks):  # '期权费多少': the field word says what is asked
        asks = [m for m in asks if m.value != "ask"]
    kept = [m for m in asks if m.source == "rule"] or [
        m for m in asks if not any(x.source == "rule" for x in by_field.get(str(m.value), []))]
    if kept:
        by_field["solve_for"] = kept
    else:
        del by_field["solve_for"]


def _in_order(items: list[dict[str, Mention]]) -> bool:
    """Whether the items follow one another in the text: every mention of item i ends before any
    mention of item i+1 starts ('看涨105 看跌95': (看涨, 105) then (看跌, 95))."""
    return all(max(m.end for m in a.values()) <= min(m.start for m in b.values()) for a, b in zip(items, items[1:]))


def _pair_lists(axes: list[list[dict[str, Mention]]]) -> list[list[dict[str, Mention]]]:
    """Merge value lists of equal length whose values alternate in the text into one list of
    items: '看涨105 看跌95' is (call 105, put 95), two requests, not four; '1年 103/75，2年 100/70'
    pairs each tenor with its levels. Lists that do not alternate ('看涨看跌 1M/3M') stay apart and
    are crossed."""
    out: list[list[dict[str, Mention]]] = []
    for axis in axes:
        for k, done in enumerate(out):
            if len(axis) > 1 and len(done) == len(axis):
                merged = [{**a, **b} for a, b in zip(done, axis)]
                if _in_order(merged):
                    out[k] = merged
                    break
        else:
            out.append(axis)
    return out


def _expand(norm: Normalized, by_field: dict[str, list[Mention]], respective: bool,
            chatter: bool = False) -> list[QuoteRequest]:
    # Axes of variation: a field each, except KO and KI lists of equal length, which pair up
    # ('103/75，100/70 各报一个' is two requests, not four), and lists whose values alternate in
    # the text, which pair up too (_pair_lists).
    axes: list[list[dict[str, Mention]]] = []
    linked = ("ko_barrier", "ki_barrier")
    if all(len(by_field.get(f, [])) > 1 for f in linked) and len(by_field[linked[0]]) == len(by_field[linked[1]]):
        axes.append([{f: by_field[f][i] for f in linked} for i in range(len(by_field[linked[0]]))])
        rest = [f for f in by_field if f not in linked]
    else:
        rest = list(by_field)
    axes += [[{f: m} for m in by_field[f]] for f in rest]
    axes = _pair_lists(axes)
    multi = [a for a in axes if len(a) > 1]
    combos: list[dict[str, Mention]] = []
    if respective and len(multi) >= 2 and len({len(a) for a in multi}) == 1:
        for i in range(len(multi[0])):  # 分别: the i-th values go together
            combo: dict[str, Mention] = {}
            for a in axes:
                combo.update(a[i] if len(a) > 1 else a[0])
            combos.append(combo)
    else:
        size = 1
        for a in axes:
            size *= len(a)
        if size > MAX_REQUESTS:
            raise InputError(f"message combines into {size} requests; at most {MAX_REQUESTS} per message", field="text")
        for choice in itertools.product(*axes):
            combo = {}
            for part in choice:
                combo.update(part)
            combos.append(combo)
    several_products = len(by_field.get("structure", [])) > 1
    out = []
    for combo in combos:
        r = _request(norm, combo, several_products, chatter)
        if r is not None:
            out.append(r)
    return out


_LEVEL_FIELDS = ("strike", "ko_barrier", "ki_barrier", "barrier", "coupon_barrier")


# Fields that only some products have. When one group names several products ('雪球 103/75 和
# 凤凰 103/75 派息75'), a field goes only to the products that have it.
_ONLY_FOR = {
    "coupon_barrier": {"phoenix"},
    "ki_barrier": {"snowball", "phoenix"},
    "ko_barrier": {"snowball", "phoenix"},
    "lockup_months": {"snowball", "phoenix"},
    "ko_step_down": {"snowball", "phoenix"},
    "ko_frequency": {"snowball", "phoenix"},
    "participation": {"sharkfin"},
    "rebate": {"sharkfin", "barrier", "digital"},
    "barrier": {"sharkfin", "barrier"},
    "option_type": {"vanilla", "sharkfin", "digital", "asian", "barrier"},
    "strike": {"vanilla", "sharkfin", "digital", "asian", "barrier"},
}


def _request(norm: Normalized, combo: dict[str, Mention], several_products: bool = False,
             chatter: bool = False) -> QuoteRequest | None:
    r = QuoteRequest()
    for f, m in combo.items():
        setattr(r, f, m.value)
        r.spans[f] = list(norm.span_to_original(m.start, m.end))
        r.confidence[f] = round(float(m.confidence), 4)
    if r.structure is None and r.option_type is not None:
        r.structure = "vanilla"  # 看涨/看跌 with no structure word is a plain option
        r.spans["structure"] = r.spans["option_type"]
        r.confidence["structure"] = r.confidence["option_type"]
    if r.structure in ("sharkfin", "barrier") and r.barrier is None:
        # 鲨鱼鳍 敲出110 / 向下敲入 敲入障碍90: the one knock level of these products is `barrier`
        for f in ("ko_barrier", "ki_barrier"):
            if getattr(r, f) is not None:
                _move(r, f, "barrier")
                break
    if r.structure is not None:
        for f, products in _ONLY_FOR.items():
            # a field the product does not have: with several products in the group it belongs to
            # another one; found by the model, it is a misreading ('2)' read as a KO of a vanilla)
            if getattr(r, f) is not None and r.structure not in products and (
                    several_products or (f in combo and combo[f].source == "model")):
                _drop(r, f)
    if r.solve_for in ("coupon", "participation", "strike") and getattr(r, r.solve_for) is not None \
            and r.confidence.get(r.solve_for, 1.0) < 1.0:
        _drop(r, r.solve_for)  # a model-found value of the very field asked for is a misreading
    if isinstance(r.strike, tuple):
        kind, x = r.strike
        if r.option_type is None:
            _drop(r, "strike")  # 虚值5% means 0.95 or 1.05 depending on call/put
        else:
            up = (kind == "otm") == (r.option_type == "call")
            r.strike = round(1 + x if up else 1 - x, 6)
    if r.solve_for == "ask":
        # a question naming no field asks what the product is quoted in
        asked = _QUOTED_IN.get(r.structure or "")
        if asked is not None and getattr(r, asked, None) is not None:
            asked = "price"  # the coupon is stated ('票息20% 多少'): what is left is the price
        if asked is None:
            _drop(r, "solve_for")
        else:
            r.solve_for = asked
    if r.solve_for is None and chatter:
        return None
    kind = [f for f in ("structure", "option_type", "solve_for") if getattr(r, f) is not None]
    terms = [f for f in r.to_dict() if f != "underlying"]
    if r.underlying is None:
        # without an underlying: a product, a question and at least one term ('恒生科技 雪球 103/75 票息多少')
        if r.solve_for is None or (r.structure is None and r.option_type is None) or len(terms) < 3:
            return None
    elif not kind or len(terms) < 2:
        return None
    return r


def _move(r: QuoteRequest, src: str, dst: str) -> None:
    setattr(r, dst, getattr(r, src))
    setattr(r, src, None)
    r.spans[dst] = r.spans.pop(src)
    r.confidence[dst] = r.confidence.pop(src)


def _drop(r: QuoteRequest, f: str) -> None:
    setattr(r, f, None)
    r.spans.pop(f, None)
    r.confidence.pop(f, None)
