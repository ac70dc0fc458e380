"""A sample confirmation in a layout no part of otclab knows (the counterparty 青岛海岳, form
HY-OTC-01), drawn with reportlab's canvas: labels the generic table lacks (成交编号, 客户全称,
收益分享比例, 保底补偿, 执行水平), the notional in 万元, values right of their labels. Used by the
layout tool's tests, which annotate it as operations would."""
from __future__ import annotations

COUNTERPARTY = "青岛海岳私募基金管理有限公司"
ROWS = [("成交编号", "HY-2025-0611-027"), ("客户全称", COUNTERPARTY), ("成交日期", "2025年6月11日"),
        ("起算日", "2025年6月12日"), ("到期日", "2025年12月12日"), ("挂钩标的", "沪深300指数（000300.SH）"),
        ("产品类型", "看涨鲨鱼鳍期权"), ("名义本金（万元）", "5,000"), ("期初价格", "3,880.00点"),
        ("执行水平", "100.00%"), ("障碍水平", "期初价格×115%"), ("收益分享比例", "75.00%"), ("保底补偿", "2.50%")]
WANT = {"trade_id": "HY-2025-0611-027", "counterparty": COUNTERPARTY, "trade_date": "2025-06-11",
        "start_date": "2025-06-12", "maturity_date": "2025-12-12", "underlying": "000300.SH",
        "structure": "sharkfin", "option_type": "call", "notional": 50_000_000.0, "initial_price": 3880.0,
        "strike": 1.0, "ko_barrier": None, "ki_barrier": None, "barrier": 1.15, "coupon": None,
        "participation": 0.75, "rebate": 0.025}


def draw(path):
    """Write the sample to ``path``; returns it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from otclab.confirm.generate import _font

    font = _font()
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(font, 9)
    c.drawRightString(540, 815, "HY-OTC-01")
    c.setFont(font, 15)
    c.drawCentredString(297, 790, "海岳资本 场外期权确认单")
    c.setFont(font, 10.5)
    y = 750
    c.drawString(60, y, "卖方：华信证券股份有限公司")
    y -= 30
    for a, b in ROWS:
        c.drawString(60, y, a)
        c.drawString(220, y, b)
        y -= 22
    c.drawString(60, y - 20, "本确认单经双方盖章后生效。")
    c.save()
    return path
