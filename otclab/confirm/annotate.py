"""Annotating a layout from one sample document (what the layout tool does, without the page).

``Session(path)`` reads a sample confirmation (text layer or OCR) and lists its phrases with
their positions; a person points a field at the phrase that is its label (``pick_label``) and,
optionally, at its value (``pick_value``: the value's position relative to the label is read
from where the two phrases sit); ``extract()`` re-reads the sample with the draft layout;
``save()`` writes the annotation file (``layouts.save``). No code changes: the file is data.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError
from .layouts import FIELD_UNITS, POSITIONS, FieldSpec, Layout, below_threshold, compact, from_dict, ops_dir, save, threshold


def _fields():
    from .extract import FIELDS

    return FIELDS


def position_of(label, value) -> str:
    """Where ``value`` (a phrase ``Cell``) sits relative to ``label``: ``inline`` (the same
    phrase), ``right`` (on the label's line, right of it), ``below`` (under it); ``auto`` when
    neither (the extractor then looks right, then below)."""
    if value is label or (value.text == label.text and abs(value.x0 - label.x0) < 1e-6 and abs(value.y0 - label.y0) < 1e-6):
        return "inline"
    h = label.h
    if abs(value.yc - label.yc) < 0.6 * h and value.x0 >= label.x1 - 0.6 * h:
        return "right"
    if value.yc > label.yc and min(value.x1, label.x1) - max(value.x0, label.x0) > 0:
        return "below"
    return "auto"


def label_text(phrase_text: str) -> str:
    """The label part of a phrase a person pointed at: the text before a colon when the phrase
    holds its value too (``交易参考号：OPT25008959`` -> ``交易参考号``), clause numbering removed."""
    from .labels import _NUMBERING

    # the label as printed (full-width brackets kept: 名义本金（万元）), numbering and value cut off
    t = _NUMBERING.sub("", phrase_text.strip(), count=1)
    head = re.split(r"[:：]", t, maxsplit=1)[0]
    return head.strip()


@dataclass
class Draft:
    """A layout being annotated from one sample: what a person has pointed at so far.
    ``to_layout()`` validates it (``InputError`` naming what is missing)."""

    id: str = ""
    counterparty: str = ""
    markers: list[str] = field(default_factory=list)
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    def set_label(self, field_name: str, phrase_text: str, unit: str | None = None) -> str:
        """Point ``field_name`` at the phrase that is its label; returns the label kept."""
        if field_name not in _fields():
            raise InputError(f"unknown field; allowed: {', '.join(_fields())}", field="field")
        lbl = label_text(phrase_text)
        if not compact(lbl):
            raise InputError(f"{phrase_text!r} holds no label text", field="label")
        for f, spec in self.fields.items():  # a label names one field: move it
            if f != field_name and compact(lbl) in {compact(x) for x in spec.labels}:
                spec.labels = [x for x in spec.labels if compact(x) != compact(lbl)]
        self.fields = {f: s for f, s in self.fields.items() if s.labels}
        spec = self.fields.get(field_name)
        if spec is None:
            spec = self.fields[field_name] = FieldSpec([lbl])
        elif compact(lbl) not in {compact(x) for x in spec.labels}:
            spec.labels.append(lbl)
        if unit is not None:
            self.set_unit(field_name, unit)
        return lbl

    def set_unit(self, field_name: str, unit: str) -> None:
        allowed = FIELD_UNITS.get(field_name, ("auto",))
        if unit not in allowed:
            raise InputError(f"{unit!r} is not a unit of {field_name}; allowed: {', '.join(allowed)}", field="unit")
        if field_name in self.fields:
            self.fields[field_name].unit = unit

    def set_position(self, field_name: str, position: str) -> None:
        if position not in POSITIONS:
            raise InputError(f"{position!r} is not a position; allowed: {', '.join(POSITIONS)}", field="position")
        if field_name not in self.fields:
            raise InputError(f"point {field_name} at its label first", field="position")
        self.fields[field_name].position = position

    def remove(self, field_name: str) -> None:
        self.fields.pop(field_name, None)

    def to_layout(self) -> Layout:
        return from_dict({"id": self.id, "counterparty": self.counterparty, "markers": self.markers,
                          "fields": {f: s.to_dict() for f, s in self.fields.items()}}, where="draft")

    @classmethod
    def from_layout(cls, lay: Layout) -> "Draft":
        return cls(lay.id, lay.counterparty, list(lay.markers),
                   {f: FieldSpec(list(s.labels), s.unit, s.position) for f, s in lay.fields.items()})


def suggest_markers(phrases, n: int = 2) -> list[str]:
    """Marker phrases to propose for a sample: the first phrases at the top of its first page
    that are no label and hold no digits of a value (a title, a form number)."""
    from .labels import match_label

    out = []
    for c in sorted(phrases, key=lambda c: (round(c.y0), c.x0)):
        t = c.text.strip()
        if len(t) < 4 or match_label(t) is not None or re.search(r"\d{4}[-/年.]\d", t):
            continue
        out.append(t)
        if len(out) == n:
            break
    return out


class Session:
    """One sample being annotated. ``path``: the sample PDF; it is first copied into
    ``samples`` (default ``<operations' layout folder>/samples``) under its SHA-256, so what was
    annotated is kept. ``phrases``: the first page's phrases (``Cell``) in reading position."""

    def __init__(self, path: str | Path, samples: str | Path | None = None, limits=None):
        from .extract import read_pages
        from .matching import phrases

        src = Path(path)
        digest = hashlib.sha256(src.read_bytes()).hexdigest()
        folder = Path(samples) if samples is not None else ops_dir() / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        self.sample = folder / f"{digest[:16]}.pdf"
        if not self.sample.exists():
            shutil.copyfile(src, self.sample)
        self.name = src.name
        self.pages = read_pages(self.sample, limits=limits)
        self.route = self.pages[0].route
        self.phrases = sorted(phrases(self.pages[0]), key=lambda c: (round(c.yc / max(c.h, 1.0)), c.x0))
        self.draft = Draft(markers=suggest_markers(self.phrases))

    def rows(self) -> list[dict]:
        """The phrases as a person sees them: index, text, box (page units, origin top left) and
        the field a phrase is the label of in the draft (empty when none)."""
        labels = {compact(lb): f for f, s in self.draft.fields.items() for lb in s.labels}
        return [{"no": i, "text": c.text, "x0": round(c.x0, 1), "y0": round(c.y0, 1), "x1": round(c.x1, 1),
                 "y1": round(c.y1, 1), "score": round(c.score, 3), "label of": labels.get(compact(label_text(c.text)), "")}
                for i, c in enumerate(self.phrases)]

    def _phrase(self, index: int):
        if not isinstance(index, int) or not 0 <= index < len(self.phrases):
            raise InputError(f"no phrase {index!r}; the sample has {len(self.phrases)} (0-{len(self.phrases) - 1})",
                             field="phrase")
        return self.phrases[index]

    def pick_label(self, field_name: str, index: int, unit: str | None = None) -> str:
        """Phrase ``index`` is the label of ``field_name``; a phrase holding its value after a
        colon makes the position ``inline``. Returns the label kept."""
        c = self._phrase(index)
        lbl = self.draft.set_label(field_name, c.text, unit)
        if compact(c.text) != compact(lbl):
            self.draft.set_position(field_name, "inline")
        return lbl

    def pick_value(self, field_name: str, index: int) -> str:
        """Phrase ``index`` is the value of ``field_name`` (whose label was picked): the position
        of the value relative to the label is set from where the two sit. Returns it."""
        spec = self.draft.fields.get(field_name)
        if spec is None:
            raise InputError(f"point {field_name} at its label first", field="value")
        value = self._phrase(index)
        want = {compact(x) for x in spec.labels}
        label = next((c for c in self.phrases if compact(label_text(c.text)) in want), None)
        if label is None:
            raise InputError(f"the label of {field_name} is not on this sample's first page", field="value")
        pos = position_of(label, value)
        self.draft.set_position(field_name, pos)
        return pos

    def layout(self) -> Layout:
        return self.draft.to_layout()

    def extract(self):
        """The sample read again with the draft layout (the generic extractor while the draft is
        not yet a valid layout): the ``Extraction`` and, per field, whether it would be accepted
        (confidence at or above its threshold)."""
        from .extract import extract_pages

        try:
            lay = self.draft.to_layout()
        except InputError:
            lay = None
        ex = extract_pages(self.pages, self.name, layouts=[lay] if lay is not None else [])
        if lay is not None and ex.layout is None:
            ex.warnings.insert(0, "the draft does not match its own sample: check its markers and labels")
        low = set(below_threshold(ex, [lay] if lay is not None else []))
        return ex, {f: (v is not None and f not in low) for f, v in ex.fields.items()}

    def result_rows(self, reading=None) -> list[dict]:
        """The re-read fields as rows: field, value, confidence, threshold, accepted, label
        (``reading``: what ``extract()`` returned, else it is called)."""
        ex, ok = reading or self.extract()
        lay = self.draft.to_layout() if ex.layout else None
        out = []
        for f, v in ex.fields.items():
            spec = self.draft.fields.get(f)
            out.append({"field": f, "value": "" if v is None else str(v),
                        "confidence": ex.confidence.get(f), "threshold": threshold(f, lay),
                        "accepted": ok[f], "label": ", ".join(spec.labels) if spec else "",
                        "unit": spec.unit if spec else "", "position": spec.position if spec else ""})
        return out

    def save(self, folder: str | Path | None = None, by=None) -> Path:
        """Write the draft as an annotation file (``layouts.save``, as the user ``by``);
        ``InputError`` when the draft is not a valid layout or does not match its own sample."""
        lay = self.draft.to_layout()
        ex, _ok = self.extract()
        if ex.layout != lay.id:
            raise InputError("the draft does not match its own sample (its markers or most of its labels are "
                             "not found); fix them before saving", field="markers")
        return save(lay, folder, by)
