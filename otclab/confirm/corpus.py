"""A labelled corpus of confirmations: random booked trades printed in varied styles, half scanned.

``random_trade(rng, template)`` draws a ``TradeRecord`` (validated by its template's schema).
``build_corpus(folder, n, seed)`` writes ``n`` PDFs and ``truth.json`` (file name -> the fields a
perfect reader returns, the trade in its JSON form, and how the file was made). Trades, styles and scan defects are drawn from
a seeded generator, so a corpus is reproducible from its seed; different seeds give documents
nobody tuned to.
"""
from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from ..core.calendar import sse_calendar
from ..store.record import TradeRecord
from .degrade import ScanDefects, scan_pdf
from .generate import Style, render_confirmation
from .trade import TEMPLATES, confirmation_fields, read_trade

SPOTS = {"000905.SH": 5800.0, "000852.SH": 6200.0, "000300.SH": 3900.0, "000016.SH": 2700.0,
         "000688.SH": 1000.0, "399006.SZ": 2100.0, "932000.CSI": 2500.0, "510300.SH": 4.0,
         "510500.SH": 6.0, "600519.SH": 1500.0, "601318.SH": 50.0, "300750.SZ": 250.0}
CLIENTS = ["上海明川私募基金管理有限公司", "北京远山投资管理有限公司", "深圳前海鼎晟资产管理有限公司",
           "杭州云栖股权投资合伙企业（有限合伙）", "宁波梅山保税港区星河投资管理有限公司", "广州南沙恒昌贸易有限公司",
           "中原信托有限公司", "江苏金陵创新投资有限公司", "成都天府国际资本管理有限公司", "青岛海岳私募基金管理有限公司"]


def random_trade(rng: random.Random, template: str | None = None) -> TradeRecord:
    """A trade the desk sold, of a random template, with market-like terms (levels as fractions
    of S0), as the one trade record."""
    tpl = template or rng.choice(TEMPLATES)
    und = rng.choice(list(SPOTS))
    s0 = round(SPOTS[und] * rng.uniform(0.85, 1.15), 2 if SPOTS[und] > 20 else 3)
    start = sse_calendar().roll_forward(dt.date(2025, 1, 2) + dt.timedelta(days=rng.randrange(480)))
    trade_date = start - dt.timedelta(days=rng.choice([0, 0, 1]))
    seq = rng.randrange(1, 99999)
    prefix = rng.choice(["OTC", "HX-OTC", "SWAP", "OPT"])
    trade_id = f"{prefix}-{start:%Y%m%d}-{seq:05d}" if rng.random() < 0.7 else f"{prefix}{start:%y}{seq:06d}"
    client = rng.choice(CLIENTS)
    terms = {
        "underlying": und,
        "currency": "CNY",
        "notional": float(rng.choice([5, 8, 10, 20, 30, 50, 100, 150]) * 1_000_000 + rng.choice([0, 0, 500_000])),
        "initial_price": s0,
        "start_date": start.isoformat(),
        "tenor_months": rng.choice([3, 6, 12, 24]),
    }
    pct = lambda lo, hi, step=0.5: round(rng.randrange(int(lo / step), int(hi / step) + 1) * step / 100, 4)
    if tpl in ("vanilla", "digital", "barrier", "sharkfin", "asian"):
        terms["option_type"] = rng.choice(["call", "put"])
        terms["strike"] = pct(90, 110) if tpl != "sharkfin" else 1.0
    if tpl in ("vanilla", "asian", "barrier", "sharkfin"):
        # drawn for all four so that a seed keeps drawing the same trades; of these templates
        # only the sharkfin has a participation rate
        participation = pct(50, 150, 5)
        if tpl == "sharkfin":
            terms["participation"] = participation
    if tpl == "asian":
        terms["fixings"] = "monthly"
    if tpl == "digital":
        terms["payout"] = pct(2, 12, 0.25)
    if tpl in ("barrier", "sharkfin"):
        up = terms["option_type"] == "call"
        terms["barrier"] = pct(110, 130) if up else pct(70, 90)
        if tpl == "barrier":
            terms["barrier_type"] = "up_out" if up else "down_out"
        terms["rebate"] = pct(0.5, 5, 0.25)
    if tpl in ("snowball", "phoenix"):
        terms["ko_barrier"] = pct(95, 105)
        terms["ki_barrier"] = pct(60, 80)
        terms["coupon"] = round(rng.randrange(40, 200, 5) / 100 * 12 / 100, 6) if tpl == "phoenix" else pct(6, 25, 0.1)
        terms["lockup_months"] = 3
    if tpl == "phoenix":
        terms["coupon_barrier"] = max(pct(60, 80), terms["ki_barrier"])
    return read_trade({
        "trade_id": trade_id, "template": tpl, "terms": terms, "direction": "sell",
        "counterparty": {"id": f"CP{CLIENTS.index(client) + 1:03d}", "name": client},
        "trade_date": trade_date.isoformat(),
    })


def build_corpus(folder: str | Path, n: int = 30, seed: int = 2025, scan_share: float = 0.5,
                 severity: str = "office") -> dict:
    """Write ``n`` confirmations (``scan_share`` of them degraded scans, defects of the given
    ``severity``, see ``ScanDefects.random``) and ``truth.json``."""
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    n_scan = int(round(n * scan_share))
    for i in range(n):
        tpl = TEMPLATES[i % len(TEMPLATES)]
        trade = random_trade(rng, tpl)
        style = Style.random(rng)
        scanned = i % 2 == 1 and i // 2 < n_scan
        name = f"conf_{i:03d}_{tpl}_{style.layout}{'_scan' if scanned else ''}.pdf"
        if scanned:
            tmp = folder / f".{name}.text.pdf"
            render_confirmation(trade, tmp, style)
            defects = ScanDefects.random(rng, severity)
            scan_pdf(tmp, folder / name, defects, seed=rng.randrange(2**31))
            tmp.unlink()
        else:
            defects = None
            render_confirmation(trade, folder / name, style)
        truth[name] = {"route": "ocr" if scanned else "text", "fields": confirmation_fields(trade),
                       "trade": trade.to_dict(), "style": style.__dict__,
                       "defects": defects.__dict__ if defects else None}
    (folder / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    return truth
