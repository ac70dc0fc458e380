"""Read the trade elements of a confirmation PDF (text layer or scan) by layout.

Pipeline: ``read_pages`` gives each page's boxes (docling text layer, or RapidOCR where a page
has no text layer); boxes are merged into phrases and grouped into rows; every phrase that starts
with a known label (``labels.py``) takes its value from the rest of the phrase (``期初价格：5600``,
numbered clauses), else from the next phrase to its right on the same row (two- and four-column
tables), else from the phrase just below it (stacked forms). Values are read into platform units
(``values.py``). When a field is printed more than once, the most specific label wins and any
disagreement becomes a warning.

When the first page matches an annotated layout (``layouts.py``: its markers and most of its
labels are printed), that layout's labels win over the generic synonyms, its units say how a
value is printed (万元, per-period rates) and its positions where the value sits; ``layout`` then
names it (None: the generic extractor alone).

Output per file: ``fields`` (all of ``FIELDS``, None where absent), ``confidence`` in [0, 1] per
field found (see ``_confidence``), ``layout``, ``warnings`` (one line each), and per page the
route taken and its seconds. A field whose confidence is below ``layouts.threshold(field,
layout)`` is for a person to check (``layouts.below_threshold``).
"""
from __future__ import annotations

import math
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError
from . import values as V
from .limits import Limits, LimitError
from .layout import MIN_TEXT_CHARS, Cell, PageText, ocr_pdf_page, read_text_layer
from .matching import Hit, hits_on_page
from .underlyings import parse_underlying

FIELDS = ("trade_id", "counterparty", "trade_date", "start_date", "maturity_date", "underlying",
          "structure", "option_type", "notional", "initial_price", "strike", "ko_barrier",
          "ki_barrier", "barrier", "coupon", "participation", "rebate")
LEVEL_FIELDS = ("strike", "ko_barrier", "ki_barrier", "barrier")
RATE_FIELDS = ("coupon", "participation", "rebate")
DATE_FIELDS = ("trade_date", "start_date", "maturity_date")

# Our own legal name: of the two parties of a confirmation, the counterparty is the other one.
OUR_FIRM_NAMES = ("华信证券股份有限公司", "华信证券")
_NOT_A_NAME = ("签字", "签章", "盖章", "签署", "日期", "授权代表")


@dataclass
class Extraction:
    """What was read from one file."""

    source: str
    fields: dict
    confidence: dict
    warnings: list[str]
    pages: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    layout: str | None = None  # the annotated layout used (its id); None: the generic extractor

    def to_json(self, details: bool = False) -> dict:
        d = {"source": self.source, "fields": self.fields, "confidence": self.confidence,
             "layout": self.layout, "warnings": self.warnings}
        if details:
            d["pages"] = self.pages
            d["seconds"] = round(self.seconds, 3)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Extraction":
        """Back from ``to_json(details=True)`` or ``dataclasses.asdict`` (what the worker sends)."""
        return cls(d["source"], d["fields"], d["confidence"], d["warnings"], d.get("pages", []),
                   d.get("seconds", 0.0), d.get("layout"))


# ------------------------------------------------------------------ reading the file

def _open_regular(path: Path):
    """A read-only binary file object for ``path``, which must be a regular file (opened without
    blocking, so a FIFO cannot make us wait; checked on the open descriptor, so it cannot be
    swapped after the check); ``InputError`` (field ``file``) otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", field="file") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{Path(path).name} is not a regular file (a device, FIFO or folder); "
                             f"only files are read", field="file")
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def check_file(path: str | Path, limits: Limits | None = None) -> int:
    """Cheap checks that need no PDF parser: a regular file, within ``max_mb``, not empty, with a
    ``%PDF-`` header. Returns its size in bytes; ``InputError``/``LimitError`` (field ``file``)."""
    limits = limits or Limits.from_env()
    path = Path(path)
    f, st = _open_regular(path)
    with f:
        if st.st_size > limits.max_bytes:
            raise LimitError(f"{path.name} has {st.st_size / 1e6:.1f} MB; at most {limits.max_mb:g} MB are read",
                             limit="max_mb")
        if st.st_size == 0:
            raise InputError(f"{path.name} is empty (0 bytes)", field="file")
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise InputError(f"{path.name} is not a PDF (no %PDF- header)", field="file")
    return st.st_size


def looks_complete(path: str | Path) -> bool:
    """Whether a PDF ends with its ``%%EOF`` marker (in the last 1,024 bytes): a file still being
    written usually does not yet."""
    f, st = _open_regular(Path(path))
    with f:
        f.seek(max(0, st.st_size - 1024))
        return b"%%EOF" in f.read(1024)


def check_pdf(path: Path, limits: Limits | None = None) -> int:
    """Raise ``InputError`` (field ``file``) unless ``path`` is a PDF that opens without a password
    and has at most ``max_pages`` pages (``LimitError``); returns its page count."""
    import pypdfium2 as pdfium

    limits = limits or Limits.from_env()
    check_file(path, limits)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise InputError(f"{Path(path).name} is encrypted (a password is needed to open it)",
                             field="file") from exc
        raise InputError(f"{Path(path).name} is a corrupt PDF ({msg})", field="file") from exc
    try:
        n = len(pdf)
    finally:
        pdf.close()
    if n == 0:
        raise InputError(f"{Path(path).name} has no pages", field="file")
    if n > limits.max_pages:
        raise LimitError(f"{Path(path).name} has {n} pages; at most {limits.max_pages} are read", limit="max_pages")
    return n


def _has_image(page) -> bool:
    import pypdfium2.raw as pdfium_c

    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))


def read_pages(path: Path, force_ocr: bool = False, limits: Limits | None = None, progress=None) -> list[PageText]:
    """Boxes of every page: the text layer where it has text, OCR of the rendered page elsewhere.

    ``limits``: bytes and pages are checked before anything is parsed, rendered pages are kept
    within ``max_megapixels``. ``progress(stage, page, pages)`` is called as the work goes:
    ``("text", None, n)`` before the text layer, ``("ocr", i, n)`` before OCR of page ``i``
    (1-based), ``("match", None, n)`` when only the layout matching is left."""
    import pypdfium2 as pdfium

    limits = limits or Limits.from_env()
    report = progress or (lambda stage, page, pages: None)
    n = check_pdf(path, limits)
    report("text", None, n)
    try:
        text_pages = [] if force_ocr else read_text_layer(Path(path))
    except Exception as exc:  # docling-parse failing on a damaged file: the OCR route can still read it
        text_pages = []
        note = f"text layer unreadable ({type(exc).__name__}: {exc}); OCR used"
    else:
        note = None
    pdf = pdfium.PdfDocument(str(path))
    try:
        by_no = {p.page_no: p for p in text_pages}
        out = []
        for i in range(len(pdf)):
            tp = by_no.get(i + 1)
            chars = sum(len(c.text.strip()) for c in tp.cells) if tp is not None else 0
            try:
                # OCR a page whose text layer is (nearly) empty and that shows an image: a scan. A
                # text page with little on it (a signature page) stays on the text route.
                if tp is not None and (chars >= MIN_TEXT_CHARS or (chars > 0 and not _has_image(pdf[i]))):
                    out.append(tp)
                    continue
                report("ocr", i + 1, n)
                op = ocr_pdf_page(pdf, i, max_pixels=limits.max_pixels)
            except pdfium.PdfiumError as exc:      # a page object pdfium cannot load: a damaged file
                raise InputError(f"{Path(path).name}: page {i + 1} of {n} cannot be read ({exc}); the PDF is "
                                 f"damaged", field="file") from exc
            if note:
                op.notes.append(note)
            out.append(op)
        report("match", None, n)
        return out
    finally:
        pdf.close()


# ------------------------------------------------------------------ values from hits

# Plausible ranges of the numbers a confirmation states (platform units). A value outside, or not
# finite (400 printed digits are float('inf')), is a misreading or a hostile file: it is dropped
# with a warning, so no non-finite or absurd number ever leaves the extractor.
VALUE_RANGES = {
    "notional": (0.0, 1e12),  # CNY
    "initial_price": (0.0, 1e7),  # index points or CNY per share
    **{f: (0.0, 10.0) for f in LEVEL_FIELDS},  # fractions of the initial price
    **{f: (0.0, 10.0) for f in RATE_FIELDS},  # annual fractions (1000%)
}
MAX_VALUE_CHARS = 1000  # a value's text is read from its first 1,000 characters


def _in_range(field_name: str, v):
    """(v, None) when ``v`` is a finite number in the field's range (or not a number), else
    (None, warning)."""
    lo, hi = VALUE_RANGES.get(field_name, (None, None))
    if lo is None or not isinstance(v, float):
        return v, None
    if math.isfinite(v) and (lo < v <= hi or (v == 0.0 and field_name in RATE_FIELDS)):
        return v, None
    shown = f"{v:.6g}" if math.isfinite(v) else "too many digits to be a number"
    return None, f"{field_name}: {shown} is out of range ({lo:g}, {hi:g}]; ignored"


def _read(field_name: str, raw: str, initial_price: float | None):
    """Value of ``field_name`` from raw text, as the generic extractor reads it: (value, derived?,
    warning); see ``_read_value``."""
    v, derived, warn, _note = _read_value(field_name, raw, initial_price)
    return v, derived, warn


def _read_value(field_name: str, raw: str, initial_price: float | None, unit: str = "auto", label_unit: str = ""):
    """Value of ``field_name`` from raw text: (value, derived?, warning, unit note); numbers are
    checked against ``VALUE_RANGES`` (a value outside is None with a warning). ``unit`` is the
    annotated layout's unit for the field (``layouts.UNITS``), ``label_unit`` the label's own
    unit words (名义本金（万元）). The unit note is ``"ambiguous"`` when a rate is printed per
    period without saying the period or its annual figure."""
    raw = raw[:MAX_VALUE_CHARS]
    v, derived, warn, note = _read_raw(field_name, raw, initial_price, unit, label_unit)
    v, range_warn = _in_range(field_name, v)
    return v, derived, range_warn or warn, note


_MONTHLY = re.compile(r"每月|月息|/月|按月|月度|月付|per month|monthly", re.I)
_QUARTERLY = re.compile(r"每季|季度|按季|/季|per quarter|quarterly", re.I)
_PER_PERIOD = re.compile(r"每期|每个观察期|每一观察期|当期|per period", re.I)
_ANNUAL = re.compile(r"年化|每年|/年|per annum|p\.a\.|annual", re.I)


def _read_rate(raw: str, unit: str, label_unit: str) -> tuple[float | None, str | None]:
    """A rate (annual fraction) from its printed text under the layout's ``unit`` (``auto``: the
    words around it decide: 年化 kept, 每月/按月 ×12, 每季/按季 ×4, 每期 alone is ambiguous)."""
    t = V.fix_digits(V.normalize(raw))
    pct = V._percents(t)
    if not pct:
        return None, None
    annual = re.search(r"年化[^\d%]{0,6}(\d+(?:\.\d+)?)\s*%", t) or re.search(
        r"(\d+(?:\.\d+)?)\s*%\s*(?:[(（]\s*年化|/年|每年|p\.a\.)", t)
    if unit in ("pct",):
        return round(pct[0], 6), None
    if annual and unit in ("auto", "annual_pct", "monthly_pct", "quarterly_pct"):
        return round(float(annual.group(1)) / 100.0, 6), None
    if unit == "annual_pct":
        return round(pct[0], 6), None
    m = re.search(r"\d+(?:\.(\d+))?\s*%", t)
    decimals = len(m.group(1) or "") if m else 0
    if unit == "monthly_pct":
        return _annualise(pct[0], 12, decimals), None
    if unit == "quarterly_pct":
        return _annualise(pct[0], 4, decimals), None
    words = t + " " + label_unit
    if _MONTHLY.search(words):
        return _annualise(pct[0], 12, decimals), None
    if _QUARTERLY.search(words):
        return _annualise(pct[0], 4, decimals), None
    if _PER_PERIOD.search(words) and not _ANNUAL.search(words):
        return round(pct[0], 6), "ambiguous"
    return round(pct[0], 6), None


def _annualise(rate: float, per_year: int, decimals: int) -> float:
    """A per-period rate (fraction) × periods per year. Annual rates are set in steps of 0.01%,
    and a per-period rate printed to ``decimals`` places of a percent carries up to half a unit
    of its last place: when a whole 0.01% lies within that (× periods), it is the annual rate
    (0.6833% a month is 8.20% a year, not 8.1996%)."""
    v = rate * per_year
    step = round(v, 4)
    if abs(step - v) <= per_year * 0.5 * 10.0 ** -(decimals + 2) + 1e-12:
        return step
    return round(v, 6)


def _read_raw(field_name: str, raw: str, initial_price: float | None, unit: str = "auto", label_unit: str = ""):
    if field_name == "trade_id":
        v = V.canonical_id(raw)
        if not (re.search(r"\d", v) and len(v) >= 4):
            return None, False, None, None
        # look-alike letters and digits decided by their neighbours (0OPT -> OOPT): a guess
        printed = re.sub(r"[^A-Za-z0-9|\-_/]", "", V.normalize(raw)).upper()
        return v, False, None, ("repaired" if v not in printed else None)
    if field_name in ("counterparty", "party_a", "party_b"):
        t = re.sub(r"[(（][^)）]*简称[^)）]*[)）]", "", V.normalize(raw))
        # Chinese legal names are written with full-width brackets: （有限合伙）
        t = V.clean_text(t).replace("(", "（").replace(")", "）")
        if len(t) < 4 or any(w in t for w in _NOT_A_NAME):
            return None, False, None, None  # a signature block's 授权代表签字 is not a party name
        return t, False, None, None
    if field_name in DATE_FIELDS:
        return V.parse_date(raw), False, None, None
    if field_name == "underlying":
        code, warn = parse_underlying(raw)
        return code, False, warn, None
    if field_name == "structure":
        return V.parse_structure(raw), False, None, None
    if field_name == "option_type":
        return V.parse_option_type(raw), False, None, None
    if field_name == "notional":
        v = V.parse_amount(raw)
        t = V.normalize(raw)
        # an amount printed in 万元 under a label that says so (名义本金（万元）: 3,000)
        if v is not None and not re.search(r"[万亿萬億]", t) and (unit == "wan_yuan" or (
                unit == "auto" and "万" in label_unit)):
            v = round(v * 1e4, 2)
        return v, False, None, _amount_check(t, v)
    if field_name == "initial_price":
        return V.parse_price(raw), False, None, None
    if field_name in LEVEL_FIELDS:
        if unit == "price" and initial_price:
            p = V.parse_price(raw)
            return (round(p / initial_price, 4) if p is not None else None), False, None, None
        v, derived = V.parse_level(raw, initial_price)
        return v, derived and unit != "level_pct", None, _level_check(raw, v, initial_price)
    if field_name in RATE_FIELDS:
        v, note = _read_rate(raw, unit, label_unit)
        return v, False, None, note
    raise KeyError(field_name)


def _amount_check(t: str, v: float | None) -> str | None:
    """"disagree" when an amount printed twice (叁仟万元整（¥30,000,000.00）) reads two ways."""
    if v is None:
        return None
    upper = V.parse_cn_numeral(t) if re.search(r"[壹贰叁肆伍陆柒捌玖拾佰仟]", t) else None
    if upper is not None and re.search(r"\d", t) and abs(upper - v) > 0.5:
        return "disagree"
    return None


def _level_check(raw: str, v: float | None, s0: float | None) -> str | None:
    """"disagree" when a level printed as a price and a percentage (5768.00（期初价格的103%）)
    gives two different levels."""
    if v is None or not s0:
        return None
    t = V.fix_digits(V.normalize(raw))
    m = re.match(r"^\s*(\d[\d,]*\.?\d*)\s*(?:点|元)?\s*[(（]", t)
    if m and "%" in t:
        p = V._number(m.group(1))
        if p is not None and abs(p / s0 - v) > 0.005 * max(v, 0.1):
            return "disagree"
    return None


# Where a field's value usually lies (platform units); outside, the reading is kept but its
# confidence is lowered: a coupon of 150% or a strike at 5% of the initial price is far more
# often a misreading (a period amount, a price taken for a percentage) than a real term.
PLAUSIBLE = {
    "notional": (1e5, 1e10), "strike": (0.5, 1.5), "ko_barrier": (0.7, 1.5), "ki_barrier": (0.3, 1.0),
    "barrier": (0.3, 1.7), "coupon": (0.001, 0.6), "participation": (0.1, 3.0), "rebate": (0.0, 0.3),
}


_LEGAL_ENDINGS = ("公司", "企业", "（有限合伙）", "（普通合伙）", "合伙", "基金", "银行", "中心", "研究院", "大学",
                  "会", "所", "局", "部", "社", "厂", "店", "行", "Ltd", "Ltd.", "LLC", "Inc.", "Limited", "LP", "L.P.")


def _is_reference(h: Hit) -> bool:
    return "参考" in h.unit or "仅供" in h.unit


def _resolve(hits: list[Hit], warnings: list[str], units: dict | None = None) -> tuple[dict, dict]:
    units = units or {}
    fields: dict = {}
    conf: dict = {}
    order = ["initial_price"] + [f for f in (*FIELDS, "party_a", "party_b") if f != "initial_price"]
    for f in order:
        cands = []
        # a figure its label calls a reference (年化收益率（参考）) is not a term: read it last
        for h in sorted((h for h in hits if h.field == f), key=lambda h: (h.rank + 100 * _is_reference(h), h.order)):
            unit = units.get(f, "auto") if h.layout else "auto"
            v, derived, warn, note = _read_value(f, h.raw, fields.get("initial_price"), unit, h.unit)
            if v is None:
                if warn and f in VALUE_RANGES and warn not in warnings:
                    warnings.append(warn)  # a number out of range: say so, keep nothing
                continue
            if warn:
                warnings.append(warn)
            cands.append((v, h, derived, note))
        if not cands:
            continue
        v, h, derived, note = cands[0]
        c = h.score * (0.9 if derived else 1.0)
        others = {x[0] for x in cands[1:] if not _same(f, x[0], v) and not _is_reference(x[1])}
        if others:
            c *= 0.6
            warnings.append(f"{f}: printed with different values {[v, *sorted(map(str, others))]}; "
                            f"kept {v!r} (label {h.raw[:20]!r})")
        if derived:
            warnings.append(f"{f}: printed as a price only; divided by the initial price")
        if _is_reference(h):
            c *= 0.5
            warnings.append(f"{f}: read from a figure printed for reference ({h.label}（{h.unit}）); check it")
        if note == "ambiguous":
            c *= 0.5
            warnings.append(f"{f}: printed per period without its period or annual rate; kept {v!r} as printed")
        elif note == "repaired":
            c *= 0.85
            warnings.append(f"{f}: printed {h.raw[:40]!r}; look-alike characters (O/0, I/1) decided as {v!r}")
        elif note == "disagree":
            c *= 0.6
            warnings.append(f"{f}: its two printed forms disagree ({h.raw[:40]!r}); kept {v!r}")
        if f in ("counterparty", "party_a", "party_b") and isinstance(v, str) and not v.endswith(_LEGAL_ENDINGS):
            c *= 0.7  # a legal name ends in its legal form; a name cut short (a wrapped cell) does not
            warnings.append(f"{f}: {v!r} does not end in a legal form (公司, 企业, （有限合伙） ...); check it")
        lo, hi = PLAUSIBLE.get(f, (None, None))
        if lo is not None and isinstance(v, float) and not lo <= v <= hi:
            c *= 0.7
            warnings.append(f"{f}: {v:g} is outside its usual range [{lo:g}, {hi:g}]; check it")
        fields[f] = v
        conf[f] = round(c, 3)
    return fields, conf


def _same(f: str, a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a))
    return a == b


def _is_ours(name: str) -> bool:
    n = V.clean_text(name)
    return any(V.clean_text(o) in n for o in OUR_FIRM_NAMES)


def _finish(fields: dict, conf: dict, segs: list[Cell], warnings: list[str]) -> None:
    # Counterparty: an explicit label, else whichever of the two parties is not us.
    pa, pb = fields.pop("party_a", None), fields.pop("party_b", None)
    ca, cb = conf.pop("party_a", None), conf.pop("party_b", None)
    if "counterparty" not in fields:
        for name, c in ((pb, cb), (pa, ca)):
            if name and not _is_ours(name):
                fields["counterparty"], conf["counterparty"] = name, c
                break
    # Structure and call/put from the title when no label names them.
    title = " ".join(s.text for s in sorted(segs, key=lambda s: (round(s.y0), s.x0))[:4])
    for f, reader in (("structure", V.parse_structure), ("option_type", V.parse_option_type)):
        if f not in fields:
            v = reader(title)
            if v is not None:
                fields[f], conf[f] = v, 0.8
    # Barrier and shark-fin documents often call their single barrier 敲出/敲入价格.
    if fields.get("structure") in ("barrier", "sharkfin") and "barrier" not in fields:
        for f in ("ko_barrier", "ki_barrier"):
            if f in fields:
                fields["barrier"], conf["barrier"] = fields.pop(f), conf.pop(f)
                break


def _check_terms(fields: dict, conf: dict, warnings: list[str]) -> None:
    """Lower the confidence of readings the rest of the document contradicts: a term the
    structure does not have (a coupon on a shark fin is a rebate under another label, read as
    a coupon), knock-in not below knock-out, dates out of order."""
    from .trade import TERM_FIELDS

    terms = TERM_FIELDS.get(fields.get("structure") or "")
    if terms is not None:
        for f in (*LEVEL_FIELDS, *RATE_FIELDS, "option_type"):
            if fields.get(f) is not None and f not in terms:
                conf[f] = round(conf.get(f, 1.0) * 0.5, 3)
                warnings.append(f"{f}: a {fields['structure']} has no {f}; read {fields[f]!r} under a label "
                                f"that may mean something else")
    ko, ki = fields.get("ko_barrier"), fields.get("ki_barrier")
    if isinstance(ko, float) and isinstance(ki, float) and ki >= ko:
        for f in ("ko_barrier", "ki_barrier"):
            conf[f] = round(conf[f] * 0.6, 3)
        warnings.append(f"ki_barrier: {ki:g} is not below ko_barrier {ko:g}")
    dates = [(f, fields.get(f)) for f in DATE_FIELDS if fields.get(f)]
    td, sd, md = (fields.get(f) for f in DATE_FIELDS)
    bad = (td and sd and td > sd) or (sd and md and sd >= md) or (td and md and td >= md)
    if bad:
        for f, _ in dates:
            conf[f] = round(conf[f] * 0.7, 3)
        warnings.append("dates out of order: " + ", ".join(f"{f} {d}" for f, d in dates))


def find_layout(pages: list[PageText], layouts: list | None = None, warnings: list[str] | None = None):
    """The annotated layout (``layouts.Layout``) the document's first page matches, or None;
    ``layouts`` defaults to ``layouts.load_all()`` (shipped and operations' folders; a bad file
    there is skipped with a line in ``warnings``)."""
    from . import layouts as L
    from .matching import phrases

    lays = L.load_all(errors=warnings) if layouts is None else layouts
    if not lays or not pages:
        return None
    lay, _score = L.match(phrases(pages[0]), lays)
    return lay


def extract_pages(pages: list[PageText], source: str, layouts: list | None = None) -> Extraction:
    """Fields of a confirmation from its page boxes, with the annotated layout it matches (of
    ``layouts``, default ``layouts.load_all()``; ``[]``: the generic extractor only)."""
    from .labels import Labels

    warnings: list[str] = []
    lay = find_layout(pages, layouts, warnings)
    lab = Labels(lay.label_table()) if lay is not None else None
    positions = {f: sp.position for f, sp in lay.fields.items()} if lay is not None else None
    units = {f: sp.unit for f, sp in lay.fields.items()} if lay is not None else None
    hits: list[Hit] = []
    all_segs: list[Cell] = []
    for i, p in enumerate(pages):
        h, segs = hits_on_page(p, i, lab, positions)
        hits += h
        if i == 0:
            all_segs = segs
        warnings += [f"page {p.page_no}: {n}" for n in p.notes]
    fields, conf = _resolve(hits, warnings, units)
    _finish(fields, conf, all_segs, warnings)
    _check_terms(fields, conf, warnings)
    out = {f: fields.get(f) for f in FIELDS}
    missing = [f for f in ("trade_id", "counterparty", "trade_date", "underlying", "notional",
                           "structure") if out[f] is None]
    if missing:
        warnings.append(f"not found: {', '.join(missing)}")
    if lay is not None:
        absent = [f for f in lay.fields if out.get(f) is None]
        if absent:
            warnings.append(f"layout {lay.id}: annotated field(s) not read: {', '.join(absent)}")
    pg = [{"page": p.page_no, "route": p.route, "seconds": round(p.seconds, 3),
           **({"skew_deg": round(p.skew_deg, 2)} if p.route == "ocr" else {})} for p in pages]
    return Extraction(source, out, {f: conf[f] for f in FIELDS if f in conf}, warnings, pg,
                      layout=lay.id if lay is not None else None)


def extract_file(path: str | Path, force_ocr: bool = False, limits: Limits | None = None,
                 progress=None, layouts: list | None = None) -> Extraction:
    """Read one confirmation PDF in this process; raises ``InputError`` for a file that is not a
    regular file or not a PDF, corrupt or encrypted, and ``LimitError`` past ``max_mb`` or
    ``max_pages`` (``limits``: default ``Limits.from_env()``). ``layouts``: the annotated layouts
    to match (default ``layouts.load_all()``; ``[]`` for the generic extractor). Pages are rendered within
    ``max_megapixels``. There is no deadline here: for files from outside use
    ``worker.Extractor``, which also bounds the seconds and the memory (the CLI and the inbox do)."""
    t0 = time.perf_counter()
    pages = read_pages(Path(path), force_ocr=force_ocr, limits=limits, progress=progress)
    ex = extract_pages(pages, Path(path).name, layouts)
    ex.seconds = time.perf_counter() - t0
    return ex
