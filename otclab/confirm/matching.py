"""Pair labels with their values by position on the page (not by reading order).

``hits_on_page`` turns a page's boxes into (field, raw value text) hits: boxes are merged into
phrases, glued cells cut, wrapped labels joined; a phrase starting with a known label takes its
value from the rest of the phrase, else from the text right of it in its row band (tables, wrapped
values), else from the phrase below it (stacked forms).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .labels import LAYOUT_RANK, Labels
from .layout import Cell, PageText, rows, segments

_GENERIC = Labels()


@dataclass
class Hit:
    """A label found with its raw value: the field it feeds, its priority, where it sat."""

    field: str
    raw: str
    rank: int
    order: tuple
    score: float
    unit: str = ""  # the label's own unit words (名义本金（万元） -> 万元)
    fuzzy: bool = False  # the label was matched with one character misread
    layout: bool = False  # the label is one an annotated layout gives for this field
    label: str = ""  # the label as matched


def phrases(page: PageText, labels: Labels | None = None) -> list[Cell]:
    """The phrases of a page as the extractor sees them: boxes merged, glued cells cut, wrapped
    labels joined (what the layout tool shows)."""
    lab = labels or _GENERIC
    return _join_wrapped_labels(_split_glued(segments(
        page.cells, gap_factor=0.6 if page.route == "text" else 0.4, is_label=lab.match), lab), lab)


def hits_on_page(page: PageText, page_index: int, labels: Labels | None = None,
                 positions: dict[str, str] | None = None) -> tuple[list[Hit], list[Cell]]:
    """(field, raw value) hits of one page, and its phrases. ``labels``: the label table (the
    generic synonyms, or an annotated layout's labels on top of them); ``positions``: field ->
    where its value sits on this layout (``right``, ``below``, ``inline``; ``auto`` or absent:
    the rest of the phrase, else right, else below)."""
    lab = labels or _GENERIC
    positions = positions or {}
    segs = phrases(page, lab)
    lines = rows(segs)
    order = {id(s): (li, si) for li, line in enumerate(lines) for si, s in enumerate(line)}
    matches = {id(s): lab.match(s.text) for s in segs}
    labels_ = [s for s in segs if matches[id(s)] is not None]
    claimed: set[int] = set()
    hits: list[Hit] = []
    for line in lines:
        for seg in line:
            m = matches[id(seg)]
            if m is None or id(seg) in claimed:
                continue
            raw, score = m.remainder, seg.score * (0.9 if m.fuzzy else 1.0)
            pos = positions.get(m.fields[0], "auto") if m.ranks.get(m.fields[0]) == LAYOUT_RANK else "auto"
            if pos in ("right", "below") or (pos == "auto" and not raw):
                if pos == "right":
                    vals = _value_cell(seg, segs, labels_, matches, claimed)
                elif pos == "below":
                    vals = _value_below(seg, lines, order, matches, claimed, wrapped=True)
                else:
                    vals = _value_cell(seg, segs, labels_, matches, claimed)
                    below = _value_below(seg, lines, order, matches, claimed)
                    if below and _stacked(seg, vals, below[0], segs):
                        vals = below
                if not vals:
                    if not raw:
                        continue
                else:
                    claimed.update(id(v) for v in vals)
                    raw = "".join(v.text for v in vals)
                    score = min([score] + [v.score for v in vals])
            elif not raw:
                continue
            raw, inner = _cut_embedded(raw, lab)
            for m2, raw2 in inner:  # 期初价格×100%，参与率80%: the participation has a clause of its own
                for f in m2.fields:
                    hits.append(Hit(f, raw2, m2.ranks[f], (page_index, *order[id(seg)]), score, m2.unit, m2.fuzzy,
                                    m2.ranks[f] == LAYOUT_RANK, m2.label))
            for f in m.fields:
                hits.append(Hit(f, raw, m.ranks[f], (page_index, *order[id(seg)]), score, m.unit, m.fuzzy,
                                m.ranks[f] == LAYOUT_RANK, m.label))
    return hits, segs


_CLAUSE_SEP = re.compile(r"[，,；;]\s*")


def _cut_embedded(raw: str, lab: Labels) -> tuple[str, list]:
    """A value that goes on with another label's clause after a comma or semicolon
    (``期初价格×100%，参与率80%``): the value up to it, and (label match, value) per clause.
    A clause counts only when a known label starts it and a value follows that label."""
    parts = _CLAUSE_SEP.split(raw)
    if len(parts) < 2:
        return raw, []
    inner, keep = [], [parts[0]]
    for p in parts[1:]:
        # the label may touch its value (参与率80%): read it as if a colon stood between them
        m = lab.match(re.sub(r"^(\D+?)\s*(\d)", r"\1：\2", p, count=1))
        if m is not None and m.remainder and re.search(r"\d", m.remainder):
            inner.append((m, m.remainder))
        elif not inner:
            keep.append(p)
    if not inner:
        return raw, []
    return "，".join(keep), inner


def _split_glued(segs: list[Cell], lab: Labels = _GENERIC) -> list[Cell]:
    """Boxes holding a value and a label with no gap between them, cut in two (``split_glued``);
    the cut's x position is shared out by character count."""
    out = []
    for s in segs:
        pieces = lab.split(s.text)
        if len(pieces) == 1:
            out.append(s)
            continue
        total = sum(len(p) for p in pieces)
        x = s.x0
        for p in pieces:
            w = (s.x1 - s.x0) * len(p) / total
            out.append(Cell(p, x, s.y0, x + w, s.y1, s.score))
            x += w
    return out


def _join_wrapped_labels(segs: list[Cell], lab: Labels = _GENERIC) -> list[Cell]:
    """A label wrapped in a narrow label column (敲出补偿收益 / 率) becomes one box again: a
    piece and the piece just below it, starting at the same x, are joined when together they
    make a longer label than the first piece alone."""
    segs = sorted(segs, key=lambda c: (c.y0, c.x0))
    used: set[int] = set()
    out = []
    for i, s in enumerate(segs):
        if id(s) in used:
            continue
        for b in segs[i + 1:]:
            if b.y0 - s.y1 > 0.6 * s.h:
                break
            if id(b) in used or abs(b.x0 - s.x0) > 0.5 * s.h or b.y0 < s.y1 - 0.3 * s.h or len(b.text) > 8:
                continue
            joined = lab.match(s.text + b.text)
            alone = lab.match(s.text)
            if joined is not None and not joined.remainder and lab.match(b.text) is None and (
                    alone is None or len(joined.label) > len(alone.label)):
                s = Cell(s.text + b.text, min(s.x0, b.x0), s.y0, max(s.x1, b.x1), b.y1, min(s.score, b.score))
                used.add(id(b))
            break
        out.append(s)
    return out


def _stacked(label: Cell, right: list[Cell], below: Cell, segs: list[Cell]) -> bool:
    """Whether ``label`` heads a cell of a stacked form (its value on the next line, starting
    where it starts) rather than a table row: nothing is right of it on its own line, or what is
    right of it is another cell's head, itself with text just under it. Rows of a table are
    further apart (cell padding) than the lines of one stacked cell."""
    h = label.h
    if not (abs(below.x0 - label.x0) < 0.5 * h and 0 < below.yc - label.yc < 1.6 * h):
        return False
    same_line = [v for v in right if abs(v.yc - label.yc) < 0.5 * h]
    if not same_line:
        return True
    v = same_line[0]
    return any(abs(w.x0 - v.x0) < 0.5 * h and 0 < w.yc - v.yc < 1.6 * h for w in segs if w is not v)


def _looks_like_label(cell: Cell) -> bool:
    """Text ending in a colon is a label (one we may not know), never a value."""
    return cell.text.rstrip().endswith((":", "："))


def _is_value(c: Cell, matches: dict, claimed: set) -> bool:
    return id(c) not in claimed and matches[id(c)] is None and not _looks_like_label(c)


def _value_cell(label: Cell, segs: list[Cell], labels: list[Cell], matches: dict, claimed: set) -> list[Cell]:
    """The value of a table-cell label: the text to its right, up to the next label on its row,
    in the band of lines closer to this label than to the labels above and below it (a value
    wrapped over several lines sits centred on its label). Lines are returned top to bottom."""
    h = label.h
    right_limit = min((o.x0 for o in labels if o is not label and o.x0 > label.x1
                       and abs(o.yc - label.yc) < 0.5 * h), default=float("inf"))
    # the row anchors of this label's column: the known labels above and below it, and any text
    # starting where it starts (a label the table does not know still begins its own row)
    column = [o for o in labels if o is not label and min(o.x1, label.x1) - max(o.x0, label.x0) > 0]
    # (a row apart: not the rest of this label wrapped onto the next line, 期初参考价 / 格)
    column += [o for o in segs if o is not label and abs(o.x0 - label.x0) < 0.5 * h and o not in column
               and (o.y0 - label.y1 > 0.6 * h or label.y0 - o.y1 > 0.6 * h)]
    cands = []
    for c in segs:
        if c is label or not _is_value(c, matches, claimed):
            continue
        # OCR boxes of touching text overlap a little: allow the value to start inside the label box
        if c.x0 < label.x1 - 0.6 * h or c.x1 < label.x1 + 0.5 * h or c.x0 >= right_limit or c.x0 - label.x1 > 30 * h:
            continue
        dy = abs(c.yc - label.yc)
        if dy > 2.2 * h:
            continue
        if any(abs(c.yc - o.yc) < dy for o in column):
            continue  # belongs to the row of another label in this column
        cands.append(c)
    if not cands:
        return []
    # the value column: pieces starting where the nearest piece starts (left-aligned cell text)
    near = min(cands, key=lambda c: (abs(c.yc - label.yc) > 0.5 * h, c.x0))
    col = [c for c in cands if abs(c.x0 - near.x0) < 1.5 * h and c.x0 < right_limit]
    return sorted(col, key=lambda c: c.yc)


def _value_below(label: Cell, lines: list[list[Cell]], order: dict, matches: dict, claimed: set,
                 wrapped: bool = False) -> list[Cell]:
    """A stacked form: the value printed just under its label, overlapping it horizontally.
    ``wrapped`` (a layout that says its values sit below their labels): the value's further
    lines too, each starting where the first starts, a line apart, up to the next label."""
    li = order[id(label)][0]
    for line in lines[li + 1: li + 2]:
        for c in line:
            if c.y0 - label.y1 > 1.5 * label.h:
                return []
            overlap = min(c.x1, label.x1) - max(c.x0, label.x0)
            if overlap > 0.3 * min(c.x1 - c.x0, label.x1 - label.x0) and _is_value(c, matches, claimed):
                out = [c]
                for nxt in lines[li + 2:] if wrapped else ():
                    prev = out[-1]
                    if nxt[0].yc - prev.yc > 1.6 * prev.h:
                        break
                    cont = [d for d in nxt if abs(d.x0 - c.x0) < 0.5 * c.h]
                    if not cont or not _is_value(cont[0], matches, claimed):
                        break
                    out.append(cont[0])
                return out
    return []
