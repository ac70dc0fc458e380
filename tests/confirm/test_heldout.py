"""Held-out accuracy in CI (issue 17): confirmations of three counterparties' own layouts (nothing
in the extractor was written against them; ``otclab.confirm.heldout``), read with the shipped
annotated layouts: every field right on the text PDFs and the scans of a small sample, and no wrong
field accepted without a break, with or without the layouts. The full measurement, with the
extractor before this work, is benchmarks/confirm_heldout.py."""
from __future__ import annotations

import pytest

from otclab.confirm import layouts as L
from otclab.confirm.accuracy import same_value
from otclab.confirm.extract import FIELDS, extract_file
from otclab.confirm.heldout import EVAL_SEEDS, SAMPLE_SEED, build_heldout


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    folder = tmp_path_factory.mktemp("heldout")
    # 9 documents, three per counterparty; documents 3-5 are scans (OCR is the slow part)
    return folder, build_heldout(folder, n=9, seed=EVAL_SEEDS[0] + 7, scan_share=3 / 9)


def _score(folder, truth, layouts):
    per_route: dict = {}
    for name, entry in truth.items():
        ex = extract_file(folder / name, layouts=layouts)
        r = per_route.setdefault(entry["route"], {"right": 0, "stated": 0, "wrong_accepted": [], "layouts": set()})
        r["layouts"].add(ex.layout)
        lay = next((x for x in layouts if x.id == ex.layout), None)
        for f in FIELDS:
            t, v = entry["fields"].get(f), ex.fields[f]
            ok = same_value(f, t, v)
            if t is not None:
                r["stated"] += 1
                r["right"] += ok
            if not ok and v is not None and ex.confidence[f] >= L.threshold(f, lay):
                r["wrong_accepted"].append((name, f, t, v, ex.confidence[f]))
    return per_route


def test_heldout_targets_with_the_shipped_layouts(heldout):
    folder, truth = heldout
    assert sorted(e["route"] for e in truth.values()).count("ocr") == 3
    got = _score(folder, truth, L.load_all([L.SHIPPED_DIR]))
    for route, target in (("text", 0.99), ("ocr", 0.97)):
        r = got[route]
        assert r["right"] / r["stated"] >= target, (route, r)
        assert r["wrong_accepted"] == [], r["wrong_accepted"]
        assert None not in r["layouts"]  # every document was recognised as its counterparty's layout


def test_without_layouts_nothing_wrong_is_accepted(heldout):
    """The generic extractor misses many fields of these layouts, but every one it gets wrong is
    below its threshold: a break for a person, never a silent acceptance."""
    folder, truth = heldout
    text = {k: v for k, v in truth.items() if v["route"] == "text"}
    got = _score(folder, text, [])
    assert got["text"]["right"] / got["text"]["stated"] < 0.9  # the layouts are needed
    assert got["text"]["wrong_accepted"] == []


def test_heldout_seeds_are_kept_apart(tmp_path):
    with pytest.raises(ValueError, match="held-out seeds"):
        build_heldout(tmp_path, n=1, seed=2025)
    assert SAMPLE_SEED not in EVAL_SEEDS
