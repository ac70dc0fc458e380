"""Extraction by layout on generated confirmations: text route (docling) and OCR route (scans)."""
from __future__ import annotations

import random
import zlib

import pytest

from otclab.confirm.accuracy import same_value, score
from otclab.confirm.extract import FIELDS, extract_file
from otclab.confirm.generate import Style, render_confirmation
from otclab.confirm.layout import Cell, PageText, ocr_models
from otclab.confirm.extract import extract_pages
from otclab.confirm.trade import TEMPLATES, confirmation_fields
from otclab.confirm.corpus import random_trade
from otclab.core.errors import InputError


def test_accuracy_thresholds_on_unseen_seed(small_corpus):
    """Per-route accuracy on a corpus drawn with a seed the benchmark does not use."""
    folder, truth = small_corpus
    results, routes_seen = [], set()
    for name, entry in truth.items():
        ex = extract_file(folder / name)
        routes = {p["route"] for p in ex.pages}
        assert routes == {entry["route"]}, name  # scans go through OCR, text PDFs do not
        routes_seen |= routes
        results.append((entry["route"], entry["fields"], ex.fields))
    table = score(results)
    assert routes_seen == {"text", "ocr"}
    right, n, spurious = table["text"]["all"]
    assert n >= 40 and right / n >= 0.97 and spurious == 0
    right, n, spurious = table["ocr"]["all"]
    assert n >= 40 and right / n >= 0.95 and spurious <= 1


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("layout", ["table2", "table4", "clauses", "mixed"])
def test_every_template_and_layout_reads_back(tmp_path, template, layout):
    rng = random.Random(zlib.crc32(f"{template}-{layout}".encode()))
    trade = random_trade(rng, template)
    style = Style.random(rng)
    style.layout = layout
    pdf = render_confirmation(trade, tmp_path / "c.pdf", style)
    got = extract_file(pdf).fields
    want = confirmation_fields(trade)
    wrong = {f: (want.get(f), got[f]) for f in FIELDS if not same_value(f, want.get(f), got[f])}
    assert not wrong


def _cell(text, x0, y0, x1=None, h=10.0):
    return Cell(text, x0, y0, x1 if x1 is not None else x0 + 10.0 * len(text), y0 + h)


def test_layout_not_reading_order():
    """Boxes given in a scrambled order still pair label -> value by position; a value wrapped
    over two lines and centred on its label is joined; the four-column row pairs correctly."""
    cells = [
        _cell("人民币壹仟万元整（¥10,000,", 200, 95),
        _cell("初始价格", 500, 100),
        _cell("名义金额", 50, 100),
        _cell("1,467.09元", 600, 100),
        _cell("000.00）", 200, 108),
        _cell("交易编号", 50, 130),
        _cell("0TC-2O25-00l23", 200, 130),
        _cell("敲出价格", 50, 160),
        _cell("期初价格×103%", 200, 160),
    ]
    page = PageText(1, "text", list(reversed(cells)), 800, 1000)
    f = extract_pages([page], "x").fields
    assert f["notional"] == 10_000_000.0
    assert f["initial_price"] == 1467.09
    assert f["trade_id"] == "OTC-2025-00123"
    assert f["ko_barrier"] == 1.03


def test_stacked_form_value_under_label():
    cells = [_cell("标的资产", 50, 100), _cell("中证1000指数", 50, 113), _cell("到期日", 300, 100),
             _cell("2026年3月2日", 300, 113)]
    f = extract_pages([PageText(1, "text", cells, 800, 1000)], "x").fields
    assert f["underlying"] == "000852.SH" and f["maturity_date"] == "2026-03-02"


def test_conflicting_values_warn():
    cells = [_cell("行权价格：100%", 50, 100), _cell("执行价格：105%", 50, 130)]
    ex = extract_pages([PageText(1, "text", cells, 800, 1000)], "x")
    assert ex.fields["strike"] == 1.0  # 行权价格 is the more specific label
    assert ex.confidence["strike"] < 1.0
    assert any("different values" in w for w in ex.warnings)


def test_counterparty_is_the_other_party(tmp_path, trade):
    for we_a in (True, False):
        pdf = render_confirmation(trade, tmp_path / f"c{we_a}.pdf", Style(we_are_party_a=we_a))
        assert extract_file(pdf).fields["counterparty"] == trade.counterparty.name


def test_bad_files_raise_input_error(tmp_path):
    p = tmp_path / "note.pdf"
    p.write_text("hello")
    with pytest.raises(InputError, match="not a PDF"):
        extract_file(p)
    with pytest.raises(InputError, match="cannot read"):
        extract_file(tmp_path / "missing.pdf")


def test_ocr_models_ship_in_the_wheel():
    names = [p.name for p in ocr_models()]
    assert any("det" in n for n in names) and any("rec" in n for n in names)
    assert all(p.stat().st_size > 100_000 for p in ocr_models())


@pytest.mark.parametrize("angle", [90.0, 181.5])
def test_scan_fed_sideways_or_upside_down(tmp_path, trade, angle):
    from otclab.confirm.degrade import ScanDefects, scan_pdf

    pdf = render_confirmation(trade, tmp_path / "c.pdf", Style(layout="table2"))
    scan = scan_pdf(pdf, tmp_path / "s.pdf", ScanDefects(dpi=150, rotation_deg=angle, noise_sigma=6,
                                                         jpeg_quality=60), seed=2)
    ex = extract_file(scan)
    assert [p["route"] for p in ex.pages] == ["ocr"]
    want = confirmation_fields(trade)
    wrong = {f: (want.get(f), ex.fields[f]) for f in FIELDS if not same_value(f, want.get(f), ex.fields[f])}
    assert not wrong


@pytest.mark.parametrize("template,terms", [
    ("snowball", {"ki_barrier": None, "ko_frequency": "daily", "lockup_months": 0}),  # no knock-in, daily KO
    ("phoenix", {"ki_barrier": None}),
    ("barrier", {"barrier_type": "up_in", "monitoring": "expiry"}),
    ("vanilla", {"exercise": "american"}),
    ("asian", {"fixings": "daily", "averaging": "geometric"}),
])
def test_clauses_worded_from_the_terms_read_back(tmp_path, template, terms):
    """Observation clauses follow the terms (knock-in or not, KO frequency, monitoring, exercise,
    averaging); the fields read back are still exactly the ones the trade states."""
    from otclab.confirm.trade import read_trade

    raw = random_trade(random.Random(3), template).to_dict()
    raw["terms"].update(terms)
    if template == "barrier":
        raw["terms"]["barrier"] = 1.2
    trade = read_trade(raw)
    pdf = render_confirmation(trade, tmp_path / "c.pdf", Style(layout="clauses"))
    got = extract_file(pdf).fields
    want = confirmation_fields(trade)
    assert not {f: (want.get(f), got[f]) for f in FIELDS if not same_value(f, want.get(f), got[f])}
