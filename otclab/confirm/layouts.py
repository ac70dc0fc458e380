"""Confirmation layouts as data: one annotation file per counterparty layout.

An annotation file (JSON) says how to recognise a document of one counterparty's layout and,
per field, the labels it is printed under, its unit and where its value sits::

    {"id": "mingchuan-2025", "counterparty": "上海明川私募基金管理有限公司", "version": 1,
     "markers": ["明川资本", "收益凭证式期权确认函"],
     "fields": {"participation": {"labels": ["收益参与比例"], "unit": "pct", "position": "right"},
                "notional": {"labels": ["名义本金（万元）"], "unit": "wan_yuan", "position": "below"}},
     "thresholds": {"coupon": 0.95}}

- ``markers``: phrases every document of this layout prints (a title, a form number, the
  counterparty's short name); all must be found for the layout to be used.
- ``fields.<f>.labels``: what the field is printed under, exactly (clause numbering, spaces and a
  trailing colon are ignored); these win over the generic synonym table on a matched document.
- ``unit``: how the value is printed (``UNITS``): ``auto`` (the generic readers decide), ``yuan``,
  ``wan_yuan`` (an amount in 10,000 CNY), ``pct`` (a plain percent), ``annual_pct`` (the 年化
  figure is kept), ``monthly_pct``/``quarterly_pct`` (a per-period rate, annualised ×12 / ×4),
  ``level_pct`` (a level in % of the initial price), ``price`` (a level as a price, divided by the
  initial price).
- ``position``: where the value is relative to its label (``POSITIONS``): ``auto``, ``right``
  (next cell of its row), ``below`` (stacked form), ``inline`` (same phrase, after a colon).

Layouts come from the shipped folder (``otclab/confirm/data/layouts``) and operations' own folder
(``$OTCLAB_CONFIRM_LAYOUTS``, default ``$OTCLAB_DATA/confirm/layouts``, ``~/.otclab/...``); an operations file with the
id of a shipped one replaces it. ``threshold(field, layout)`` is the confidence a field needs to
be accepted without a person (below it: a break).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError

SHIPPED_DIR = Path(__file__).parent / "data" / "layouts"
UNITS = ("auto", "yuan", "wan_yuan", "pct", "annual_pct", "monthly_pct", "quarterly_pct", "level_pct", "price")
POSITIONS = ("auto", "right", "below", "inline")
FIELD_UNITS = {  # which units make sense for which field
    "notional": ("auto", "yuan", "wan_yuan"),
    **{f: ("auto", "level_pct", "price") for f in ("strike", "ko_barrier", "ki_barrier", "barrier")},
    **{f: ("auto", "pct", "annual_pct", "monthly_pct", "quarterly_pct") for f in ("coupon", "participation", "rebate")},
}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")

# The confidence (0..1) a field needs to be accepted unattended. A text-layer reading with an
# exact label and a plausible value scores 1.0; OCR scores the boxes (about 0.9-1.0 on office
# scans); a fuzzy label, a derived level, a value outside its usual range, two readings that
# disagree or a unit the document does not state each lower it (extract.py says by how much).
DEFAULT_THRESHOLD = 0.85
DEFAULT_THRESHOLDS: dict[str, float] = {
    # numbers whose misreading costs money ask for more
    "notional": 0.9, "initial_price": 0.9, "strike": 0.9, "ko_barrier": 0.9, "ki_barrier": 0.9,
    "barrier": 0.9, "coupon": 0.9, "participation": 0.9, "rebate": 0.9,
}


def _fields():
    from .extract import FIELDS

    return FIELDS


@dataclass
class FieldSpec:
    """How one field is printed on a layout."""

    labels: list[str]
    unit: str = "auto"
    position: str = "auto"

    def to_dict(self) -> dict:
        return {"labels": list(self.labels), "unit": self.unit, "position": self.position}


@dataclass
class Layout:
    """One counterparty's confirmation layout (see the module docstring for the file format)."""

    id: str
    counterparty: str
    markers: list[str]
    fields: dict[str, FieldSpec]
    version: int = 1
    thresholds: dict[str, float] = field(default_factory=dict)
    source: str = ""  # the file it was read from ("" for one built in memory)

    def to_dict(self) -> dict:
        d = {"id": self.id, "counterparty": self.counterparty, "version": self.version,
             "markers": list(self.markers), "fields": {f: s.to_dict() for f, s in self.fields.items()}}
        if self.thresholds:
            d["thresholds"] = dict(self.thresholds)
        return d

    def label_table(self) -> dict[str, str]:
        """Printed label (as annotated) -> the field it names on this layout."""
        return {lbl: f for f, s in self.fields.items() for lbl in s.labels}


def compact(text: str) -> str:
    """A label in comparable form: NFKC, no whitespace, no trailing colon, lower case."""
    from .values import normalize

    return re.sub(r"\s+", "", normalize(text)).rstrip(":：").lower()


# ------------------------------------------------------------------ validation

def from_dict(d, where: str = "layout") -> Layout:
    """A ``Layout`` from its JSON form; ``InputError`` naming the offending key otherwise."""
    fields_known = _fields()
    if not isinstance(d, dict):
        raise InputError("a layout is a JSON object", field=where)
    unknown = set(d) - {"id", "counterparty", "version", "markers", "fields", "thresholds"}
    if unknown:
        raise InputError(f"unknown key(s) {sorted(unknown)}; allowed: id, counterparty, version, markers, "
                         f"fields, thresholds", field=where)
    lid = d.get("id")
    if not isinstance(lid, str) or not _ID.match(lid):
        raise InputError(f"{lid!r} is not a layout id; allowed: 2-64 of a-z, 0-9, _ and -, starting with a "
                         f"letter or digit", field=f"{where}.id")
    cp = d.get("counterparty")
    if not isinstance(cp, str) or not cp.strip():
        raise InputError("must be the counterparty's name (a non-empty string)", field=f"{where}.counterparty")
    version = d.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"{version!r} is not a version; allowed: a whole number from 1", field=f"{where}.version")
    markers = d.get("markers")
    if not isinstance(markers, list) or not markers or not all(isinstance(m, str) and m.strip() for m in markers):
        raise InputError("must be a non-empty list of phrases every document of this layout prints",
                         field=f"{where}.markers")
    fdict = d.get("fields")
    if not isinstance(fdict, dict) or not fdict:
        raise InputError("must map at least one field to its labels", field=f"{where}.fields")
    specs: dict[str, FieldSpec] = {}
    seen: dict[str, str] = {}
    for f, s in fdict.items():
        at = f"{where}.fields.{f}"
        if f not in fields_known:
            raise InputError(f"unknown field; allowed: {', '.join(fields_known)}", field=at)
        if not isinstance(s, dict) or set(s) - {"labels", "unit", "position"}:
            raise InputError("must be an object with labels, unit and position", field=at)
        labels = s.get("labels")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and compact(x) for x in labels):
            raise InputError("must be a non-empty list of printed labels", field=f"{at}.labels")
        for lbl in labels:
            k = compact(lbl)
            if k in seen and seen[k] != f:
                raise InputError(f"label {lbl!r} is also given for {seen[k]}; a label names one field",
                                 field=f"{at}.labels")
            seen[k] = f
        unit = s.get("unit", "auto")
        allowed = FIELD_UNITS.get(f, ("auto",))
        if unit not in allowed:
            raise InputError(f"{unit!r} is not a unit of {f}; allowed: {', '.join(allowed)}", field=f"{at}.unit")
        pos = s.get("position", "auto")
        if pos not in POSITIONS:
            raise InputError(f"{pos!r} is not a position; allowed: {', '.join(POSITIONS)}", field=f"{at}.position")
        specs[f] = FieldSpec([str(x) for x in labels], unit, pos)
    th = d.get("thresholds", {})
    if not isinstance(th, dict):
        raise InputError("must map fields to thresholds", field=f"{where}.thresholds")
    for f, v in th.items():
        if f not in fields_known:
            raise InputError(f"unknown field; allowed: {', '.join(fields_known)}", field=f"{where}.thresholds.{f}")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
            raise InputError(f"{v!r} is not a threshold; allowed: a number from 0 to 1",
                             field=f"{where}.thresholds.{f}")
    return Layout(lid, cp.strip(), [m.strip() for m in markers], specs, version,
                  {f: float(v) for f, v in th.items()})


def load(path: str | Path) -> Layout:
    """Read and validate one annotation file; ``InputError`` naming the file and key otherwise."""
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"file not found: {path}", field="layout") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc})", field="layout") from exc
    lay = from_dict(d, where=path.name)
    lay.source = str(path)
    return lay


SAVE_GROUP = "operations"


def save(lay: Layout, folder: str | Path | None = None, by=None) -> Path:
    """Write ``lay`` to ``folder/<id>.json`` (default: operations' folder), atomically; returns
    the path. The layout is validated first, so a bad draft is never saved.

    ``by`` (an ``otclab.access.Identity``): a layout changes how every confirmation of its
    counterparty is read, so the layout tool saves as a named user of the operations group;
    each save is appended to ``folder/history.jsonl`` (time, user, layout, version, SHA-256 of
    the file, the file it replaced) and a replaced file is kept under ``folder/history/``."""
    import datetime as dt
    import hashlib

    if by is not None:
        check_saver(by)
    from_dict(lay.to_dict())
    folder = Path(folder) if folder is not None else ops_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{lay.id}.json"
    data = json.dumps(lay.to_dict(), ensure_ascii=False, indent=1) + "\n"
    at = dt.datetime.now(dt.timezone.utc)
    kept = None
    if path.exists():                    # the previous layout stays readable, never overwritten
        old = path.read_bytes()
        if old == data.encode("utf-8"):
            lay.source = str(path)
            return path
        hist = folder / "history"
        hist.mkdir(exist_ok=True)
        kept = hist / f"{lay.id}.{at:%Y%m%dT%H%M%S%fZ}.{hashlib.sha256(old).hexdigest()[:12]}.json"
        kept.write_bytes(old)
    tmp = folder / f".{lay.id}.json.tmp"
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)
    entry = {"at": at.isoformat(), "by": by.name if by is not None else None, "layout": lay.id,
             "version": lay.version, "counterparty": lay.counterparty,
             "sha256": hashlib.sha256(data.encode("utf-8")).hexdigest(),
             "replaced": str(kept.relative_to(folder)) if kept else None}
    with open(folder / "history.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    lay.source = str(path)
    return path


def check_saver(by) -> None:
    """``InputError`` unless the identity ``by`` may save layouts (the operations group)."""
    if SAVE_GROUP not in by.groups:
        raise InputError(f"{by.name} may not save confirmation layouts: only the {SAVE_GROUP} group may "
                         f"({by.name}'s groups: {', '.join(sorted(by.groups)) or 'none'})", field="user")


def history(folder: str | Path | None = None) -> list[dict]:
    """The saves recorded in ``folder/history.jsonl`` (oldest first), see ``save``."""
    p = (Path(folder) if folder is not None else ops_dir()) / "history.jsonl"
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def ops_dir() -> Path:
    """Operations' own layout folder: ``$OTCLAB_CONFIRM_LAYOUTS``, else ``confirm/layouts`` in the
    data folder (``$OTCLAB_DATA``, default ``~/.otclab``)."""
    from ..store.db import data_dir

    env = os.environ.get("OTCLAB_CONFIRM_LAYOUTS")
    return Path(env).expanduser() if env else data_dir() / "confirm" / "layouts"


def load_all(folders: list[str | Path] | None = None, errors: list[str] | None = None) -> list[Layout]:
    """Every layout of ``folders`` (default: the shipped folder, then operations' folder); a later
    folder's file replaces an earlier one of the same id. A bad file is an ``InputError`` naming it
    (`otclab confirm layouts check FILE` says what is wrong before it is installed); given an
    ``errors`` list, its message is appended there instead and the file skipped, so that one bad
    file in operations' folder does not stop every extraction."""
    folders = [SHIPPED_DIR, ops_dir()] if folders is None else folders
    out: dict[str, Layout] = {}
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for p in sorted(folder.glob("*.json")):
            try:
                lay = load(p)
            except InputError as exc:
                if errors is None:
                    raise
                errors.append(f"layout file {p} skipped: {exc}")
                continue
            out[lay.id] = lay
    return list(out.values())


# ------------------------------------------------------------------ matching a document

def page_text(phrases) -> str:
    """The comparable text of a document's phrases (``Cell``s): compact, joined."""
    return "".join(compact(c.text) for c in phrases)


def marker_found(marker: str, text: str) -> bool:
    """Whether ``marker`` appears in ``text`` (both compact); on a scan one character in a
    marker of five or more may be misread."""
    m = compact(marker)
    if m in text:
        return True
    if len(m) < 5:
        return False
    from rapidfuzz.fuzz import partial_ratio

    return partial_ratio(m, text) >= 100.0 * (len(m) - 1) / len(m) - 1e-9


def match(phrases, layouts: list[Layout] | None = None) -> tuple[Layout | None, float]:
    """The layout a document is printed in, from its first page's phrases, and how well it
    matches (share of its markers and field labels found, 0..1). A layout is used only when all
    of its markers are found and at least half of its labels; of several, the best score wins."""
    layouts = load_all() if layouts is None else layouts
    text = page_text(phrases)
    best, best_score = None, 0.0
    for lay in layouts:
        if not all(marker_found(m, text) for m in lay.markers):
            continue
        labels = [compact(lb) for s in lay.fields.values() for lb in s.labels]
        found = sum(1 for lb in labels if lb in text) / max(len(labels), 1)
        if found < 0.5:
            continue
        sc = 0.5 + 0.5 * found
        if sc > best_score:
            best, best_score = lay, sc
    return best, round(best_score, 3)


def threshold(field_name: str, layout: Layout | str | None = None, layouts: list[Layout] | None = None) -> float:
    """The confidence ``field_name`` needs to be accepted without a person: the layout's own
    threshold when it sets one, else ``DEFAULT_THRESHOLDS``. ``layout`` is a ``Layout``, a layout
    id (looked up in ``layouts``, default ``load_all()``) or None (the generic extractor)."""
    if isinstance(layout, str):
        layout = next((x for x in (load_all() if layouts is None else layouts) if x.id == layout), None)
    if layout is not None and field_name in layout.thresholds:
        return layout.thresholds[field_name]
    return DEFAULT_THRESHOLDS.get(field_name, DEFAULT_THRESHOLD)


def below_threshold(extraction, layouts: list[Layout] | None = None) -> list[str]:
    """Fields of an ``Extraction`` (or its JSON dict) read with less than their threshold's
    confidence: each is a break for a person. A field the document states but whose confidence
    is missing counts as below."""
    d = extraction if isinstance(extraction, dict) else extraction.to_json()
    lay = d.get("layout")
    lays = None
    if lay is not None:
        lays = load_all() if layouts is None else layouts
    out = []
    for f, v in d["fields"].items():
        if v is None:
            continue
        if d["confidence"].get(f, 0.0) < threshold(f, lay, lays):
            out.append(f)
    return out

