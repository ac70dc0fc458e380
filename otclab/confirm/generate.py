"""Print a Chinese trade confirmation (交易确认书) PDF for a booked trade.

``render_confirmation(trade, path, style)`` writes the PDF of a ``TradeRecord`` with reportlab in the CJK font the
project installs (WenQuanYi Zen Hei, Debian ``fonts-wqy-zenhei``). ``Style`` chooses how the
document is laid out and worded, so the same trade can be printed the way different dealers do:
two- or four-column term tables, numbered clauses or a mix, label wording, how levels, dates and
amounts are written, and which side we sign as. The default style is the desk's own form.
"""
from __future__ import annotations

import datetime as dt
from random import Random
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError
from ..store.record import TradeRecord
from .trade import TERM_FIELDS, check_confirmable, confirmation_fields
from .underlyings import name_of
from .values import format_date_cn

FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",)
FONT = "WQYZenHei"
OUR_FIRM = "华信证券股份有限公司"

STRUCTURE_NAMES = {
    "vanilla": ("香草期权", "欧式期权"),
    "digital": ("二元期权", "数字期权"),
    "barrier": ("障碍期权", "单边障碍期权"),
    "sharkfin": ("鲨鱼鳍期权", "单鲨结构期权"),
    "asian": ("亚式期权", "平均价格亚式期权"),
    "snowball": ("雪球结构期权", "雪球式自动赎回期权"),
    "phoenix": ("凤凰结构期权", "凤凰式自动赎回期权"),
}

# How this generator words its labels (the desk's form first). Deliberately not the extractor's
# synonym table: that one must also cope with wordings nobody prints here.
PRINT_LABELS = {
    "trade_id": ("交易编号", "确认书编号", "交易代码"),
    "counterparty": ("交易对手", "交易对手方", "客户名称"),
    "trade_date": ("交易日", "交易日期", "成交日"),
    "start_date": ("起始日", "期初观察日", "生效日"),
    "maturity_date": ("到期日", "期末观察日", "终止日"),
    "underlying": ("标的资产", "挂钩标的", "标的指数"),
    "structure": ("产品类型", "期权结构", "交易品种"),
    "option_type": ("期权类型", "期权方向", "看涨/看跌"),
    "notional": ("名义本金", "名义本金（元）", "名义金额"),
    "initial_price": ("期初价格", "期初参考价格", "初始价格"),
    "strike": ("行权价格", "执行价格", "行权价"),
    "ko_barrier": ("敲出价格", "敲出障碍价格", "敲出水平"),
    "ki_barrier": ("敲入价格", "敲入障碍价格", "敲入水平"),
    "barrier": ("障碍价格", "障碍水平", "触发价格"),
    "coupon": ("年化票息率", "票息", "敲出票息"),
    "participation": ("参与率", "参与比例"),
    "rebate": ("敲出补偿收益率", "补偿收益率", "返还收益率"),
}
PHOENIX_BARRIER_LABELS = ("派息障碍价格", "派息障碍", "付息障碍")
DIGITAL_COUPON_LABELS = ("二元收益率", "固定收益率", "收益率")


@dataclass
class Style:
    """Layout and wording of one printed confirmation."""

    layout: str = "table2"  # table2 | table4 | clauses | mixed
    labels: dict = field(default_factory=dict)  # field -> index into PRINT_LABELS[field]
    level_format: str = "times"  # times | pct | price_pct | price
    date_format: str = "cn"  # cn | iso | slash | cn0
    amount_format: str = "yuan"  # yuan | wan | upper | cny
    option_format: str = "cn"  # cn | cn2 | en
    we_are_party_a: bool = True
    font_size: float = 10.5
    margin_mm: float = 20.0
    grid: bool = True
    structure_name: int = 0
    show_code: bool = True
    boilerplate: int = 1  # paragraphs of terms and disclosures (pushes to a 2nd page)

    @classmethod
    def random(cls, rng: Random) -> "Style":
        """A style drawn at random (seeded), for building varied test corpora."""
        return cls(
            layout=rng.choice(["table2", "table4", "clauses", "mixed"]),
            labels={f: rng.randrange(len(v)) for f, v in PRINT_LABELS.items()},
            level_format=rng.choice(["times", "pct", "price_pct", "price"]),
            date_format=rng.choice(["cn", "iso", "slash", "cn0"]),
            amount_format=rng.choice(["yuan", "wan", "upper", "cny"]),
            option_format=rng.choice(["cn", "cn2", "en"]),
            we_are_party_a=rng.random() < 0.7,
            font_size=rng.choice([9.5, 10.0, 10.5, 11.0, 12.0]),
            margin_mm=rng.choice([15.0, 20.0, 25.0]),
            grid=rng.random() < 0.7,
            structure_name=rng.randrange(2),
            show_code=rng.random() < 0.8,
            boilerplate=rng.choice([0, 1, 2, 3, 4, 7, 7]),  # 7: runs onto a second page
        )


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    for p in FONT_PATHS:
        if Path(p).exists():
            pdfmetrics.registerFont(TTFont(FONT, p, subfontIndex=0))
            return FONT
    raise InputError("CJK font missing: install the Debian package fonts-wqy-zenhei "
                     "(scripts/system-packages)", field="font")


# ------------------------------------------------------------------ formatting values

def fmt_date(iso: str, style: Style) -> str:
    d = dt.date.fromisoformat(iso)
    return {"cn": format_date_cn(iso), "iso": iso, "slash": d.strftime("%Y/%m/%d"),
            "cn0": f"{d.year}年{d.month:02d}月{d.day:02d}日"}[style.date_format]


_UPPER = "零壹贰叁肆伍陆柒捌玖"


def _upper_cn(n: int) -> str:
    """Integer yuan in Chinese upper-case numerals (as cheques and contracts write them)."""
    def four(x: int) -> str:
        s, zero = "", False
        for unit, div in (("仟", 1000), ("佰", 100), ("拾", 10), ("", 1)):
            d = x // div % 10
            if d:
                s += ("零" if zero and s else "") + _UPPER[d] + unit
                zero = False
            else:
                zero = True
        return s
    yi, rest = divmod(n, 100_000_000)
    wan, one = divmod(rest, 10_000)
    s = (four(yi) + "亿" if yi else "") + (four(wan) + "万" if wan else "") + (four(one) if one else "")
    return s or "零"


def fmt_amount(v: float, style: Style) -> str:
    if style.amount_format == "wan":
        return f"{v / 1e4:,.0f}万元" if v % 1e4 == 0 else f"{v / 1e4:,.2f}万元"
    if style.amount_format == "upper":
        return f"人民币{_upper_cn(int(round(v)))}元整（¥{v:,.2f}）"
    if style.amount_format == "cny":
        return f"CNY {v:,.2f}"
    return f"人民币{v:,.2f}元"


def fmt_price(p: float) -> str:
    """Prices of indices and large stocks to 2 decimals, of ETFs and cheap stocks to 3."""
    return f"{p:,.2f}" if p >= 20 else f"{p:,.3f}"


def fmt_level(x: float, s0: float, style: Style) -> str:
    pct = f"{x * 100:.2f}".rstrip("0").rstrip(".")
    if style.level_format == "times":
        return f"期初价格×{pct}%"
    if style.level_format == "pct":
        return f"{x * 100:.2f}%"
    price = fmt_price(x * s0)
    if style.level_format == "price_pct":
        return f"{price}（期初价格的{pct}%）"
    return price


def fmt_rate(x: float, kind: str, style: Style, monthly: bool = False) -> str:
    """A rate as printed: ``kind`` "coupon" is an annual coupon; other rates print as a plain percent."""
    if monthly:
        return f"每月{x / 12 * 100:.4f}%（年化{x * 100:.2f}%）" if style.layout == "mixed" else f"每月{x / 12 * 100:.4f}%"
    if kind == "coupon":
        return [f"年化{x * 100:.2f}%", f"{x * 100:.2f}%（年化）", f"{x * 100:.2f}%/年"][style.labels.get("coupon", 0) % 3]
    return f"{x * 100:.2f}%"


def fmt_option(o: str, style: Style) -> str:
    return {"cn": {"call": "看涨", "put": "看跌"}, "cn2": {"call": "认购期权", "put": "认沽期权"},
            "en": {"call": "Call（看涨）", "put": "Put（看跌）"}}[style.option_format][o]


# ------------------------------------------------------------------ document content

def _label(f: str, style: Style, trade: TradeRecord) -> str:
    if f == "barrier" and trade.template == "phoenix":
        return PHOENIX_BARRIER_LABELS[style.labels.get(f, 0) % 3]
    if f == "coupon" and trade.template == "digital":
        return DIGITAL_COUPON_LABELS[style.labels.get(f, 0) % 3]
    opts = PRINT_LABELS[f]
    return opts[style.labels.get(f, 0) % len(opts)]


def term_rows(trade: TradeRecord, style: Style) -> list[tuple[str, str]]:
    """(label, printed value) pairs of the economic terms, in the order the form prints them."""
    c = confirmation_fields(trade)
    tpl, s0 = trade.template, c["initial_price"]
    name = name_of(c["underlying"])
    under = f"{name}（{c['underlying']}）" if style.show_code or name == c["underlying"] else name
    rows = [
        (_label("trade_id", style, trade), c["trade_id"]),
        (_label("structure", style, trade), STRUCTURE_NAMES[tpl][style.structure_name % 2]),
        (_label("underlying", style, trade), under),
        (_label("trade_date", style, trade), fmt_date(c["trade_date"], style)),
        (_label("start_date", style, trade), fmt_date(c["start_date"], style)),
        (_label("maturity_date", style, trade), fmt_date(c["maturity_date"], style)),
        (_label("notional", style, trade), fmt_amount(c["notional"], style)),
        (_label("initial_price", style, trade), fmt_price(s0) + ("点" if c["underlying"].startswith(("000", "399", "932")) else "元")),
    ]
    for f in TERM_FIELDS[tpl]:
        v = c.get(f)
        if v is None:
            continue
        if f == "option_type":
            rows.append((_label(f, style, trade), fmt_option(v, style)))
        elif f in ("strike", "ko_barrier", "ki_barrier", "barrier"):
            rows.append((_label(f, style, trade), fmt_level(v, s0, style)))
        else:
            # a digital's coupon is its payout, a fraction of notional paid once: not an annual rate
            kind = "payout" if tpl == "digital" else f
            rows.append((_label(f, style, trade), fmt_rate(v, kind, style, monthly=(tpl == "phoenix" and f == "coupon"))))
    return rows


def _observation_text(trade: TradeRecord) -> list[str]:
    """The observation clauses, worded from the terms (lock-up, frequencies, monitoring, ...)."""
    tpl, t = trade.template, trade.terms
    if tpl in ("snowball", "phoenix"):
        first = max(t.get("lockup_months") or 0, 1)
        if t.get("ko_frequency") == "daily":
            ko = f"敲出观察：自起始日后第{first}个月对应日起，每个交易日观察标的收盘价格，"
        else:
            ko = f"敲出观察：自起始日后第{first}个月起，每月对应日（遇非交易日顺延至下一交易日）观察标的收盘价格，"
        out = [ko + "若不低于敲出价格则发生敲出，合约提前终止。"]
        if t.get("ki_barrier") is not None:
            out.append("敲入观察：起始日（不含）至期末观察日（含）的每个交易日观察标的收盘价格，若低于敲入价格则发生敲入。")
        else:
            out.append("本交易不设敲入观察。")
        return out
    if tpl in ("barrier", "sharkfin"):
        when = {"expiry": "仅于到期日收盘观察", "continuous": "存续期内连续观察"}.get(t.get("monitoring"),
                                                                                 "存续期内每个交易日收盘观察")
        if str(t.get("barrier_type", "")).endswith("_in"):
            return [f"障碍观察：{when}；障碍事件发生后期权生效，未发生障碍事件的按约定支付补偿收益。"]
        return [f"障碍观察：{when}；障碍事件发生后按约定支付补偿收益并提前终止。"]
    if tpl == "asian":
        days = {"daily": "每个交易日", "weekly": "每周观察日", "monthly": "每月观察日"}[t["fixings"]]
        mean = "几何" if t["averaging"] == "geometric" else "算术"
        return [f"平均价格：期末价格为存续期内{days}标的收盘价格的{mean}平均值。"]
    if t.get("exercise") == "american":
        return ["行权方式：美式，存续期内任一交易日均可行权，按行权日标的收盘价格结算。"]
    return ["行权方式：欧式，仅于到期日行权，按到期日标的收盘价格结算。"]


_BOILER = [
    "双方确认，本确认书构成双方签署的《中国证券期货市场场外衍生品交易主协议》及其补充协议项下的交易确认书，"
    "本确认书未约定事项以主协议为准。期初价格指起始日标的收盘价格，若起始日为非交易日则顺延。",
    "结算方式：现金结算，结算货币为人民币。结算金额于到期日后第三个交易日划付至乙方指定账户。"
    "若发生市场中断事件，计算机构有权合理调整观察日及相关价格，并及时通知双方。",
    "风险揭示：场外衍生品交易可能导致投资者损失部分或全部本金。乙方确认已充分理解本交易的结构、"
    "收益与风险特征，并具备相应的风险承受能力。本确认书一式两份，双方各执一份，具有同等法律效力。",
    # definitions that start like labels but carry no value: the extractor must not take them
    "释义：交易日：指上海证券交易所和深圳证券交易所的正常交易日。到期日：如遇非交易日则顺延至下一交易日。"
    "名义本金：指用于计算双方支付金额的基准金额，不发生实际交换。",
    "提前终止：发生主协议约定的违约事件或终止事件时，非违约方有权指定提前终止日，提前终止金额由计算机构"
    "根据届时市场情况以商业上合理的方式确定。计算机构为甲方，其计算结果除明显错误外对双方具有约束力。",
    "争议解决：因本确认书产生的或与本确认书有关的争议，双方应友好协商解决；协商不成的，任何一方均可将争议"
    "提交甲方住所地有管辖权的人民法院诉讼解决。本确认书自双方法定代表人或授权代表签字并加盖公章之日起生效。",
    "通知：双方之间的通知以书面形式送达主协议约定的地址。乙方承诺其交易资金来源合法，"
    "且已按照监管要求完成适当性匹配。本确认书未尽事宜，双方可另行签署补充协议。",
]


def render_confirmation(trade: TradeRecord, path: str | Path, style: Style | None = None) -> Path:
    """Write the confirmation of ``trade`` to ``path`` (a text-layer PDF) and return the path;
    ``TermsError`` naming the field for a trade no form exists for (template, currency)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    check_confirmable(trade)
    style = style or Style()
    font = _font()
    fs = style.font_size
    body = ParagraphStyle("body", fontName=font, fontSize=fs, leading=fs * 1.6, wordWrap="CJK")
    title = ParagraphStyle("title", fontName=font, fontSize=fs + 6, leading=(fs + 6) * 1.5, alignment=1)
    head = ParagraphStyle("head", parent=body, fontSize=fs + 1.5, leading=(fs + 1.5) * 1.8)

    tpl = trade.template
    we, they = OUR_FIRM, trade.counterparty.name
    party_a, party_b = (we, they) if style.we_are_party_a else (they, we)
    story = [Paragraph(f"场外期权交易确认书（{STRUCTURE_NAMES[tpl][style.structure_name % 2]}）", title),
             Spacer(1, 4 * mm)]
    story += [Paragraph(f"甲方：{party_a}", body), Paragraph(f"乙方：{party_b}", body), Spacer(1, 3 * mm)]
    if style.labels.get("counterparty", 0) == 2:  # some forms name the client again in the terms
        story += [Paragraph(f"{_label('counterparty', style, trade)}：{they}", body)]
    story.append(Paragraph("甲乙双方达成如下场外期权交易，特此确认交易条款如下：", body))
    story.append(Spacer(1, 2 * mm))

    rows = term_rows(trade, style)
    width = A4[0] - 2 * style.margin_mm * mm

    cell = ParagraphStyle("cell", parent=body, leading=fs * 1.35)

    def table(data, widths):
        # cells as paragraphs, so a long value wraps inside its cell as on a real form
        data = [[Paragraph(x, cell) if x else "" for x in row] for row in data]
        t = Table(data, colWidths=widths)
        cmds = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), fs),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
        if style.grid:
            cmds.append(("GRID", (0, 0), (-1, -1), 0.5, colors.black))
        t.setStyle(TableStyle(cmds))
        return t

    if style.layout == "table2":
        story.append(table([[a, b] for a, b in rows], [0.3 * width, 0.7 * width]))
    elif style.layout == "table4":
        data = [[*rows[i], *(rows[i + 1] if i + 1 < len(rows) else ("", ""))] for i in range(0, len(rows), 2)]
        story.append(table(data, [0.17 * width, 0.33 * width, 0.17 * width, 0.33 * width]))
    elif style.layout == "clauses":
        for i, (a, b) in enumerate(rows, 1):
            story.append(Paragraph(f"{i}. {a}：{b}", body))
    else:  # mixed: facts as numbered clauses, economics as a table
        story.append(Paragraph("一、交易基本信息", head))
        for i, (a, b) in enumerate(rows[:6], 1):
            story.append(Paragraph(f"（{i}）{a}：{b}", body))
        story.append(Paragraph("二、交易要素", head))
        story.append(table([[a, b] for a, b in rows[6:]], [0.3 * width, 0.7 * width]))
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph("观察条款", head))
    story += [Paragraph(p, body) for p in _observation_text(trade)]
    story += [Paragraph(p, body) for p in _BOILER[: style.boilerplate]]
    if style.boilerplate >= len(_BOILER):  # long forms carry a risk-disclosure annex
        story.append(Paragraph("附件：风险揭示书", head))
        story += [Paragraph(p, body) for p in _BOILER[1:]]
    story.append(Spacer(1, 8 * mm))
    sig = Table([["甲方（盖章）：", "乙方（盖章）："], ["授权代表签字：", "授权代表签字："]],
                colWidths=[0.5 * width, 0.5 * width])
    sig.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), fs)]))
    story.append(sig)
    path = Path(path)
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=style.margin_mm * mm,
                            rightMargin=style.margin_mm * mm, topMargin=style.margin_mm * mm,
                            bottomMargin=style.margin_mm * mm, title="交易确认书",
                            author=OUR_FIRM, invariant=1)
    doc.build(story)
    return path
