"""Annotating a new layout from one sample (what the layout tool does): the generic extractor
misses or misreads the new labels; pointing each field at its label and value, saving, and
reading the sample again with the saved file reads every field, with the layout named."""
from __future__ import annotations

import pytest

from confirm_layout_sample import COUNTERPARTY, WANT, draw
from otclab.confirm import layouts as L
from otclab.confirm.annotate import Session, position_of
from otclab.confirm.extract import extract_file
from otclab.confirm.layout import Cell
from otclab.core.errors import InputError


def _index(s: Session, text: str) -> int:
    return next(r["no"] for r in s.rows() if r["text"] == text)


def test_annotate_one_sample_and_save(tmp_path):
    pdf = draw(tmp_path / "hy.pdf")
    generic = extract_file(pdf, layouts=[])
    assert generic.fields["participation"] is None and generic.fields["trade_id"] is None
    assert generic.fields["rebate"] is None and generic.layout is None
    s = Session(pdf, samples=tmp_path / "samples")
    assert s.route == "text" and s.sample.exists() and s.sample.parent == tmp_path / "samples"
    assert s.draft.markers[:2] == ["HY-OTC-01", "海岳资本 场外期权确认单"]
    with pytest.raises(InputError, match="point trade_id at its label first"):
        s.pick_value("trade_id", 0)
    picks = {"trade_id": ("成交编号", "HY-2025-0611-027", None), "counterparty": ("客户全称", COUNTERPARTY, None),
             "start_date": ("起算日", "2025年6月12日", None), "notional": ("名义本金（万元）", "5,000", "wan_yuan"),
             "strike": ("执行水平", "100.00%", "level_pct"), "participation": ("收益分享比例", "75.00%", "pct"),
             "rebate": ("保底补偿", "2.50%", "pct")}
    for f, (label, value, unit) in picks.items():
        assert s.pick_label(f, _index(s, label), unit) == label
        assert s.pick_value(f, _index(s, value)) == "right"
    assert {r["text"]: r["label of"] for r in s.rows() if r["label of"]}["保底补偿"] == "rebate"
    with pytest.raises(InputError) as ei:
        s.save(tmp_path / "layouts")  # no id, no counterparty yet
    assert ei.value.field == "draft.id"
    s.draft.id, s.draft.counterparty = "haiyue-hy-otc-01", COUNTERPARTY
    ex, ok = s.extract()
    assert ex.layout == "haiyue-hy-otc-01" and ex.fields == WANT and all(ok[f] for f, v in WANT.items() if v is not None)
    path = s.save(tmp_path / "layouts")
    saved = L.load(path)
    assert saved.fields["notional"].to_dict() == {"labels": ["名义本金（万元）"], "unit": "wan_yuan", "position": "right"}
    again = extract_file(pdf, layouts=L.load_all([tmp_path / "layouts"]))
    assert again.layout == "haiyue-hy-otc-01" and again.fields == WANT and L.below_threshold(again) == []
    # a draft whose markers the sample does not print cannot be saved
    s.draft.markers = ["明川资本"]
    with pytest.raises(InputError, match="does not match its own sample"):
        s.save(tmp_path / "layouts")


def test_value_positions():
    lab = Cell("执行水平", 60, 100, 100, 110)
    assert position_of(lab, Cell("100%", 220, 100, 250, 110)) == "right"
    assert position_of(lab, Cell("100%", 60, 113, 90, 123)) == "below"
    assert position_of(lab, lab) == "inline"
    assert position_of(lab, Cell("100%", 300, 300, 330, 310)) == "auto"
