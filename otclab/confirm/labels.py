"""Label synonyms: which printed labels name which confirmation field.

Confirmations from different dealers word the same element differently (敲出价格 / 敲出水平 /
敲出障碍价格 / 敲出触发价格 ...). Each field lists the labels seen in practice, most specific
first; the rank of a synonym in its list is its priority when a document prints several (e.g.
到期日 beats 期末观察日 for the maturity date). A label may feed several fields when documents
use it for either (期权类型: 雪球式 -> structure, 看涨 -> option type); each field's reader then
takes what it can.
"""
from __future__ import annotations

import re

# field -> synonyms in priority order. "party" is resolved to the counterparty afterwards.
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "trade_id": ("交易编号", "交易编码", "交易代码", "确认书编号", "合约编号", "合同编号", "交易确认编号",
                 "交易流水号", "交易参考编号", "业务编号", "交易ID", "Trade ID", "TradeID", "Trade No", "编号"),
    "counterparty": ("交易对手方名称", "交易对手名称", "交易对手方", "交易对手", "对手方名称", "对手方",
                     "客户名称", "投资者名称", "投资者", "Counterparty"),
    "party_a": ("甲方名称", "甲方", "交易方A", "Party A"),
    "party_b": ("乙方名称", "乙方", "交易方B", "Party B"),
    "trade_date": ("交易日期", "交易日", "成交日期", "成交日", "签约日期", "达成日", "Trade Date"),
    "start_date": ("起始日期", "起始日", "期初观察日", "期初日", "生效日期", "生效日", "起息日", "开始日期",
                   "期初估值日", "期初定价日", "Start Date", "Effective Date"),
    "maturity_date": ("到期日期", "到期日", "终止日期", "终止日", "期末观察日", "最终观察日", "到期观察日",
                      "期末估值日", "Maturity Date", "Expiry Date"),
    "underlying": ("标的资产名称", "标的资产", "挂钩标的", "挂钩指数", "标的指数", "标的证券", "标的名称",
                   "标的代码", "标的", "Underlying"),
    "structure": ("产品类型", "产品结构", "结构类型", "期权结构", "交易品种", "交易类型", "产品名称",
                  "期权品种", "期权类型", "Product Type", "Structure"),
    "option_type": ("期权类型", "期权方向", "看涨/看跌", "看涨看跌", "涨跌方向", "行权方向", "方向",
                    "Option Type"),
    "notional": ("名义本金金额", "名义本金额", "名义本金", "名义金额", "交易本金", "认购金额", "本金金额",
                 "本金", "Notional Amount", "Notional"),
    "initial_price": ("期初价格", "期初价", "期初参考价格", "期初观察价格", "期初收盘价", "初始价格",
                      "起始价格", "期初标的价格", "期初水平", "Initial Price"),
    "strike": ("行权价格", "行权价", "执行价格", "执行价", "敲定价格", "Strike Price", "Strike"),
    "ko_barrier": ("敲出障碍价格", "敲出障碍水平", "敲出触发价格", "敲出价格", "敲出水平", "敲出障碍",
                   "敲出界限", "敲出线", "Knock-out Barrier", "KO Barrier"),
    "ki_barrier": ("敲入障碍价格", "敲入障碍水平", "敲入触发价格", "敲入价格", "敲入水平", "敲入障碍",
                   "敲入界限", "敲入线", "Knock-in Barrier", "KI Barrier"),
    "barrier": ("障碍价格", "障碍水平", "障碍价", "触发价格", "派息障碍价格", "派息障碍", "付息障碍",
                "票息障碍", "Barrier Level", "Barrier"),
    "coupon": ("年化票息率", "年化票息", "票息率", "敲出票息", "年化收益率", "收益率", "票息",
               "固定收益率", "二元收益率", "派息率", "Coupon Rate", "Coupon"),
    "participation": ("参与率", "参与比例", "Participation Rate", "Participation"),
    "rebate": ("敲出补偿收益率", "敲出补偿", "补偿收益率", "补偿率", "返还收益率", "返息率", "Rebate"),
}

# A label also read by these extra fields (its value may carry either element).
ALSO_READ_BY: dict[str, tuple[str, ...]] = {
    "期权类型": ("structure",),
    "Option Type": ("structure",),
    "产品类型": ("option_type",),
    "产品名称": ("option_type",),
    "交易品种": ("option_type",),
    "期权结构": ("option_type",),
    "交易类型": ("option_type",),
}

_NUMBERING = re.compile(
    r"^\s*(第[一二三四五六七八九十百\d]+[条款项]|[(（]?[一二三四五六七八九十]{1,3}[)）、.．]|"
    r"[(（]\d{1,2}[)）]|\d{1,2}(\.\d{1,2})*[.、．)）]?(?=\s|[^\d.,%])|[•·●▪■\-*])\s*"
)
# a short parenthetical after a label: unit or role, 名义本金（元）, 甲方（卖方）, 参与率(%)
_UNIT_SUFFIX = re.compile(r"^\s*[(（][^()（）\d]{1,6}[)）]")
# the English half of a bilingual label: 交易日 Trade Date：2025-01-17
_ENGLISH_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z .&/'-]{1,40}?)\s*(?:[(（][A-Za-z .]{1,10}[)）])?\s*([:：]\s*(.*))?$")
_ENGLISH_VALUES = {"call", "put", "european", "american", "cash", "yes", "no", "n/a", "cny", "rmb"}
_SEP = re.compile(r"^\s*([:：]|为|是|=)\s*")
# A label with a word of its own after the known part, then a colon: 敲出价格水平：...
_LABEL_TAIL = re.compile(r"^[^\d:：%×]{1,4}[:：]\s*")


def _compact(text: str) -> tuple[str, list[int]]:
    """Text without whitespace, with the index in ``text`` of every kept character."""
    chars, idx = [], []
    for i, c in enumerate(text):
        if not c.isspace():
            chars.append(c)
            idx.append(i)
    return "".join(chars), idx


LAYOUT_RANK = -1  # a label an annotated layout gives for a field beats every generic synonym


def _synonym_table(layout_labels: dict[str, str] | None = None) -> list[tuple[str, tuple[str, ...], dict[str, int]]]:
    """(label, fields it feeds, rank per field), longest label first. ``layout_labels`` (printed
    label -> field, from an annotated layout) are added with ``LAYOUT_RANK`` and feed only the
    field the layout names, replacing any generic meaning of the same words."""
    from .values import normalize

    table: dict[str, dict[str, int]] = {}
    for fld, syns in FIELD_LABELS.items():
        for rank, syn in enumerate(syns):
            table.setdefault(syn, {})[fld] = rank
    out = []
    for syn, ranks in table.items():
        for extra in ALSO_READ_BY.get(syn, ()):
            ranks.setdefault(extra, 50)  # a secondary reading never beats a field's own label
    by_compact = {syn.replace(" ", "").lower(): syn for syn in table}
    for lbl, fld in (layout_labels or {}).items():
        syn = normalize(lbl).rstrip(":：").strip()
        table.pop(by_compact.get(syn.replace(" ", "").lower(), ""), None)
        table[syn] = {fld: LAYOUT_RANK}
    for syn, ranks in table.items():
        fields = tuple(sorted(ranks, key=lambda f: ranks[f]))
        out.append((syn, fields, ranks))
    return sorted(out, key=lambda x: -len(x[0].replace(" ", "")))


_SYNONYMS = _synonym_table()


class Labels:
    """A label table: the generic synonyms, plus an annotated layout's own labels when given.
    ``match(text)`` and ``split(text)`` are ``match_label`` and ``split_glued`` on this table."""

    def __init__(self, layout_labels: dict[str, str] | None = None):
        self.layout_labels = dict(layout_labels or {})
        self.table = _synonym_table(self.layout_labels) if self.layout_labels else _SYNONYMS

    def match(self, text: str) -> "LabelMatch | None":
        return match_label(text, self.table)

    def split(self, text: str) -> list[str]:
        return split_glued(text, self.table)


class LabelMatch:
    """A label at the start of a text: the fields it names, its priority and what follows it."""

    def __init__(self, label: str, fields: tuple[str, ...], ranks: dict[str, int], remainder: str,
                 unit: str = ""):
        self.label, self.fields, self.ranks, self.remainder = label, fields, ranks, remainder
        self.fuzzy = False
        self.unit = unit  # the label's own unit words, 名义本金（万元） -> 万元 (empty when none)

    def __repr__(self) -> str:
        return f"LabelMatch({self.label!r}, {self.fields}, rest={self.remainder!r})"


def match_label(text: str, table=None) -> LabelMatch | None:
    """The label that ``text`` starts with (after any clause numbering such as ``1.``, ``（二）``).

    The match counts only if the label is the whole text (a table's label cell) or is followed
    by a separator (``：``, ``为``, ``是``, a space) and then its value; so a value cell such as
    ``期初价格×103%`` is not mistaken for the label 期初价格. When no label matches exactly, a
    label of four or more characters with one character misread (OCR: 最出障碍价格 for
    敲出障碍价格) matches, provided no label of another field is as close; ``fuzzy`` is then set.
    """
    from .values import normalize

    t = normalize(text)
    t = _NUMBERING.sub("", t, count=1)
    compact, idx = _compact(t)
    low = compact.lower()
    table = _SYNONYMS if table is None else table
    for syn, fields, ranks in table:
        s = syn.replace(" ", "").lower()
        if low.startswith(s):
            return _after_label(t, idx[len(s) - 1] + 1, syn, fields, ranks)
    close = []
    for syn, fields, ranks in table:
        if len(syn) < 3 or syn.isascii():
            continue
        # one character misread, dropped or inserted: compare with prefixes of length n-1..n+1
        for n in (len(syn), len(syn) + 1, len(syn) - 1):
            if 0 < n <= len(low) and _edit_distance(low[:n], syn) == 1:
                close.append((syn, fields, ranks, n))
                break
    if not close:
        return None
    longest = max(len(c[0]) for c in close)
    close = [c for c in close if len(c[0]) == longest]
    if len({c[1] for c in close}) > 1:
        return None  # one misread character away from labels of different fields: don't guess
    for syn, fields, ranks, n in sorted(close, key=lambda c: abs(c[3] - len(c[0]))):
        m = _after_label(t, idx[n - 1] + 1, syn, fields, ranks)
        if m is not None and len(syn) == 3 and (n != 3 or not re.match(r"^\s*[:：]", t[idx[n - 1] + 1:])):
            continue  # a three-character label is trusted with a misread only right before a colon
        if m is not None:
            m.fuzzy = True
            return m
    return None


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) of two short strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _after_label(t: str, end: int, syn: str, fields, ranks) -> LabelMatch | None:
    """The match for label ``syn`` ending at ``end`` in ``t``, or None when what follows is not
    a separator and value (the label word is then part of a value or a sentence)."""
    um = _UNIT_SUFFIX.match(t[end:])
    unit = um.group(0).strip(" ()（）") if um else ""
    rest = t[end:][um.end():] if um else t[end:]
    eng = _ENGLISH_LABEL.match(rest)
    if eng and eng.group(1).strip().lower() not in _ENGLISH_VALUES:
        if eng.group(3):
            return LabelMatch(syn, fields, ranks, eng.group(3).strip(), unit)
        rest = ""
    if rest.strip(" :：") == "":
        return LabelMatch(syn, fields, ranks, "", unit)
    m = _SEP.match(rest) or _LABEL_TAIL.match(rest)
    if m or (rest[:1].isspace() and not re.match(r"^\s*[×x*的]", rest)):
        value = rest[m.end():] if m else rest.strip()
        return LabelMatch(syn, fields, ranks, value.strip(), unit)
    return None


_CLOSERS = set(")）%元点日") | set("0123456789") | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_VALUE_START = re.compile(r"^\s*([0-9¥￥$]|人民币|RMB|CNY|[A-Z]{2,}[-_]?\d)")


def split_glued(text: str, table=None) -> list[str]:
    """Cut a box that holds two table cells with no visible gap between them.

    A value that fills its cell touches the next column's label (``中证500指数（000905.SH）交易日``),
    and a label that fills its cell touches its value (``名义本金（元）人民币150,000,000.00元``);
    PDF word grouping and OCR then give one box. The cut is made only where the text on one side
    is a known label of at least three characters and the other side looks like a value (ends in
    a digit, ``%``, ``）``, 元, 点 or 日; or starts with a digit, 人民币, ¥, CNY, an id).
    Returns the pieces (one piece when nothing is cut).
    """
    from .values import normalize

    t = normalize(text)
    compact = t.replace(" ", "")
    table = _SYNONYMS if table is None else table
    # value + trailing label
    for syn, _fields, _ranks in table:
        s = syn.replace(" ", "")
        if len(s) < 3:
            continue
        for tail in (s, s + ":", s + "："):
            if compact.endswith(tail) and len(compact) > len(tail):
                head = compact[: -len(tail)]
                if head[-1] in _CLOSERS and match_label(head, table) is None:
                    return [*split_glued(head, table), tail]
    # leading label + value
    m = match_label(t, table)
    if m is None:
        for syn, _fields, _ranks in table:
            s = syn.replace(" ", "")
            if len(s) >= 2 and compact.startswith(s) and len(compact) > len(s):
                rest = compact[len(s):]
                unit = _UNIT_SUFFIX.match(rest)
                if unit:
                    label, rest = s + unit.group(0), rest[unit.end():]
                else:
                    label = s
                if rest and (unit or _VALUE_START.match(rest)):
                    return [label, rest]
                break
    return [text]
