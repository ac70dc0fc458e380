"""Small but hostile confirmation files, built in the test (reportlab, pypdfium2): many tiny pages,
one huge blank page, a value of hundreds of digits, and a scan (its OCR is slow on purpose)."""
from __future__ import annotations

import random
from pathlib import Path


def tiny_pages(path: Path, n: int, text: str = ".") -> Path:
    """``n`` pages of 20 x 20 pt, each with a little text (the text route reads them all)."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(20, 20))
    for _ in range(n):
        c.drawString(1, 5, text)
        c.showPage()
    c.save()
    return Path(path)


def huge_blank_page(path: Path) -> Path:
    """One blank page of 14,400 x 14,400 pt (200 x 200 inches, the largest page PDF allows):
    no text layer, so it goes to OCR; rendered at 200 dpi it would be 1.6 billion pixels."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(14400, 14400))
    c.showPage()
    c.save()
    return Path(path)


def endless_digits(path: Path) -> Path:
    """A text confirmation whose notional has 400 digits (float() of it is inf)."""
    from reportlab.pdfgen import canvas

    from otclab.confirm.generate import _font

    font = _font()
    c = canvas.Canvas(str(path))
    c.setFont(font, 12)
    c.drawString(50, 800, "场外期权交易确认书（雪球）")
    c.drawString(50, 780, "交易编号：OTC-20250101-0001")
    c.setFont(font, 2)
    c.drawString(50, 760, "名义本金：" + "9" * 400 + "元")
    c.setFont(font, 12)
    c.drawString(50, 740, "期初价格：" + "9" * 60)
    c.drawString(50, 720, "敲出价格：期初价格×103%")
    c.save()
    return Path(path)


def confirmation(path: Path, seed: int = 3) -> Path:
    from otclab.confirm.corpus import random_trade
    from otclab.confirm.generate import Style, render_confirmation

    return render_confirmation(random_trade(random.Random(seed)), path, Style.random(random.Random(seed)))


def scan(path: Path, seed: int = 3) -> Path:
    """An image-only scan of a confirmation: every page goes through OCR (seconds per page)."""
    from otclab.confirm.degrade import ScanDefects, scan_pdf

    text = confirmation(Path(path).with_name(f".{Path(path).name}.text.pdf"), seed)
    scan_pdf(text, path, ScanDefects(dpi=150, rotation_deg=0.5, noise_sigma=4, jpeg_quality=70), seed=seed)
    text.unlink()
    return Path(path)
