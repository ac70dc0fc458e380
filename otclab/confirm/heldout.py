"""The held-out confirmations: counterparties' layouts the extractor was not written against.

Three counterparties print their confirmations in forms of their own, with label wordings that
are not in the generic synonym table (``labels.FIELD_LABELS``) nor in the corpus generator
(``generate.PRINT_LABELS``), and with the traps seen on real forms:

- ``mingchuan`` (snowball, phoenix): a stacked three-column grid, each value under its label; the
  notional printed in 万元 under 名义本金（万元）; the coupon printed per month (每期票息率), with
  its annual figure nowhere; knock-out/knock-in/coupon barrier as 敲出触发水平 / 敲入触发水平 /
  派息触发水平.
- ``yunqi`` (shark fin, barrier, vanilla): a four-column table; the participation printed inside
  the strike's cell (期初价格×100%，参与率80%); the rebate printed as 固定收益率 (which the
  generic table knows as a coupon label); the barrier as 障碍触发水平; 买方名称, 交易达成日.
- ``dingsheng`` (digital, asian, vanilla): numbered clauses; the strike as a price only; a
  digital's one-off payout as 到期派付比例 printed beside an annualised reference yield
  (年化收益率（参考）), which the generic table takes for the coupon; 合约名义金额, 期末定价日.

The rule that keeps the set held out: nothing in ``labels.py``, ``values.py``, ``matching.py`` or
``extract.py`` is changed to fit these documents. An annotated layout is written for each
counterparty from ONE sample (``SAMPLE_SEED``) and shipped in ``data/layouts``; accuracy is measured
on documents drawn from ``EVAL_SEEDS`` only (a range no tuning seed of the corpus uses).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from ..store.record import TradeRecord
from .corpus import random_trade
from .degrade import ScanDefects, scan_pdf
from .generate import (OUR_FIRM, STRUCTURE_NAMES, Style, _font, fmt_amount, fmt_date, fmt_option, fmt_price)
from .trade import confirmation_fields
from .underlyings import name_of

SAMPLE_SEED = 900_000  # the one sample per counterparty operations annotate
EVAL_SEEDS = range(900_001, 901_000)  # held-out evaluation documents; never used for tuning

COUNTERPARTIES = {
    "mingchuan": ("上海明川私募基金管理有限公司", ("phoenix", "snowball")),
    "yunqi": ("杭州云栖股权投资合伙企业（有限合伙）", ("sharkfin", "barrier", "vanilla")),
    "dingsheng": ("深圳前海鼎晟资产管理有限公司", ("digital", "asian", "vanilla")),  # first: the sample's
}


def _pct(x: float, nd: int = 2) -> str:
    return f"{x * 100:.{nd}f}%"


def _underlying(c: dict) -> str:
    return f"{name_of(c['underlying'])}（{c['underlying']}）"


def _s0(c: dict) -> str:
    return fmt_price(c["initial_price"]) + ("点" if c["underlying"].startswith(("000", "399", "932")) else "元")


def _rows_mingchuan(t: TradeRecord, c: dict, st: Style) -> list[tuple[str, str]]:
    rows = [("合约参考号", c["trade_id"]), ("投资者全称", c["counterparty"]), ("成交日期", fmt_date(c["trade_date"], st)),
            ("起息日", fmt_date(c["start_date"], st)), ("到期结算日", fmt_date(c["maturity_date"], st)),
            ("挂钩标的", _underlying(c)), ("产品结构", STRUCTURE_NAMES[t.template][0]),
            ("名义本金（万元）", f"{c['notional'] / 1e4:,.0f}" if c["notional"] % 1e4 == 0 else f"{c['notional'] / 1e4:,.2f}"),
            ("期初参考水平", _s0(c)), ("敲出触发水平", _pct(c["ko_barrier"])), ("敲入触发水平", _pct(c["ki_barrier"]))]
    if c.get("barrier") is not None:
        rows.append(("派息触发水平", _pct(c["barrier"])))
    rows.append(("每期票息率", f"{c['coupon'] / 12 * 100:.4f}%"))
    return rows


def _rows_yunqi(t: TradeRecord, c: dict, st: Style) -> list[tuple[str, str]]:
    strike = f"期初价格×{c['strike'] * 100:g}%"
    if c.get("participation") is not None:
        strike += f"，参与率{c['participation'] * 100:g}%"
    rows = [("交易确认编号", c["trade_id"]), ("买方名称", c["counterparty"]), ("交易达成日", fmt_date(c["trade_date"], st)),
            ("期初观察日", fmt_date(c["start_date"], st)), ("到期观察日", fmt_date(c["maturity_date"], st)),
            ("标的资产", _underlying(c)), ("期权品种", STRUCTURE_NAMES[t.template][1]),
            ("涨跌方向", fmt_option(c["option_type"], st)), ("名义本金", fmt_amount(c["notional"], st)),
            ("期初价格", _s0(c)), ("行权价格", strike)]
    if c.get("barrier") is not None:
        rows.append(("障碍触发水平", f"期初价格×{c['barrier'] * 100:g}%"))
    if c.get("rebate") is not None:
        rows.append(("固定收益率", _pct(c["rebate"])))
    return rows


def _rows_dingsheng(t: TradeRecord, c: dict, st: Style) -> list[tuple[str, str]]:
    rows = [("交易参考号", c["trade_id"]), ("交易日", fmt_date(c["trade_date"], st)),
            ("期初定价日", fmt_date(c["start_date"], st)), ("期末定价日", fmt_date(c["maturity_date"], st)),
            ("挂钩指数", _underlying(c)), ("期权名称", STRUCTURE_NAMES[t.template][0]),
            ("期权方向", fmt_option(c["option_type"], st)), ("合约名义金额", fmt_amount(c["notional"], st)),
            ("期初价格", _s0(c)), ("执行价", fmt_price(c["strike"] * c["initial_price"]))]
    if c.get("coupon") is not None:  # a digital's payout: once, at maturity, not annualised
        months = max(1, round((_days(c["start_date"], c["maturity_date"])) / 30.4))
        rows.append(("到期派付比例", _pct(c["coupon"]) + "（到期一次性支付）"))
        rows.append(("年化收益率（参考）", _pct(c["coupon"] * 12 / months)))
    return rows


def _days(a: str, b: str) -> int:
    import datetime as dt

    return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days


TITLES = {"mingchuan": ("明川资本", "场外衍生品交易确认函", "表单编号：MC-FORM-07"),
          "yunqi": ("云栖资本", "期权交易确认函（第三版）", "YQ/OPS-CF-3"),
          "dingsheng": ("鼎晟资管", "场外期权成交确认", "DS-CONF-2025")}


def render_heldout(trade: TradeRecord, counterparty: str, path: str | Path, st: Style) -> Path:
    """Write the confirmation of ``trade`` as counterparty ``counterparty`` prints it."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    fs = st.font_size
    body = ParagraphStyle("b", fontName=font, fontSize=fs, leading=fs * 1.6, wordWrap="CJK")
    cell = ParagraphStyle("c", parent=body, leading=fs * 1.4)
    title = ParagraphStyle("t", fontName=font, fontSize=fs + 5, leading=(fs + 5) * 1.5, alignment=1)
    short, name, form = TITLES[counterparty]
    c = confirmation_fields(trade)
    width = A4[0] - 2 * st.margin_mm * mm
    story = [Paragraph(form, ParagraphStyle("f", parent=body, alignment=2)),
             Paragraph(f"{short} {name}", title), Spacer(1, 3 * mm)]
    if counterparty == "mingchuan":
        rows = _rows_mingchuan(trade, c, st)
        story.append(Paragraph(f"发行方：{OUR_FIRM}", body))
        data, line = [], []
        for a, b in rows:
            line.append([Paragraph(a, cell), Paragraph(b, cell)])
            if len(line) == 3:
                data.append(line)
                line = []
        if line:
            data.append(line + [""] * (3 - len(line)))
        t = Table(data, colWidths=[width / 3] * 3)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
        story.append(t)
    elif counterparty == "yunqi":
        rows = _rows_yunqi(trade, c, st)
        story.append(Paragraph(f"卖方名称：{OUR_FIRM}", body))
        data = [[*(Paragraph(x, cell) for x in rows[i]),
                 *((Paragraph(x, cell) for x in rows[i + 1]) if i + 1 < len(rows) else ("", ""))]
                for i in range(0, len(rows), 2)]
        t = Table(data, colWidths=[0.17 * width, 0.33 * width, 0.17 * width, 0.33 * width])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
        story.append(t)
    else:
        rows = _rows_dingsheng(trade, c, st)
        story += [Paragraph(f"甲方：{OUR_FIRM}", body), Paragraph(f"乙方：{c['counterparty']}", body)]
        nums = "一二三四五六七八九十"
        for i, (a, b) in enumerate(rows):
            n = nums[i] if i < 10 else "十" + nums[i - 10]
            story.append(Paragraph(f"第{n}条 {a}：{b}", body))
    story += [Spacer(1, 6 * mm), Paragraph("本确认函为双方主协议项下的交易确认，未尽事宜以主协议为准。", body),
              Spacer(1, 6 * mm), Paragraph("（盖章）　　　　　　　　　　　　授权代表签字：", body)]
    path = Path(path)
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=st.margin_mm * mm, rightMargin=st.margin_mm * mm,
                      topMargin=st.margin_mm * mm, bottomMargin=st.margin_mm * mm, invariant=1).build(story)
    return path


def _style(rng: random.Random) -> Style:
    """Number and date formats drawn per document (the layout and labels are the counterparty's)."""
    return Style(date_format=rng.choice(["cn", "iso", "slash", "cn0"]),
                 amount_format=rng.choice(["yuan", "wan", "cny"]),
                 option_format=rng.choice(["cn", "cn2"]), font_size=rng.choice([9.5, 10.0, 10.5, 11.0]),
                 margin_mm=rng.choice([15.0, 20.0]))


def heldout_trade(rng: random.Random, counterparty: str, template: str | None = None) -> TradeRecord:
    """A trade with the counterparty of ``counterparty``, of ``template`` or one of the templates
    it trades."""
    from .trade import read_trade

    name, templates = COUNTERPARTIES[counterparty]
    t = random_trade(rng, template or rng.choice(templates)).to_dict()
    t["counterparty"] = {"id": f"HO-{counterparty}", "name": name}
    return read_trade(t)


def build_heldout(folder: str | Path, n: int = 12, seed: int = EVAL_SEEDS[0], scan_share: float = 0.5,
                  severity: str = "office") -> dict:
    """Write ``n`` held-out confirmations (counterparties in turn; ``scan_share`` of them degraded
    scans) and ``truth.json`` as ``corpus.build_corpus`` does. ``seed`` must be in ``EVAL_SEEDS``
    (or ``SAMPLE_SEED`` for the one sample per counterparty)."""
    if seed != SAMPLE_SEED and seed not in EVAL_SEEDS:
        raise ValueError(f"held-out seeds are {SAMPLE_SEED} (the samples) and {EVAL_SEEDS.start}..{EVAL_SEEDS.stop - 1}")
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(COUNTERPARTIES)
    n_scan = int(round(n * scan_share))
    truth = {}
    for i in range(n):
        cp = names[i % len(names)]
        trade = heldout_trade(rng, cp)
        st = _style(rng)
        scanned = (i // len(names)) % 2 == 1 and sum(1 for v in truth.values() if v["route"] == "ocr") < n_scan
        name = f"ho_{i:03d}_{cp}_{trade.template}{'_scan' if scanned else ''}.pdf"
        defects = None
        if scanned:
            tmp = folder / f".{name}.text.pdf"
            render_heldout(trade, cp, tmp, st)
            defects = ScanDefects.random(rng, severity)
            scan_pdf(tmp, folder / name, defects, seed=rng.randrange(2**31))
            tmp.unlink()
        else:
            render_heldout(trade, cp, folder / name, st)
        truth[name] = {"route": "ocr" if scanned else "text", "counterparty_layout": cp,
                       "fields": confirmation_fields(trade), "trade": trade.to_dict(),
                       "defects": defects.__dict__ if defects else None}
    (folder / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    return truth


def write_samples(folder: str | Path) -> dict[str, Path]:
    """The one text-PDF sample per counterparty (seed ``SAMPLE_SEED``) the shipped layouts were
    annotated from: counterparty -> path. Each sample is of the counterparty's first template,
    the one printing the most fields (a phoenix, a shark fin, a digital)."""
    rng = random.Random(SAMPLE_SEED)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for cp in COUNTERPARTIES:
        trade = heldout_trade(rng, cp, COUNTERPARTIES[cp][1][0])
        out[cp] = render_heldout(trade, cp, folder / f"sample_{cp}.pdf", _style(rng))
    return out
