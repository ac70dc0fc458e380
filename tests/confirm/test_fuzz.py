"""Property-based fuzzing of the confirmation boundaries (issue 12): any file, any printed text,
any log bytes give a clear ``OtcError`` or a correct answer; never another exception, never a
non-finite or out-of-range number in the output.

Derandomized (the examples are drawn from a fixed seed, the same in every CI run) and bounded:
``max_examples`` is stated on each test. Files are read by ``worker.Extractor`` (a child process,
as the command line and the inbox read them) under low limits, so a file that crashed the native
readers would show up as a failure of this test instead of taking pytest down with it.
"""
from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from otclab.confirm import values as V
from otclab.confirm.extract import FIELDS, VALUE_RANGES, Extraction, _read, extract_pages
from otclab.confirm.inbox import append_log, read_log
from otclab.confirm.layout import Cell, PageText
from otclab.confirm.limits import Limits
from otclab.confirm.worker import Extractor, ExtractorFailed
from otclab.core.errors import InputError

FUZZ = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TEXT_FIELDS = {"trade_id", "counterparty", "trade_date", "start_date", "maturity_date", "underlying", "structure",
               "option_type"}

LABELS = ["交易编号：", "名义本金：", "期初价格：", "敲出价格：", "敲入价格：", "票息：", "交易日：", "标的：",
          "参与率：", "行权价格：", "甲方：", "乙方：", "期初价格×", "人民币", "万元", "%", "年化", "每月"]


@pytest.fixture(scope="module")
def extractor():
    # low limits keep every example quick: 3 pages, pages rendered within 0.5 megapixels
    with Extractor(Limits(max_mb=1, max_pages=3, max_megapixels=0.5, ocr_page_seconds=30, file_seconds=90,
                          max_memory_mb=3000)) as ex:
        yield ex


def _small_confirmation(lines: list[str]) -> bytes:
    """A confirmation on a 300 x 220 pt page (small, so the OCR fallback is quick)."""
    from reportlab.pdfgen import canvas

    from otclab.confirm.generate import _font

    font = _font()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.pdf"
        # invariant: no creation time or random id, so the fuzz examples are the same on every run
        c = canvas.Canvas(str(path), pagesize=(300, 220), invariant=1)
        c.setFont(font, 9)
        for i, line in enumerate(lines[:18]):
            c.drawString(10, 205 - 11 * i, line[:120])
        c.save()
        return path.read_bytes()


BASE_LINES = ["场外期权交易确认书（雪球）", "交易编号：OTC-20250102-00012", "甲方：华信证券股份有限公司",
              "乙方：深圳前海某某投资有限公司", "交易日：2025年1月2日", "标的：中证500指数（000905.SH）",
              "名义本金：人民币30,000,000.00元", "期初价格：5600.00", "敲出价格：期初价格×103%",
              "敲入价格：期初价格×75%", "票息：年化15.00%"]


@pytest.fixture(scope="module")
def base_pdfs() -> dict[str, bytes]:
    """The small confirmation with its text layer, and as an image-only scan (the OCR route)."""
    from otclab.confirm.degrade import ScanDefects, scan_pdf

    text = _small_confirmation(BASE_LINES)
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "t.pdf", Path(d) / "s.pdf"
        src.write_bytes(text)
        scan_pdf(src, dst, ScanDefects(dpi=150, jpeg_quality=60), seed=1)
        # Pillow stamps the time: a fixed one of the same length keeps the offsets and the examples
        scan = re.sub(rb"\(D:\d{14}Z\)", b"(D:20250102000000Z)", dst.read_bytes())
        return {"text": text, "scan": scan}


def _check_answer(ex: Extraction) -> None:
    assert set(ex.fields) == set(FIELDS)
    for f, v in ex.fields.items():
        if v is None:
            continue
        if f in TEXT_FIELDS:
            assert isinstance(v, str) and v, (f, v)
        else:
            lo, hi = VALUE_RANGES[f]
            assert isinstance(v, float) and math.isfinite(v) and lo <= v <= hi, (f, v)
    assert all(0.0 <= c <= 1.0 for c in ex.confidence.values())
    assert all(isinstance(w, str) for w in ex.warnings)
    json.dumps(ex.to_json(details=True), allow_nan=False)  # strict JSON: no NaN or Infinity


def _read_bytes(extractor, data: bytes):
    """Extraction of ``data`` as a file: an answer, or an InputError naming the file; never
    another exception, and never the extractor failing unexpectedly."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fuzz.pdf"
        path.write_bytes(data)
        try:
            ex = extractor.extract(path)
        except ExtractorFailed as exc:  # an unexpected exception inside the reader: a bug
            pytest.fail(f"extractor failed: {exc}")
        except InputError as exc:
            assert exc.field == "file" and "\n" not in str(exc) and str(exc).strip()
            event(f"error: {exc.message.split('(')[0].replace('fuzz.pdf', '').strip()[:40]}")
            return None
    _check_answer(ex)
    event(f"read: {'+'.join(sorted({p['route'] for p in ex.pages}))}, {sum(v is not None for v in ex.fields.values())} fields")
    return ex


@settings(max_examples=200, **FUZZ)
@given(st.one_of(st.binary(max_size=2048), st.binary(max_size=2048).map(lambda b: b"%PDF-1.7\n" + b)))
def test_random_bytes(extractor, data):
    _read_bytes(extractor, data)


_MUTATION = st.tuples(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate", "zero"]),
                      st.floats(0, 1), st.integers(1, 400), st.binary(min_size=1, max_size=64))


def _mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for op, where, n, extra in ops:
        i = int(where * max(len(b) - 1, 0))
        if op == "flip" and b:
            for k in range(i, min(i + max(1, n // 40), len(b))):
                b[k] ^= extra[k % len(extra)] or 0xFF
        elif op == "delete":
            del b[i:i + n]
        elif op == "insert":
            b[i:i] = extra * max(1, n // 64)
        elif op == "truncate":
            del b[i:]
        elif op == "duplicate":
            b[i:i] = b[i:i + n]
        elif op == "zero":
            b[i:i + n] = bytes(len(b[i:i + n]))
    return bytes(b)


@settings(max_examples=120, **FUZZ)
@given(st.sampled_from(["text", "text", "text", "scan"]), st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_confirmation(extractor, base_pdfs, kind, ops):
    _read_bytes(extractor, _mutate(base_pdfs[kind], ops))


def test_a_page_pdfium_cannot_load_is_a_clear_error(extractor, base_pdfs):
    """Found by the fuzz test above: 34 bytes cut from the page object, which qpdf repairs for
    the text layer but pdfium cannot load: one line naming the page, not an extractor failure."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cut.pdf"
        path.write_bytes(_mutate(base_pdfs["text"], [("delete", 0.0078125, 34, b"\x00")]))
        with pytest.raises(InputError, match=r"cut.pdf: page 1 of 1 cannot be read .*the PDF is damaged"):
            extractor.extract(path)


_PRINTED = st.lists(
    st.tuples(st.sampled_from(LABELS),
              st.one_of(st.text(max_size=40), st.text(alphabet="0123456789.,%万亿元年月日-/ ", max_size=60),
                        st.integers(0, 600).map(lambda n: "9" * n),
                        st.floats(allow_nan=True, allow_infinity=True).map(str),
                        st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: f"{d:f}"[:200]))),
    min_size=1, max_size=12)


@settings(max_examples=80, **FUZZ)
@given(_PRINTED)
def test_confirmation_with_random_printed_values(extractor, printed):
    """Whatever a document prints after its labels (huge numbers, garbage, any Unicode), the
    numbers read from it are finite and in range."""
    lines = ["场外期权交易确认书"] + [a + "".join(ch for ch in b if ch.isprintable()) for a, b in printed]
    _read_bytes(extractor, _small_confirmation(lines))


@settings(max_examples=500, **FUZZ)
@given(st.sampled_from(sorted(VALUE_RANGES) + sorted(TEXT_FIELDS)),
       st.one_of(st.text(max_size=200), st.text(alphabet="0123456789.,%万亿元OolI期初价格×年化每月 ", max_size=400)),
       st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_value_readers(field, raw, initial_price):
    v, derived, warn = _read(field, raw, initial_price if initial_price is None or math.isfinite(initial_price)
                             and initial_price > 0 else None)
    if v is not None and field in VALUE_RANGES:
        lo, hi = VALUE_RANGES[field]
        assert isinstance(v, float) and math.isfinite(v) and lo <= v <= hi
    assert warn is None or isinstance(warn, str)
    for reader in (V.parse_amount, V.parse_price, V.parse_rate, V.parse_date, V.canonical_id, V.parse_structure,
                   V.parse_option_type):
        reader(raw)  # never raises


@settings(max_examples=300, **FUZZ)
@given(st.binary(max_size=600), st.sampled_from(["", "\n"]))
def test_journal_survives_any_torn_content(tmp_path_factory, junk, sep):
    """Whatever bytes a crash left in the log, it is read, and the next entry lands on a line of
    its own and reads back."""
    log = tmp_path_factory.mktemp("log") / "log.jsonl"
    good = {"ts": "2026-01-01T00:00:00+00:00", "file": "确认书.pdf", "status": "processed"}
    log.write_bytes(json.dumps(good, ensure_ascii=False).encode() + b"\n" + junk + sep.encode())
    before = read_log(log)
    assert before[0] == good and all(isinstance(e, dict) for e in before)
    new = {"ts": "2026-01-02T00:00:00+00:00", "file": "新.pdf", "status": "pending"}
    append_log(log, new)
    assert read_log(log)[-1] == new



_CELL = st.builds(
    lambda text, x, y, w, h, score: Cell(text, x, y, x + w, y + h, score),
    st.one_of(st.sampled_from(LABELS + BASE_LINES), st.text(max_size=30),
              st.tuples(st.sampled_from(LABELS), st.text(alphabet="0123456789.,%万元OolI×", max_size=30)).map("".join)),
    st.floats(0, 800), st.floats(0, 1100), st.floats(0.5, 400), st.floats(0.5, 40), st.floats(0, 1))


@settings(max_examples=300, **FUZZ)
@given(st.lists(st.lists(_CELL, max_size=40), min_size=1, max_size=3), st.sampled_from(["text", "ocr"]))
def test_layout_matching_on_random_boxes(pages, route):
    """The layout reader on boxes anywhere, of any size and text (what a page can hold)."""
    ex = extract_pages([PageText(i + 1, route, cells, 800.0, 1100.0) for i, cells in enumerate(pages)], "x.pdf")
    _check_answer(ex)
