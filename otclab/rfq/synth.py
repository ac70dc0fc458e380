"""Synthetic RFQ messages with entity annotations, for training the NER reproducibly.

``generate(n, seed)`` returns ``n`` (text, [(start, end, label), ...]) pairs in normalised form
(lower-case ASCII, half-width punctuation), the form the NER sees at run time. The generator
composes messages from parts (underlying, structure, levels, tenor, notional, question) in random
order and surface forms, including the context-dependent ones the rules leave to the model: bare
index numbers ('500 雪球'), bare level pairs ('雪球 103 75', '100/70'), and chatter without any
request. The hand-written evaluation set in tests/rfq/data is not produced or used here.

The underlyings come from ``data/synth_underlyings.json``, a vocabulary frozen with the shipped
model, not from the pool the desk edits (``pool.toml``): an edit of the pool must not change the
messages the shipped model is rebuilt from (rules find every pool form anyway).
"""
from __future__ import annotations

import json
import random
from importlib import resources
from types import SimpleNamespace

_STRUCT = {
    "snowball": ["雪球", "snowball", "经典雪球", "雪球结构", "autocall"],
    "phoenix": ["凤凰", "phoenix", "凤凰结构"],
    "sharkfin": ["鲨鱼鳍", "sharkfin", "鲨鱼", "单鲨"],
    "vanilla": ["香草", "vanilla", "欧式"],
    "digital": ["二元", "digital", "数字期权"],
    "asian": ["亚式", "asian"],
}
_OPT = {"call": ["看涨", "call", "认购", "看多"], "put": ["看跌", "put", "认沽", "看空"]}
_PREFIX = ["", "", "", "@询价机器人 ", "@bot ", "帮忙询下 ", "老师好,", "麻烦看下 ", "hi ", "询价:", "您好 ",
           "帮忙问下 ", "请报价 ", "pls ", "客户问 ", "急!"]
_SUFFIX = ["", "", "", " 谢谢", " thx", " 多谢", "~", " 尽快", " 🙏", "!", " 麻烦了"]
_CHATTER = [
    "谢谢", "收到", "好的 稍等", "今天{u}跌了不少啊", "明天下午{d}点开会", "昨天那个单子成交了吗", "ok 收到",
    "客户说再考虑一下", "已经发给客户了", "报价单发我邮箱", "{u}最近波动好大", "今天不做了", "哈哈哈",
    "在吗", "中午一起吃饭?", "这个结构客户不感兴趣", "收到报价了 谢谢", "{d}号之前给回复", "好的👌",
]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class _Msg:
    def __init__(self):
        self.text = ""
        self.ents: list[tuple[int, int, str]] = []

    def add(self, s: str, label: str | None = None) -> None:
        if label and s:
            self.ents.append((len(self.text), len(self.text) + len(s), label))
        self.text += s

    def add_kv(self, key: str, val: str, label: str) -> None:
        """Keyword and value as one mention ('敲出103')."""
        self.add(key + val, label)


def _sep(rng: random.Random) -> str:
    return rng.choice([" ", " ", " ", "", ",", " ", "  "])


def _level(rng: random.Random, lo: int, hi: int, step: int = 1) -> int:
    return rng.randrange(lo, hi + 1, step)


def _tenor(rng: random.Random) -> str:
    m = rng.choice([1, 2, 3, 6, 9, 12, 18, 24, 36])
    forms = [f"{m}个月", f"{m}m", f"{m}月", f"{m}mo"]
    if m % 12 == 0:
        y = m // 12
        forms += [f"{y}年", f"{y}y", f"{y}年期", f"{y}yr"]
    if m == 6:
        forms.append("半年")
    if m == 18:
        forms.append("1年半")
    return rng.choice(forms)


def _underlying(rng: random.Random, table, struct_follows: bool) -> str:
    u = rng.choice(list(table.by_code.values()))
    forms = u.names + u.aliases + u.pinyin + [u.code.lower(), u.code.split(".")[0]]
    if struct_follows and u.bare and rng.random() < 0.35:
        return rng.choice(u.bare)
    return rng.choice(forms).lower()


def _pct(rng: random.Random, x: float) -> str:
    return rng.choice([f"{_num(x)}%", f"{_num(x)}", f"{_num(x)}%"])


def _request(rng: random.Random, table, m: _Msg, parts: list) -> None:
    """Append the parts of one request (each a callable writing into m) in a random order."""
    first, rest = parts[0], parts[1:]
    rng.shuffle(rest)
    for i, p in enumerate([first] + rest):
        if i:
            sep = _sep(rng)
            if not sep and m.text and m.text[-1].isascii() and m.text[-1].isalnum():
                sep = " "  # 'zz500snowball' is not how anyone types
            m.add(sep)
        p()


def _one(rng: random.Random, table) -> _Msg:
    m = _Msg()
    m.add(rng.choice(_PREFIX))
    if rng.random() < 0.12:
        t = rng.choice(_CHATTER).format(u=_underlying(rng, table, False), d=rng.randint(1, 28))
        m.add(t)
        return m
    struct = rng.choice(list(_STRUCT) + ["snowball", "snowball", "vanilla"])
    n_und = 1 if rng.random() < 0.8 else 2

    def und():
        for k in range(n_und):
            if k:
                m.add(rng.choice([" 和 ", "和", "/", "、", " ", " 跟 ", ","]))
            m.add(_underlying(rng, table, True), "UNDERLYING")
        m.add(rng.choice(["", " ", " "]))
        m.add(rng.choice(_STRUCT[struct]) if struct != "vanilla" or rng.random() < 0.3 else "", "STRUCTURE")

    parts = []
    opt = rng.choice(list(_OPT))
    if struct in ("snowball", "phoenix"):
        ko, ki = _level(rng, 95, 110), _level(rng, 50, 85, 5)
        style = rng.random()
        if style < 0.45:
            parts.append(lambda: (m.add_kv(rng.choice(["敲出", "ko", "ko ", "敲出价", "敲出线", "ko="]), _pct(rng, ko), "KO"),
                                  m.add(_sep(rng)),
                                  m.add_kv(rng.choice(["敲入", "ki", "ki ", "敲入价", "敲入线", "ki="]), _pct(rng, ki), "KI")))
        elif style < 0.75:
            parts.append(lambda: (m.add(_num(ko), "KO"), m.add(rng.choice(["/", "/", " / "])), m.add(_num(ki), "KI")))
        else:
            parts.append(lambda: (m.add(_num(ko), "KO"), m.add(rng.choice([" ", "-", " "])), m.add(_num(ki), "KI")))
        if struct == "phoenix" and rng.random() < 0.7:
            cb = _level(rng, 60, 85, 5)
            parts.append(lambda: m.add_kv(rng.choice(["派息线", "派息", "付息线", "coupon barrier "]), _pct(rng, cb), "COUPON_BARRIER"))
        if rng.random() < 0.3:
            lk = rng.choice([1, 3, 6])
            parts.append(lambda: m.add(rng.choice([f"锁{lk}个月", f"锁定期{lk}个月", f"lock {lk}m", f"{lk}个月锁定", f"锁{lk}"]), "LOCKUP"))
        if rng.random() < 0.2:
            sd = rng.choice(["0.5%", "0.3%", "1%", "50bp", "0.5"])
            parts.append(lambda: m.add(rng.choice(["降敲", "每月降敲", "step down ", "逐月降"]) + sd, "STEP_DOWN"))
        if rng.random() < 0.2:
            parts.append(lambda: m.add(rng.choice(["月观察", "每月观察", "monthly", "日观察", "每日观察", "daily"]), "FREQ"))
        solve_choices = ["coupon"] * 4 + ["price"]
    elif struct == "sharkfin":
        b = _level(rng, 105, 125) if opt == "call" else _level(rng, 75, 95)
        parts.append(lambda: m.add(rng.choice(list(_OPT[opt])), "OPTION_TYPE"))
        r = rng.random()
        if r < 0.6:
            parts.append(lambda: m.add_kv(rng.choice(["障碍", "障碍价", "barrier ", "障碍线"]), _pct(rng, b), "BARRIER"))
        elif r < 0.85:
            parts.append(lambda: m.add_kv(rng.choice(["敲出", "ko", "敲出价"]), _pct(rng, b), "KO"))
        if rng.random() < 0.5:
            p = _level(rng, 30, 150, 10)
            parts.append(lambda: m.add_kv(rng.choice(["参与率", "参与", "pr "]), f"{p}%", "PARTICIPATION"))
            solve_choices = ["price"]
        else:
            solve_choices = ["participation", "participation", "price"]
        if rng.random() < 0.25:
            rb = rng.choice([1, 2, 3, 0.5])
            parts.append(lambda: m.add_kv(rng.choice(["敲出补偿", "rebate ", "补偿"]), f"{_num(rb)}%", "REBATE"))
    else:
        parts.append(lambda: m.add(rng.choice(list(_OPT[opt])), "OPTION_TYPE"))
        r = rng.random()
        if r < 0.4:
            parts.append(lambda: m.add(rng.choice(["平值", "atm", "平值"]), "STRIKE"))
        elif r < 0.6:
            x = rng.choice([2, 3, 5, 10])
            parts.append(lambda: m.add(rng.choice([f"虚值{x}%", f"otm {x}%", f"{x}%虚值", f"实值{x}%"]), "STRIKE"))
        elif r < 0.85:
            k = _level(rng, 90, 110)
            parts.append(lambda: m.add_kv(rng.choice(["行权价", "strike ", "k=", "执行价"]), f"{k}%", "STRIKE"))
        solve_choices = ["price"] * 4 + ["vol", "strike"]
    n_ten = 1 if rng.random() < 0.8 else 2

    def ten():
        for k in range(n_ten):
            if k:
                m.add(rng.choice(["/", " 和 ", "和", "、", " "]))
            m.add(_tenor(rng), "TENOR")

    parts.append(ten)
    if rng.random() < 0.3:
        amt = rng.choice(["5000w", "2000万", "1个亿", "5kw", "3000万", "1亿", "500w", "1000万"])
        parts.append(lambda: m.add(rng.choice(["名本", "名义本金", "规模", "notional ", ""]) + amt, "NOTIONAL"))
    if struct in ("snowball", "phoenix") and rng.random() < 0.15:
        c = rng.choice([8, 10, 12, 15, 18, 20])
        parts.append(lambda: m.add_kv(rng.choice(["票息", "coupon ", "年化"]), f"{c}%", "COUPON"))
        solve_choices = ["price"]
    if rng.random() < 0.85:
        solve = rng.choice(solve_choices)
        forms = {
            "coupon": ["票息多少", "报个票息", "coupon?", "票息?", "票息能给多少", "票息分别多少", "求票息"],
            "price": ["报价", "报个价", "期权费多少", "多少钱", "价格多少", "price?", "权利金多少"],
            "participation": ["参与率多少", "参与率?", "报个参与率", "参与率能给多少"],
            "vol": ["vol多少", "波动率多少", "报个vol"],
            "strike": ["行权价多少", "strike?"],
        }[solve]
        parts.append(lambda: m.add(rng.choice(forms), "SOLVE"))
    _request(rng, table, m, [und] + parts)
    m.add(rng.choice(_SUFFIX))
    return m


def _vocabulary():
    """The frozen underlyings: ``.by_code`` of objects with code, names, aliases, pinyin, bare."""
    rows = json.loads(resources.files("otclab.rfq").joinpath("data/synth_underlyings.json").read_text("utf-8"))
    by_code = {}
    for r in rows["underlyings"]:
        by_code[r["code"]] = SimpleNamespace(code=r["code"], names=list(r.get("names", [])),
                                             aliases=list(r.get("aliases", [])), pinyin=list(r.get("pinyin", [])),
                                             bare=list(r.get("bare", [])))
    return SimpleNamespace(by_code=by_code)


def generate(n: int, seed: int = 0) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """``n`` synthetic (text, entities) pairs; the same ``seed`` gives the same data."""
    rng = random.Random(seed)
    table = _vocabulary()
    out = []
    for _ in range(n):
        m = _one(rng, table)
        # trim entity whitespace and keep only non-empty ones
        ents = [(s, e, l) for s, e, l in m.ents if m.text[s:e].strip()]
        out.append((m.text, ents))
    return out
