"""Text boxes of a confirmation page, from its text layer (docling) or from OCR (RapidOCR).

Both routes give the same thing: ``Cell`` boxes (text, box in page units with the origin at the
top left, recognition score) that ``segments`` then merges into the phrases a reader sees and
``rows`` groups into lines. The extractor works on those boxes, not on a reading order, so it
sees a table row as label cell -> value cell whatever order the PDF stores its text in.

- Text route: docling's model-free ``NativePdfPipeline`` with word cells (docling-parse). Nothing
  is downloaded; no torch is imported (we drive the pipeline directly rather than through
  ``DocumentConverter``, whose module imports every pipeline, the torch-based ASR one included).
- OCR route: pages without a text layer are rendered with pypdfium2 and read by RapidOCR, whose
  wheel carries the PP-OCR detection, angle and recognition models (ONNX, run by onnxruntime).
  Skew is measured from the detected text lines and taken out of the box coordinates.
"""
from __future__ import annotations

import math
import os
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path

# Nothing may be fetched at run time: make any Hugging Face lookup fail fast instead.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

OCR_DPI = 200  # render scale for pages without a text layer; scans are 150-300 dpi
MIN_TEXT_CHARS = 20
UPRIGHT_SCORE = 0.85  # mean recognition score below which a page is also tried upside down  # a page with fewer text-layer characters than this is treated as a scan


@dataclass
class Cell:
    """A box of text; coordinates in page units, origin top left, y downwards."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0

    @property
    def h(self) -> float:
        return max(self.y1 - self.y0, 1e-6)

    @property
    def yc(self) -> float:
        return 0.5 * (self.y0 + self.y1)


@dataclass
class PageText:
    """The boxes of one page and how they were obtained (route ``text`` or ``ocr``)."""

    page_no: int
    route: str
    cells: list[Cell]
    width: float
    height: float
    seconds: float = 0.0
    skew_deg: float = 0.0
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ text layer (docling)

_pipeline_lock = threading.Lock()
_pipeline = None


def _native_pipeline():
    global _pipeline
    with _pipeline_lock:
        if _pipeline is None:
            from docling.datamodel.pipeline_options import NativePdfPipelineOptions
            from docling.pipeline.native_pdf_pipeline import NativePdfPipeline
            from docling_core.types.doc.page import TextCellUnit

            _pipeline = NativePdfPipeline(
                NativePdfPipelineOptions(parser_threads=1, text_cell_unit=TextCellUnit.WORD)
            )
        return _pipeline


def read_text_layer(path: Path) -> list[PageText]:
    """Word boxes of every page's text layer, through docling's NativePdfPipeline."""
    import time

    from docling.backend.docling_parse_backend import ThreadedDoclingParseDocumentBackend
    from docling.datamodel.backend_options import ThreadedDoclingParseBackendOptions
    from docling.datamodel.base_models import ConversionStatus, InputFormat
    from docling.datamodel.document import InputDocument
    from docling_core.types.doc import TextItem

    t0 = time.perf_counter()
    doc_in = InputDocument(
        Path(path), InputFormat.PDF, ThreadedDoclingParseDocumentBackend,
        backend_options=ThreadedDoclingParseBackendOptions(parser_threads=1),
    )
    if not doc_in.valid:
        raise ValueError("docling cannot open the PDF")
    res = _native_pipeline().execute(doc_in, raises_on_error=True)
    if res.status not in (ConversionStatus.SUCCESS, ConversionStatus.PARTIAL_SUCCESS):
        raise ValueError(f"docling conversion status {res.status.value}")
    doc = res.document
    pages: dict[int, PageText] = {}
    for no, page in doc.pages.items():
        pages[no] = PageText(no, "text", [], page.size.width, page.size.height)
    for item, _level in doc.iterate_items():
        if not isinstance(item, TextItem) or not item.text.strip():
            continue
        for prov in item.prov:
            pg = pages[prov.page_no]
            b = prov.bbox.to_top_left_origin(page_height=pg.height)
            pg.cells.append(Cell(item.text, b.l, b.t, b.r, b.b))
    elapsed = time.perf_counter() - t0
    out = [pages[k] for k in sorted(pages)]
    for p in out:
        p.seconds = elapsed / max(len(out), 1)
    return out


# ------------------------------------------------------------------ OCR (RapidOCR)

_ocr_lock = threading.Lock()
_ocr = None


def _ocr_engine():
    global _ocr
    with _ocr_lock:
        if _ocr is None:
            from rapidocr import RapidOCR

            # Models come from the wheel (rapidocr/models/*.onnx); log only problems. The per-line
            # 180-degree classifier is off: pages are turned as a whole (see ocr_image).
            _ocr = RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False})
        return _ocr


def ocr_models() -> list[Path]:
    """The ONNX model files the OCR route uses, as shipped inside the rapidocr wheel."""
    import rapidocr

    return sorted((Path(rapidocr.__file__).parent / "models").glob("*.onnx"))


def _skew_deg(quads) -> float:
    """Median slope (degrees, y down) of the top edges of wide text boxes."""
    angles = []
    for q in quads:
        (x0, y0), (x1, y1) = q[0], q[1]
        w = math.hypot(x1 - x0, y1 - y0)
        h = math.hypot(q[3][0] - q[0][0], q[3][1] - q[0][1])
        if w > 3 * h and w > 0:
            angles.append(math.degrees(math.atan2(y1 - y0, x1 - x0)))
    return statistics.median(angles) if len(angles) >= 3 else 0.0


def ocr_image(image) -> tuple[list[Cell], float]:
    """OCR boxes of a page image (PIL or array) with skew removed; also the skew in degrees.

    A page turned by 90 or 180 degrees (fed sideways or upside down) is recognised by its boxes
    being mostly vertical, or by its text scoring low, and is read again turned back; the reading
    with the higher mean recognition score is kept.
    """
    import numpy as np

    arr = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else np.asarray(image)
    cells, skew, score = _ocr_array(arr)
    # no text detected at all (a blank page): turning it finds none either
    turns = () if not cells else (1, 3) if _mostly_vertical(cells) else (2,) if score < UPRIGHT_SCORE else ()
    # rank readings by (text runs horizontally, mean score): the recogniser reads tall crops
    # turned, so a sideways page can score well while its layout is unusable
    best = (not _mostly_vertical(cells), score, cells, skew)
    for k in turns:
        c2, s2, sc2 = _ocr_array(np.ascontiguousarray(np.rot90(arr, k)))
        cand = (not _mostly_vertical(c2), sc2, c2, s2)
        if cand[:2] > best[:2]:
            best = cand
    return best[2], best[3]


def _mostly_vertical(cells: list[Cell]) -> bool:
    tall = sum(1 for c in cells if c.h > 1.5 * (c.x1 - c.x0) and len(c.text) >= 3)
    return tall > 0.5 * len(cells)


def _ocr_array(arr) -> tuple[list[Cell], float, float]:
    out = _ocr_engine()(arr)
    if out.boxes is None or out.txts is None:
        return [], 0.0, 0.0
    quads = [q.tolist() for q in out.boxes]
    skew = _skew_deg(quads)
    h, w = arr.shape[:2]
    cx, cy = w / 2.0, h / 2.0
    a = math.radians(-skew)
    ca, sa = math.cos(a), math.sin(a)
    cells = []
    for q, txt, sc in zip(quads, out.txts, out.scores):
        pts = [((x - cx) * ca - (y - cy) * sa + cx, (x - cx) * sa + (y - cy) * ca + cy) for x, y in q]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        cells.append(Cell(str(txt), min(xs), min(ys), max(xs), max(ys), float(sc)))
    mean = sum(c.score * len(c.text) for c in cells) / max(sum(len(c.text) for c in cells), 1)
    return cells, skew, mean


def render_dpi(width_pt: float, height_pt: float, dpi: float = OCR_DPI, max_pixels: int | None = None) -> float:
    """The dpi to render a page of ``width_pt`` x ``height_pt`` points at: ``dpi``, lowered so the
    image stays within ``max_pixels`` (a 200-inch page at 200 dpi would be 1.6 billion pixels)."""
    px = (width_pt / 72.0 * dpi) * (height_pt / 72.0 * dpi)
    if max_pixels is not None and px > max_pixels:
        return dpi * math.sqrt(max_pixels / px)
    return dpi


def ocr_pdf_page(pdf, index: int, dpi: int = OCR_DPI, max_pixels: int | None = None) -> PageText:
    """Render page ``index`` (0-based) of an open pypdfium2 document and OCR it; the rendering is
    kept within ``max_pixels`` (lower dpi, and a note saying so)."""
    import time

    t0 = time.perf_counter()
    page = pdf[index]
    w, h = page.get_size()
    notes = []
    if not (math.isfinite(w) and math.isfinite(h) and w * dpi / 72.0 >= 8 and h * dpi / 72.0 >= 8):
        pt = PageText(index + 1, "ocr", [], 0.0, 0.0, notes=[f"page of {w:g} x {h:g} pt is too small to read; not read"])
        pt.seconds = time.perf_counter() - t0
        return pt
    use = render_dpi(w, h, dpi, max_pixels)
    if use < dpi:
        notes.append(f"page is {w:.0f} x {h:.0f} pt; rendered at {use:.0f} dpi instead of {dpi} to stay within "
                     f"{max_pixels / 1e6:g} megapixels (max_megapixels)")
    img = page.render(scale=use / 72.0, grayscale=False).to_pil()
    cells, skew = ocr_image(img)
    pt = PageText(index + 1, "ocr", cells, float(img.width), float(img.height), skew_deg=skew, notes=notes)
    pt.seconds = time.perf_counter() - t0
    return pt


# ------------------------------------------------------------------ boxes -> phrases -> rows

def segments(cells: list[Cell], gap_factor: float = 0.8, is_label=None) -> list[Cell]:
    """Merge boxes on one line that are closer than ``gap_factor`` × text height.

    Words of one phrase sit a space apart; table columns and label/value gaps are wider. The
    merged text keeps a space where the gap is wider than a quarter of the text height.
    ``is_label(text)`` (a label match with a ``remainder``, or None) keeps a label box apart from
    the box before it, and a bare label apart from the box after it (a value filling its table
    cell can end a few points before the next column's label).
    """
    out: list[Cell] = []
    for line in rows(cells):
        cur: Cell | None = None
        for c in line:
            if cur is not None:
                h = min(cur.h, c.h)
                gap = c.x0 - cur.x1
                apart = False
                if is_label is not None:
                    left = is_label(cur.text)
                    apart = is_label(c.text) is not None or (left is not None and not left.remainder)
                if gap < gap_factor * h and abs(cur.yc - c.yc) < 0.5 * h and not apart:
                    sep = " " if gap > 0.25 * h else ""
                    cur = Cell(cur.text + sep + c.text, cur.x0, min(cur.y0, c.y0), max(cur.x1, c.x1),
                               max(cur.y1, c.y1), min(cur.score, c.score))
                    continue
                out.append(cur)
            cur = Cell(c.text, c.x0, c.y0, c.x1, c.y1, c.score)
        if cur is not None:
            out.append(cur)
    return out


def rows(cells: list[Cell]) -> list[list[Cell]]:
    """Boxes grouped into lines (by vertical centre), each line sorted left to right."""
    if not cells:
        return []
    med_h = statistics.median(c.h for c in cells)
    lines: list[list[Cell]] = []
    centres: list[float] = []
    for c in sorted(cells, key=lambda c: c.yc):
        # compare with the line's first box, not a running mean, so lines cannot chain together
        if lines and abs(c.yc - centres[-1]) < 0.4 * min(med_h, c.h):
            lines[-1].append(c)
        else:
            lines.append([c])
            centres.append(c.yc)
    return [sorted(line, key=lambda c: c.x0) for line in lines]
