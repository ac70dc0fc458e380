"""A confirmation drawn by hand with reportlab's canvas, independently of the generator: bilingual
labels, a party line with role words, an id with O/0 swaps, Chinese-numeral dates, a two-part
amount, levels written "100%×期初价格" and "期初价格的85%". Read as a text PDF and as a scan."""
from __future__ import annotations

import pytest

from otclab.confirm.extract import extract_file

ROWS = [
    ("交易日 Trade Date", "二〇二五年一月十七日"),
    ("期权类型 Option Type", "看跌鲨鱼鳍期权"),
    ("标的 Underlying", "沪深300指数"),
    ("名义本金 Notional", "人民币（大写）叁仟万元整；（小写）¥30,000,000.00"),
    ("期初价格 Initial Price", "3,968.45点"),
    ("行权价格 Strike", "100%×期初价格"),
    ("障碍价格 Barrier", "期初价格的85%"),
    ("敲出补偿 Rebate", "年化2.5%"),
    ("参与率 Participation", "80%"),
    ("起始日 Start Date", "2025年1月20日"),
    ("到期日 Maturity Date", "2025年7月21日"),
]
WANT = {
    "trade_id": "HX-CF-2025-0117-008", "counterparty": "宁波梅山保税港区星河投资管理有限公司",
    "trade_date": "2025-01-17", "start_date": "2025-01-20", "maturity_date": "2025-07-21",
    "underlying": "000300.SH", "structure": "sharkfin", "option_type": "put", "notional": 30_000_000.0,
    "initial_price": 3968.45, "strike": 1.0, "ko_barrier": None, "ki_barrier": None, "barrier": 0.85,
    "coupon": None, "participation": 0.8, "rebate": 0.025,
}


def _draw(path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from otclab.confirm.generate import _font

    font = _font()
    c = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    c.setFont(font, 15)
    c.drawCentredString(297, y, "场外期权 交易确认书 Confirmation")
    y -= 30
    c.setFont(font, 10)
    for a, b in [("甲方（卖方）Party A：", "华信证券股份有限公司"),
                 ("乙方（买方）Party B：", "宁波梅山保税港区星河投资管理有限公司"),
                 ("确认书编号 Ref No.：", "HX-CF-2O25-0117-OO8")]:
        c.drawString(60, y, a)
        c.drawString(200, y, b)
        y -= 18
    y -= 10
    c.drawString(60, y, "第一条 交易要素")
    y -= 22
    for a, b in ROWS:
        c.drawString(60, y, a)
        c.drawString(230, y, b)
        y -= 18
    c.save()
    return path


@pytest.mark.parametrize("scan", [False, True])
def test_hand_drawn_confirmation(tmp_path, scan):
    pdf = _draw(tmp_path / "h.pdf")
    if scan:
        from otclab.confirm.degrade import ScanDefects, scan_pdf

        pdf = scan_pdf(pdf, tmp_path / "hs.pdf", ScanDefects(dpi=200, rotation_deg=-1.2, blur_radius=0.6,
                                                            noise_sigma=8, jpeg_quality=50, exposure=0.2), seed=4)
    ex = extract_file(pdf)
    assert ex.pages[0]["route"] == ("ocr" if scan else "text")
    assert ex.fields == WANT
